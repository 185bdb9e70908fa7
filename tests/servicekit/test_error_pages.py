"""Issue 16 point 9a: in a browser, 404, 405, 410 and 500 are pages in the site's language
and design, on every path (API paths included); API clients keep problem+json."""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from servicekit.migrations import upgrade
from servicekit.problems import prefers_html
from servicekit.web import LANG_COOKIE

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
API_CLIENTS: list[dict[str, str]] = [
    {},  # no Accept at all
    {"Accept": "application/json"},
    {"Accept": "*/*"},  # fetch(), curl
    {"Accept": "application/problem+json, text/html;q=0.5"},
]


def _request(accept: str | None) -> Request:
    headers = [] if accept is None else [(b"accept", accept.encode())]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers})


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        (BROWSER["Accept"], True),
        ("text/html", True),
        ("TEXT/HTML; charset=utf-8", True),
        ("application/json, text/html", True),  # equal weight: a person may be reading
        ("text/html;q=0.4, application/json", False),
        ("text/html;q=0", False),
        ("text/html;q=oops", False),
        ("*/*", False),
        ("application/json", False),
        (None, False),
    ],
)
def test_who_prefers_html(accept: str | None, html: bool) -> None:
    assert prefers_html(_request(accept)) is html


# --------------------------------------------------------------------------- the apps


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("MICROCRED_") or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("MICROCRED_KEK", base64.urlsafe_b64encode(os.urandom(32)).decode())


def _app(service: str, database_url: str, tmp_path: Path) -> FastAPI:
    upgrade(service, database_url)
    if service == "issuer":
        from issuer.config import Settings as IssuerSettings
        from issuer.main import create_app as create_issuer

        return create_issuer(
            IssuerSettings(
                database_url=database_url, data_dir=tmp_path, public_url="https://i.example"
            )
        )
    if service == "wallet":
        from wallet.config import Settings as WalletSettings
        from wallet.main import create_app as create_wallet

        return create_wallet(
            WalletSettings(
                database_url=database_url, data_dir=tmp_path, public_url="https://w.example"
            )
        )
    from verifier.config import Settings as VerifierSettings
    from verifier.main import create_app as create_verifier

    return create_verifier(
        VerifierSettings(database_url=database_url, data_dir=tmp_path, public_url="https://v.example")
    )  # fmt: skip


@pytest.fixture(params=["issuer", "wallet", "verifier"])
def service_client(
    request: pytest.FixtureRequest, database_url: str, tmp_path: Path
) -> Iterator[tuple[str, TestClient]]:
    app = _app(request.param, database_url, tmp_path)

    @app.get("/test-only/boom")
    def boom() -> None:
        raise RuntimeError("internal detail that must not be shown")

    with TestClient(app, base_url="https://x.example", raise_server_exceptions=False) as client:
        yield request.param, client


def _lead(page: Any) -> str:
    found = re.search(r'<p class="lead">(.*?)</p>', page.text, re.S)
    assert found, page.text
    return found.group(1).strip()


def _is_page(answer: Any, status: int, lang: str = "nl") -> None:
    assert answer.status_code == status
    assert answer.headers["content-type"].startswith("text/html")
    assert f'<html lang="{lang}"' in answer.text
    assert "site.css" in answer.text  # the site's design, not a bare error
    assert "content-security-policy" in answer.headers


def _is_problem(answer: Any, status: int, code: str) -> None:
    assert answer.status_code == status
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["code"] == code


def test_a_missing_page_or_api_path_is_a_dutch_page_for_a_browser(
    service_client: tuple[str, TestClient],
) -> None:
    _, client = service_client
    for path in ("/no-such-page", "/api/no-such-thing", "/static/x/none.css"):
        page = client.get(path, headers=BROWSER)
        _is_page(page, 404)
        assert _lead(page) == "Deze pagina bestaat niet (meer)."
        for headers in API_CLIENTS:
            _is_problem(client.get(path, headers=headers), 404, "not_found")


def test_the_page_follows_the_language_choice(service_client: tuple[str, TestClient]) -> None:
    _, client = service_client
    client.cookies.set(LANG_COOKIE, "en")
    page = client.get("/no-such-page", headers=BROWSER)
    _is_page(page, 404, "en")
    assert _lead(page) == "This page does not exist (any more)."


def test_an_unexpected_error_is_a_page_without_internals(
    service_client: tuple[str, TestClient],
) -> None:
    _, client = service_client
    page = client.get("/test-only/boom", headers=BROWSER)
    _is_page(page, 500)
    assert _lead(page) == "Er ging onverwacht iets mis. Probeer het later nog eens."
    assert "internal detail" not in page.text and "RuntimeError" not in page.text
    for headers in API_CLIENTS:
        problem = client.get("/test-only/boom", headers=headers)
        _is_problem(problem, 500, "internal_error")
        assert "internal detail" not in problem.text


@pytest.mark.parametrize("service", ["issuer", "wallet"])
def test_get_on_a_form_target_is_a_page_that_says_so(
    service: str, database_url: str, tmp_path: Path
) -> None:
    with TestClient(_app(service, database_url, tmp_path), base_url="https://x.example") as client:
        page = client.get("/login", headers=BROWSER)
        _is_page(page, 405)
        assert _lead(page).startswith("Deze pagina kan niet op deze manier worden geopend")
        assert page.headers["allow"] == "POST"
        for headers in API_CLIENTS:
            _is_problem(client.get("/login", headers=headers), 405, "method_not_allowed")


def test_a_used_up_offer_link_is_a_gone_page_for_a_browser(
    database_url: str, tmp_path: Path
) -> None:
    from tests.issuer.support import make_institution, module_spec

    app = _app("issuer", database_url, tmp_path)
    inst = make_institution(app)
    with TestClient(app, base_url="https://i.example") as client:
        assert client.post(
            inst.path("/modules"), json=module_spec(), headers=inst.headers
        ).is_success
        offer = client.post(
            inst.path("/offers"),
            json={"module_id": "data-wrangling", "learner": {"email": "jan@example.nl"}},
            headers=inst.headers,
        ).json()
        link = offer["credential_offer_uri"].removeprefix("https://i.example")
        assert client.get(link).status_code == 200
        assert client.delete(inst.path(f"/offers/{offer['id']}"), headers=inst.headers).is_success
        page = client.get(link, headers=BROWSER)
        _is_page(page, 410)
        assert _lead(page) == (
            "Deze link is niet meer geldig: hij is ingetrokken, verlopen of al gebruikt."
        )
        assert "cancelled" not in page.text  # the engine's English detail stays out
        for headers in API_CLIENTS:
            _is_problem(client.get(link, headers=headers), 410, "offer_used")
