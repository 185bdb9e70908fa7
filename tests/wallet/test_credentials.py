"""Importing credential files, verification on arrival, browsing, detail, status re-checks."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from credentials.keys import Multikey
from tests.wallet.conftest import (
    PUBLIC_URL,
    WalletHarness,
    fake_fetcher,
    make_keystore,
    make_settings,
)
from tests.wallet.fakes import Clock, FakeInternet, credential_for
from wallet.main import create_app


def _count(wallet: WalletHarness, account) -> int:  # type: ignore[no-untyped-def]
    return len(wallet.client.get("/api/credentials", headers=account.headers).json())


def test_import_verifies_and_stores_the_report(wallet: WalletHarness) -> None:
    account = wallet.signup()
    response = wallet.client.post(
        "/api/credentials/import",
        json={"credential": wallet.credential(account)},
        headers=account.headers,
    )
    assert response.status_code == 201
    body = response.json()
    assert body["verified"] is True and body["source"] == "import"
    assert body["report"]["verified"] is True
    checks = {c["id"]: c for c in body["report"]["checks"]}
    assert checks["proof"]["outcome"] == "passed"
    assert checks["holder"]["outcome"] == "passed"
    # an issuer the wallet does not know is a warning shown to the learner, not a refusal
    assert checks["trust"]["outcome"] == "warning"
    assert checks["trust"]["code"] == "unknown_issuer"
    assert body["warnings"] and "known issuers" in body["warnings"][0]


def test_a_known_issuer_passes_the_trust_check(database_url: str, tmp_path: Path) -> None:
    issuer = Multikey.generate()
    registry = tmp_path / "issuers.yaml"
    registry.write_text(f"issuers:\n  - id: {issuer.controller}\n    name: Hogeschool Rijnland\n")
    settings = make_settings(database_url, tmp_path, known_issuers_file=registry)
    app = create_app(
        settings, clock=Clock(), fetcher=fake_fetcher(FakeInternet()), keystore=make_keystore()
    )
    with TestClient(app, base_url=PUBLIC_URL) as client:
        harness = WalletHarness(client, FakeInternet(), Clock(), settings, issuer)
        account = harness.signup()
        stored = harness.store(account)
        detail = client.get(f"/api/credentials/{stored}", headers=account.headers).json()
    trust = next(c for c in detail["report"]["checks"] if c["id"] == "trust")
    assert trust["outcome"] == "passed" and "Hogeschool Rijnland" in trust["message"]
    assert detail["warnings"] == []


def test_a_file_as_text_is_accepted(wallet: WalletHarness) -> None:
    import json

    account = wallet.signup()
    text = json.dumps(wallet.credential(account))
    response = wallet.client.post(
        "/api/credentials/import", json={"credential": text}, headers=account.headers
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"\x89PNG\r\n\x1a\n garbage", "invalid_json"),
        (b"", "invalid_json"),
        (b"[1, 2]", "invalid_json"),
        (b'{"credential": "this is not json"}', "not_a_credential"),
        (b'{"credential": 42}', "not_a_credential"),
        (b'{"credential": {"a": 1}, "credential": {"b": 2}}', "duplicate_key"),
        (b'{"nothing": 1}', "not_a_credential"),
        (
            b'{"credential": {"@context": ["https://www.w3.org/ns/credentials/v2"]}}',
            "unusable_credential",
        ),
    ],
)
def test_garbage_is_refused_and_nothing_stored(
    wallet: WalletHarness, body: bytes, code: str
) -> None:
    account = wallet.signup()
    response = wallet.client.post(
        "/api/credentials/import",
        content=body,
        headers={**account.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400, response.text
    assert response.json()["code"] == code
    assert response.json()["detail"]
    assert _count(wallet, account) == 0


@pytest.mark.parametrize("keep", [False, True])
def test_an_unknown_context_is_refused_even_when_kept(wallet: WalletHarness, keep: bool) -> None:
    account = wallet.signup()
    credential = wallet.credential(account)
    credential["@context"] = [*credential["@context"], "https://evil.example/context.jsonld"]
    response = wallet.client.post(
        "/api/credentials/import",
        json={"credential": credential, "keepUnverified": keep},
        headers=account.headers,
    )
    assert response.status_code == 400
    problem = response.json()
    assert problem["code"] == "unusable_credential"
    assert "https://evil.example/context.jsonld" in problem["detail"]
    assert problem["report"]["verified"] is False
    assert _count(wallet, account) == 0


def test_a_tampered_credential_is_refused_with_the_report(wallet: WalletHarness) -> None:
    account = wallet.signup()
    forged = copy.deepcopy(wallet.credential(account))
    forged["credentialSubject"]["achievement"]["name"] = "Advanced Brain Surgery"
    response = wallet.client.post(
        "/api/credentials/import", json={"credential": forged}, headers=account.headers
    )
    assert response.status_code == 400
    problem = response.json()
    assert problem["code"] == "credential_not_verified"
    assert any(e["id"] == "proof" for e in problem["report"]["errors"])
    assert _count(wallet, account) == 0


def test_a_failing_credential_can_be_kept_marked_unverified(wallet: WalletHarness) -> None:
    account = wallet.signup()
    forged = copy.deepcopy(wallet.credential(account))
    forged["credentialSubject"]["achievement"]["name"] = "Advanced Brain Surgery"
    response = wallet.client.post(
        "/api/credentials/import",
        json={"credential": forged, "keepUnverified": True},
        headers=account.headers,
    )
    assert response.status_code == 201
    assert response.json()["verified"] is False
    listed = wallet.client.get("/api/credentials", headers=account.headers).json()
    assert [c["verified"] for c in listed] == [False]
    detail = wallet.client.get(f"/api/credentials/{listed[0]['id']}", headers=account.headers)
    assert detail.json()["report"]["errors"]


def test_an_expired_credential_is_refused(wallet: WalletHarness) -> None:
    account = wallet.signup()
    from datetime import UTC, datetime

    from credentials.proofs import sign

    credential = wallet.credential(account)
    credential.pop("proof")
    credential["validUntil"] = "2025-07-01T00:00:00Z"
    signed = sign(credential, wallet.issuer_key)
    assert datetime.now(UTC).year >= 2025
    response = wallet.client.post(
        "/api/credentials/import", json={"credential": signed}, headers=account.headers
    )
    assert response.status_code == 400
    assert any(e["code"] == "expired" for e in response.json()["report"]["errors"])


def test_another_holders_credential_is_refused_unless_kept(wallet: WalletHarness) -> None:
    account = wallet.signup()
    other = Multikey.generate().controller
    response = wallet.client.post(
        "/api/credentials/import",
        json={"credential": wallet.credential(other)},
        headers=account.headers,
    )
    assert response.status_code == 400
    assert any(e["code"] == "holder_mismatch" for e in response.json()["report"]["errors"])
    assert _count(wallet, account) == 0


def test_a_credential_without_holder_did_is_a_warning(wallet: WalletHarness) -> None:
    account = wallet.signup()
    stored = wallet.store(account, wallet.credential(None))
    detail = wallet.client.get(f"/api/credentials/{stored}", headers=account.headers).json()
    holder = next(c for c in detail["report"]["checks"] if c["id"] == "holder")
    assert holder["code"] == "holder_not_bound"
    assert detail["elements"][0]["value"].startswith("a learner identified by a hashed")


def test_the_same_credential_is_stored_once(wallet: WalletHarness) -> None:
    account = wallet.signup()
    credential = wallet.credential(account)
    first = wallet.store(account, credential)
    again = wallet.client.post(
        "/api/credentials/import", json={"credential": credential}, headers=account.headers
    )
    assert again.status_code == 409
    assert again.json()["credentialId"] == first


def test_detail_shows_every_eu_element_in_plain_language(wallet: WalletHarness) -> None:
    account = wallet.signup()
    stored = wallet.store(account)
    detail = wallet.client.get(f"/api/credentials/{stored}", headers=account.headers).json()
    numbered = {e["number"]: e for e in detail["elements"] if e["number"]}
    assert sorted(numbered) == list(range(1, 12))
    assert numbered[7]["value"] == "7.5 ECTS (about 210 hours of study)"
    assert numbered[8]["value"].startswith("EQF level 6")
    assert numbered[4]["value"] == "Hogeschool Rijnland (BRIN 99HR)"
    assert detail["credential"]["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    assert detail["statusCheck"]["status"] == "none"


def test_browse_filters(wallet: WalletHarness) -> None:
    account = wallet.signup()
    wallet.store(account)  # Data Wrangling, EQF 6, 2025-06-30, Hogeschool Rijnland
    other_issuer = Multikey.generate()
    from dataclasses import replace

    from credentials.microcredential import Learner
    from credentials.proofs import sign
    from microcred.samples import WO, module, sample_credential

    unsigned = sample_credential(
        issuer=replace(WO, id=other_issuer.controller),
        achievement=module(
            id="https://unidelta.example/modules/statistics",
            name="Statistics for Data Science",
            eqf_level=7,
        ),
        learner=Learner(did=account.did),
        credential_id="urn:uuid:00000000-0000-4000-8000-000000000007",
        valid_from=__import__("datetime").datetime(2024, 2, 1, tzinfo=__import__("datetime").UTC),
    )
    unsigned["awardedDate"] = "2024-02-01T00:00:00Z"
    wallet.store(account, sign(unsigned, other_issuer))

    def titles(**params: object) -> list[str]:
        response = wallet.client.get("/api/credentials", params=params, headers=account.headers)
        assert response.status_code == 200, response.text
        return [c["title"] for c in response.json()]

    assert titles() == ["Data Wrangling with Python", "Statistics for Data Science"]
    assert titles(institution="delta") == ["Statistics for Data Science"]
    assert titles(institution=other_issuer.controller) == ["Statistics for Data Science"]
    assert titles(module="wrangling") == ["Data Wrangling with Python"]
    assert titles(module="https://unidelta.example/modules/statistics") == [
        "Statistics for Data Science"
    ]
    assert titles(level=7) == ["Statistics for Data Science"]
    assert titles(issuedFrom="2025-01-01") == ["Data Wrangling with Python"]
    assert titles(issuedTo="2024-02-01") == ["Statistics for Data Science"]
    assert titles(issuedFrom="2024-02-02", issuedTo="2025-06-29") == []
    assert titles(institution="100%_") == []
    bad = wallet.client.get("/api/credentials", params={"level": 9}, headers=account.headers)
    assert bad.status_code == 422


def test_delete_a_credential(wallet: WalletHarness) -> None:
    account = wallet.signup()
    stored = wallet.store(account)
    assert (
        wallet.client.delete(f"/api/credentials/{stored}", headers=account.headers).status_code
        == 204
    )
    assert (
        wallet.client.get(f"/api/credentials/{stored}", headers=account.headers).status_code == 404
    )
    assert _count(wallet, account) == 0


def test_status_is_rechecked_on_view_with_caching(wallet: WalletHarness) -> None:
    account = wallet.signup()
    issuer = wallet.internet.issuer
    credential = credential_for(issuer.key, account.did, status=issuer.status_entry())
    stored = wallet.store(account, credential)
    listed = wallet.client.get("/api/credentials", headers=account.headers).json()
    assert listed[0]["status"] == "active"
    issuer.revoke(credential)
    fetches = issuer.requests.count("GET /status/1")
    # within the re-check interval the stored status is shown, without a download
    detail = wallet.client.get(f"/api/credentials/{stored}", headers=account.headers).json()
    assert detail["status"] == "active" and detail["statusCheck"]["rechecked"] is False
    assert issuer.requests.count("GET /status/1") == fetches
    # after it, the status is checked again (the list cache has expired too)
    wallet.clock.advance(wallet.settings.status_recheck_seconds + 1)
    detail = wallet.client.get(f"/api/credentials/{stored}", headers=account.headers).json()
    assert detail["statusCheck"]["rechecked"] is True
    assert detail["status"] == "revoked"
    assert detail["statusCheck"]["checks"][0]["code"] == "revoked"
    listed = wallet.client.get("/api/credentials", headers=account.headers).json()
    assert listed[0]["status"] == "revoked"


def test_refresh_forces_a_fresh_status_check(wallet: WalletHarness) -> None:
    account = wallet.signup()
    issuer = wallet.internet.issuer
    credential = credential_for(issuer.key, account.did, status=issuer.status_entry())
    stored = wallet.store(account, credential)
    issuer.revoke(credential)
    detail = wallet.client.get(
        f"/api/credentials/{stored}", params={"refresh": "true"}, headers=account.headers
    ).json()
    assert detail["status"] == "revoked"


def test_a_revoked_credential_is_refused_on_arrival(wallet: WalletHarness) -> None:
    account = wallet.signup()
    issuer = wallet.internet.issuer
    credential = credential_for(issuer.key, account.did, status=issuer.status_entry())
    issuer.revoke(credential)
    response = wallet.client.post(
        "/api/credentials/import", json={"credential": credential}, headers=account.headers
    )
    assert response.status_code == 400
    assert any(e["code"] == "revoked" for e in response.json()["report"]["errors"])


def test_an_unreachable_status_list_is_a_warning(wallet: WalletHarness) -> None:
    account = wallet.signup()
    status = wallet.internet.issuer.status_entry()
    status["statusListCredential"] = "https://gone.example/status/1"
    status["id"] = "https://gone.example/status/1#1"
    credential = credential_for(wallet.internet.issuer.key, account.did, status=status)
    stored = wallet.client.post(
        "/api/credentials/import", json={"credential": credential}, headers=account.headers
    )
    assert stored.status_code == 201
    assert stored.json()["status"] == "unknown"


def test_import_of_an_unsupported_format_is_refused_as_that(wallet: WalletHarness) -> None:
    """Issue 13, bad input: a JWT-secured VC or a BBS proof is an unsupported format (400,
    ``unsupported_format``), never a bad signature, and nothing is stored."""
    import base64
    import json

    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    account = wallet.signup()
    jwt_vc = f"{part({'alg': 'ES256'})}.{part({'vc': {'type': ['VerifiableCredential']}})}.c2ln"
    bbs = dict(wallet.credential(account))
    bbs["proof"] = {**bbs["proof"], "cryptosuite": "bbs-2023"}
    for value in (jwt_vc, bbs):
        response = wallet.client.post(
            "/api/credentials/import", json={"credential": value}, headers=account.headers
        )
        assert response.status_code == 400
        assert response.json()["code"] == "unsupported_format"
        assert response.json()["detail"].startswith("unsupported format: ")
    assert _count(wallet, account) == 0


def _incomplete_for(wallet: WalletHarness, did: str) -> dict[str, object]:
    """A genuine OB 3.0 credential without the assessment, participation and quality
    assurance alignments (EU elements 9, 10, 11)."""
    from dataclasses import replace

    from credentials.microcredential import Learner
    from credentials.proofs import sign
    from microcred.samples import HBO, sample_credential

    credential = sample_credential(
        issuer=replace(HBO, id=wallet.issuer_key.controller), learner=Learner(did=did)
    )
    achievement = credential["credentialSubject"]["achievement"]
    dropped = ("ext:AssessmentType", "ext:ParticipationForm", "ext:QualityAssurance")
    achievement["alignment"] = [
        a for a in achievement["alignment"] if a["targetType"] not in dropped
    ]
    return sign(credential, wallet.issuer_key)


def test_an_incomplete_credential_is_verified_and_its_cards_say_what_is_missing(
    wallet: WalletHarness,
) -> None:
    from sqlmodel import select

    from servicekit.web import LANG_COOKIE
    from wallet.models import Learner as LearnerRow

    account = wallet.signup("incomplete")
    response = wallet.client.post(
        "/api/credentials/import",
        json={"credential": _incomplete_for(wallet, account.did)},
        headers=account.headers,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["verified"] is True
    assert body["report"]["profile"]["missing"] == [
        "assessment",
        "participation",
        "quality_assurance",
    ]
    complete = wallet.store(account)
    services = wallet.client.app.state.services
    with services.db.session() as session:
        learner = session.exec(select(LearnerRow).where(LearnerRow.username == "incomplete")).one()
    cookie, _ = services.accounts.issue_token(learner.id, "session")
    wallet.client.cookies.set("microcred_wallet_session", cookie)
    try:
        for lang, text in (
            ("nl", "Echt en geldig · 3 van de 11 EU-elementen ontbreken"),
            ("en", "Genuine and valid · 3 of the 11 EU elements missing"),
        ):
            wallet.client.cookies.set(LANG_COOKIE, lang)
            page = wallet.client.get("/credentials")
            assert page.status_code == 200
            assert page.text.count(text) == 1  # the incomplete one, not the complete one
            detail = wallet.client.get(f"/credentials/{body['id']}")
            assert text in detail.text
            assert text not in wallet.client.get(f"/credentials/{complete}").text
    finally:
        wallet.client.cookies.clear()
