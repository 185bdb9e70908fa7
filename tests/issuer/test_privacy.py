"""Issue 14 item 9, issuer side: what a credential and the issuer's database give away."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi.testclient import TestClient

from tests.issuer.support import Institution

HOLDER = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"


def _recover_student_number(credential: dict[str, Any]) -> str | None:
    """The attack: try every 6-digit number against each salted hash (about 0.3 s)."""
    for identity in credential["credentialSubject"].get("identifier", []):
        salt, wanted = identity["salt"], identity["identityHash"].removeprefix("sha256$")
        for n in range(500_000, 500_200):  # the test's cohort range keeps the test fast
            if hashlib.sha256(f"{n}{salt}".encode()).hexdigest() == wanted:
                return str(n)
    return None


def test_a_credential_bound_to_a_did_carries_no_reversible_identity_hash(
    client: TestClient, inst: Institution, module: Any
) -> None:
    body = {
        "module_id": "data-wrangling",
        "learner": {"did": HOLDER, "student_number": "500123", "email": "jan@example.nl"},
    }
    answer = client.post(inst.path("/issuances"), json=body, headers=inst.headers)
    assert answer.status_code == 201, answer.text
    credential = answer.json()["verifiableCredential"]
    assert credential["credentialSubject"]["id"] == HOLDER
    assert _recover_student_number(credential) is None
    assert "identifier" not in credential["credentialSubject"]
    # the registrar still finds it by student number
    listed = client.get(
        inst.path("/credentials"), params={"learner": "500123"}, headers=inst.headers
    ).json()
    assert [c["credentialId"] for c in listed["credentials"]] == [credential["id"]]
