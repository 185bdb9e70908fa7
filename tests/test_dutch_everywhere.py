"""Issue 16, point 2: Dutch all the way through (WCAG 3.1.2: no English inside lang="nl").

Three kinds of proof:

1. **Catalogues** — every ``<area>/messages`` has the same keys (and the same ``{params}``)
   in ``nl.json`` and ``en.json``; every check id and every failed/warning/skipped check code
   the engines can emit (found in the source with ``ast``) has a label and a message; the
   Dutch values hold no English sentence (a stop-word heuristic).
2. **Rendered pages, marker-based** — while the three apps run, every sentence the engines
   write (``Check.message``, rule explanations and reasons, service and core error details)
   starts with an invisible marker. Pages are walked in Dutch: every GET page route of the
   three apps (parameters filled with unknown ids: the error states), and the verifier's and
   wallet's result pages with real data (genuine, tampered, pasted, withdrawn link, failed
   rule, the employer's share page). No page may contain the marker, a raw catalogue key,
   or anything but ``lang="nl"``.

Other streams add keys in parallel; the lead reruns this after merging.
"""

from __future__ import annotations

import ast
import json
import re
import string
from collections.abc import Iterator
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI, Query
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from credentials.keys import Multikey
from credentials.microcredential import Learner
from credentials.proofs import sign
from tests.credentials.microcred_samples import HBO, sample_credential

REPO = Path(__file__).resolve().parent.parent
AREAS = ("servicekit", "issuer", "wallet", "verifier")
MARK = "\u2063ENGINE\u2063"  # invisible separator: a page showing it shows engine text
ENGLISH = frozenset(
    [
        "the",
        "and",
        "of",
        "this",
        "with",
        "your",
        "you",
        "been",
        "are",
        "which",
        "that",
        "not",
        "to",
        "for",
        "has",
        "from",
        "could",
        "would",
        "should",
        "cannot",
        "does",
    ]
)
ENGINE_SOURCES = ("credentials", "issuer/services", "wallet/services", "verifier/services")


# --------------------------------------------------------------------------- catalogues


def _catalogues() -> Iterator[tuple[str, dict[str, str], dict[str, str]]]:
    for area in AREAS:
        folder = REPO / area / "messages"
        if (folder / "nl.json").is_file():
            nl = json.loads((folder / "nl.json").read_text(encoding="utf-8"))
            en = json.loads((folder / "en.json").read_text(encoding="utf-8"))
            yield area, nl, en


def _params(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _merged(lang: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for _, nl, en in _catalogues():
        out.update(nl if lang == "nl" else en)
    return out


def test_every_catalogue_has_the_same_keys_and_parameters_in_both_languages() -> None:
    found = list(_catalogues())
    assert {area for area, _, _ in found} >= {"servicekit", "verifier", "wallet"}
    for area, nl, en in found:
        assert sorted(set(nl) ^ set(en)) == [], f"{area}: keys in one language only"
        different = [k for k in nl if _params(nl[k]) != _params(en[k])]
        assert different == [], f"{area}: placeholders differ"
        broken = [k for k in nl if k.endswith(".one") and f"{k[:-4]}.other" not in nl]
        assert broken == [], f"{area}: plural keys need both .one and .other"


def _english_words(text: str) -> set[str]:
    words = set(re.findall(r"[A-Za-z]+", re.sub(r"\{[^}]*\}", " ", text).lower()))
    return words & ENGLISH


def test_dutch_values_contain_no_english_sentences() -> None:
    offenders = {
        f"{area}:{key}": value
        for area, nl, _ in _catalogues()
        for key, value in nl.items()
        if len(_english_words(value)) >= 2
    }
    assert offenders == {}


def test_the_stop_word_heuristic_can_fail() -> None:
    assert len(_english_words("the signature does not verify")) >= 2
    assert len(_english_words("De handtekening klopt niet: de inhoud is veranderd.")) < 2


def _engine_checks() -> tuple[set[str], set[tuple[str, str]]]:
    """Literal check ids, and (outcome, code) of every Check.failed/warning/skipped with a
    literal code, in the engines' source."""
    ids: set[str] = set()
    codes: set[tuple[str, str]] = set()
    for root in ENGINE_SOURCES:
        for path in (REPO / root).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "Check"
                    and node.args
                ):
                    continue
                method, args = node.func.attr, node.args
                first = args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    ids.add(first.value.rpartition("].")[2])  # credential[0].x is x
                keyword = {k.arg: k.value for k in node.keywords}
                code = args[1] if method in ("failed", "warning") and len(args) > 1 else None
                if method == "skipped":
                    code = keyword.get("code")
                if isinstance(code, ast.Constant) and isinstance(code.value, str):
                    codes.add((method, code.value))
    return ids, codes


def test_every_check_id_and_code_the_engines_emit_has_a_message() -> None:
    from credentials.policies import CODES

    ids, codes = _engine_checks()
    assert len(ids) > 20 and len(codes) > 40  # the walk really found the engines' checks
    kit = json.loads((REPO / "servicekit/messages/nl.json").read_text(encoding="utf-8"))
    unlabelled = sorted(i for i in ids if f"check.{i}" not in kit)
    assert unlabelled == [], "check ids without a label (check.<id>)"
    every = {code for _, code in codes} | set(CODES.values())
    silent = sorted(c for c in every if f"checkmsg.{c}" not in kit and c != "skipped")
    assert silent == [], "check codes without a message (checkmsg.<code>)"


# --------------------------------------------------------------------------- pages


@pytest.fixture(scope="module")
def marked() -> Iterator[None]:
    """Every engine sentence carries MARK while the apps run (module-wide)."""
    from credentials import rules
    from credentials.errors import MicrocredError
    from credentials.report import Check
    from servicekit.errors import ServiceError
    from servicekit.problems import ProblemError

    mp = pytest.MonkeyPatch()

    def prefix(cls: type, attribute: str) -> None:
        original = cls.__init__

        def init(self: Any, *args: Any, **kwargs: Any) -> None:
            original(self, *args, **kwargs)
            value = getattr(self, attribute, None)
            if isinstance(value, str) and not value.startswith(MARK):
                object.__setattr__(self, attribute, MARK + value)
            elif isinstance(value, tuple):
                object.__setattr__(self, attribute, tuple(MARK + str(v) for v in value))

        mp.setattr(cls, "__init__", init)

    prefix(Check, "message")
    prefix(rules.Explanation, "message")
    prefix(rules.CredentialVerdict, "reasons")
    prefix(MicrocredError, "message")
    prefix(ServiceError, "detail")
    prefix(ProblemError, "detail")
    yield
    mp.undo()


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory, marked: None) -> Iterator[Any]:
    from tests.security.services import deployment
    from tests.security.support import NetworkGuard

    guard = NetworkGuard(allow=frozenset({"127.0.0.1", "localhost", "::1"}))
    with guard.active(), deployment(tmp_path_factory.mktemp("dutch")) as services:
        yield services


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.lang: str | None = None
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "html":
            self.lang = dict(attrs).get("lang")
        if tag in ("script", "style", "code"):
            self._skip += 1
        for name, value in attrs:
            if name in ("alt", "title", "aria-label", "placeholder") and value:
                self.texts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "code"):
            self._skip = max(0, self._skip - 1)

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.texts.append(data.strip())


