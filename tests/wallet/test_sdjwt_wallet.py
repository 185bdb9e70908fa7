"""The wallet's own SD-JWT VC support (issue 19, build 4), against the real issuer app:
collect the dc+sd-jwt configuration of a two-format offer when the learner asks for it
(OB 3.0 stays the default), store it, show it (API and page, no raw token), re-check its
status through the Token Status List, and count it for a learning route."""

from __future__ import annotations

from typing import Any

import httpx
from sqlmodel import select

from credentials.sdjwt.reading import sd_jwt_claims
from servicekit.web import LANG_COOKIE
from tests.interop.test_oid4vc_clients import live_verifier  # noqa: F401  (fixture)
from tests.wallet.conftest import Account, WalletHarness
from tests.wallet.test_with_issuer import (  # noqa: F401  (fixtures)
    MODULE,
    LiveIssuer,
    _claim,
    live_issuer,
    wallet_live,
)
from wallet.models import Learner as LearnerRow


def test_a_two_format_offer_is_collected_as_sd_jwt_vc_when_asked(
    wallet_live: WalletHarness,  # noqa: F811
    live_issuer: LiveIssuer,  # noqa: F811
) -> None:
    wallet = wallet_live
    account = wallet.signup()
    response = _claim(wallet, account, live_issuer.offer()["offer_uri"], format="dc+sd-jwt")
    assert response.status_code == 201, response.text
    (received,) = response.json()["credentials"]
    assert received["format"] == "dc+sd-jwt"
    assert received["verified"] is True and received["status"] == "active", received
    assert received["title"] == MODULE["name"] and received["ects"] == 7.5
    assert received["level"] == 6 and received["issued"]
    assert received["institution"]["name"] == "Hogeschool Rijnland"
    assert received["warnings"] == []  # the issuer is known: iss is its did:web

    detail = wallet.client.get(f"/api/credentials/{received['id']}", headers=account.headers)
    data = detail.json()
    assert isinstance(data["credential"], str) and data["credential"].count("~") >= 2
    checks = {c["id"]: c["outcome"] for c in data["report"]["checks"]}
    assert checks["proof"] == checks["disclosures"] == checks["status"] == "passed", checks
    assert checks["holder"] == "passed"  # cnf is this learner's did:key
    assert {e["number"]: e["value"] for e in data["elements"]}[7].startswith("7.5 ECTS")
    assert data["institution"]["id"] == live_issuer.did  # iss, as the registry's DID

    # route progress counts it (credentials.rules works on the view)
    route = {
        "id": "minor-data",
        "name": "Minor Data",
        "min_ects": 5,
        "accepted_issuers": [live_issuer.did],
        "required_modules": [
            {"id": "w", "name": "Wrangling", "achievement_ids": [data["moduleId"]]}
        ],
    }
    added = wallet.client.post("/api/routes", json={"route": route}, headers=account.headers)
    assert added.status_code == 201, added.text
    progress = wallet.client.get(f"/api/routes/{added.json()['id']}", headers=account.headers)
    assert progress.json()["satisfied"] is True and progress.json()["ectsTotal"] == 7.5

    # not shared by link (a Data Integrity presentation cannot carry it): a clear 400
    share = wallet.client.post(
        "/api/shares", json={"credentialIds": [received["id"]]}, headers=account.headers
    )
    assert share.status_code == 400 and share.json()["code"] == "unsupported_format"

    # the same credential's id in the issuer's registry: revoke it, the status list says so
    live_issuer.revoke(data["credentialId"])
    wallet.clock.advance(wallet.settings.status_recheck_seconds + 1)
    detail = wallet.client.get(f"/api/credentials/{received['id']}", headers=account.headers)
    assert detail.json()["status"] == "revoked", detail.json()["statusCheck"]
    listed = wallet.client.get("/api/credentials", headers=account.headers).json()
    assert [c["status"] for c in listed] == ["revoked"]
    progress = wallet.client.get(f"/api/routes/{added.json()['id']}", headers=account.headers)
    assert progress.json()["satisfied"] is False  # a revoked one no longer counts


