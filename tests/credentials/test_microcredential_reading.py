"""Reading microcredentials: what microcred built, other issuers' OB 3.0 credentials, SURF-style
and odd documents (never an exception), and the fixture schema."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from credentials.errors import MalformedInput
from credentials.microcredential import (
    read_microcredential,
)
from microcred.samples import (
    AWARDED,
    DATA_WRANGLING,
    HBO,
    LEARNER,
    NVAO,
    legacy_credential,
    module,
    sample_credential,
)

from ..conftest import FIXTURES, load_fixture


def test_read_back_what_was_built() -> None:
    view = read_microcredential(sample_credential())
    assert view.credential_id == "urn:uuid:6b1c1a3e-0f9e-4a8a-9d5e-1b2c3d4e5f60"
    assert (view.issuer_id, view.issuer_name, view.issuer_url) == (
        HBO.id,
        "Hogeschool Rijnland",
        "https://hsrijnland.example",
    )
    assert (view.country, view.country_code, view.region) == ("Netherlands", "NL", "Zuid-Holland")
    assert view.issuer_identifiers == {"BRIN": "99HR"}
    assert view.achievement_id == DATA_WRANGLING.id
    assert view.title == "Data Wrangling with Python"
    assert view.is_microcredential
    assert (view.ects, view.hours) == (7.5, 210)
    assert (view.eqf_level, view.nlqf_level, view.qf_ehea_cycle) == (6, 6, "first")
    assert view.assessment_type == "practical assignment with oral defence"
    assert view.participation_form == "blended"
    assert (view.supervision, view.identity_check) == ("supervised-onsite", True)
    assert view.quality_assurance == NVAO.name
    assert view.quality_assurance_url == NVAO.url
    assert view.language == "nl"
    assert view.learning_outcomes == DATA_WRANGLING.learning_outcomes
    assert view.prerequisites == ("basic Python programming",)
    assert view.stackable_into == ("https://hsrijnland.example/minors/data-science",)
    assert view.stackability == "stackable"
    assert view.awarded_date == view.valid_from == view.issued == AWARDED
    assert view.valid_until is None
    assert view.holder == LEARNER.did
    assert view.grade == "8.5"
    assert json.loads(json.dumps(view.to_dict()))["awarded_date"] == "2025-06-30T12:00:00Z"


@pytest.mark.parametrize(
    "fixture",
    [
        "vectors/obv3p0/credential-unsigned.json",
        "openbadges/spec-complete-openbadgecredential.json",
    ],
)
def test_reading_other_issuers_ob_credentials(fixture: str) -> None:
    view = read_microcredential(load_fixture(fixture))
    assert view.title and view.issuer_id and view.valid_from
    assert not view.is_microcredential
    assert view.eqf_level is None and view.assessment_type is None


def test_reading_the_complete_ob_example_falls_back_to_credits_available() -> None:
    view = read_microcredential(load_fixture("openbadges/spec-complete-openbadgecredential.json"))
    assert view.ects == 36.0  # its creditsAvailable; no unit is stated, ECTS is assumed
    assert view.hours is None
    assert view.holder == "did:example:ebfeb1f712ebc6f1c276e12ec21"
    assert view.country == "USA"


def test_reading_a_surf_style_credential() -> None:
    """SURF's edubadges OB 3.0 examples: ECTS term, ext:EQF, participationType."""
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "https://example.com/credentials/1",
        "issuer": {
            "id": "https://example.com/issuers/1",
            "name": "Example University",
            "address": {"addressCountry": "The Netherlands", "addressCountryCode": "nl"},
        },
        "validFrom": "2024-08-30T00:00:00Z",
        "credentialSubject": {
            "achievement": {
                "name": "Microcredential X",
                "ECTS": 3.0,
                "participationType": "onsite or blended",
                "identityChecked": True,
                "alignment": [
                    {"targetType": "ext:EQF", "targetName": "EQF level 4", "targetCode": "4"},
                    {"targetType": "ext:QualityAssurance", "targetName": "Accreditation"},
                ],
            }
        },
    }
    view = read_microcredential(credential)
    assert (view.ects, view.eqf_level, view.country_code) == (3.0, 4, "NL")
    assert view.participation_form == "onsite or blended"
    assert view.identity_check is True
    assert view.quality_assurance == "Accreditation"


