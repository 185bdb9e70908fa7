"""Verification as a service sees it: sign with microcred, verify, tamper, present."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from credentials.keys import Multikey
from credentials.proofs import sign
from credentials.verify import Verifier, create_presentation

V2 = "https://www.w3.org/ns/credentials/v2"
EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def unsigned(issuer: Multikey, holder: Multikey) -> dict:
    return {
        "@context": [V2, EXAMPLES],
        "id": "urn:uuid:6a1f6a2e-6a2e-4b1c-9d7e-1b2c3d4e5f60",
        "type": ["VerifiableCredential", "ExampleModuleCredential"],
        "issuer": issuer.controller,
        "validFrom": "2026-01-01T00:00:00Z",
        "validUntil": "2031-01-01T00:00:00Z",
        "credentialSubject": {"id": holder.controller, "module": "Data Science 1", "ects": 5},
    }


@pytest.fixture(params=["ed25519", "p256"])
def issuer(request: pytest.FixtureRequest) -> Multikey:
    return Multikey.generate(request.param)


@pytest.fixture
def holder() -> Multikey:
    return Multikey.generate()


@pytest.fixture
def signed(issuer: Multikey, holder: Multikey) -> dict:
    return sign(unsigned(issuer, holder), issuer, created="2026-01-01T00:00:00Z")


def ids(report, outcome: str) -> list[str]:
    return [c.id for c in report.checks if c.outcome == outcome]


def test_signed_credential_verifies(signed: dict) -> None:
    report = Verifier().verify_credential(signed, now=NOW)
    assert report.verified, report.to_dict()
    assert report.to_dict()["errors"] == []
    assert {"structure", "context", "proof", "issuer", "validity"} <= set(ids(report, "passed"))


@pytest.mark.parametrize(
    ("path", "value", "failing"),
    [
        (("credentialSubject", "module"), "Brain Surgery", "proof"),
        (("credentialSubject", "ects"), 60, "proof"),
        (("credentialSubject", "id"), "did:example:someone-else", "proof"),
        (("validFrom",), "2025-01-01T00:00:00Z", "proof"),
        (("validUntil",), "2099-01-01T00:00:00Z", "proof"),
        (("proof", "proofValue"), "z" + "1" * 86, "proof"),
        (("proof", "created"), "2020-01-01T00:00:00Z", "proof"),
        (("proof", "cryptosuite"), "bbs-2023", "proof"),
        (("proof", "proofPurpose"), "authentication", "proof_purpose"),
    ],
)
def test_any_tampering_fails_and_names_the_check(
    signed: dict, path: tuple[str, ...], value: object, failing: str
) -> None:
    doc = copy.deepcopy(signed)
    target = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    report = Verifier().verify_credential(doc, now=NOW)
    assert not report.verified
    assert failing in ids(report, "failed")


def test_swapped_issuer_fails_the_issuer_binding(signed: dict) -> None:
    other = Multikey.generate()
    forged = sign({**unsigned(other, Multikey.generate()), "issuer": other.controller}, other)
    forged["issuer"] = signed["issuer"]
    report = Verifier().verify_credential(forged, now=NOW)
    assert not report.verified


def test_signed_by_someone_else_for_the_issuer_fails(issuer: Multikey, holder: Multikey) -> None:
    impostor = Multikey.generate()
    forged = sign(unsigned(issuer, holder), impostor, created="2026-01-01T00:00:00Z")
    report = Verifier().verify_credential(forged, now=NOW)
    assert "issuer" in ids(report, "failed")


def test_validity_window(signed: dict) -> None:
    early = Verifier().verify_credential(signed, now=datetime(2025, 12, 1, tzinfo=UTC))
    late = Verifier().verify_credential(signed, now=datetime(2031, 2, 1, tzinfo=UTC))
    assert early.outcome_of("validity").code == "not_yet_valid"
    assert late.outcome_of("validity").code == "expired"
    skewed = Verifier(clock_skew=timedelta(minutes=5)).verify_credential(
        signed, now=datetime(2025, 12, 31, 23, 57, tzinfo=UTC)
    )
    assert skewed.outcome_of("validity").outcome == "passed"


def test_unknown_context_fails_the_context_check(signed: dict) -> None:
    doc = copy.deepcopy(signed)
    doc["@context"].append("https://evil.example/ctx")
    report = Verifier().verify_credential(doc, now=NOW)
    assert report.outcome_of("context").code == "unknown_context"
    assert not report.verified


def test_missing_proof(issuer: Multikey, holder: Multikey) -> None:
    report = Verifier().verify_credential(unsigned(issuer, holder), now=NOW)
    assert report.outcome_of("proof").code == "proof_missing"


def test_wrong_key_type_for_suite(issuer: Multikey, holder: Multikey, signed: dict) -> None:
    doc = copy.deepcopy(signed)
    doc["proof"]["cryptosuite"] = (
        "ecdsa-rdfc-2019" if issuer.algorithm == "Ed25519" else "eddsa-rdfc-2022"
    )
    report = Verifier().verify_credential(doc, now=NOW)
    assert report.outcome_of("verification_method").code == "wrong_key_type"


def test_invalid_multibase_proof_value(signed: dict) -> None:
    doc = copy.deepcopy(signed)
    doc["proof"]["proofValue"] = "not-multibase"
    report = Verifier().verify_credential(doc, now=NOW)
    assert not report.verified
    assert report.failed[0].id == "proof"


def test_presentation_with_challenge_and_domain(signed: dict, holder: Multikey) -> None:
    vp = create_presentation(
        [signed], holder, challenge="c-123", domain="https://v.example", created=NOW
    )
    report, subs = Verifier().verify_presentation(
        vp, challenge="c-123", domain="https://v.example", now=NOW
    )
    assert report.verified, report.to_dict()
    assert subs[0].verified
    wrong = Verifier().verify_presentation(
        vp, challenge="c-999", domain="https://v.example", now=NOW
    )
    assert wrong[0].outcome_of("proof_purpose").code == "challenge_mismatch"
    elsewhere = Verifier().verify_presentation(
        vp, challenge="c-123", domain="https://x.example", now=NOW
    )
    assert elsewhere[0].outcome_of("proof_purpose").code == "domain_mismatch"


def test_presentation_by_someone_not_the_subject(signed: dict) -> None:
    thief = Multikey.generate()
    vp = create_presentation([signed], thief, challenge="c", domain="d")
    report, _ = Verifier().verify_presentation(vp, challenge="c", domain="d", now=NOW)
    assert report.outcome_of("credential[0].holder_binding").code == "holder_not_subject"
    assert not report.verified


def test_presentation_holder_not_signer(signed: dict, holder: Multikey) -> None:
    vp = create_presentation([signed], Multikey.generate(), challenge="c", domain="d")
    vp["holder"] = holder.controller
    report, _ = Verifier().verify_presentation(vp, challenge="c", domain="d", now=NOW)
    assert not report.verified


def test_tampered_credential_inside_presentation(signed: dict, holder: Multikey) -> None:
    doc = copy.deepcopy(signed)
    doc["credentialSubject"]["ects"] = 30
    vp = create_presentation([doc], holder, challenge="c", domain="d")
    report, _ = Verifier().verify_presentation(vp, challenge="c", domain="d", now=NOW)
    assert "credential[0].proof" in ids(report, "failed")
