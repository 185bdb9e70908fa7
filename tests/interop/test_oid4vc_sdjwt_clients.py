"""A wallet microcred did not write collects an SD-JWT VC and presents it (issue 19).

The OpenWallet Foundation's ``@openid4vc/openid4vci`` / ``openid4vp`` 0.4.6 with
``@sd-jwt/sd-jwt-vc`` 0.19.0 (interop/oid4vc_sdjwt.mjs) against microcred's issuer and
verifier served by uvicorn on 127.0.0.1: the offer (tx_code), the nonce endpoint, a JWT
key proof with a bare ``jwk``, the ``dc+sd-jwt`` configuration; the wallet checks the
credential with the issuer's ``/.well-known/jwt-vc-issuer`` key; then it resolves the
verifier's signed request object (``decentralized_identifier:`` did:web), picks the DCQL
``dc+sd-jwt`` query, discloses what the learner chose, and posts a KB-JWT bound presentation.

What differs from microcred's own wallet is recorded in docs/sd-jwt-vc.md ("Interop").
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import httpx
import pytest

from interop.reference import REPO_ROOT
from tests.interop.test_oid4vc_clients import (  # noqa: F401  (fixtures)
    LiveIssuer,
    issuer,
    live_verifier,
    node,
)

pytestmark = pytest.mark.interop

HARNESS = REPO_ROOT / "interop" / "oid4vc_sdjwt.mjs"


def wallet(executable: str, op: str, **fields: Any) -> dict[str, Any]:
    done = subprocess.run(
        [executable, str(HARNESS)],
        input=json.dumps({"op": op, **fields}),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_the_openwallet_wallet_collects_and_presents_an_sd_jwt_vc(
    node: str,  # noqa: F811
    issuer: LiveIssuer,  # noqa: F811
    live_verifier: str,  # noqa: F811
) -> None:
    offer = issuer.offer(pin=True)
    collected = wallet(node, "collect", offer=offer["offer_uri"], txCode=offer["pin"])
    assert collected["ok"], collected
    got = collected["result"]
    assert got["configurationId"] == "MicroCredential_dc_sd_jwt"
    assert got["payload"]["vct"] == got["vct"]
    assert got["payload"]["cnf"]["jwk"]["crv"] == "P-256"
    assert issuer.state(offer) == "issued"

    created = httpx.post(
        f"{live_verifier}/requests",
        json={
            "purpose": "Application: data analyst",
            "formats": ["dc+sd-jwt"],
            "vct_values": [got["vct"]],
        },
    ).json()
    answer = wallet(
        node,
        "present",
        uri=created["openid4vp_by_reference_uri"],
        credential=got["credential"],
        holderJwk=got["holderJwk"],
        disclose=["learner.email"],
    )
    assert answer["ok"], answer
    sent = answer["result"]
    assert sent["signed"] is True and sent["client"]["prefix"] == "decentralized_identifier"
    assert sent["aud"].startswith("decentralized_identifier:did:web:")
    assert sent["status"] == 200, sent
    shown = httpx.get(
        created["result_uri"], headers={"Authorization": f"Bearer {created['result_token']}"}
    ).json()
    assert shown["status"] == "completed", shown
    outcome = shown["result"]
    assert outcome["verified"] and outcome["accepted"], outcome
    [credential] = outcome["summary"]["credentials"]
    assert credential["claims"]["learner"] == {"email": "jan@example.nl"}
    assert "result" not in credential["claims"]  # the learner did not disclose the grade

    # the same wallet answering the same request again: the nonce is spent
    again = wallet(
        node,
        "present",
        uri=created["openid4vp_uri"],
        credential=got["credential"],
        holderJwk=got["holderJwk"],
    )
    refused = again["result"] if again["ok"] else again
    assert "nonce" in json.dumps(refused) or "answered" in json.dumps(refused), refused
