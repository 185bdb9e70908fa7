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
from microcred.samples import HBO, legacy_shape, sample_credential
from servicekit.web import LANG_COOKIE
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


# --------------------------------------------------------------------------- the setting


def test_profile_required_as_the_vc_api_setting_over_http(
    make_client: Any, issuer: Multikey, holder: Multikey, monkeypatch: Any
) -> None:
    """``MICROCRED_VERIFIER_POLICIES=profile-required``: the VC-API refuses an incomplete
    credential by that policy's name (400, ``policy``/``policy_profile_required``), a
    complete one still verifies, and a presentation names the credential it refused."""
    monkeypatch.setenv("MICROCRED_VERIFIER_POLICIES", "profile-required")
    client = make_client()
    body = {"verifiableCredential": incomplete(issuer, holder)}
    refused = client.post("/credentials/verify", json=body)
    assert refused.status_code == 400, refused.text
    errors = {(c["id"], c["code"]) for c in refused.json()["errors"]}
    assert errors == {("policy", "policy_profile_required")}
    assert refused.json()["profile"]["missing"] == [
        "assessment", "participation", "quality_assurance"
    ]  # fmt: skip
    accepted = client.post(
        "/credentials/verify", json={"verifiableCredential": complete(issuer, holder)}
    )
    assert accepted.status_code == 200, accepted.json()["errors"]

    from credentials.verify import create_presentation

    challenge = client.post("/challenges", json={}).json()["challenge"]
    presentation = create_presentation([incomplete(issuer, holder)], holder, challenge=challenge)
    answer = client.post(
        "/presentations/verify",
        json={"verifiablePresentation": presentation, "options": {"challenge": challenge}},
    )
    assert answer.status_code == 400, answer.text
    codes = {(c["id"], c["code"]) for c in answer.json()["errors"]}
    assert ("credential[0].policy", "policy_profile_required") in codes


def test_without_the_setting_the_vc_api_reports_the_profile_as_a_warning(
    client: TestClient, issuer: Multikey, holder: Multikey
) -> None:
    answer = client.post(
        "/credentials/verify", json={"verifiableCredential": incomplete(issuer, holder)}
    )
    assert answer.status_code == 200
    assert {(c["id"], c["code"]) for c in answer.json()["warnings"]} >= {
        ("schema", "profile_incomplete")
    }


def test_profile_required_as_the_page_setting_names_the_policy(
    make_client: Any, issuer: Multikey, holder: Multikey, monkeypatch: Any
) -> None:
    """``MICROCRED_VERIFIER_PAGE_POLICIES=profile-required``: the employer's page refuses
    the same credential and says which policy it did not meet, in Dutch."""
    monkeypatch.setenv("MICROCRED_VERIFIER_PAGE_POLICIES", "profile-required")
    client = make_client(dev=True, public_url="http://localhost:8003")
    html = _check(client, incomplete(issuer, holder))
    assert re.search(r'data-verdict="failed"', html)
    policy = re.search(
        r'data-check-id="policy".*?class="check-label">([^<]+)<.*?class="check-message">([^<]+)<',
        html,
        re.S,
    )
    assert policy, html[-3000:]
    assert policy.group(1) == "Beleid van deze controle"
    assert "EU-microcredentialprofiel" in policy.group(2)  # the policy, said in Dutch
    assert "policy_profile_required" in html  # and its stable code one click away
    whole = re.search(r'data-verdict="(\w+)"', _check(client, complete(issuer, holder)))
    assert whole and whole.group(1) == "untrusted"  # genuine and complete; no trust registry
