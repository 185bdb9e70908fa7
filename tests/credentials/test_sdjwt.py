"""SD-JWT VC core: issue, present with chosen disclosures, verify; the tamper cases."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from credentials.formats import detect_format
from credentials.keys import Multikey
from credentials.microcredential import read_microcredential
from credentials.sdjwt import core, jose, vc
from credentials.sdjwt.status import INVALID, SUSPENDED, TokenStatusList
from microcred.samples import sample_credential
from tests.credentials.sdjwt_support import AUDIENCE, SdJwtIssuer


@pytest.fixture(params=["P-256", "Ed25519"])
def issuer(request: pytest.FixtureRequest) -> SdJwtIssuer:
    return SdJwtIssuer(algorithm=request.param)


@pytest.fixture
def holder() -> Multikey:
    return Multikey.generate("P-256")


def _present(token: str, holder: Multikey, keep: set[str], **kw: object) -> str:
    return core.present(
        core.SdJwt.parse(token),
        keep,
        holder,
        audience=str(kw.get("audience", AUDIENCE)),
        nonce=str(kw.get("nonce", "n-1")),
    )


def test_the_eu_elements_are_claims_from_the_same_module_data(issuer: SdJwtIssuer) -> None:
    claims = issuer.claims()
    view = read_microcredential(sample_credential())
    assert (claims["title"], claims["ects"], claims["eqf_level"]) == (
        view.title,
        view.ects,
        view.eqf_level,
    )
    assert claims["eqf_level_uri"] == f"http://data.europa.eu/snb/eqf/{view.eqf_level}"
    assert claims["assessment_type"] == view.assessment_type
    assert claims["awarding_body"]["country_code"] == "NL"
    for element in (
        "assessment_type",
        "participation_form",
        "quality_assurance",
        "learning_outcomes",
        "date_of_issuing",
        "workload_hours",
    ):
        assert element in claims, element
    assert claims["learner"]["email"] == "jan.jansen@example.nl"
    assert claims["result"]["grade"] == "8.5"
    assert claims["jti"] == "urn:uuid:6b1c1a3e-0f9e-4a8a-9d5e-1b2c3d4e5f60"


def test_learner_identity_and_result_are_selectively_disclosable(
    issuer: SdJwtIssuer, holder: Multikey
) -> None:
    token, _ = issuer.issue(holder)
    signed = core.SdJwt.parse(token).payload
    assert "learner" not in signed and "result" not in signed and "title" in signed
    presented = _present(token, holder, {"learner.given_name", "result.grade"})
    report = issuer.verifier().verify(presented, audience=AUDIENCE, nonce="n-1")
    assert report.verified, report.to_dict()
    shown = report.summary["claims"]
    assert shown["learner"] == {"given_name": "Jan"}
    assert shown["result"] == {"grade": "8.5"}
    assert detect_format(presented).family == "sdjwt"


def test_nothing_chosen_shows_no_identity(issuer: SdJwtIssuer, holder: Multikey) -> None:
    token, _ = issuer.issue(holder)
    report = issuer.verifier().verify(
        _present(token, holder, set()), audience=AUDIENCE, nonce="n-1"
    )
    assert report.verified
    assert "learner" not in report.summary["claims"]


def _reason(report: vc.VerificationReport, check: str) -> str:
    outcome = report.outcome_of(check)
    assert outcome is not None and outcome.outcome == "failed", report.to_dict()
    assert not report.verified
    return outcome.code


def test_tamper_a_disclosure_not_in_sd(issuer: SdJwtIssuer, holder: Multikey) -> None:
    token, _ = issuer.issue(holder)
    sd = core.select(core.SdJwt.parse(token), {"learner.email"})
    forged = core.Disclosure.make("given_name", "Piet")  # not listed by any _sd digest
    sd.disclosures.append(forged)
    sd.kb_jwt = core.key_binding_jwt(sd, holder, audience=AUDIENCE, nonce="n-1")
    report = issuer.verifier().verify(sd.serialize(), audience=AUDIENCE, nonce="n-1")
    assert _reason(report, "disclosures") == "disclosure_not_in_sd"


def test_tamper_a_changed_disclosure_value(issuer: SdJwtIssuer, holder: Multikey) -> None:
    token, _ = issuer.issue(holder)
    sd = core.select(core.SdJwt.parse(token), {"result.grade"})
    grade = next(d for d in sd.disclosures if d.name == "grade")
    changed = jose.b64e(json.dumps([grade.salt, "grade", "10"]).encode())
    sd.disclosures[sd.disclosures.index(grade)] = core.Disclosure.parse(changed)
    sd.kb_jwt = core.key_binding_jwt(sd, holder, audience=AUDIENCE, nonce="n-1")
    report = issuer.verifier().verify(sd.serialize(), audience=AUDIENCE, nonce="n-1")
    assert _reason(report, "disclosures") == "disclosure_not_in_sd"


def test_tamper_a_reused_nonce(issuer: SdJwtIssuer, holder: Multikey) -> None:
    token, _ = issuer.issue(holder)
    replayed = _present(token, holder, set(), nonce="the-old-nonce")
    report = issuer.verifier().verify(replayed, audience=AUDIENCE, nonce="this-requests-nonce")
    assert _reason(report, "key_binding") == "kb_nonce"


def test_tamper_a_kb_jwt_for_another_audience(issuer: SdJwtIssuer, holder: Multikey) -> None:
    token, _ = issuer.issue(holder)
    elsewhere = _present(token, holder, set(), audience="https://other-verifier.example")
    report = issuer.verifier().verify(elsewhere, audience=AUDIENCE, nonce="n-1")
    assert _reason(report, "key_binding") == "kb_audience"


def test_a_stale_kb_jwt_and_a_foreign_holder_key_fail(
    issuer: SdJwtIssuer, holder: Multikey
) -> None:
    token, _ = issuer.issue(holder)
    sd = core.SdJwt.parse(token)
    old = core.present(
        sd, set(), holder, audience=AUDIENCE, nonce="n-1", issued_at=int(time.time()) - 3600
    )
    assert (
        _reason(issuer.verifier().verify(old, audience=AUDIENCE, nonce="n-1"), "key_binding")
        == "kb_stale"
    )
    thief = core.present(sd, set(), Multikey.generate("P-256"), audience=AUDIENCE, nonce="n-1")
    assert (
        _reason(issuer.verifier().verify(thief, audience=AUDIENCE, nonce="n-1"), "key_binding")
        == "kb_signature"
    )
    bare = core.present(sd, set())
    assert (
        _reason(issuer.verifier().verify(bare, audience=AUDIENCE, nonce="n-1"), "key_binding")
        == "kb_missing"
    )


@pytest.mark.parametrize(("value", "code"), [(INVALID, "revoked"), (SUSPENDED, "suspended")])
def test_tamper_revoked_and_suspended(
    issuer: SdJwtIssuer, holder: Multikey, value: int, code: str
) -> None:
    token, index = issuer.issue(holder)
    issuer.issue(holder)  # a neighbour stays valid
    issuer.set_status(index, value)
    report = issuer.verifier().verify(
        _present(token, holder, set()), audience=AUDIENCE, nonce="n-1"
    )
    assert _reason(report, "status") == code
    issuer.set_status(index, 0)
    assert (
        issuer.verifier()
        .verify(_present(token, holder, set()), audience=AUDIENCE, nonce="n-1")
        .verified
    )


def test_tamper_an_unknown_vct(issuer: SdJwtIssuer, holder: Multikey) -> None:
    claims = issuer.claims()
    claims["vct"] = "https://issuer.example.nl/vct/diploma"
    token = vc.issue_sd_jwt_vc(claims, issuer.key, holder_jwk=jose.jwk_of(holder), kid=issuer.kid)
    report = issuer.verifier().verify(
        _present(token, holder, set()), audience=AUDIENCE, nonce="n-1"
    )
    assert _reason(report, "vct") == "unknown_vct"


def test_a_forged_issuer_signature_and_an_unknown_kid_fail(
    issuer: SdJwtIssuer, holder: Multikey
) -> None:
    other = Multikey.generate(issuer.algorithm)  # type: ignore[arg-type]
    token = vc.issue_sd_jwt_vc(
        issuer.claims(), other, holder_jwk=jose.jwk_of(holder), kid=issuer.kid
    )
    report = issuer.verifier().verify(
        _present(token, holder, set()), audience=AUDIENCE, nonce="n-1"
    )
    assert _reason(report, "proof") == "invalid_signature"
    token = vc.issue_sd_jwt_vc(
        issuer.claims(), issuer.key, holder_jwk=jose.jwk_of(holder), kid="key-9"
    )
    report = issuer.verifier().verify(
        _present(token, holder, set()), audience=AUDIENCE, nonce="n-1"
    )
    assert _reason(report, "proof") == "key_unresolved"


def test_metadata_naming_another_issuer_is_refused(issuer: SdJwtIssuer, holder: Multikey) -> None:
    token, _ = issuer.issue(holder)
    issuer.documents[vc.well_known_url(issuer.iss)]["issuer"] = "https://evil.example"
    report = issuer.verifier().verify(
        _present(token, holder, set()), audience=AUDIENCE, nonce="n-1"
    )
    assert _reason(report, "proof") == "issuer_mismatch"


def test_token_status_list_bit_order_and_round_trip() -> None:
    statuses = TokenStatusList(bits=2, size=16)
    statuses.set(0, 1)
    statuses.set(3, 2)
    assert statuses.data is not None and statuses.data[0] == 0b10000001
    again = TokenStatusList.decode(statuses.encode())
    assert [again.get(i) for i in range(5)] == [1, 0, 0, 2, 0]


def test_well_known_url_puts_the_path_after_the_well_known_part() -> None:
    assert vc.well_known_url("https://a.example/tenant/1") == (
        "https://a.example/.well-known/jwt-vc-issuer/tenant/1"
    )
    assert vc.well_known_url("https://a.example") == "https://a.example/.well-known/jwt-vc-issuer"


def test_type_metadata_names_the_type_in_dutch_and_english() -> None:
    doc = vc.type_metadata("https://i.example/vct/microcredential")
    assert {d["lang"] for d in doc["display"]} == {"nl", "en"}
    learner = next(c for c in doc["claims"] if c["path"] == ["learner"])
    assert learner["sd"] == "always"


def test_the_core_verifier_dispatches_an_sd_jwt_vc_to_its_handler(holder: Multikey) -> None:
    from credentials.verify import Verifier

    key = Multikey.generate("Ed25519")
    claims = SdJwtIssuer().claims()
    claims["iss"] = key.controller  # a DID issuer: did:key resolves offline
    token = vc.issue_sd_jwt_vc(claims, key, holder_jwk=jose.jwk_of(holder), kid=key.id)
    report = Verifier().verify_credential(token)
    assert report.format == "SD-JWT VC · EdDSA"
    assert report.verified, report.to_dict()
    assert report.outcome_of("proof").message.endswith("(did)")  # type: ignore[union-attr]
    forged = token.replace(token.split(".")[2][:8], "AAAAAAAA", 1)
    assert not Verifier().verify_credential(forged).verified


# ---------------------------------------------------------------- x5c, trusted by the verifier


def _certificates(host: str, leaf_key: Multikey) -> tuple[Any, list[str]]:
    """A CA certificate (the verifier's anchor) and the x5c chain [leaf] for ``host``."""
    import base64
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test Trust Anchor")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key)
        .serial_number(2)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    der = leaf.public_bytes(serialization.Encoding.DER)
    return ca, [base64.b64encode(der).decode()]


def test_x5c_is_accepted_only_under_the_verifiers_anchors(holder: Multikey) -> None:
    issuer = SdJwtIssuer()
    ca, chain = _certificates("issuer.example.nl", issuer.key)
    token = vc.issue_sd_jwt_vc(
        issuer.claims(), issuer.key, holder_jwk=jose.jwk_of(holder), x5c=chain
    )
    shown = _present(token, holder, set())
    anchored = vc.SdJwtVcVerifier(keys=vc.IssuerKeys(x5c_anchors=[ca]))
    report = anchored.verify(shown, audience=AUDIENCE, nonce="n-1", check_status=False)
    assert report.verified, report.to_dict()
    assert report.outcome_of("proof").message.endswith("(x5c)")  # type: ignore[union-attr]
    # no anchors configured: x5c is not a way in
    unanchored = vc.SdJwtVcVerifier(keys=vc.IssuerKeys())
    assert _reason(unanchored.verify(shown, audience=AUDIENCE, nonce="n-1"), "proof") == (
        "x5c_untrusted"
    )
    # another anchor: untrusted; a certificate for another host: refused
    other_ca, _ = _certificates("issuer.example.nl", Multikey.generate("P-256"))
    other = vc.SdJwtVcVerifier(keys=vc.IssuerKeys(x5c_anchors=[other_ca]))
    assert _reason(other.verify(shown, audience=AUDIENCE, nonce="n-1"), "proof") == (
        "x5c_untrusted"
    )
    ca2, chain2 = _certificates("evil.example", issuer.key)
    token2 = vc.issue_sd_jwt_vc(
        issuer.claims(), issuer.key, holder_jwk=jose.jwk_of(holder), x5c=chain2
    )
    wrong_host = vc.SdJwtVcVerifier(keys=vc.IssuerKeys(x5c_anchors=[ca2]))
    assert (
        _reason(
            wrong_host.verify(_present(token2, holder, set()), audience=AUDIENCE, nonce="n-1"),
            "proof",
        )
        == "x5c_iss_mismatch"
    )


@pytest.mark.parametrize(
    "text",
    [
        "~",
        "a.b.c~",
        "eyJhbGciOiJFUzI1NiJ9.e30.c2ln~not-base64!~",
        "eyJhbGciOiJFUzI1NiIsInR5cCI6ImRjK3NkLWp3dCJ9.e30.c2ln~"
        + jose.b64e(("[" * 5000 + "]" * 5000).encode())
        + "~",
        "eyJhbGciOiJub25lIiwidHlwIjoiZGMrc2Qtand0In0.eyJpc3MiOiJodHRwczovL3gifQ.~",
    ],
    ids=["empty", "junk-jws", "bad-disclosure", "deep-disclosure", "alg-none"],
)
def test_hostile_sd_jwts_are_failed_checks_never_exceptions(text: str) -> None:
    report = SdJwtIssuer().verifier().verify(text, audience=AUDIENCE, nonce="n")
    assert not report.verified
    assert report.failed and all(c.code for c in report.failed)
