"""Credentials issued before issue 13 (the microcred/v1 context) keep verifying and are
read as before; the profile counts them complete."""

from __future__ import annotations

from datetime import UTC, datetime

from credentials.microcredential import read_microcredential
from credentials.setup import default_verifier
from microcred.samples import DATA_WRANGLING, NVAO, sample_credential

from ..conftest import load_fixture

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def legacy() -> dict:
    return load_fixture("legacy/microcred-v1-signed.json")


def test_a_credential_issued_with_the_microcred_v1_context_still_verifies() -> None:
    credential = legacy()
    assert "https://w3id.org/microcred/v1" in credential["@context"]
    assert credential["credentialSubject"]["achievement"]["workloadHours"] == 210
    report = default_verifier().verify_credential(credential, now=NOW, check_status=False)
    assert report.verified, report.to_dict()
    assert report.outcome_of("context").outcome == "passed"
    assert report.outcome_of("schema").outcome == "passed"
    assert report.to_dict()["profile"]["complete"] is True
    assert report.summary["ects"] == 7.5 and report.summary["eqfLevel"] == 6


def test_it_reads_the_same_as_the_current_shape() -> None:
    old = read_microcredential(legacy()).to_dict()
    new = read_microcredential(sample_credential()).to_dict()
    for key in ("issuer_id", "issuer_name", "alignments", "holder_identities"):
        old.pop(key), new.pop(key)  # another issuer DID; alignments are shaped differently
    assert old == new
    view = read_microcredential(legacy())
    assert (view.ects, view.hours, view.eqf_level, view.nlqf_level) == (7.5, 210, 6, 6)
    assert view.assessment_type == "practical assignment with oral defence"
    assert view.participation_form == "blended"
    assert view.learning_outcomes == DATA_WRANGLING.learning_outcomes
    assert view.quality_assurance == NVAO.name


def test_tampering_with_a_legacy_term_breaks_the_signature() -> None:
    credential = legacy()
    credential["credentialSubject"]["achievement"]["ects"] = 30
    report = default_verifier().verify_credential(credential, now=NOW, check_status=False)
    assert not report.verified
    assert report.outcome_of("proof").outcome == "failed"
