"""Inbound: credentials signed by the outside stacks verify in microcred.

An institution that never heard of microcred issues Open Badges 3.0 with Digital Bazaar's
``vc`` (eddsa-rdfc-2022, ecdsa-rdfc-2019, or Ed25519Signature2020 on a VCDM 1.1
credential) or with DCC's issuing libraries (``@digitalcredentials/vc``, as DCC's signing
service uses them). Each credential is first checked in both stacks (so the input is known
good), then in microcred three ways a user meets it: the core verifier
(``credentials.setup.default_verifier``), ``microcred verify``, and the verifier service's
``POST /credentials/verify``. A tampered copy must fail in microcred.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from credentials.setup import default_verifier
from interop.reference import REPO_ROOT
from servicekit.migrations import upgrade
from tests.interop.outside import OutsideStacks
from tests.interop.tls import LocalTls, microcred_verifier, static_https_server
from tests.support.servers import free_port
from verifier.config import Settings
from verifier.main import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.interop

VC2 = "https://www.w3.org/ns/credentials/v2"
VC1 = "https://www.w3.org/2018/credentials/v1"
OB303 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB302 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json"
ED25519_2020 = "https://w3id.org/security/suites/ed25519-2020/v1"
HOLDER = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"

# (signing stack, key type, data model); the key type picks the proof
SIGNERS = {
    "db-eddsa-rdfc-2022-vc2": ("db", "ed25519", "2.0"),
    "db-ecdsa-rdfc-2019-vc2": ("db", "p256", "2.0"),
    "db-Ed25519Signature2020-vc1.1": ("db", "ed25519-2020", "1.1"),
    "dcc-eddsa-rdfc-2022-vc2": ("dcc", "ed25519", "2.0"),
    "dcc-Ed25519Signature2020-vc1.1": ("dcc", "ed25519-2020", "1.1"),
}


def open_badge(issuer: str, model: str) -> dict[str, Any]:
    """A plain Open Badges 3.0 AchievementCredential, no microcred context or terms."""
    credential: dict[str, Any] = {
        "@context": [VC2, OB303] if model == "2.0" else [VC1, OB302, ED25519_2020],
        "id": "urn:uuid:6a3b7f1e-2c4d-4e8f-9a0b-1c2d3e4f5a6b",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Data Literacy",
        "issuer": {
            "id": issuer,
            "type": ["Profile"],
            "name": "Universiteit van Elders",
            "url": "https://elders.example/",
        },
        "credentialSubject": {
            "id": HOLDER,
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://elders.example/achievements/data-literacy",
                "type": ["Achievement"],
                "name": "Data Literacy",
                "description": "Reading, questioning and presenting quantitative data.",
                "criteria": {"narrative": "Passed the final assessment."},
                "creditsAvailable": 5,
            },
        },
    }
    if model == "2.0":
        credential["validFrom"] = "2026-01-15T09:00:00Z"
    else:
        credential["issuanceDate"] = "2026-01-15T09:00:00Z"
    return credential


@pytest.fixture(scope="module")
def signed(outside: OutsideStacks) -> dict[str, dict[str, Any]]:
    """One credential per signer, each checked in both stacks before microcred sees it."""
    out = {}
    for name, (stack, key_type, model) in SIGNERS.items():
        key = outside.db_generate_key(key_type)
        credential = open_badge(key["controller"], model)
        if stack == "db":
            vc = outside.db_sign(credential, key)
        else:
            suite = "Ed25519Signature2020" if key_type == "ed25519-2020" else "eddsa-rdfc-2022"
            vc = outside.dcc_sign(credential, key, suite=suite)
        db = outside.db_verify(vc)
        assert db.verified, (name, db.error)
        if key_type != "p256":  # verifier-core has no ecdsa-rdfc-2019
            dcc = outside.dcc_verify(vc)
            assert dcc.errors == [] and dcc.valid_signature, (name, dcc.raw)
        out[name] = vc
    return out


@pytest.fixture(scope="module")
def verifier_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from tests.support.databases import fresh_database

    data_dir = Path(tmp_path_factory.mktemp("outside-verifier"))
    with fresh_database(data_dir) as database_url:
        upgrade("verifier", database_url)
        settings = Settings(
            database_url=database_url, data_dir=data_dir, public_url="https://verifier.example"
        )
        with TestClient(create_app(settings)) as client:
            yield client


def failed(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (c["id"], c["code"], c.get("message", ""))
        for c in report["checks"]
        if c["outcome"] == "failed"
    ]


def tampered(credential: dict[str, Any]) -> dict[str, Any]:
    forged = copy.deepcopy(credential)
    forged["credentialSubject"]["achievement"]["name"] = "Advanced Brain Surgery"
    return forged


@pytest.mark.parametrize("signer", list(SIGNERS))
def test_a_credential_signed_by_an_outside_stack_verifies_in_the_core(
    signed: dict[str, dict[str, Any]], signer: str
) -> None:
    report = default_verifier().verify_credential(signed[signer]).to_dict()
    assert report["verified"] is True, failed(report)
    forged = default_verifier().verify_credential(tampered(signed[signer])).to_dict()
    assert forged["verified"] is False
    assert [c[0] for c in failed(forged)] == ["proof"], failed(forged)


@pytest.mark.parametrize("signer", list(SIGNERS))
def test_a_credential_signed_by_an_outside_stack_verifies_with_the_cli(
    signed: dict[str, dict[str, Any]], signer: str, tmp_path: Path
) -> None:
    path = tmp_path / "credential.json"
    path.write_text(json.dumps(signed[signer]))
    result = subprocess.run(
        [sys.executable, "-m", "microcred", "verify", str(path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, (result.stdout[-2000:], result.stderr[-2000:])
    assert json.loads(result.stdout)["verified"] is True


@pytest.mark.parametrize("signer", list(SIGNERS))
def test_a_credential_signed_by_an_outside_stack_verifies_in_the_verifier_service(
    signed: dict[str, dict[str, Any]], signer: str, verifier_service: Any
) -> None:
    response = verifier_service.post(
        "/credentials/verify", json={"verifiableCredential": signed[signer]}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["verified"] is True, body.get("errors") or body
    forged = verifier_service.post(
        "/credentials/verify", json={"verifiableCredential": tampered(signed[signer])}
    )
    assert forged.json()["verified"] is False


# --------------------------------------------------------------------------- did:web


DID_WEB_KEYS = {
    # key type → (data model, DID document contexts): an Ed25519VerificationKey2020 key
    # signing a VCDM 1.1 credential, and a Multikey signing VC 2.0
    "ed25519-2020": ("1.1", ["https://www.w3.org/ns/did/v1", ED25519_2020]),
    "ed25519": ("2.0", ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]),
}


@pytest.mark.parametrize("key_type", list(DID_WEB_KEYS))
def test_an_outside_institution_on_did_web_verifies_in_microcred(
    outside: OutsideStacks, local_tls: LocalTls, key_type: str
) -> None:
    """The institution publishes its own DID document (with an Ed25519VerificationKey2020 or
    Multikey key) over https; Digital Bazaar's vc signs; both stacks and microcred resolve
    the did:web from that server."""
    model, contexts = DID_WEB_KEYS[key_type]
    port = free_port()
    did = f"did:web:127.0.0.1%3A{port}:issuers:elders"
    key = outside.db_generate_key(key_type, controller=did)
    secret = ("privateKeyMultibase", "secretKeyMultibase", "@context")
    public = {k: v for k, v in key.items() if k not in secret}
    document = {
        "@context": contexts,
        "id": did,
        "verificationMethod": [public],
        "assertionMethod": [key["id"]],
        "authentication": [key["id"]],
    }
    with static_https_server({"/issuers/elders/did.json": document}, port, local_tls):
        vc = outside.db_sign(open_badge(did, model), key)
        db = outside.db_verify(vc)
        assert db.verified, db.error
        dcc = outside.dcc_verify(vc)
        assert dcc.errors == [] and dcc.valid_signature, dcc.raw
        report = microcred_verifier(local_tls).verify_credential(vc).to_dict()
        assert report["verified"] is True, failed(report)
        forged = microcred_verifier(local_tls).verify_credential(tampered(vc)).to_dict()
        assert [c[0] for c in failed(forged)] == ["proof"], failed(forged)
