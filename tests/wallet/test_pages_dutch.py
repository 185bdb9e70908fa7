"""The wallet's pages as a learner meets them (issue 16), over HTTP against the real app:
Dutch by code, confirmation steps, PIN errors, key backup, PDF, issuer notices.

Pages are driven with the session cookie and the CSRF token a browser would hold.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import select

from tests.wallet.conftest import PASSWORD, PUBLIC_URL, Account, WalletHarness
from tests.wallet.fakes import credential_for
from wallet.models import Learner, Share

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = ROOT / "wallet" / "messages"
NL = json.loads((MESSAGES / "nl.json").read_text(encoding="utf-8"))
EN = json.loads((MESSAGES / "en.json").read_text(encoding="utf-8"))
#: Short English words that never occur in Dutch sentences of this catalogue.
ENGLISH = re.compile(r"\b(the|and|your|you|not|with|this|were|could|which)\b", re.I)


# --------------------------------------------------------------------------- helpers


def login(wallet: WalletHarness, account: Account) -> str:
    """Log in on the page form as a browser would; the CSRF token for later posts."""
    wallet.client.cookies.clear()
    wallet.client.get("/")
    csrf = wallet.client.cookies.get("mc_wallet_csrf")
    answer = wallet.client.post(
        "/login",
        data={"username": account.username, "password": PASSWORD, "csrf_token": csrf},
        headers={"Origin": PUBLIC_URL},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    wallet.client.get("/credentials")
    return str(wallet.client.cookies.get("mc_wallet_csrf"))


def post(wallet: WalletHarness, path: str, csrf: str, **kwargs: Any) -> httpx.Response:
    data = {**kwargs.pop("data", {}), "csrf_token": csrf}
    return wallet.client.post(
        path, data=data, headers={"Origin": PUBLIC_URL}, follow_redirects=False, **kwargs
    )


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --------------------------------------------------------------------------- catalogue


def _codes_raised_in_wallet_services() -> set[str]:
    """Every literal error code the wallet's services can raise (AST, not regex)."""
    codes: set[str] = set()
    helpers = {"bad_request", "conflict", "upstream", "_fail", "Invalid", "Conflict", "NotFound",
               "Gone", "Unprocessable", "Upstream", "Forbidden", "TooLarge", "Busy"}  # fmt: skip
    for path in sorted((ROOT / "wallet" / "services").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            for keyword in node.keywords:
                if keyword.arg == "code" and isinstance(keyword.value, ast.Constant):
                    codes.add(str(keyword.value.value))
            literal = [a.value for a in node.args if isinstance(a, ast.Constant)]
            strings = [v for v in literal if isinstance(v, str) and re.fullmatch(r"[a-z_]+", v)]
            if name in helpers and strings:
                codes.add(strings[0] if name != "_fail" else strings[-1])
            if name == "ProblemError" and len(strings) >= 1:
                codes.add(strings[0])
    return codes


def test_the_catalogues_have_the_same_keys_and_plurals_in_pairs() -> None:
    assert set(NL) == set(EN)
    for key in NL:
        if key.endswith(".one"):
            assert key.removesuffix(".one") + ".other" in NL, key
    for key, value in NL.items():
        assert value.strip(), key
        for name in re.findall(r"{(\w+)}", value):
            assert "{" + name + "}" in EN[key], (key, name)


def test_every_code_a_service_raises_has_a_message() -> None:
    codes = _codes_raised_in_wallet_services()
    assert {"offer_rejected", "tx_code_required", "invalid_export", "weak_passphrase"} <= codes
    missing = sorted(c for c in codes if f"wallet.error.{c}" not in NL)
    assert missing == [], missing


def test_the_dutch_catalogue_has_no_english_sentences() -> None:
    english = {k: v for k, v in NL.items() if ENGLISH.search(v)}
    assert english == {}, english


# --------------------------------------------------------------------------- pages


def test_pin_errors_are_told_apart_in_dutch(wallet: WalletHarness) -> None:
    account = wallet.signup()
    csrf = login(wallet, account)
    uri = wallet.internet.issuer.offer_uri(tx_code="493536")
    preview = post(wallet, "/receive/preview", csrf, data={"offer": uri})
    assert preview.status_code == 200 and 'data-offer-preview="1"' in preview.text
    assert "Dit aanbod vraagt een pincode (6 cijfers)." in text_of(preview.text)
    missing = post(wallet, "/receive/offer", csrf, data={"offer": uri})
    assert missing.status_code == 400
    assert "Je instelling heeft je die apart gestuurd" in text_of(missing.text)
    wrong = post(wallet, "/receive/offer", csrf, data={"offer": uri, "pin": "000000"})
    assert wrong.status_code == 400 and "De pincode klopt niet" in text_of(wrong.text)
    assert "tx_code" not in text_of(wrong.text)
    used = wallet.internet.issuer.offer_uri(tx_code="123456")
    code = re.search(r"pre-authorized_code%22%3A%20%22([^%]+)%22", used)
    assert code is not None
    wallet.internet.issuer.codes[code.group(1)]["used"] = True
    locked = post(wallet, "/receive/offer", csrf, data={"offer": used, "pin": "123456"})
    assert "niet meer te gebruiken" in text_of(locked.text)


def test_deleting_a_credential_asks_first(wallet: WalletHarness) -> None:
    account = wallet.signup()
    credential_id = wallet.store(account)
    csrf = login(wallet, account)
    confirm = wallet.client.get(f"/credentials/{credential_id}/delete")
    assert confirm.status_code == 200
    assert "Credential verwijderen?" in confirm.text and "niet ongedaan maken" in confirm.text
    assert wallet.client.get(f"/credentials/{credential_id}").status_code == 200  # still there
    detail = wallet.client.get(f"/credentials/{credential_id}").text
    assert f'action="/credentials/{credential_id}/delete"' not in detail  # no one-click delete
    done = post(wallet, f"/credentials/{credential_id}/delete", csrf)
    assert done.status_code == 303
    assert wallet.client.get(f"/credentials/{credential_id}").status_code == 404


def test_revoking_a_share_asks_first(wallet: WalletHarness) -> None:
    account = wallet.signup()
    credential_id = wallet.store(account)
    csrf = login(wallet, account)
    made = post(wallet, "/shares", csrf, data={"credential": credential_id})
    share_path = made.headers["location"]
    assert f'href="{share_path}/revoke"' in wallet.client.get(share_path).text
    confirm = wallet.client.get(f"{share_path}/revoke")
    assert "Deellink intrekken?" in confirm.text
    assert 'data-share-state="active"' in wallet.client.get(share_path).text
    post(wallet, f"{share_path}/revoke", csrf)
    assert 'data-share-state="revoked"' in wallet.client.get(share_path).text


def test_export_with_key_backup_restores_the_key(wallet: WalletHarness) -> None:
    old = wallet.signup("vertrekker")
    wallet.store(old)
    csrf = login(wallet, old)
    mismatch = post(
        wallet, "/data/export", csrf,
        data={"passphrase": "een-lange-zin", "passphrase_again": "een-andere-zin"},
    )  # fmt: skip
    assert mismatch.status_code == 400 and "niet gelijk" in mismatch.text
    short = post(
        wallet, "/data/export", csrf, data={"passphrase": "kort", "passphrase_again": "kort"}
    )
    assert short.status_code == 400 and "minstens 10 tekens" in short.text
    exported = post(
        wallet, "/data/export", csrf,
        data={"passphrase": "een-lange-zin", "passphrase_again": "een-lange-zin"},
    )  # fmt: skip
    assert exported.status_code == 200, exported.text
    bundle = exported.json()
    backup = bundle["keyBackup"]
    assert backup["kdf"]["name"] == "argon2id" and backup["cipher"] == "A256GCM"
    assert backup["did"] == old.did
    assert "secretKeyMultibase" not in exported.text

    new = wallet.signup("aankomer")
    csrf = login(wallet, new)
    files = {"file": ("export.json", exported.content, "application/json")}
    wrong = post(wallet, "/data/import", csrf, files=files, data={"passphrase": "fout-fout-fout"})
    assert wrong.status_code == 400 and "opent de sleutelback-up niet" in wrong.text
    assert json.loads(wallet.client.get("/api/credentials", headers=new.headers).text) == []
    right = post(wallet, "/data/import", csrf, files=files, data={"passphrase": "een-lange-zin"})
    assert right.status_code == 303, right.text
    services = wallet.client.app.state.services
    with services.db.session() as session:
        learner = session.exec(select(Learner).where(Learner.username == "aankomer")).one()
    assert learner.did == old.did  # the account took over the exported holder key
    assert services.keys.key_for(learner).controller == old.did
    listing = wallet.client.get("/credentials").text
    assert "data-keys-missing" not in listing and 'data-state="verified"' in listing


def test_an_import_without_the_key_warns_everywhere(wallet: WalletHarness) -> None:
    old = wallet.signup()
    wallet.store(old)
    bundle = wallet.client.get("/api/export", headers=old.headers).content
    new = wallet.signup()
    csrf = login(wallet, new)
    files = {"file": ("export.json", bundle, "application/json")}
    answer = post(wallet, "/data/import", csrf, files=files)
    assert answer.status_code == 303
    listing = wallet.client.get("/credentials").text
    assert "zonder sleutel" in listing  # the flash at import
    assert "data-keys-missing" in listing
    assert "data-keys-missing" in wallet.client.get("/shares").text


def test_a_printable_pdf_with_a_share_link(wallet: WalletHarness) -> None:
    account = wallet.signup()
    credential_id = wallet.store(account)
    csrf = login(wallet, account)
    pdf = post(wallet, f"/credentials/{credential_id}/pdf", csrf, data={"with_link": "1"})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    services = wallet.client.app.state.services
    with services.db.session() as session:
        shares = session.exec(select(Share).where(Share.credential_ids.is_not(None))).all()  # type: ignore[union-attr]
    assert [s.label for s in shares] == ["PDF"]
    plain = post(wallet, f"/credentials/{credential_id}/pdf", csrf)
    assert plain.content.startswith(b"%PDF-")
    with services.db.session() as session:
        assert len(session.exec(select(Share)).all()) == 1  # no link unless asked


def test_the_issuers_reason_is_shown_for_a_revoked_credential(wallet: WalletHarness) -> None:
    account = wallet.signup()
    issuer = wallet.internet.issuer
    credential = credential_for(issuer.key, account.did, status=issuer.status_entry())
    credential_id = wallet.store(account, credential)
    csrf = login(wallet, account)
    assert csrf
    issuer.revoke(credential)
    asked: list[str] = []
    original = issuer.handle

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/credentials/status-notice":
            asked.append(request.url.params["id"])
            return httpx.Response(200, json={
                "credential_id": credential["id"], "status": "revoked",
                "reason": "fraude bij de toets", "since": "2026-12-01T10:00:00Z",
            })  # fmt: skip
        return original(request)

    issuer.handle = handle  # type: ignore[method-assign]
    detail = wallet.client.get(f"/credentials/{credential_id}?recheck=1").text
    assert asked == [credential["id"]]
    assert 'data-state="revoked"' in detail and "fraude bij de toets" in text_of(detail)
    issuer.handle = original  # type: ignore[method-assign]
    quiet = wallet.client.get(f"/credentials/{credential_id}").text  # the issuer says 404
    assert "De instelling geeft geen reden op." in text_of(quiet)
    listing = wallet.client.get("/credentials/status.json").json()
    assert listing[credential_id] == {"state": "revoked", "label": "Ingetrokken"}


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_route_explanations_come_from_the_catalogue(wallet: WalletHarness, lang: str) -> None:
    account = wallet.signup()
    wallet.store(account)
    module = {"id": "x", "name": "Module X", "achievement_ids": ["https://nowhere.example/x"]}
    route = {"id": "r", "name": "Route", "min_ects": 13, "required_modules": [module]}
    added = wallet.client.post("/api/routes", json={"route": route}, headers=account.headers)
    assert added.status_code == 201, added.text
    login(wallet, account)
    wallet.client.cookies.set("mc_lang", lang)
    page = text_of(wallet.client.get(f"/routes/{added.json()['id']}").text)
    if lang == "nl":
        assert re.search(r"\d+ van 13 ECTS", page) and "Module X: nog geen microcredential" in page
        assert "no counted credential" not in page and " of 13 ECTS" not in page
    else:
        assert re.search(r"\d+ of 13 ECTS", page) and "Module X: no credential" in page


def test_an_unhandled_refusal_is_an_error_page_in_the_page_language(
    wallet: WalletHarness,
) -> None:
    account = wallet.signup()
    login(wallet, account)
    missing = wallet.client.get("/credentials/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404 and 'lang="nl"' in missing.text
    assert "Deze credential staat niet (meer) in je wallet." in text_of(missing.text)
    assert "no such credential" not in missing.text
    wallet.client.cookies.set("mc_lang", "en")
    english = wallet.client.get("/shares/00000000-0000-0000-0000-000000000000")
    assert english.status_code == 404 and "This share link does not exist" in english.text
