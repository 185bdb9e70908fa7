"""Credentials DCC's verifier-core tests with (tests/fixtures/dcc/README.md) pass
microcred's proof layer: VCDM 1.1 and 2.0, Ed25519Signature2020 and eddsa-rdfc-2022, one and
two proofs, did:key and did:web with an Ed25519VerificationKey2020."""

from __future__ import annotations

import copy

import pytest

from credentials.dids import DidResolver
from credentials.proofs import proof_suite_names, verify_proofs
from tests.conftest import load_fixture

DCC_DID_WEB = "did:web:digitalcredentials.github.io:dcc-did-web"


def dcc_did_web_document(public_key_multibase: str) -> dict:
    vm_id = f"{DCC_DID_WEB}#{public_key_multibase}"
    return {
        "@context": [
            "https://www.w3.org/ns/did/v1",
            "https://w3id.org/security/suites/ed25519-2020/v1",
        ],
        "id": DCC_DID_WEB,
        "assertionMethod": [
            {
                "id": vm_id,
                "type": "Ed25519VerificationKey2020",
                "controller": DCC_DID_WEB,
                "publicKeyMultibase": public_key_multibase,
            }
        ],
    }


def resolver_for(credential: dict) -> DidResolver:
    proofs = credential["proof"] if isinstance(credential["proof"], list) else [credential["proof"]]
    overrides = {}
    for proof in proofs:
        did, _, fragment = proof["verificationMethod"].partition("#")
        if did == DCC_DID_WEB:
            overrides[did] = dcc_did_web_document(fragment)
    return DidResolver(overrides=overrides)


SAMPLES = [
    ("v1NoStatus", ["Ed25519Signature2020"]),
    ("v1OBv3SpecExample", ["eddsa-rdfc-2022"]),
    ("v2NoStatus", ["Ed25519Signature2020"]),
    ("v2DoubleSigWithValidStatus", ["eddsa-rdfc-2022", "Ed25519Signature2020"]),
    ("v2didWebWithValidStatus", ["Ed25519Signature2020"]),
]


@pytest.mark.parametrize(("name", "suites"), SAMPLES)
def test_dcc_sample_proofs_verify(name: str, suites: list[str]) -> None:
    credential = load_fixture(f"dcc/{name}.json")
    assert proof_suite_names(credential) == suites
    checks, keys = verify_proofs(
        credential, resolver=resolver_for(credential), purpose="assertionMethod"
    )
    assert [c.code for c in checks if c.outcome != "passed"] == []
    issuer = credential["issuer"]
    issuer_id = issuer if isinstance(issuer, str) else issuer["id"]
    assert [k.controller for k in keys] == [issuer_id] * len(suites)


@pytest.mark.parametrize(("name", "suites"), SAMPLES)
def test_dcc_sample_tampered_fails_every_proof(name: str, suites: list[str]) -> None:
    credential = copy.deepcopy(load_fixture(f"dcc/{name}.json"))
    credential["credentialSubject"]["achievement"]["name"] = "Forged"
    checks, keys = verify_proofs(
        credential, resolver=resolver_for(credential), purpose="assertionMethod"
    )
    assert [c.code for c in checks if c.id == "proof"] == ["invalid_proof"] * len(suites)
    assert keys == []