_KEY_PREFIXES = tuple(
    sorted({k.split(".", 1)[0] + "." for k in _merged("nl") if k.count(".") >= 2})
)


def assert_dutch(response: Any, where: str) -> None:
    assert "text/html" in response.headers.get("content-type", ""), where
    page = _Text()
    page.feed(response.text)
    assert page.lang == "nl", f"{where}: lang={page.lang}"
    assert MARK not in response.text, f"{where}: engine text on a Dutch page: " + next(
        (t for t in page.texts if MARK in t), "(in markup)"
    )
    raw = [
        t
        for t in page.texts
        if re.fullmatch(r"[a-z_]+(\.[a-z0-9_]+){2,}", t) and t.startswith(_KEY_PREFIXES)
    ]
    assert raw == [], f"{where}: raw catalogue keys shown"


def _get_routes(app: Any) -> list[str]:
    found: list[str] = []

    def walk(routes: list[Any], prefix: str = "") -> None:
        for route in routes:
            if isinstance(route, APIRoute) and "GET" in route.methods:
                module = route.endpoint.__module__
                if ".routes.pages" in module or module.endswith("routes.shares"):
                    found.append(prefix + route.path)
            included = getattr(route, "original_router", None)
            if included is not None:
                context = getattr(route, "include_context", None)
                walk(included.routes, prefix + (getattr(context, "prefix", "") or ""))

    walk(app.routes)
    return sorted(set(found))


@pytest.mark.parametrize("service", ["issuer", "wallet", "verifier"])
def test_every_get_page_renders_in_dutch(deployed: Any, service: str) -> None:
    client: TestClient = deployed.client(service)
    paths = _get_routes(client.app)
    assert len(paths) >= 3, paths
    for template in paths:
        if template.startswith(("/static/", "/lang/")) or template.endswith("/state"):
            continue
        path = re.sub(
            r"\{[^}]+\}",
            lambda m: deployed.institution if m[0] == "{slug}" else "unknown-id",
            template,
        )
        answer = client.get(path, headers={"Accept": "text/html"}, follow_redirects=True)
        if "text/html" not in answer.headers.get("content-type", ""):
            continue  # a JSON helper of a page (none expected), or a file download
        assert_dutch(answer, f"{service} GET {template} → {answer.status_code}")


def _csrf(client: TestClient, cookie: str) -> str:
    client.get("/")
    token = client.cookies.get(cookie)
    assert token
    return token


