"""The shared web layer (servicekit.web) on a tiny app of its own: escaping, language,
CSRF, flash messages, static files and the report helpers the three services' pages use.

These run without a browser; the browser tests exercise the same pieces through the real
services.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import pytest
from fastapi import FastAPI, Form, Request
from fastapi.responses import Response
from fastapi.testclient import TestClient

from credentials.report import Check, VerificationReport
from servicekit.app import create_app
from servicekit.web import (
    KIT_MESSAGES,
    LoginRequired,
    PageError,
    Translator,
    Web,
    deployment_secret,
    merge_messages,
    report_state,
    report_view,
    safe_next,
)


@dataclass
class FakeSettings:
    data_dir: Path
    is_https: bool = False


def make_app(tmp_path: Path, *, https: bool = False) -> tuple[FastAPI, Web]:
    templates = tmp_path / "templates"
    templates.mkdir(exist_ok=True)
    (templates / "page.html").write_text(
        '{% extends "base.html" %}{% import "_macros.html" as m with context %}'
        "{% block content %}<h1>{{ t('demo.title') }}</h1><p id=v>{{ value }}</p>"
        '<form method="post" action="/submit">{{ m.csrf() }}<input name="x"></form>'
        "{% endblock %}"
    )
    settings = FakeSettings(tmp_path, https)
    web = Web(
        "demo",
        templates=templates,
        messages={
            "nl": {"demo.app_name": "Demo", "demo.title": "Hallo", "demo.done": "Klaar {name}"},
            "en": {"demo.app_name": "Demo", "demo.title": "Hello", "demo.done": "Done {name}"},
        },
        session_cookie="mc_demo_session",
        settings_of=lambda request: settings,
    )
    router = web.page_router()

    @router.get("/page")
    def page(request: Request, value: str = "") -> Response:
        return web.render(request, "page.html", value=value)

    @router.post("/submit")
    def submit(request: Request, x: Annotated[str, Form()] = "") -> Response:
        return web.redirect(request, "/page", flash=("success", "demo.done"), name=x)

    @router.get("/missing")
    def missing(request: Request) -> Response:
        raise PageError(404, "error.not_found")

    @router.get("/private")
    def private(request: Request) -> Response:
        raise LoginRequired("/login", "/private")

    app = create_app("demo")
    app.include_router(router)
    return app, web


def csrf_of(client: TestClient) -> str:
    client.get("/page")
    token = client.cookies.get("mc_demo_csrf")
    assert token
    return token


def test_values_are_escaped_and_csp_is_strict(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)
    client = TestClient(app)
    hostile = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    page = client.get("/page", params={"value": hostile})
    assert page.status_code == 200
    assert "<script>alert" not in page.text
    assert "<img src=x" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&gt;&lt;img src=x" in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert " style=" not in page.text and "<script>" not in page.text


def test_dutch_by_default_and_the_switch_sets_a_cookie(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)
    client = TestClient(app)
    page = client.get("/page")
    assert '<html lang="nl">' in page.text and "<h1>Hallo</h1>" in page.text
    switch = client.get("/lang/en", params={"next": "/page"}, follow_redirects=False)
    assert switch.status_code == 303 and switch.headers["location"] == "/page"
    page = client.get("/page")
    assert '<html lang="en">' in page.text and "<h1>Hello</h1>" in page.text
    assert 'href="/lang/nl?next=/page"' in page.text


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil", "javascript:alert(1)", ""]
)
def test_language_switch_never_redirects_off_site(tmp_path: Path, target: str) -> None:
    app, _ = make_app(tmp_path)
    answer = TestClient(app).get("/lang/en", params={"next": target}, follow_redirects=False)
    assert answer.headers["location"] == "/"


def test_a_form_post_with_the_token_passes_and_flashes_once(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)
    client = TestClient(app)
    token = csrf_of(client)
    answer = client.post("/submit", data={"x": "<b>Ada</b>", "csrf_token": token},
                         follow_redirects=False)  # fmt: skip
    assert answer.status_code == 303
    page = client.get("/page")
    assert "Klaar &lt;b&gt;Ada&lt;/b&gt;" in page.text
    assert "Klaar" not in client.get("/page").text  # shown once


@pytest.mark.parametrize("case", ["no field", "no cookie", "different", "forged", "cross-site"])
def test_a_form_post_without_a_valid_token_is_refused(tmp_path: Path, case: str) -> None:
    app, _ = make_app(tmp_path)
    client = TestClient(app)
    token = csrf_of(client)
    data = {"x": "1", "csrf_token": token}
    headers = {}
    if case == "no field":
        del data["csrf_token"]
    elif case == "no cookie":
        client.cookies.clear()
    elif case == "different":
        data["csrf_token"] = token[:-2] + "xx"
    elif case == "forged":
        forged = "A" * 32 + ".bm90IGEgcmVhbCBzaWduYXR1cmU"
        client.cookies.set("mc_demo_csrf", forged)
        data["csrf_token"] = forged
    elif case == "cross-site":
        headers["sec-fetch-site"] = "cross-site"
    answer = client.post("/submit", data=data, headers=headers, follow_redirects=False)
    assert answer.status_code in (400, 403)
    assert "text/html" in answer.headers["content-type"]
    assert "Er ging iets mis" in answer.text


def test_the_token_is_bound_to_the_session(tmp_path: Path) -> None:
    """A token minted for one session (e.g. planted before log-in) fails in another."""
    app, _ = make_app(tmp_path)
    client = TestClient(app)
    client.cookies.set("mc_demo_session", "session-one")
    token = csrf_of(client)
    client.cookies.set("mc_demo_session", "session-two")
    answer = client.post("/submit", data={"csrf_token": token}, follow_redirects=False)
    assert answer.status_code == 403
    # a fresh page mints a token for the new session
    client.cookies.delete("mc_demo_csrf")
    token = csrf_of(client)
    assert client.post("/submit", data={"csrf_token": token},
                       follow_redirects=False).status_code == 303  # fmt: skip


def test_a_tampered_flash_cookie_is_ignored(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)
    client = TestClient(app)
    token = csrf_of(client)
    client.post("/submit", data={"x": "Ada", "csrf_token": token}, follow_redirects=False)
    raw = client.cookies.get("mc_demo_flash")
    assert raw
    data, _, signature = raw.rpartition(".")
    client.cookies.set("mc_demo_flash", data + "." + signature[::-1])
    assert "Klaar" not in client.get("/page").text


def test_cookies_are_httponly_lax_and_secure_over_https(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path, https=True)
    answer = TestClient(app).get("/page")
    cookie = answer.headers["set-cookie"]
    assert "mc_demo_csrf=" in cookie
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" in cookie


def test_page_errors_are_html_pages(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)
    client = TestClient(app)
    missing = client.get("/missing")
    assert missing.status_code == 404 and "text/html" in missing.headers["content-type"]
    private = client.get("/private", follow_redirects=False)
    assert private.status_code == 303 and private.headers["location"] == "/login?next=/private"


def test_static_files_are_served_without_traversal(tmp_path: Path) -> None:
    app, web = make_app(tmp_path)
    client = TestClient(app)
    css = client.get("/static/demo/site.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    js = client.get("/static/demo/poll.js")
    assert js.headers["content-type"].startswith("text/javascript")
    for path in ("/static/demo/../app.py", "/static/demo/%2e%2e/app.py", "/static/demo/base.html"):
        assert client.get(path).status_code == 404
    assert web.static_url("site.css").startswith("/static/demo/site.css?v=")


def test_the_deployment_secret_is_created_once_and_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MICROCRED_WEB_SECRET", raising=False)
    first = deployment_secret("wallet", tmp_path)
    assert deployment_secret("wallet", tmp_path) == first
    assert deployment_secret("issuer", tmp_path) != first
    assert (tmp_path / "web-secret-wallet").stat().st_mode & 0o077 == 0
    monkeypatch.setenv("MICROCRED_WEB_SECRET", "shared by all instances")
    assert deployment_secret("wallet", tmp_path) != first
    assert deployment_secret("wallet", tmp_path / "elsewhere") == deployment_secret(
        "wallet", tmp_path
    )


def test_translator_falls_back_to_english_then_the_key() -> None:
    catalogue = merge_messages(KIT_MESSAGES, {"en": {"only.en": "English {x}"}})
    t = Translator(catalogue, "nl")
    assert t("badge.revoked") == "Ingetrokken"
    assert t("only.en", x="<i>") == "English <i>"  # plain text: escaped where it is shown
    assert t("no.such.key") == "no.such.key"
    assert Translator(catalogue, "xx").lang == "nl"
    assert set(KIT_MESSAGES["nl"]) == set(KIT_MESSAGES["en"])


@pytest.mark.parametrize(
    ("target", "expected"),
    [("/wallet/x?y=1", "/wallet/x?y=1"), ("//evil", "/"), ("http://evil", "/"), ("/a\r\nb", "/")],
)
def test_safe_next(target: str, expected: str) -> None:
    assert safe_next(target) == expected


def _report(*checks: Check) -> VerificationReport:
    return VerificationReport(checks=list(checks))


@pytest.mark.parametrize(
    ("checks", "state"),
    [
        ([Check.passed("proof", "ok"), Check.passed("trust", "ok")], "verified"),
        ([Check.passed("proof", "ok"), Check.failed("status", "revoked", "revoked")], "revoked"),
        (
            [Check.failed("proof", "invalid_proof", "x"), Check.failed("status", "suspended", "")],
            "suspended",
        ),
        ([Check.passed("proof", "ok"), Check.failed("validity", "expired", "")], "expired"),
        ([Check.failed("proof", "invalid_proof", "bad")], "failed"),
        ([Check.passed("proof", "ok"), Check.warning("status", "status_unknown", "")], "unknown"),
        (
            [Check.passed("proof", "ok"), Check.warning("trust", "untrusted_issuer", "")],
            "untrusted",
        ),
        (
            [Check.passed("proof", "ok"), Check.warning("credential[0].trust", "untrusted", "")],
            "untrusted",
        ),
    ],
)
def test_report_state(checks: list[Check], state: str) -> None:
    report = _report(*checks)
    assert (
        report_state(report.verified, report_view(report, Translator(KIT_MESSAGES, "en")).checks)
        == state
    )
    assert report_view(report.to_dict(), Translator(KIT_MESSAGES, "en")).state == state


def test_report_view_labels_checks_in_plain_language() -> None:
    report = _report(
        Check.passed("proof", "signature ok"),
        Check.failed("credential[1].status", "revoked", "the credential is revoked"),
        Check.passed("something_new", "ok"),
        Check.passed("status", "the credential is not suspended (list …#7)"),
        Check.warning("status", "status_unknown", "cannot reach the list"),
    )
    view = report_view(report, Translator(KIT_MESSAGES, "nl"))
    labels = [row.label for row in view.checks]
    assert labels == [
        "Digitale handtekening",
        "Credential 2: Niet ingetrokken",
        "something_new",
        "Niet geschorst",
        "Niet ingetrokken of geschorst",
    ]
    assert view.checks[1].outcome_label == "afgekeurd"


def test_sealed_values_round_trip_and_refuse_tampering(tmp_path: Path) -> None:
    app, web = make_app(tmp_path)
    client = TestClient(app)
    scope = {"type": "http", "app": app, "headers": [], "method": "GET", "path": "/"}
    request = Request(scope)
    sealed = web.seal(request, "session", "mci_secret-token", 60)
    assert "mci_secret" not in sealed
    assert web.unseal(request, "session", sealed) == "mci_secret-token"
    assert web.unseal(request, "other-purpose", sealed) is None
    tampered = sealed[:-3] + ("A" if sealed[-3] != "A" else "B") + sealed[-2:]
    assert web.unseal(request, "session", tampered) is None
    assert web.unseal(request, "session", web.seal(request, "session", "x", -1)) is None
    assert web.unseal(request, "session", "not base64 at all!") is None
    assert client.get("/page").status_code == 200


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/console", "/console"),
        ("/console/batch/abc", "/console/batch"),
        ("/console/batches", "/console"),
        ("/other", None),
    ],
)
def test_the_menu_marks_the_closest_entry(path: str, expected: str | None) -> None:
    from servicekit.web import NavItem, active_nav

    nav = [NavItem("a", "/console"), NavItem("b", "/console/batch"), NavItem("c", "/console/x")]
    assert active_nav(nav, path) == expected
