"""The verifier service and Open Badges 2.0: ``POST /credentials/verify`` checks a hosted
edubadges assertion fetched from a local host, and an admission rule counts it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.badge_host import BADGE, ISSUER, REVOCATIONS, BadgeHost, badge_host

RULE = {
    "id": "minor-ds",
    "name": "Minor Data Science",
    "min_ects": 5,
    "min_eqf_level": 6,
    "required_modules": [{"id": "stats", "name": "Statistics", "keywords": ["statistics"]}],
}


@pytest.fixture
def host() -> Iterator[BadgeHost]:
    with badge_host() as running:
        yield running


def _checks(body: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {c["id"]: (c["outcome"], c["code"]) for c in body["checks"]}


def test_a_hosted_assertion_verifies(dev_client: TestClient, host: BadgeHost) -> None:
    assertion = host.publish_edubadges()
    response = dev_client.post("/credentials/verify", json={"verifiableCredential": assertion})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["verified"] is True
    assert body["summary"]["format"] == "Open Badges 2.0 · hosted"
    assert body["summary"]["issuer"] == host.url(ISSUER)
    assert body["summary"]["ects"] == 5.0 and body["summary"]["eqfLevel"] == 6
    assert _checks(body)["hosting"] == ("warning", "ob2_hosted_trust")
    assert _checks(body)["trust"][0] in ("warning", "failed", "passed")


def test_a_revoked_assertion_is_refused(dev_client: TestClient, host: BadgeHost) -> None:
    assertion = host.publish_edubadges()
    listing = host.fixture("revocations")
    listing["revokedAssertions"].append(assertion["id"])
    host.serve(REVOCATIONS, listing)
    response = dev_client.post("/credentials/verify", json={"verifiableCredential": assertion})
    assert response.status_code == 400
    assert _checks(response.json())["status"] == ("failed", "revoked")


def test_production_refuses_a_private_address_without_fetching(
    client: TestClient, host: BadgeHost
) -> None:
    assertion = host.publish_edubadges()
    assertion["id"] = assertion["id"].replace("http://", "https://")
    response = client.post("/credentials/verify", json={"verifiableCredential": assertion})
    assert response.status_code == 400
    proof = _checks(response.json())["proof"]
    assert proof == ("failed", "fetch_refused_address")
    assert host.requests == []


def test_an_admission_rule_counts_a_hosted_badge(dev_client: TestClient, host: BadgeHost) -> None:
    """The applicant hands in the assertion as edubadges serves it (BadgeClass by URL): the
    verifier reads the BadgeClass it fetched, so ECTS and EQF level count."""
    assertion = host.publish_edubadges()
    response = dev_client.post(
        "/admissions/evaluate", json={"credentials": [assertion], "rule": RULE}
    )
    assert response.status_code == 200, response.text
    outcome = response.json()
    assert outcome["satisfied"] is True, outcome
    assert outcome["ects_total"] == 5.0
    # the same rule with the BadgeClass tampered upstream of the check: nothing counts
    badge = host.fixture("badgeclass")
    host.serve(BADGE, {**badge, "issuer": host.url("/public/issuers/someone-else")})
    refused = dev_client.post(
        "/admissions/evaluate", json={"credentials": [assertion], "rule": RULE}
    ).json()
    assert refused["satisfied"] is False
    assert refused["rejected"] and refused["rejected"][0]["reasons"]




def _signed_jws(host: BadgeHost) -> str:
    """An ES256-signed edubadges-shaped assertion whose key and issuer the host serves."""
    import uuid

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from credentials.ob2 import sign_ob2

    host.publish_edubadges()
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    key_url = host.url("/keys/es")
    host.serve(
        "/keys/es",
        {"type": "CryptographicKey", "id": key_url, "owner": host.url(ISSUER),
         "publicKeyPem": pem.decode()},
    )  # fmt: skip
    host.serve(ISSUER, {**host.fixture("issuer"), "publicKey": key_url})
    assertion = {
        **host.fixture("assertion"),
        "id": f"urn:uuid:{uuid.uuid4()}",
        "verification": {"type": "SignedBadge", "creator": key_url},
    }
    return sign_ob2(assertion, key, alg="ES256")


def test_a_signed_assertion_as_a_jws_string(dev_client: TestClient, host: BadgeHost) -> None:
    jws = _signed_jws(host)
    response = dev_client.post("/credentials/verify", json={"verifiableCredential": jws})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["summary"]["format"] == "Open Badges 2.0 · signed"
    assert _checks(body)["proof"] == ("passed", "ob2_signed")
    head, payload, signature = jws.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    tampered = dev_client.post(
        "/credentials/verify", json={"verifiableCredential": f"{head}.{payload}.{flipped}"}
    )
    assert tampered.status_code == 400
    assert _checks(tampered.json())["proof"] == ("failed", "invalid_signature")


def test_the_check_page_shows_a_hosted_badge(dev_client: TestClient, host: BadgeHost) -> None:
    import json

    assertion = host.publish_edubadges()
    dev_client.get("/")
    csrf = dev_client.cookies.get("mc_verifier_csrf")
    page = dev_client.post(
        "/check/credential",
        data={"document": json.dumps(assertion), "csrf_token": csrf},
        headers={"Origin": "http://localhost:8003"},
    )
    assert page.status_code == 200, page.text
    assert "Statistics for Data Science" in page.text
    assert "Zo betrouwbaar als de server van de uitgever" in page.text  # by code, in Dutch
    assert "only as trustworthy as the server" not in page.text  # never the engine's English
    pasted = dev_client.post(
        "/check/credential",
        data={"document": _signed_jws(host), "csrf_token": csrf},
        headers={"Origin": "http://localhost:8003"},
    )
    assert pasted.status_code == 200, pasted.text
    assert "Statistics for Data Science" in pasted.text
    assert "ob2_signed" in pasted.text or "ES256 signature" in pasted.text


def test_profile_required_refuses_a_badge_by_that_policy(
    make_client: Any, host: BadgeHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An OB 2.0 badge carries no EU micro-credential profile: where the deployment sets
    ``profile-required`` it is refused by that policy's name, its proof still passed."""
    monkeypatch.setenv("MICROCRED_VERIFIER_POLICIES", "profile-required")
    client = make_client(dev=True, public_url="http://localhost:8003")
    assertion = host.publish_edubadges()
    response = client.post("/credentials/verify", json={"verifiableCredential": assertion})
    assert response.status_code == 400, response.text
    errors = {(c["id"], c["code"]) for c in response.json()["errors"]}
    assert errors == {("policy", "policy_profile_required")}
    assert _checks(response.json())["proof"][0] == "passed"