def test_ob3_stays_the_default_and_an_unknown_format_is_refused(
    wallet_live: WalletHarness,  # noqa: F811
    live_issuer: LiveIssuer,  # noqa: F811
) -> None:
    account = wallet_live.signup()
    bad = _claim(wallet_live, account, live_issuer.offer()["offer_uri"], format="mso_mdoc")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_format", bad.text
    response = _claim(wallet_live, account, live_issuer.offer()["offer_uri"])
    assert response.status_code == 201, response.text
    assert response.json()["credentials"][0]["format"] == "ldp_vc"


def test_the_pages_show_an_sd_jwt_vc_like_any_credential(
    wallet_live: WalletHarness,  # noqa: F811
    live_issuer: LiveIssuer,  # noqa: F811
) -> None:
    wallet = wallet_live
    account = wallet.signup()
    offer = live_issuer.offer()
    (received,) = _claim(wallet, account, offer["offer_uri"], format="dc+sd-jwt").json()[
        "credentials"
    ]
    token = wallet.client.get(
        f"/api/credentials/{received['id']}", headers=account.headers
    ).json()["credential"]
    page_session(wallet, account)
    for lang, words in (("nl", "SD-JWT VC"), ("en", "SD-JWT VC")):
        wallet.client.cookies.set(LANG_COOKIE, lang)
        listing = wallet.client.get("/credentials")
        assert listing.status_code == 200 and MODULE["name"] in listing.text
        assert words in listing.text
        detail = wallet.client.get(f"/credentials/{received['id']}")
        assert detail.status_code == 200
        html = detail.text
        assert MODULE["name"] in html and "Hogeschool Rijnland" in html and "7.5" in html
        assert words in html
        assert token.split("~")[0] not in html  # no raw token on the page


def page_session(wallet: WalletHarness, account: Account) -> None:
    services = wallet.client.app.state.services
    with services.db.session() as session:
        learner = session.exec(
            select(LearnerRow).where(LearnerRow.username == account.username)
        ).one()
    cookie, _ = services.accounts.issue_token(learner.id, "session")
    wallet.client.cookies.set("microcred_wallet_session", cookie)


GRADED = {
    "learner": {"email": "jan@example.nl", "student_number": "500123"},
    "result": {"grade": "8"},
}


