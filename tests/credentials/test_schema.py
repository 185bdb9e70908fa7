"""The microcredential profile schema: every mandatory EU element, named when missing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from credentials.errors import SchemaError
from credentials.schema import (
    EU_ELEMENTS,
    microcredential_problems,
    microcredential_schema,
    validate_microcredential,
)
from microcred.samples import legacy_credential, sample_credential

Mutation = Callable[[dict[str, Any]], None]


def _achievement(c: dict[str, Any]) -> dict[str, Any]:
    return c["credentialSubject"]["achievement"]


def _drop_alignment(target_type: str) -> Mutation:
    def mutate(c: dict[str, Any]) -> None:
        achievement = _achievement(c)
        achievement["alignment"] = [
            a for a in achievement["alignment"] if a.get("targetType") != target_type
        ]

    return mutate


def _delete(*path: str) -> Mutation:
    def mutate(c: dict[str, Any]) -> None:
        node = c
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]

    return mutate


def _set(value: Any, *path: str) -> Mutation:
    def mutate(c: dict[str, Any]) -> None:
        node = c
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return mutate


def _both(*mutations: Mutation) -> Mutation:
    def mutate(c: dict[str, Any]) -> None:
        for m in mutations:
            m(c)

    return mutate


SUBJECT = ("credentialSubject",)
ACHIEVEMENT = ("credentialSubject", "achievement")

# (EU element, what is broken, mutation, the field the error must name)
MANDATORY: list[tuple[int, str, Mutation, str]] = [
    (
        1,
        "no learner at all",
        _both(_delete(*SUBJECT, "id"), _delete(*SUBJECT, "identifier")),
        "credentialSubject.id",
    ),
    (2, "no title", _delete(*ACHIEVEMENT, "name"), "credentialSubject.achievement.name"),
    (
        2,
        "no achievementType",
        _delete(*ACHIEVEMENT, "achievementType"),
        "credentialSubject.achievement.achievementType",
    ),
    (
        2,
        "not a MicroCredential",
        _set("Course", *ACHIEVEMENT, "achievementType"),
        "credentialSubject.achievement.achievementType",
    ),
    (3, "no address", _delete("issuer", "address"), "issuer.address"),
    (
        3,
        "no country",
        _delete("issuer", "address", "addressCountry"),
        "issuer.address.addressCountry",
    ),
    (4, "issuer only a URL", _set("did:web:x.example", "issuer"), "issuer"),
    (4, "no issuer", _delete("issuer"), "issuer"),
    (4, "no issuer id", _delete("issuer", "id"), "issuer.id"),
    (4, "no issuer name", _delete("issuer", "name"), "issuer.name"),
    (4, "issuer url not a URL", _set("hsrijnland", "issuer", "url"), "issuer.url"),
    (5, "no validFrom", _delete("validFrom"), "validFrom"),
    (5, "awardedDate not a date", _set("30 June", "awardedDate"), "awardedDate"),
    (5, "date without zone", _set("2025-06-30T12:00:00", "validFrom"), "validFrom"),
    (
        6,
        "no description",
        _delete(*ACHIEVEMENT, "description"),
        "credentialSubject.achievement.description",
    ),
    (6, "no criteria", _delete(*ACHIEVEMENT, "criteria"), "credentialSubject.achievement.criteria"),
    (
        6,
        "empty narrative",
        _set("  ", *ACHIEVEMENT, "criteria", "narrative"),
        "credentialSubject.achievement.criteria.narrative",
    ),
    (
        7,
        "no workload",
        _both(
            _drop_alignment("ext:ECTS"),
            _drop_alignment("ext:NotionalWorkload"),
            _delete(*ACHIEVEMENT, "creditsAvailable"),
        ),
        "credentialSubject.achievement.creditsAvailable",
    ),
    (
        7,
        "hours not a number",
        lambda c: _achievement(c)["alignment"][4].update(targetCode="many"),
        "credentialSubject.achievement.alignment[4].targetCode",
    ),
    (
        8,
        "no EQF alignment",
        _drop_alignment("ext:EQF"),
        "credentialSubject.achievement.alignment[EQF]",
    ),
    (
        8,
        "EQF level 9",
        lambda c: _achievement(c)["alignment"][0].update(targetCode="9"),
        "credentialSubject.achievement.alignment[EQF]",
    ),
    (
        8,
        "no alignments at all",
        _delete(*ACHIEVEMENT, "alignment"),
        "credentialSubject.achievement.alignment[EQF]",
    ),
    (
        9,
        "no assessment type",
        _drop_alignment("ext:AssessmentType"),
        "credentialSubject.achievement.alignment[AssessmentType]",
    ),
    (
        10,
        "no participation form",
        _drop_alignment("ext:ParticipationForm"),
        "credentialSubject.achievement.alignment[ParticipationForm]",
    ),
    (
        10,
        "unknown participation form",
        lambda c: _achievement(c)["alignment"][6].update(targetCode="by carrier pigeon"),
        "credentialSubject.achievement.alignment[6].targetCode",
    ),
    (
        11,
        "no quality assurance",
        _drop_alignment("ext:QualityAssurance"),
        "credentialSubject.achievement.alignment[QualityAssurance]",
    ),
]


def test_the_sample_is_valid() -> None:
    assert microcredential_problems(sample_credential()) == []
    validate_microcredential(sample_credential())


def test_the_schema_is_valid_json_schema_2020_12() -> None:
    Draft202012Validator.check_schema(microcredential_schema())


def test_every_mandatory_element_is_covered() -> None:
    assert {element for element, *_ in MANDATORY} == set(EU_ELEMENTS)


@pytest.mark.parametrize(
    ("element", "mutate", "field"),
    [(element, mutate, field) for element, _, mutate, field in MANDATORY],
    ids=[f"{element}-{label}" for element, label, _, _ in MANDATORY],
)
def test_a_missing_mandatory_element_is_named(element: int, mutate: Mutation, field: str) -> None:
    credential = sample_credential()
    mutate(credential)
    with pytest.raises(SchemaError) as raised:
        validate_microcredential(credential)
    assert raised.value.field == field
    assert raised.value.code == "schema_invalid"
    assert f"EU element {element}" in str(raised.value)


def test_learner_identified_by_hashed_identifier_only_is_enough() -> None:
    credential = sample_credential()
    del credential["credentialSubject"]["id"]
    validate_microcredential(credential)


def test_learner_identified_by_did_only_is_enough() -> None:
    credential = sample_credential()
    del credential["credentialSubject"]["identifier"]
    validate_microcredential(credential)


@pytest.mark.parametrize("keep", ["ext:ECTS", "ext:NotionalWorkload", "creditsAvailable"])
def test_workload_in_ects_or_hours_is_enough(keep: str) -> None:
    credential = sample_credential()
    achievement = credential["credentialSubject"]["achievement"]
    if keep != "creditsAvailable":
        del achievement["creditsAvailable"]
    for kind in ("ext:ECTS", "ext:NotionalWorkload"):
        if kind != keep:
            _drop_alignment(kind)(credential)
    validate_microcredential(credential)


@pytest.mark.parametrize("keep", ["ects", "workloadHours"])
def test_legacy_workload_in_ects_or_hours_is_enough(keep: str) -> None:
    credential = legacy_credential()
    achievement = credential["credentialSubject"]["achievement"]
    for key in ("ects", "workloadHours", "creditsAvailable"):
        if key != keep:
            del achievement[key]
    validate_microcredential(credential)


def test_a_legacy_credential_is_complete() -> None:
    assert microcredential_problems(legacy_credential()) == []


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (_delete(*ACHIEVEMENT, "assessmentType"), "alignment[AssessmentType]"),
        (_delete(*ACHIEVEMENT, "participationForm"), "alignment[ParticipationForm]"),
        (_set("by carrier pigeon", *ACHIEVEMENT, "participationForm"), "participationForm"),
        (_set("7.5", *ACHIEVEMENT, "ects"), "ects"),
    ],
    ids=["no-assessment", "no-participation", "bad-participation", "ects-string"],
)
def test_legacy_elements_are_named_when_missing(mutate: Mutation, field: str) -> None:
    credential = legacy_credential()
    mutate(credential)
    fields = [found for found, _ in microcredential_problems(credential)]
    assert fields == ["credentialSubject.achievement." + field]


def test_a_vcdm_1_1_credential_dates_satisfy_element_5() -> None:
    credential = sample_credential()
    credential["@context"][0] = "https://www.w3.org/2018/credentials/v1"
    credential["issuanceDate"] = credential.pop("validFrom")
    assert microcredential_problems(credential) == []


def test_eqf_recognised_by_framework_name_too() -> None:
    credential = sample_credential()
    eqf = credential["credentialSubject"]["achievement"]["alignment"][0]
    del eqf["targetType"]
    eqf["targetFramework"] = "EQF"
    validate_microcredential(credential)


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (_set(["https://www.w3.org/ns/credentials/v2"], "@context"), "@context"),
        (
            _set(
                [
                    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
                    "https://www.w3.org/ns/credentials/v2",
                ],
                "@context",
            ),
            "@context",
        ),
        (_set(["VerifiableCredential"], "type"), "type"),
        (_set(["OpenBadgeCredential"], "type"), "type"),
        (_delete("credentialSubject", "achievement", "type"), "credentialSubject.achievement.type"),
    ],
    ids=["no-ob-context", "v2-not-first", "not-openbadge", "not-vc", "achievement-untyped"],
)
def test_vc_and_ob_basics(mutate: Mutation, field: str) -> None:
    credential = sample_credential()
    mutate(credential)
    with pytest.raises(SchemaError) as raised:
        validate_microcredential(credential)
    assert raised.value.field == field


def test_achievement_credential_alias_is_accepted() -> None:
    credential = sample_credential()
    credential["type"] = ["VerifiableCredential", "AchievementCredential"]
    validate_microcredential(credential)


def test_structure_is_reported_before_the_eu_elements() -> None:
    credential = sample_credential()
    credential["type"] = ["VerifiableCredential"]
    _drop_alignment("ext:AssessmentType")(credential)
    del credential["issuer"]["name"]
    problems = microcredential_problems(credential)
    assert [field for field, _ in problems] == [
        "type",
        "issuer.name",
        "credentialSubject.achievement.alignment[AssessmentType]",
    ]
    with pytest.raises(SchemaError, match=r"^type: .*\(and 2 more\)$"):
        validate_microcredential(credential)


def test_nested_type_error_names_the_path() -> None:
    credential = sample_credential()
    credential["credentialSubject"]["achievement"]["creditsAvailable"] = "7.5"
    assert microcredential_problems(credential) == [
        (
            "credentialSubject.achievement.creditsAvailable",
            "must be of type number (EU element 7: notional workload)",
        )
    ]


def test_array_positions_appear_in_the_path() -> None:
    credential = sample_credential()
    del credential["credentialSubject"]["achievement"]["alignment"][3]["targetUrl"]
    fields = [field for field, _ in microcredential_problems(credential)]
    assert "credentialSubject.achievement.alignment[3].targetUrl" in fields


def test_plain_text_identity_is_refused() -> None:
    credential = sample_credential()
    identity = credential["credentialSubject"]["identifier"][0]
    identity.update(hashed=False, identityHash="jan.jansen@example.nl")
    fields = [field for field, _ in microcredential_problems(credential)]
    assert "credentialSubject.identifier[0].hashed" in fields
    assert "credentialSubject.identifier[0].identityHash" in fields


def test_country_code_must_be_iso() -> None:
    credential = sample_credential()
    credential["issuer"]["address"]["addressCountryCode"] = "Nederland"
    with pytest.raises(SchemaError) as raised:
        validate_microcredential(credential)
    assert raised.value.field == "issuer.address.addressCountryCode"


def test_credits_available_must_agree_with_ects() -> None:
    credential = sample_credential()
    credential["credentialSubject"]["achievement"]["creditsAvailable"] = 3
    with pytest.raises(SchemaError) as raised:
        validate_microcredential(credential)
    assert raised.value.field == "credentialSubject.achievement.creditsAvailable"


def test_valid_until_must_follow_valid_from() -> None:
    credential = sample_credential()
    credential["validUntil"] = "2020-01-01T00:00:00Z"
    with pytest.raises(SchemaError) as raised:
        validate_microcredential(credential)
    assert raised.value.field == "validUntil"


@pytest.mark.parametrize(
    "proof",
    [
        {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022"},
        [{"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022"}],
    ],
    ids=["object", "array"],
)
def test_a_proof_is_allowed_but_not_required(proof: Any) -> None:
    credential = sample_credential()
    credential["proof"] = proof
    validate_microcredential(credential)


@pytest.mark.parametrize("value", [None, [], "credential", 3])
def test_not_an_object(value: Any) -> None:
    with pytest.raises(SchemaError):
        validate_microcredential(value)


def test_the_schema_speaks_the_vocabulary_of_eu_vocabulary() -> None:
    """Every ``ext:`` targetType the schema names is one credentials.eu_vocabulary defines,
    and each mandatory element's alignment is among them."""
    from credentials import eu_vocabulary as vocab

    named: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "const" and isinstance(value, str) and value.startswith("ext:"):
                    named.add(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(microcredential_schema())
    assert named <= set(vocab.TARGET_TYPES)
    assert {
        vocab.EQF,
        vocab.ECTS,
        vocab.NOTIONAL_WORKLOAD,
        vocab.ASSESSMENT_TYPE,
        vocab.PARTICIPATION_FORM,
        vocab.QUALITY_ASSURANCE,
    } <= named