def _signed(holder: str | None, issuer: Multikey, **changes: Any) -> dict[str, Any]:
    learner = Learner(did=holder, identity="jan@example.nl", salt="00ff00ff")
    unsigned = sample_credential(issuer=replace(HBO, id=issuer.controller), learner=learner)
    unsigned.update(changes)
    signed: dict[str, Any] = sign(unsigned, issuer)
    return signed


def test_the_verifier_result_pages_are_dutch(deployed: Any) -> None:
    client: TestClient = deployed.verifier
    csrf = _csrf(client, "mc_verifier_csrf")
    issuer = Multikey.generate()
    genuine = _signed(deployed.learner_did, issuer)
    tampered = json.loads(json.dumps(genuine))
    tampered["credentialSubject"]["achievement"]["name"] = "Vervalste module"
    posts: list[tuple[str, dict[str, str]]] = [
        ("/check/credential", {"document": json.dumps(genuine)}),
        ("/check/credential", {"document": json.dumps(tampered)}),
        ("/check/credential", {"document": '{"not": "a credential"'}),
        ("/check/credential", {"document": "plain text"}),
        ("/check/credential", {"document": ""}),
        ("/check/share", {"url": "https://wallet.example/s/withdrawn-or-expired"}),
        ("/check/share", {"url": "not a url"}),
        ("/check/admission", {"min_ects": "10", "evidence_json": json.dumps([genuine])}),
        ("/check/admission", {"min_ects": "tien", "evidence_json": "[]"}),
        ("/check/admission", {"rule_json": "[1]", "evidence_json": "[]"}),
        ("/check/admission", {"min_ects": "1"}),
        ("/check/request", {"ask": "module", "module": ""}),
        ("/check/request", {"ask": "rule", "rule_json": '{"id": "x", "min_etcs": 3}'}),
    ]
    for path, data in posts:
        answer = client.post(path, data={**data, "csrf_token": csrf}, follow_redirects=True)
        assert_dutch(answer, f"verifier POST {path} {sorted(data)} → {answer.status_code}")
    tampered_page = client.post(
        "/check/credential", data={"document": json.dumps(tampered), "csrf_token": csrf}
    ).text
    assert 'data-trustworthy="false"' in tampered_page and "<del>Vervalste module" in tampered_page
    created = client.post(
        "/check/request", data={"ask": "any", "csrf_token": csrf}, follow_redirects=True
    )
    assert_dutch(created, "verifier request wait page")
    request_path = urlsplit(str(created.url)).path
    client.cookies.clear()
    assert_dutch(client.get(request_path + "/result"), "request result without its token")


def test_the_employer_share_pages_are_dutch(deployed: Any) -> None:
    wallet: TestClient = deployed.wallet
    learner = {"Authorization": f"Bearer {deployed.learner_token}"}
    stored = wallet.post(
        "/api/credentials/import",
        json={"credential": _signed(deployed.learner_did, Multikey.generate())},
        headers=learner,
    )
    assert stored.status_code == 201, stored.text
    share = wallet.post(
        "/api/shares",
        json={"credentialIds": [stored.json()["id"]], "expiresIn": 3600, "maxViews": 2},
        headers=learner,
    ).json()
    path = urlsplit(share["url"]).path
    assert_dutch(wallet.get(path, headers={"User-Agent": "WhatsApp/2.23"}), "share landing")
    opened = wallet.post(path)
    assert 'data-verdict="untrusted"' in opened.text  # an issuer this wallet does not know
    assert_dutch(opened, "share opened")
    wallet.delete(f"/api/shares/{share['id']}", headers=learner)
    assert_dutch(wallet.get(path), "share withdrawn")
    assert_dutch(wallet.post(path), "share withdrawn, button")
    assert_dutch(wallet.get("/s/no-such-link"), "share unknown")


def test_the_marker_is_really_on(marked: None) -> None:
    """The page checks above could not fail if engine text were not marked."""
    from credentials.report import Check
    from servicekit.errors import Invalid

    assert Check.failed("proof", "invalid_proof", "x").message.startswith(MARK)
    assert Invalid("code", "detail").detail.startswith(MARK)


def test_a_page_validation_error_is_a_translated_field_message(tmp_path: Path) -> None:
    """No pydantic sentence, and no regular expression, on a page: "String should match
    pattern '^[^@\\s]…'" becomes "E-mailadres heeft niet de juiste vorm"."""
    from servicekit.web import Web

    web = Web("toy", settings_of=lambda request: SimpleNamespace(data_dir=tmp_path))
    router = web.page_router()

    @router.get("/find")
    def find(email: Annotated[str, Query(pattern=r"^[^@\s]+@[^@\s]+$")], n: int = 1) -> str:
        return email * n

    app = FastAPI()
    app.include_router(router)
    page = TestClient(app).get("/find", params={"email": "no-at-sign", "n": "twee"})
    assert page.status_code == 400 and '<html lang="nl">' in page.text
    assert "E-mailadres heeft niet de juiste vorm" in page.text
    assert "moet een geheel getal zijn" in page.text
    assert "String should" not in page.text and "pattern" not in page.text
    assert "^[^@" not in page.text
