"""Verification as a service sees it: sign with microcred, verify, tamper, present."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest

import contexts
from credentials import multibase
from credentials.errors import MalformedInput
from credentials.keys import Multikey
from credentials.proofs import sign
from credentials.report import Check
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
        (("proof", "cryptosuite"), "bbs-2023", "format"),  # recognised, not supported
        (("proof", "cryptosuite"), "eddsa-2099", "proof"),
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


def test_presentation_by_someone_not_the_subject_conforms(signed: dict) -> None:
    """VCDM 2.0 lets a holder present a credential about someone else: by default that is
    a warning; under ``holder-is-subject`` a failed ``policy`` check."""
    other = Multikey.generate()
    vp = create_presentation([signed], other, challenge="c", domain="d", created=NOW)
    report, _ = Verifier().verify_presentation(vp, challenge="c", domain="d", now=NOW)
    binding = report.outcome_of("credential[0].holder_binding")
    assert (binding.outcome, binding.code) == ("warning", "holder_not_subject")
    assert report.verified, report.to_dict()
    strict, _ = Verifier(policies={"holder-is-subject"}).verify_presentation(
        vp, challenge="c", domain="d", now=NOW
    )
    assert not strict.verified
    assert [(c.id, c.code) for c in strict.failed] == [
        ("credential[0].policy", "policy_holder_not_subject")
    ]
    per_call, _ = Verifier().verify_presentation(
        vp, challenge="c", domain="d", now=NOW, policies=["holder-is-subject"]
    )
    assert not per_call.verified


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


# --------------------------------------------------------------------------- issue 13


def test_the_report_names_the_format(signed: dict, issuer: Multikey) -> None:
    report = Verifier().verify_credential(signed, now=NOW)
    suite = "eddsa-rdfc-2022" if issuer.algorithm == "Ed25519" else "ecdsa-rdfc-2019"
    assert report.format == f"VC 2.0 · {suite}"
    assert report.to_dict()["format"] == report.format


def test_inline_contexts_conform_by_default_and_fail_only_the_policy(
    issuer: Multikey, holder: Multikey
) -> None:
    document = unsigned(issuer, holder)
    document["@context"] = [V2, {"@vocab": "https://vocab.example/#"}]
    secured = sign(document, issuer, created="2026-01-01T00:00:00Z", strict=False)
    report = Verifier().verify_credential(secured, now=NOW)
    assert report.verified, report.to_dict()
    assert ("context", "warning", "inline_context") in [
        (c.id, c.outcome, c.code) for c in report.checks
    ]
    strict = Verifier(policies={"no-inline-contexts"}).verify_credential(secured, now=NOW)
    assert not strict.verified
    assert [(c.id, c.code) for c in strict.failed] == [("policy", "policy_inline_context")]
    assert "no-inline-contexts" in strict.failed[0].message


def test_trusted_issuers_only_is_a_policy_over_the_trust_check(signed: dict) -> None:
    def unknown(issuer: str) -> Check:
        return Check.warning("trust", "untrusted_issuer", f"{issuer} is not in the registry")

    assert Verifier(trust_checker=unknown).verify_credential(signed, now=NOW).verified
    strict = Verifier(trust_checker=unknown, policies={"trusted-issuers-only"})
    report = strict.verify_credential(signed, now=NOW)
    assert [(c.id, c.code) for c in report.failed] == [("policy", "policy_untrusted_issuer")]
    assert report.outcome_of("trust").outcome == "warning"


def test_profile_required_is_a_policy_over_the_profile_check(signed: dict) -> None:
    def incomplete(credential: dict) -> list[Check]:
        return [Check.warning("profile", "profile_incomplete", "3 EU elements are missing")]

    assert Verifier(profile_checker=incomplete).verify_credential(signed, now=NOW).verified
    report = Verifier(profile_checker=incomplete, policies={"profile-required"}).verify_credential(
        signed, now=NOW
    )
    assert [(c.id, c.code) for c in report.failed] == [("policy", "policy_profile_required")]
    assert "3 EU elements are missing" in report.failed[0].message


def test_an_unknown_policy_name_is_refused() -> None:
    with pytest.raises(MalformedInput) as info:
        Verifier(policies={"holder-is-subjekt"})
    assert info.value.code == "unknown_policy"


def _jws(header: dict, claims: dict) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}.c2lnbmF0dXJl"


VC_CLAIMS = {"iss": "did:example:i", "vc": {"@context": [V2], "type": ["VerifiableCredential"]}}
UNSUPPORTED = {
    "JWT-secured VC (compact JWS)": _jws({"alg": "ES256", "typ": "JWT"}, VC_CLAIMS),
    "vc+jwt without vc claim": _jws(
        {"alg": "ES256", "typ": "vc+jwt"},
        {"@context": [V2], "type": ["VerifiableCredential"], "credentialSubject": {}},
    ),
    # an SD-JWT VC (typ dc+sd-jwt / vc+sd-jwt) is verified since issue 19; others are not
    "SD-JWT (not a VC)": _jws({"alg": "ES256", "typ": "example+sd-jwt"}, {"_sd_alg": "sha-256"})
    + "~WyJhIl0~",
    "decoded JWT claims": VC_CLAIMS,
    "EnvelopedVerifiableCredential": {
        "@context": [V2],
        "id": "data:application/vc+jwt,eyJhbGciOiJFUzI1NiJ9.e30.c2ln",
        "type": "EnvelopedVerifiableCredential",
    },
    "bbs-2023": {
        "@context": [V2],
        "type": ["VerifiableCredential"],
        "proof": {"type": "DataIntegrityProof", "cryptosuite": "bbs-2023", "proofValue": "u"},
    },
    "JwtProof2020": {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "type": ["VerifiableCredential"],
        "proof": {"type": "JwtProof2020", "jwt": "eyJ..."},
    },
}


@pytest.mark.parametrize("label", list(UNSUPPORTED))
def test_a_recognised_but_unsupported_format_is_named_never_a_bad_signature(label: str) -> None:
    report = Verifier().verify_credential(UNSUPPORTED[label], now=NOW)
    assert not report.verified
    assert [(c.id, c.code) for c in report.failed] == [("format", "unsupported_format")]
    assert report.failed[0].message.startswith("unsupported format: ")
    assert report.format


@pytest.mark.parametrize("field", ["cryptosuite", "type"])
@pytest.mark.parametrize("value", [[], {}, ["bbs-2023"], None, 7])
def test_format_detection_takes_any_json_in_proof_fields(
    signed: dict, field: str, value: object
) -> None:
    """Found by tests/security/test_signed_mutations.py: a list as cryptosuite crashed the
    detection (unhashable); every value must give a report."""
    doc = copy.deepcopy(signed)
    doc["proof"][field] = value
    report = Verifier().verify_credential(doc, now=NOW)
    assert not report.verified


def test_an_enveloped_presentation_is_an_unsupported_format() -> None:
    vp = {"@context": [V2], "type": "EnvelopedVerifiablePresentation", "id": "data:x,y"}
    report, subs = Verifier().verify_presentation(vp, now=NOW)
    assert [(c.id, c.code) for c in report.failed] == [("format", "unsupported_format")]
    assert subs == []


def _digest_sri(url: str, algorithm: str = "sha384") -> str:
    data = contexts.manifest()[url].read_bytes()
    return f"{algorithm}-" + base64.b64encode(hashlib.new(algorithm, data).digest()).decode()


def test_a_related_resource_digest_is_checked_against_the_shipped_context(
    issuer: Multikey, holder: Multikey
) -> None:
    document = unsigned(issuer, holder)
    document["relatedResource"] = [{"id": V2, "digestSRI": _digest_sri(V2)}]
    good = sign(document, issuer, created="2026-01-01T00:00:00Z")
    report = Verifier().verify_credential(good, now=NOW)
    assert report.verified, report.to_dict()
    assert report.outcome_of("related_resource").outcome == "passed"
    document["relatedResource"] = [{"id": V2, "digestSRI": _digest_sri(EXAMPLES)}]
    wrong = sign(document, issuer, created="2026-01-01T00:00:00Z")
    report = Verifier().verify_credential(wrong, now=NOW)
    assert not report.verified
    assert report.outcome_of("related_resource").code == "digest_mismatch"


def test_a_related_resource_multibase_digest_is_checked(issuer: Multikey, holder: Multikey) -> None:
    data = contexts.manifest()[V2].read_bytes()
    right = multibase.encode_base64url(b"\x12\x20" + hashlib.sha256(data).digest())
    wrong = multibase.encode_base64url(b"\x12\x20" + hashlib.sha256(b"other").digest())
    outcomes = []
    for digest in (right, wrong):
        document = unsigned(issuer, holder)
        document["relatedResource"] = {"id": V2, "digestMultibase": digest}
        secured = sign(document, issuer, created="2026-01-01T00:00:00Z")
        report = Verifier().verify_credential(secured, now=NOW)
        outcomes.append(report.outcome_of("related_resource"))
    assert [c.outcome for c in outcomes] == ["passed", "failed"]


# VCDM 1.1 with Ed25519Signature2020 (the credentials in circulation) -------------------------

V1 = "https://www.w3.org/2018/credentials/v1"
ED25519_2020 = "https://w3id.org/security/suites/ed25519-2020/v1"


def unsigned_v1(issuer: Multikey, holder: Multikey) -> dict:
    return {
        "@context": [V1, ED25519_2020, "https://w3id.org/vc/status-list/2021/v1"],
        "id": "urn:uuid:4d5a2b1c-1c2d-4e5f-9a8b-7c6d5e4f3a21",
        "type": ["VerifiableCredential"],
        "issuer": {"id": issuer.controller},
        "issuanceDate": "2026-01-01T00:00:00Z",
        "expirationDate": "2031-01-01T00:00:00Z",
        "credentialSubject": {"id": holder.controller},
    }


@pytest.fixture
def signed_v1(holder: Multikey) -> tuple[dict, Multikey]:
    issuer = Multikey.generate("ed25519")
    secured = sign(
        unsigned_v1(issuer, holder),
        issuer,
        cryptosuite="Ed25519Signature2020",
        created="2026-01-01T00:00:00Z",
    )
    return secured, issuer


def test_a_vcdm_1_1_credential_with_ed25519_signature_2020_verifies(signed_v1: tuple) -> None:
    credential, _ = signed_v1
    report = Verifier().verify_credential(credential, now=NOW)
    assert report.verified, report.to_dict()
    assert report.format == "VCDM 1.1 · Ed25519Signature2020"
    assert report.outcome_of("structure").message.endswith("1.1")


def test_vcdm_1_1_validity_comes_from_issuance_and_expiration_dates(signed_v1: tuple) -> None:
    credential, _ = signed_v1
    early = Verifier().verify_credential(credential, now=datetime(2025, 12, 1, tzinfo=UTC))
    late = Verifier().verify_credential(credential, now=datetime(2031, 2, 1, tzinfo=UTC))
    assert early.outcome_of("validity").code == "not_yet_valid"
    assert late.outcome_of("validity").code == "expired"


def test_a_vcdm_1_1_credential_without_issuance_date_is_not_conforming(
    holder: Multikey,
) -> None:
    issuer = Multikey.generate("ed25519")
    document = unsigned_v1(issuer, holder)
    del document["issuanceDate"]
    secured = sign(document, issuer, cryptosuite="Ed25519Signature2020", created=NOW)
    report = Verifier().verify_credential(secured, now=NOW)
    assert report.outcome_of("structure").code == "non_conformant"
    assert "issuanceDate" in report.outcome_of("structure").message


def test_a_vcdm_1_1_presentation_verifies(signed_v1: tuple, holder: Multikey) -> None:
    credential, _ = signed_v1
    presentation = {
        "@context": [V1, ED25519_2020],
        "type": ["VerifiablePresentation"],
        "holder": holder.controller,
        "verifiableCredential": [credential],
    }
    vp = sign(
        presentation,
        holder,
        purpose="authentication",
        cryptosuite="Ed25519Signature2020",
        challenge="c-1",
        domain="https://v.example",
        created=NOW,
    )
    report, subs = Verifier().verify_presentation(
        vp, challenge="c-1", domain="https://v.example", now=NOW
    )
    assert report.verified, report.to_dict()
    assert report.format == "VCDM 1.1 presentation · Ed25519Signature2020"
    assert subs[0].format == "VCDM 1.1 · Ed25519Signature2020"


def test_a_recognised_legacy_proof_type_is_an_unsupported_format(signed_v1: tuple) -> None:
    credential = copy.deepcopy(signed_v1[0])
    credential["proof"]["type"] = "Ed25519Signature2018"
    report = Verifier().verify_credential(credential, now=NOW)
    assert [(c.id, c.code) for c in report.failed] == [("format", "unsupported_format")]
    assert report.format == "VCDM 1.1 · Ed25519Signature2018"


def test_open_badges_2_is_dispatched_to_the_registered_handler() -> None:
    """The formats registry hands an OB 2.0 assertion to credentials/ob2.py (which
    registers itself); the core never reads it as a VC (no "non_conformant")."""
    from pathlib import Path

    from credentials.formats import detect_format, handler_for

    path = Path(__file__).parent.parent / "fixtures" / "ob2" / "assertion.json"
    assertion = json.loads(path.read_text())
    assert detect_format(assertion).family == "ob2"
    assert handler_for("ob2") is not None
    report = Verifier().verify_credential(assertion, now=NOW)  # no fetcher: cannot fetch
    assert report.format and report.format.startswith("Open Badges 2.0")
    assert "non_conformant" not in {c.code for c in report.checks}
