"""The verdict is about authenticity; EU profile completeness is its own reported result.

A genuine Open Badges credential that lacks EU elements verifies, with a ``schema`` warning
and ``profile.missing`` naming the elements; the policy "profile required" turns the same
finding into a failed ``policy`` check. The result page says "Echt en geldig · 3 van de 11
EU-elementen ontbreken".
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from credentials.keys import Multikey
from credentials.microcredential import Learner
from credentials.proofs import sign
from credentials.setup import default_verifier
from servicekit.web import LANG_COOKIE
from tests.credentials.microcred_samples import HBO, legacy_shape, sample_credential
from tests.verifier.support import write_registry

DROPPED = ("ext:AssessmentType", "ext:ParticipationForm", "ext:QualityAssurance")


def incomplete(issuer: Multikey, holder: Multikey) -> dict[str, Any]:
    """A signed OB 3.0 credential without assessment, participation and quality assurance."""
    credential = sample_credential(
        issuer=replace(HBO, id=issuer.controller), learner=Learner(did=holder.controller)
    )
    achievement = credential["credentialSubject"]["achievement"]
    achievement["alignment"] = [
        a for a in achievement["alignment"] if a["targetType"] not in DROPPED
    ]
    return sign(credential, issuer)


def complete(issuer: Multikey, holder: Multikey) -> dict[str, Any]:
    credential = sample_credential(
        issuer=replace(HBO, id=issuer.controller), learner=Learner(did=holder.controller)
    )
    return sign(credential, issuer)


def test_an_incomplete_credential_is_genuine_with_the_missing_elements_reported(
    issuer: Multikey, holder: Multikey
) -> None:
    report = default_verifier().verify_credential(incomplete(issuer, holder), check_status=False)
    assert report.verified
    check = report.outcome_of("schema")
    assert (check.outcome, check.code) == ("warning", "profile_incomplete")
    assert check.message.startswith("3 of the 11 EU micro-credential elements missing")
    body = report.to_dict()
    assert body["verified"] is True
    assert body["profile"]["name"] == "eu-microcredential"
    assert body["profile"]["complete"] is False
    assert body["profile"]["missing"] == ["assessment", "participation", "quality_assurance"]
    assert [e["number"] for e in body["profile"]["missingElements"]] == [9, 10, 11]
    assert body["warnings"] and not body["errors"]


def test_the_policy_profile_required_fails_it_by_name(issuer: Multikey, holder: Multikey) -> None:
    verifier = default_verifier(require_profile=True)
    report = verifier.verify_credential(incomplete(issuer, holder), check_status=False)
    assert not report.verified
    (failed,) = report.failed
    assert (failed.id, failed.code) == ("policy", "policy_profile_required")
    assert re.search(r"profile.required", failed.message)  # the policy is named
    assert report.to_dict()["profile"]["complete"] is False
    genuine = verifier.verify_credential(complete(issuer, holder), check_status=False)
    assert genuine.verified and genuine.to_dict()["profile"]["complete"] is True


def test_a_legacy_microcred_v1_credential_still_verifies_complete(
    issuer: Multikey, holder: Multikey
) -> None:
    unsigned = legacy_shape(
        sample_credential(
            issuer=replace(HBO, id=issuer.controller), learner=Learner(did=holder.controller)
        )
    )
    report = default_verifier().verify_credential(sign(unsigned, issuer), check_status=False)
    assert report.verified, report.to_dict()
    assert report.outcome_of("schema").outcome == "passed"
    assert report.to_dict()["profile"]["complete"] is True
    assert report.summary["ects"] == 7.5 and report.summary["hours"] == 210


def _check(client: TestClient, document: dict[str, Any], lang: str = "nl") -> str:
    client.cookies.set(LANG_COOKIE, lang)
    page = client.get("/")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, page.text[:500]

    answer = client.post(
        "/check/credential",
        data={"document": json.dumps(document), "csrf_token": token.group(1)},
    )
    assert answer.status_code == 200, answer.text[-1500:]
    return answer.text


def _verdict(html: str) -> str:
    found = re.search(r"<h1>(.*?)</h1>", html, re.S)
    assert found
    return re.sub(r"<[^>]+>", "", found.group(1)).strip().lstrip("✓").strip()


def test_the_result_page_says_genuine_and_what_is_missing(
    make_client: Any, tmp_path: Path, issuer: Multikey, holder: Multikey
) -> None:
    registry = write_registry(
        tmp_path / "registry.yaml",
        [{"did": issuer.controller, "name": "Hogeschool Rijnland", "country": "NL"}],
    )
    # http public URL: the page's CSRF cookie is then not Secure-only for the test client
    client = make_client(trust_registry=registry, dev=True, public_url="http://localhost:8003")
    html = _check(client, incomplete(issuer, holder))
    verdict = re.search(r'data-verdict="(\w+)"', html)
    assert verdict and verdict.group(1) == "verified"
    assert _verdict(html) == "Echt en geldig · 3 van de 11 EU-elementen ontbreken"
    english = _check(client, incomplete(issuer, holder), lang="en")
    assert _verdict(english) == "Genuine and valid · 3 of the 11 EU elements missing"
    whole = _check(client, complete(issuer, holder))
    assert _verdict(whole) == "Echt en geldig"
