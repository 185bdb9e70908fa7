"""POST /admissions/evaluate: a route rule over the verified credentials only, with every
requirement explained and every credential that did not count listed with its reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from credentials.keys import Multikey
from credentials.verify import create_presentation
from tests.verifier.support import microcredential, module, tampered, write_registry

# "≥ 15 ECTS at EQF ≥ 6 in data science modules from trusted institutions, within 5 years"
RULE = {
    "id": "master-data-science-admission",
    "name": "Admission to the master track Data Science",
    "min_ects": 15,
    "min_eqf_level": 6,
    "max_age_years": 5,
    "accepted_issuers": ["trusted"],
    "required_modules": [
        {"id": "wrangling", "name": "Data Wrangling", "keywords": ["wrangling"]},
    ],
}


@pytest.fixture
def hbo() -> Multikey:
    return Multikey.generate()


@pytest.fixture
def wo() -> Multikey:
    return Multikey.generate("p256")


@pytest.fixture
def admissions(make_client: Any, tmp_path: Path, hbo: Multikey, wo: Multikey) -> Any:
    registry = write_registry(
        tmp_path / "registry.yaml",
        [
            {"did": hbo.controller, "name": "Hogeschool Rijnland", "country": "NL"},
            {"did": wo.controller, "name": "Universiteit Delta", "country": "NL"},
        ],
    )
    return make_client(trust_registry=registry)


def evaluate(client: Any, **body: Any) -> Any:
    body.setdefault("rule", RULE)
    return client.post("/admissions/evaluate", json=body)


def credentials_of(holder: Multikey, hbo: Multikey, third_issuer: Multikey) -> list[dict[str, Any]]:
    return [
        microcredential(hbo, holder),  # Data Wrangling, 7.5 ECTS
        microcredential(hbo, holder, achievement=module("Statistics for Data Science", ects=5)),
        microcredential(
            third_issuer,
            holder,
            name="Universiteit Delta",
            achievement=module(
                "Machine Learning", ects=5, achievement_id="https://unidelta.example/ml"
            ),
        ),
    ]


def test_a_presentation_that_meets_the_rule(
    admissions: Any, hbo: Multikey, wo: Multikey, holder: Multikey
) -> None:
    challenge = admissions.post("/challenges").json()["challenge"]
    vp = create_presentation(credentials_of(holder, hbo, wo), holder, challenge=challenge)
    response = evaluate(admissions, verifiablePresentation=vp, options={"challenge": challenge})
    assert response.status_code == 200
    body = response.json()
    assert body["satisfied"] is True and body["holder_proven"] is True
    assert body["ects_total"] == 17.5 and body["missing"] == []
    explained = {e["requirement"]: e for e in body["explanations"]}
    assert explained["min_ects"] == {
        "requirement": "min_ects",
        "met": True,
        "message": "17.5 of 15 ECTS",
        "credential_ids": [c["credential_id"] for c in body["credentials"]],
    }
    assert explained["module:wrangling"]["message"] == (
        "Data Wrangling: met by Data Wrangling with Python"
    )
    assert [c["code"] for c in body["credentials"]] == ["counted", "counted", "counted"]
    assert body["rejected"] == []
    assert body["verification"]["presentation"]["verified"] is True


def test_credentials_from_institutions_outside_the_registry_do_not_count(
    admissions: Any, hbo: Multikey, holder: Multikey
) -> None:
    unknown = Multikey.generate()
    vp = create_presentation(credentials_of(holder, hbo, unknown), holder, challenge="c")
    body = evaluate(admissions, verifiablePresentation=vp, options={"challenge": "c"}).json()
    assert body["satisfied"] is False
    assert body["ects_total"] == 12.5
    explained = {e["requirement"]: e for e in body["explanations"]}
    assert explained["min_ects"]["met"] is False
    assert explained["min_ects"]["message"] == "12.5 of 15 ECTS"
    assert body["missing"] == ["2.5 more ECTS"]
    verdict = body["credentials"][2]
    assert verdict["counts"] is False and verdict["code"] == "untrusted_issuer"
    assert "not in the trust registry" in verdict["reasons"][0]


def test_a_tampered_credential_is_left_out_with_the_reason(
    admissions: Any, hbo: Multikey, wo: Multikey, holder: Multikey
) -> None:
    genuine = credentials_of(holder, hbo, wo)
    forged = tampered(genuine[2], "credentialSubject.achievement.ects", 30)
    body = evaluate(admissions, credentials=[genuine[0], genuine[1], forged]).json()
    assert body["satisfied"] is False and body["holder_proven"] is False
    assert body["ects_total"] == 12.5
    (rejected,) = body["rejected"]
    assert rejected["title"] == "Machine Learning"
    assert any("signature does not verify" in reason for reason in rejected["reasons"])
    reports = body["verification"]["credentials"]
    assert [r["verified"] for r in reports] == [True, True, False]


def test_loose_credentials_are_evaluated_but_the_holder_is_not_proven(
    admissions: Any, hbo: Multikey, wo: Multikey, holder: Multikey
) -> None:
    body = evaluate(admissions, credentials=credentials_of(holder, hbo, wo)).json()
    assert body["satisfied"] is True and body["holder_proven"] is False


def test_a_presentation_with_a_replayed_challenge_counts_nothing(
    admissions: Any, hbo: Multikey, wo: Multikey, holder: Multikey
) -> None:
    challenge = admissions.post("/challenges").json()["challenge"]
    vp = create_presentation(credentials_of(holder, hbo, wo), holder, challenge=challenge)
    body = {"verifiablePresentation": vp, "options": {"challenge": challenge}}
    assert evaluate(admissions, **body).json()["satisfied"] is True
    replay = evaluate(admissions, **body).json()
    assert replay["satisfied"] is False and replay["ects_total"] == 0
    assert len(replay["rejected"]) == 3
    assert "this challenge has already been used" in replay["rejected"][0]["reasons"]


def test_credentials_of_someone_else_do_not_count(
    admissions: Any, hbo: Multikey, wo: Multikey, holder: Multikey
) -> None:
    other = Multikey.generate()
    vp = create_presentation(credentials_of(other, hbo, wo), holder, challenge="c")
    body = evaluate(admissions, verifiablePresentation=vp, options={"challenge": "c"}).json()
    assert body["ects_total"] == 0 and len(body["rejected"]) == 3
    # admissions run under the page policies: the failed policy is named
    assert body["rejected"][0]["reasons"] == [
        "policy holder-is-subject: the holder is not the subject of this credential"
    ]


def test_a_module_requirement_is_explained_when_missing(
    admissions: Any, hbo: Multikey, holder: Multikey
) -> None:
    statistics = microcredential(hbo, holder, achievement=module("Statistics", ects=20))
    body = evaluate(admissions, credentials=[statistics]).json()
    explained = {e["requirement"]: e for e in body["explanations"]}
    assert explained["min_ects"]["met"] is True
    assert explained["module:wrangling"] == {
        "requirement": "module:wrangling",
        "met": False,
        "message": "Data Wrangling: no counted credential for this module",
        "credential_ids": [],
    }
    assert body["missing"] == ["module Data Wrangling"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (
            {"credentials": [{}], "rule": {"id": "r", "name": "R", "min_etcs": 1}},
            400,
            "invalid_route",
        ),
        ({"credentials": [{}]}, 400, "invalid_route"),
        ({"rule": RULE}, 400, "invalid_request"),
        ({"credentials": [], "rule": RULE}, 400, "invalid_request"),
        ({"credentials": [{}] * 101, "rule": RULE}, 400, "too_many_credentials"),
        ({"verifiablePresentation": {}, "options": [], "rule": RULE}, 400, "invalid_request"),
    ],
)
def test_unusable_requests_are_problems(
    client: Any, body: dict[str, Any], status: int, code: str
) -> None:
    response = client.post("/admissions/evaluate", json=body)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("content", [b"", b"nope", b"[]", b'{"a": 1, "a": 2}'])
def test_malformed_bodies_are_problems(client: Any, content: bytes) -> None:
    response = client.post(
        "/admissions/evaluate", content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")


def test_a_malformed_presentation_is_rejected_not_a_server_error(client: Any) -> None:
    body = client.post(
        "/admissions/evaluate", json={"verifiablePresentation": "nonsense", "rule": RULE}
    ).json()
    assert body["satisfied"] is False
    assert body["rejected"][0]["reasons"][0].startswith("a verifiable presentation must be")
