"""A holder without a DID of its own: OpenID4VCI's ``jwk`` holder binding issues the
credential to the wallet key's did:jwk (issue 13, Build 7), and that holder's presentation
must verify at microcred's verifier.

The whole path runs: the issuer app live on loopback issues through OpenID4VCI with a key
proof that carries a bare ``jwk``; the wallet key, named by its did:jwk, signs a
presentation; the verifier's ``POST /presentations/verify`` checks it (did:jwk resolved
offline, the issuer's did:web and status list fetched over loopback in dev mode).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from credentials.did_jwk import did_jwk_for, public_jwk
from credentials.jose import sign_jwt
from credentials.keys import Multikey
from credentials.verify import create_presentation
from tests.verifier.support import dev_verifier
from tests.wallet.test_with_issuer import LiveIssuer, live_issuer  # noqa: F401 (fixture)

PRE_AUTH = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
CONFIGURATION = "MicroCredential_ldp_vc"


@pytest.fixture
def verifier(tmp_path: Path) -> Iterator[TestClient]:
    with dev_verifier(tmp_path) as client:
        yield client


def issue_to_jwk(issuer: LiveIssuer, key: Multikey) -> dict[str, Any]:
    """OpenID4VCI pre-authorised flow whose key proof names the wallet by a bare jwk."""
    offer = issuer.offer()["credential_offer"]
    base = f"{issuer.url}/institutions/{issuer.slug}"
    with httpx.Client(timeout=30) as http:
        token = http.post(
            f"{base}/token",
            data={
                "grant_type": PRE_AUTH,
                "pre-authorized_code": offer["grants"][PRE_AUTH]["pre-authorized_code"],
            },
        )
        assert token.status_code == 200, token.text
        nonce = http.post(f"{base}/nonce").json()["c_nonce"]
        proof = sign_jwt(
            {"typ": "openid4vci-proof+jwt", "jwk": {**public_jwk(key), "use": "sig"}},
            {"aud": base, "iat": int(time.time()), "nonce": nonce},
            key,
        )
        answer = http.post(
            f"{base}/credential",
            json={"credential_configuration_id": CONFIGURATION, "proofs": {"jwt": [proof]}},
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
        )
    assert answer.status_code == 200, answer.text
    return answer.json()["credentials"][0]["credential"]


@pytest.mark.parametrize("algorithm", ["ed25519", "p256"])
def test_a_did_jwk_holders_presentation_verifies(
    live_issuer: LiveIssuer,  # noqa: F811 (the fixture imported above)
    verifier: TestClient,
    algorithm: str,
) -> None:
    key = Multikey.generate(algorithm)
    credential = issue_to_jwk(live_issuer, key)
    holder = did_jwk_for(public_jwk(key))
    assert credential["credentialSubject"]["id"] == holder

    bound = Multikey(key.algorithm, key.public_key, key.private_key, holder, f"{holder}#0")
    challenge = verifier.post("/challenges", json={}).json()["challenge"]
    presentation = create_presentation(
        [credential], bound, challenge=challenge, domain="127.0.0.1:8003"
    )
    answer = verifier.post(
        "/presentations/verify",
        json={
            "verifiablePresentation": presentation,
            "options": {"challenge": challenge, "domain": "127.0.0.1:8003"},
        },
    )
    assert answer.status_code == 200, answer.json()["errors"]
    body = answer.json()
    checks = {c["id"]: (c["outcome"], c["code"]) for c in body["checks"]}
    assert checks["proof"][0] == "passed"
    assert checks["holder"][0] == "passed"
    assert checks["credential[0].holder_binding"][0] == "passed"
    assert body["summary"]["holder"] == holder

    # the same presentation signed by another key under the holder's name is refused
    other = Multikey.generate(algorithm)
    forged = create_presentation(
        [credential],
        Multikey(other.algorithm, other.public_key, other.private_key, holder, f"{holder}#0"),
        challenge=verifier.post("/challenges", json={}).json()["challenge"],
    )
    refused = verifier.post(
        "/presentations/verify",
        json={
            "verifiablePresentation": forged,
            "options": {"challenge": forged["proof"]["challenge"]},
        },
    )
    assert refused.status_code == 400
    assert any(c["id"] == "proof" for c in refused.json()["errors"])
