"""Issue 13, Build 3: the wallet's import verifies credentials already in circulation, over
HTTP (``POST /api/credentials/import``), as the core, the CLI and the verifier do:

* a VCDM 1.1 Open Badges 3.0 credential with an ``Ed25519Signature2020`` proof
  (``issuanceDate``, the OB 3.0.2 context, as DCC's and many other issuers' credentials are);
* a plain Open Badges 3.0 credential (VC 2.0 + OB 3.0.3 contexts only) from an issuer that
  never heard of microcred.

Each is stored verified with the format named in its report, read for routes (ECTS, EQF),
and its missing EU elements are a warning, never a refusal; a tampered copy is refused.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest

from contexts import CREDENTIALS_V2, OB_V3P0
from credentials.keys import Multikey
from credentials.proofs import sign
from tests.wallet.conftest import Account, WalletHarness

VC_V1 = "https://www.w3.org/2018/credentials/v1"
OB_V3P0_2 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json"
ED25519_2020 = "https://w3id.org/security/suites/ed25519-2020/v1"


FOREIGN_ACHIEVEMENT = "https://courses.tu-nord.example/achievements/machine-learning"


def foreign_ob3(
    issuer: Multikey,
    holder: str,
    *,
    contexts: tuple[str, ...] = (CREDENTIALS_V2, OB_V3P0),
    issued: str = "2026-01-10T09:00:00Z",
    cryptosuite: str | None = None,
) -> dict[str, Any]:
    """An OB 3.0 credential as any OB 3.0 issuer signs it: no microcred context or terms,
    ECTS as ``creditsAvailable`` and the EQF level as an ``ext:EQF`` alignment."""
    vcdm11 = contexts[0] == VC_V1
    return sign(
        {
            "@context": list(contexts),
            "id": f"urn:uuid:{uuid.uuid4()}",
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "issuer": {
                "id": issuer.controller,
                "type": ["Profile"],
                "name": "Technische Universität Nord",
                "url": "https://www.tu-nord.example/",
            },
            ("issuanceDate" if vcdm11 else "validFrom"): issued,
            "name": "Machine Learning",
            "credentialSubject": {
                "id": holder,
                "type": ["AchievementSubject"],
                "achievement": {
                    "id": FOREIGN_ACHIEVEMENT,
                    "type": ["Achievement"],
                    "name": "Machine Learning",
                    "description": "Supervised and unsupervised learning, model evaluation.",
                    "criteria": {"narrative": "Passed the exam and the project."},
                    "creditsAvailable": 5,
                    "alignment": [
                        {
                            "type": ["Alignment"],
                            "targetName": "EQF level 6",
                            "targetUrl": (
                                "https://europass.europa.eu/en/description-eight-eqf-levels"
                            ),
                            "targetFramework": "European Qualifications Framework",
                            "targetCode": "6",
                            "targetType": "ext:EQF",
                        }
                    ],
                },
            },
        },
        issuer,
        cryptosuite=cryptosuite,
    )


def plain_ob3(issuer: Multikey, holder: str) -> dict[str, Any]:
    """VC 2.0 + OB 3.0.3 contexts only, signed eddsa-rdfc-2022."""
    return foreign_ob3(issuer, holder)


def vcdm11_ob3(issuer: Multikey, holder: str) -> dict[str, Any]:
    """The VCDM 1.1 shape in circulation: issuanceDate, OB 3.0.2, Ed25519Signature2020."""
    return foreign_ob3(
        issuer,
        holder,
        contexts=(VC_V1, OB_V3P0_2, ED25519_2020),
        cryptosuite="Ed25519Signature2020",
    )


SHAPES = {
    "plain-ob3": (plain_ob3, "VC 2.0 · eddsa-rdfc-2022"),
    "vcdm11-ed25519-2020": (vcdm11_ob3, "VCDM 1.1 · Ed25519Signature2020"),
}


def _import(wallet: WalletHarness, account: Account, credential: Any) -> Any:
    return wallet.client.post(
        "/api/credentials/import", json={"credential": credential}, headers=account.headers
    )


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_credential_from_another_issuer_is_imported_verified(
    wallet: WalletHarness, shape: str
) -> None:
    make, label = SHAPES[shape]
    account = wallet.signup()
    issuer = Multikey.generate("ed25519")
    response = _import(wallet, account, make(issuer, account.did))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["verified"] is True, body["report"]["errors"]
    assert body["report"]["format"] == label
    checks = {c["id"]: (c["outcome"], c["code"]) for c in body["report"]["checks"]}
    assert checks["proof"][0] == "passed" and checks["holder"][0] == "passed"
    assert checks["schema"] == ("warning", "profile_incomplete")  # EU elements: not a refusal
    assert body["profile"]["complete"] is False
    assert (body["ects"], body["level"]) == (5, 6)
    assert body["title"] == "Machine Learning"

    detail = wallet.client.get(f"/api/credentials/{body['id']}", headers=account.headers)
    assert detail.status_code == 200
    assert detail.json()["report"]["format"] == label


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_tampered_copy_is_refused_and_not_stored(wallet: WalletHarness, shape: str) -> None:
    make, _ = SHAPES[shape]
    account = wallet.signup()
    forged = copy.deepcopy(make(Multikey.generate("ed25519"), account.did))
    forged["credentialSubject"]["achievement"]["creditsAvailable"] = 30
    response = _import(wallet, account, forged)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "credential_not_verified"
    assert wallet.client.get("/api/credentials", headers=account.headers).json() == []
