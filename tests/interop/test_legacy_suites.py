"""The suites of credentials in circulation, both ways with Digital Bazaar's libraries from
npm (@digitalbazaar/ed25519-signature-2020 5.4.0, eddsa-jcs-2022 / ecdsa-jcs-2019
cryptosuites 1.0.0, ecdsa-rdfc-2019 with P-384): what they sign verifies in microcred's
proof layer, what microcred signs verifies in vc.js, and tampering fails in both.

These tests sit at the proof layer (``verify_proofs``): whole-credential verification of
VCDM 1.1 belongs to the structure checks in credentials/model.py.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from credentials.dids import DidResolver
from credentials.keys import Multikey
from credentials.proofs import sign, verify_proofs
from interop.reference import ReferenceImplementation

pytestmark = pytest.mark.interop

VC1 = "https://www.w3.org/2018/credentials/v1"
VC2 = "https://www.w3.org/ns/credentials/v2"
ED25519_2020 = "https://w3id.org/security/suites/ed25519-2020/v1"
DI_V2 = "https://w3id.org/security/data-integrity/v2"
OB_3_0_2 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json"


def vc1_badge(issuer: str, *contexts: str) -> dict[str, Any]:
    """A VCDM 1.1 Open Badges 3.0.2 credential, the shape DCC's issuers send out."""
    return {
        "@context": [VC1, OB_3_0_2, *contexts],
        "id": "urn:uuid:2fe53dc9-b2ec-4939-9b2c-0d00f6663b6c",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Introduction to Data Science",
        "issuer": {"id": issuer, "type": ["Profile"], "name": "Example University"},
        "issuanceDate": "2024-02-01T00:00:00Z",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "urn:uuid:bd6d9316-f7ae-4073-a1e5-2f7f5bd22922",
                "type": ["Achievement"],
                "name": "Introduction to Data Science",
                "description": "Completed the introductory data science module.",
                "criteria": {"narrative": "Pass the final assessment."},
            },
        },
    }


def vc2_credential(issuer: str) -> dict[str, Any]:
    return {
        "@context": [VC2, "https://www.w3.org/ns/credentials/examples/v2"],
        "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
        "type": ["VerifiableCredential", "AlumniCredential"],
        "issuer": issuer,
        "validFrom": "2024-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},
    }


def proof_failures(document: dict[str, Any]) -> list[str]:
    checks, _ = verify_proofs(document, resolver=DidResolver(), purpose="assertionMethod")
    return [c.code for c in checks if c.outcome != "passed"]


def tamper(document: dict[str, Any]) -> dict[str, Any]:
    forged = copy.deepcopy(document)
    forged["issuer" if "name" not in forged else "name"] = "Forged"
    return forged


# (suite, key type, credential builder)
CASES = [
    pytest.param(suite, key_type, build, id=f"{suite}-{key_type}")
    for suite, key_type, build in [
        ("Ed25519Signature2020", "ed25519", lambda did: vc1_badge(did, ED25519_2020)),
        ("eddsa-jcs-2022", "ed25519", vc2_credential),
        ("ecdsa-jcs-2019", "p256", vc2_credential),
        ("ecdsa-jcs-2019", "p384", vc2_credential),
        ("ecdsa-rdfc-2019", "p384", vc2_credential),
        ("eddsa-rdfc-2022", "ed25519", lambda did: vc1_badge(did, DI_V2)),
    ]
]


@pytest.mark.parametrize(("suite", "key_type", "build"), CASES)
def test_reference_signed_verifies_in_microcred(
    reference: ReferenceImplementation, suite: str, key_type: str, build: Any
) -> None:
    key = reference.generate_key(key_type)
    signed = reference.sign(build(key["controller"]), key, suite=suite)
    proof = signed["proof"]
    assert proof.get("cryptosuite", proof["type"]) == suite
    assert proof_failures(signed) == []
    assert proof_failures(tamper(signed)) == ["invalid_proof"]


@pytest.mark.parametrize(("suite", "key_type", "build"), CASES)
def test_microcred_signed_verifies_in_reference(
    reference: ReferenceImplementation, suite: str, key_type: str, build: Any
) -> None:
    key = Multikey.generate(key_type)
    signed = sign(build(key.controller), key, cryptosuite=suite)
    assert reference.verify(signed) == (True, None)
    ok, error = reference.verify(tamper(signed))
    assert not ok and error


def test_two_suites_on_one_vc_1_1_credential_verify_in_both(
    reference: ReferenceImplementation,
) -> None:
    """A proof set of Ed25519Signature2020 and eddsa-rdfc-2022 by the same issuer key."""
    key = Multikey.generate("ed25519")
    credential = vc1_badge(key.controller, ED25519_2020, DI_V2)
    signed = sign(sign(credential, key, cryptosuite="Ed25519Signature2020"), key)
    assert [p["type"] for p in signed["proof"]] == ["Ed25519Signature2020", "DataIntegrityProof"]
    assert proof_failures(signed) == []
    assert reference.verify(signed) == (True, None)
    # the same pair made in Node (second proof added to the first's output) verifies here
    theirs_key = reference.generate_key("ed25519")
    first = reference.sign(
        vc1_badge(theirs_key["controller"], ED25519_2020, DI_V2),
        theirs_key,
        suite="Ed25519Signature2020",
    )
    both = reference.sign(first, theirs_key, suite="eddsa-rdfc-2022")
    assert len(both["proof"]) == 2
    assert proof_failures(both) == []


@pytest.mark.parametrize(
    "ob_context",
    [
        "https://purl.imsglobal.org/spec/ob/v3p0/context.json",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json",
        OB_3_0_2,
    ],
)
def test_canonical_forms_agree_on_vc_1_1_credentials_in_circulation(
    reference: ReferenceImplementation, ob_context: str
) -> None:
    """The shipped 1.1-era contexts canonicalise here exactly as in jsonld.js (safe mode)."""
    from credentials.canonical import canonicalize

    credential = vc1_badge(
        "did:example:issuer", ED25519_2020, "https://w3id.org/vc/status-list/2021/v1"
    )
    credential["@context"][1] = ob_context
    credential["expirationDate"] = "2030-01-01T00:00:00Z"
    credential["credentialStatus"] = {
        "id": "https://example.edu/status/1#94567",
        "type": "StatusList2021Entry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",
        "statusListCredential": "https://example.edu/status/1",
    }
    assert canonicalize(credential) == reference.canonize(credential)