def _sd_jwt_request(verifier: str, vct: str) -> dict[str, Any]:
    created = httpx.post(
        f"{verifier}/requests",
        json={"purpose": "Sollicitatie", "formats": ["dc+sd-jwt"], "vct_values": [vct]},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    return created.json()


def test_the_learner_presents_an_sd_jwt_vc_with_chosen_disclosures(
    wallet_live: WalletHarness,  # noqa: F811
    live_issuer: LiveIssuer,  # noqa: F811
    live_verifier: str,  # noqa: F811
) -> None:
    wallet = wallet_live
    account = wallet.signup()
    (received,) = _claim(
        wallet, account, live_issuer.offer(**GRADED)["offer_uri"], format="dc+sd-jwt"
    ).json()["credentials"]
    token = wallet.client.get(
        f"/api/credentials/{received['id']}", headers=account.headers
    ).json()["credential"]
    vct = sd_jwt_claims(token)["vct"]
    created = _sd_jwt_request(live_verifier, vct)
    uri = created["openid4vp_by_reference_uri"]

    preview = wallet.client.post(
        "/api/requests/preview", json={"request": uri}, headers=account.headers
    )
    assert preview.status_code == 200, preview.text
    (query,) = preview.json()["queries"]
    (match,) = query["matches"]
    assert match["id"] == received["id"] and query["selected"] == [received["id"]]
    offered = {d["path"]: d["requested"] for d in match["disclosable"]}
    assert {"learner.email", "result.grade"} <= set(offered)
    assert not any(offered.values())  # the request names no disclosable claim
    assert "title" in {f["path"] for f in match["sharedFields"]}

    unknown = wallet.client.post(
        "/api/requests/respond",
        json={
            "request": uri,
            "credentialIds": [received["id"]],
            "consent": True,
            "disclose": {received["id"]: ["iss"]},
        },
        headers=account.headers,
    )
    assert unknown.status_code == 400 and unknown.json()["code"] == "unknown_disclosure"

    sent = wallet.client.post(
        "/api/requests/respond",
        json={
            "request": uri,
            "credentialIds": [received["id"]],
            "consent": True,
            "disclose": {received["id"]: ["result.grade"]},
        },
        headers=account.headers,
    )
    assert sent.status_code == 200, sent.text
    assert sent.json()["disclosure"]["disclosed"] == {received["id"]: ["result.grade"]}
    shown = httpx.get(
        created["result_uri"], headers={"Authorization": f"Bearer {created['result_token']}"}
    ).json()["result"]
    assert shown["accepted"], shown
    [credential] = shown["summary"]["credentials"]
    assert credential["module"] == MODULE["name"]
    assert "grade" in credential["claims"].get("result", {})
    assert "learner" not in credential["claims"]  # e-mail, student number: left out
    log = wallet.client.get("/api/disclosures", headers=account.headers)
    assert log.status_code == 200, log.text
    assert log.json()[-1]["disclosed"] == {received["id"]: ["result.grade"]}


def test_dcql_claims_are_preselected_exactly(
    wallet_live: WalletHarness,  # noqa: F811
    live_issuer: LiveIssuer,  # noqa: F811
) -> None:
    """A request whose DCQL names ``result.grade``: exactly that claim starts ticked, and
    answering without a choice sends exactly it (parsed by the wallet's own reader)."""
    from credentials.dcql import parse_dcql
    from wallet.services import sdjwt

    wallet = wallet_live
    account = wallet.signup()
    (received,) = _claim(
        wallet, account, live_issuer.offer(**GRADED)["offer_uri"], format="dc+sd-jwt"
    ).json()["credentials"]
    token = wallet.client.get(
        f"/api/credentials/{received['id']}", headers=account.headers
    ).json()["credential"]
    vct = sd_jwt_claims(token)["vct"]
    dcql = parse_dcql(
        {
            "credentials": [
                {
                    "id": "mc",
                    "format": "dc+sd-jwt",
                    "meta": {"vct_values": [vct]},
                    "claims": [{"path": ["result", "grade"]}, {"path": ["title"]}],
                }
            ]
        }
    )
    (query,) = dcql.credentials
    claims = sdjwt.query_fits(query, token)
    assert claims is not None
    ticked = {
        d["path"]
        for d in sdjwt.disclosable(token, {sdjwt.path_text(c.path) for c in claims})
        if d["requested"]
    }
    assert ticked == {"result.grade"}
    other = parse_dcql(
        {
            "credentials": [
                {"id": "x", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:other"]}}
            ]
        }
    ).credentials[0]
    assert sdjwt.query_fits(other, token) is None  # another vct: not a match


def test_an_export_carries_the_sd_jwt_vc_into_a_new_account(
    wallet_live: WalletHarness,  # noqa: F811
    live_issuer: LiveIssuer,  # noqa: F811
) -> None:
    wallet = wallet_live
    account = wallet.signup()
    (received,) = _claim(
        wallet, account, live_issuer.offer()["offer_uri"], format="dc+sd-jwt"
    ).json()["credentials"]
    bundle = wallet.client.get("/api/export", headers=account.headers)
    assert bundle.status_code == 200, bundle.text
    fresh = wallet.signup()
    restored = wallet.client.post("/api/import", json=bundle.json(), headers=fresh.headers)
    assert restored.status_code == 201, restored.text
    [item] = wallet.client.get("/api/credentials", headers=fresh.headers).json()
    assert item["format"] == "dc+sd-jwt" and item["title"] == MODULE["name"]
    detail = wallet.client.get(f"/api/credentials/{item['id']}", headers=fresh.headers).json()
    holder = next(c for c in detail["report"]["checks"] if c["id"] == "holder")
    # bound to the old account's key: said so, never "issued to you"
    assert holder["code"] in ("bound_to_previous_did", "holder_mismatch"), holder
    assert received["id"] != item["id"]