@pytest.mark.parametrize(
    "credential",
    [
        {},
        {"issuer": "did:web:x.example", "credentialSubject": [{"achievement": "not an object"}]},
        {"credentialSubject": {"achievement": {"alignment": "EQF 6", "ects": "7,5"}}},
        {"validFrom": "yesterday", "credentialSubject": None, "type": "VerifiableCredential"},
        {"credentialSubject": {"achievement": {"ects": True, "alignment": [None, 3]}}},
    ],
    ids=["empty", "odd-shapes", "strings", "bad-date", "wrong-types"],
)
def test_reading_never_fails_on_odd_credentials(credential: dict[str, Any]) -> None:
    view = read_microcredential(credential)
    assert view.eqf_level is None
    assert view.valid_from is None


def test_reading_odd_values_as_far_as_they_make_sense() -> None:
    eqf = {"targetFramework": "European Qualifications Framework", "targetName": "Level 5"}
    view = read_microcredential(
        {
            "issuer": "did:web:x.example",
            "credentialSubject": {"achievement": {"ects": "7,5", "alignment": [eqf]}},
        }
    )
    assert view.issuer_id == "did:web:x.example"
    assert view.ects == 7.5
    assert view.eqf_level == 5


def test_reading_requires_an_object() -> None:
    with pytest.raises(MalformedInput):
        read_microcredential(["not", "a", "credential"])  # type: ignore[arg-type]


def test_fixture_schema_is_the_official_copy() -> None:
    """The 1EdTech file as published (gh-pages a4e4e70, docs/schema/achievementcredential.json)."""
    ours = (FIXTURES / "openbadges" / "achievementcredential.json").read_bytes()
    assert hashlib.sha256(ours).hexdigest() == (
        "5753fb3ecf7d024ed273dd364bd683f483eb47257e718e6618832cf89eb2083a"
    )


def test_reading_plain_ob3_with_an_eqf_alignment_by_name_and_vcdm_1_1_dates() -> None:
    """An OB 3.0 issuer that never heard of microcred, signing VCDM 1.1."""
    credential = {
        "@context": [
            "https://www.w3.org/2018/credentials/v1",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json",
        ],
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": "did:web:college.example", "type": ["Profile"], "name": "College"},
        "issuanceDate": "2024-02-01T09:00:00Z",
        "expirationDate": "2029-02-01T09:00:00Z",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://college.example/badges/statistics",
                "type": ["Achievement"],
                "name": "Statistics",
                "creditsAvailable": 4,
                "alignment": [
                    {
                        "type": ["Alignment"],
                        "targetName": "EQF Level 5",
                        "targetUrl": "https://europa.eu/europass/en/description-eight-eqf-levels",
                    }
                ],
            },
        },
    }
    view = read_microcredential(credential)
    assert (view.title, view.issuer_id, view.ects, view.hours) == (
        "Statistics",
        "did:web:college.example",
        4.0,
        None,
    )
    assert view.eqf_level is None  # a name alone does not say which framework ...
    credential["credentialSubject"]["achievement"]["alignment"][0]["targetFramework"] = "EQF"
    assert read_microcredential(credential).eqf_level == 5  # ... the framework does
    assert view.valid_from == datetime(2024, 2, 1, 9, 0, tzinfo=UTC)
    assert view.valid_until == datetime(2029, 2, 1, 9, 0, tzinfo=UTC)
    assert view.issued == view.valid_from


def test_reading_surf_fields_inside_extension_objects() -> None:
    """edubadges' extensions (ECTSExtension, StudyLoadExtension, EQFExtension) and SBU."""
    achievement = {
        "name": "Zorg en welzijn",
        "extensions:ECTSExtension": {"type": ["Extension"], "ECTS": 2.5},
        "extensions:StudyLoadExtension": {"type": ["Extension"], "studyLoad": 70},
        "extensions:EQFExtension": {"type": ["Extension"], "EQF": "Level 4"},
    }
    view = read_microcredential({"credentialSubject": {"achievement": achievement}})
    assert (view.ects, view.hours, view.eqf_level) == (2.5, 70.0, 4)
    mbo = read_microcredential({"credentialSubject": {"achievement": {"SBU": 240}}})
    assert mbo.hours == 240.0 and mbo.ects is None


def test_an_alignment_code_beats_nothing_but_a_named_field_wins() -> None:
    """The explicit field of the credential's own mapping is read before an alignment."""
    credential = legacy_credential()
    credential["credentialSubject"]["achievement"]["alignment"].append(
        {"type": ["Alignment"], "targetType": "ext:ECTS", "targetCode": "7.5",
         "targetName": "7.5 ECTS", "targetUrl": "https://example.org/ects"}
    )  # fmt: skip
    assert read_microcredential(credential).ects == 7.5
    view = read_microcredential(sample_credential(achievement=module(ects=None)))
    assert view.ects is None and view.hours == 210
