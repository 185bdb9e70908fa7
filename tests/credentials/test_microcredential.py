"""Building and reading microcredentials: the OB 3.0 shape microcred issues (VC 2.0 + OB
3.0.3 contexts only), and the legacy microcred/v1 context, which is still read. Reading
other issuers' and odd documents: test_microcredential_reading.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft201909Validator
from pyld import jsonld

import contexts
from credentials.canonical import canonicalize
from credentials.documents import DocumentLoader
from credentials.errors import SchemaError
from credentials.eu_vocabulary import DEFAULT_CONTEXT, TARGET_TYPES
from credentials.microcredential import (
    CONTEXT,
    Alignment,
    IssuerProfile,
    Learner,
    ModuleDefinition,
    Result,
    build_credential,
    identity_hash,
    identity_matches,
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

from ..conftest import load_fixture

VOCAB = "https://w3id.org/microcred/vocab#"
VAGUE = (
    "https://www.w3.org/ns/credentials/issuer-dependent#",
    "https://www.w3.org/ns/credentials/undefined-term#",
)
CONTEXT_PATH = Path(contexts.__file__).parent / "microcred-v1.jsonld"

# The terms the microcred context defines, with the IRI and datatype each must expand to.
TERMS: dict[str, tuple[str, str | None]] = {
    "ects": (VOCAB + "ects", "http://www.w3.org/2001/XMLSchema#float"),
    "workloadHours": (VOCAB + "workloadHours", "http://www.w3.org/2001/XMLSchema#integer"),
    "learningOutcome": (VOCAB + "learningOutcome", None),
    "assessmentType": (VOCAB + "assessmentType", None),
    "participationForm": (VOCAB + "participationForm", None),
    "supervision": (VOCAB + "supervision", None),
    "identityCheck": (VOCAB + "identityCheck", "http://www.w3.org/2001/XMLSchema#boolean"),
    "prerequisite": (VOCAB + "prerequisite", None),
    "stackability": (VOCAB + "stackability", None),
    "stackableInto": (VOCAB + "stackableInto", "@id"),
}


def ob_validator() -> Draft201909Validator:
    return Draft201909Validator(load_fixture("openbadges/achievementcredential.json"))


def expand(document: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    dropped: list[Any] = []
    processor = jsonld.JsonLdProcessor(on_property_dropped=dropped.append)
    expanded = processor.expand(document, {"documentLoader": DocumentLoader()})
    return expanded, dropped


def iris(node: Any) -> set[str]:
    """Every property IRI and @type in an expanded document."""
    found: set[str] = set()
    if isinstance(node, list):
        for item in node:
            found |= iris(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if not key.startswith("@"):
                found.add(key)
            elif key == "@type" and isinstance(value, list):
                found |= {v for v in value if isinstance(v, str)}
            elif key == "@type" and isinstance(value, str):
                found.add(value)
            found |= iris(value)
    return found


# --------------------------------------------------------------------------- the legacy context


def test_context_is_listed_in_the_manifest_with_its_hash() -> None:
    entry = contexts.manifest()[contexts.MICROCRED_V1]
    assert entry.file == "microcred-v1.jsonld"
    assert entry.matches_hash()
    assert DocumentLoader().load(contexts.MICROCRED_V1) == json.loads(CONTEXT_PATH.read_text())


def test_context_is_protected_json_ld_1_1_without_a_vocab() -> None:
    context = json.loads(CONTEXT_PATH.read_text())["@context"]
    assert context["@version"] == 1.1
    assert context["@protected"] is True
    # No @vocab: an undefined term must be dropped (and caught), never quietly absorbed.
    assert "@vocab" not in context
    defined = {k for k in context if not k.startswith("@") and k not in ("id", "type")}
    assert defined == set(TERMS)


@pytest.mark.parametrize("term", sorted(TERMS))
def test_each_term_expands_to_its_iri_on_an_achievement(term: str) -> None:
    """Under OB's protected, type-scoped Achievement context the terms still expand."""
    credential = legacy_credential()
    achievement = credential["credentialSubject"]["achievement"]
    assert term in achievement
    expanded, dropped = expand(credential)
    assert dropped == []
    iri, datatype = TERMS[term]
    nodes = [
        n
        for n in _walk(expanded)
        if isinstance(n, dict)
        and "https://purl.imsglobal.org/spec/vc/ob/vocab.html#Achievement" in n.get("@type", [])
    ]
    assert len(nodes) == 1
    values = nodes[0][iri]
    if datatype == "@id":
        assert all("@id" in v for v in values)
    elif datatype:
        assert all(v.get("@type") == datatype for v in values)
    else:
        assert all("@type" not in v for v in values)


def _walk(node: Any) -> list[Any]:
    out = [node]
    if isinstance(node, list):
        for item in node:
            out.extend(_walk(item))
    elif isinstance(node, dict):
        for value in node.values():
            out.extend(_walk(value))
    return out


def test_a_legacy_credential_drops_nothing_and_nothing_is_vague() -> None:
    expanded, dropped = expand(legacy_credential())
    assert dropped == []
    found = iris(expanded)
    assert not [iri for iri in found if iri.startswith(VAGUE)]
    assert all(":" in iri for iri in found), "every IRI must be absolute"
    assert {iri for iri, _ in TERMS.values()} <= found


def test_the_project_canonicaliser_accepts_a_legacy_credential_strictly() -> None:
    nquads = canonicalize(legacy_credential(), strict=True)
    assert f'<{VOCAB}ects> "7.5E0"^^<http://www.w3.org/2001/XMLSchema#float>' in nquads
    assert f'<{VOCAB}workloadHours> "210"^^<http://www.w3.org/2001/XMLSchema#integer>' in nquads


def test_an_unknown_achievement_property_is_dropped_and_noticed() -> None:
    credential = sample_credential()
    credential["credentialSubject"]["achievement"]["ectsCredits"] = 5
    _, dropped = expand(credential)
    assert dropped


def test_the_context_works_before_the_ob_context_too() -> None:
    """No microcred term collides with an OB term, so the order does not matter."""
    credential = legacy_credential()
    v2, ob, mc = credential["@context"]
    credential["@context"] = [v2, mc, ob]
    expanded, dropped = expand(credential)
    assert dropped == []
    assert iris(expanded) == iris(expand(legacy_credential())[0])


def test_protected_terms_cannot_be_redefined_by_a_later_context() -> None:
    credential = legacy_credential()
    credential["@context"].append({"ects": "https://attacker.example/ects"})
    with pytest.raises(jsonld.JsonLdError) as raised:
        expand(credential)
    assert raised.value.code == "protected term redefinition"


# --------------------------------------------------------------------------- the default shape

OB_VOCAB = "https://purl.imsglobal.org/spec/vc/ob/vocab.html#"


def test_the_default_shape_uses_only_the_vc2_and_ob_contexts() -> None:
    credential = sample_credential()
    assert (
        credential["@context"]
        == list(DEFAULT_CONTEXT)
        == [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ]
    )
    assert contexts.MICROCRED_V1 not in json.dumps(credential)


def test_the_default_shape_has_no_term_outside_vc2_and_ob() -> None:
    """Every IRI is defined by the two contexts: nothing dropped, nothing issuer-dependent,
    no microcred vocabulary."""
    expanded, dropped = expand(sample_credential())
    assert dropped == []
    found = iris(expanded)
    assert not [iri for iri in found if iri.startswith(VAGUE)]
    assert not [iri for iri in found if iri.startswith(VOCAB)]
    nquads = canonicalize(sample_credential(), strict=True)
    assert f'<{OB_VOCAB}creditsAvailable> "7.5E0"^^' in nquads


def test_the_default_shape_says_every_eu_element_in_ob_terms() -> None:
    achievement = sample_credential()["credentialSubject"]["achievement"]
    for legacy in ("ects", "workloadHours", "assessmentType", "participationForm",
                   "supervision", "identityCheck", "learningOutcome", "prerequisite",
                   "stackability", "stackableInto"):  # fmt: skip
        assert legacy not in achievement
    by_type: dict[str, list[dict[str, Any]]] = {}
    for alignment in achievement["alignment"]:
        assert alignment["type"] == ["Alignment"]
        assert alignment["targetName"] and alignment["targetUrl"]  # both required by OB 3.0
        by_type.setdefault(alignment["targetType"], []).append(alignment)
    assert set(by_type) == set(TARGET_TYPES)
    code = {kind: items[0].get("targetCode") for kind, items in by_type.items()}
    assert code["ext:EQF"] == "6" and code["ext:NLQF"] == "6" and code["ext:QF-EHEA"] == "first"
    assert code["ext:ECTS"] == "7.5" and achievement["creditsAvailable"] == 7.5
    assert code["ext:NotionalWorkload"] == "210"
    assert code["ext:AssessmentType"] == "practical assignment with oral defence"
    assert code["ext:ParticipationForm"] == "blended"
    assert code["ext:Supervision"] == "supervised-onsite"
    assert code["ext:IdentityCheck"] == "true"
    assert code["ext:Stackability"] == "stackable"
    assert [a["targetUrl"] for a in by_type["ext:StackableInto"]] == [
        "https://hsrijnland.example/minors/data-science"
    ]
    assert [a["targetName"] for a in by_type["ext:LearningOutcome"]] == list(
        DATA_WRANGLING.learning_outcomes
    )
    assert by_type["ext:QualityAssurance"][0]["targetName"] == NVAO.name
    assert achievement["inLanguage"] == "nl" and achievement["tag"] == ["data science", "python"]


def test_a_legacy_credential_reads_the_same_as_the_default_shape() -> None:
    new, old = read_microcredential(sample_credential()), read_microcredential(legacy_credential())
    assert {k: v for k, v in old.to_dict().items() if k != "alignments"} == {
        k: v for k, v in new.to_dict().items() if k != "alignments"
    }


# --------------------------------------------------------------------------- building


def test_built_credential_is_an_ob_openbadgecredential() -> None:
    credential = sample_credential()
    assert credential["@context"] == list(CONTEXT)
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["credentialSubject"]["achievement"]["achievementType"] == "MicroCredential"
    assert "proof" not in credential


def test_built_credential_passes_the_official_ob_schema_unsigned() -> None:
    errors = list(ob_validator().iter_errors(sample_credential()))
    assert errors == [], [e.message for e in errors]


def test_built_credential_passes_the_official_ob_schema_with_a_proof_array() -> None:
    """The OB schema does not require a proof but insists that one be an array."""
    credential = sample_credential()
    credential["proof"] = [
        {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "created": "2025-06-30T12:00:00Z",
            "verificationMethod": HBO.id + "#key-1",
            "proofPurpose": "assertionMethod",
            "proofValue": "z" + "1" * 86,
        }
    ]
    errors = list(ob_validator().iter_errors(credential))
    assert errors == [], [e.message for e in errors]


@pytest.mark.parametrize(
    "achievement",
    [
        module(ects=None),
        module(hours=None, nlqf_level=None, qf_ehea_cycle=None),
        module(
            learning_outcomes=(),
            prerequisites=(),
            stackable_into=(),
            supervision=None,
            identity_check=None,
            language=None,
            tags=(),
        ),
        module(
            alignments=(
                Alignment(
                    "Data cleansing",
                    "http://data.europa.eu/esco/skill/x",
                    type="ceasn:Competency",
                    framework="ESCO",
                ),
            )
        ),
    ],
    ids=["hours-only", "ects-only", "minimal", "skill-alignment"],
)
def test_variants_pass_both_schemas(achievement: ModuleDefinition) -> None:
    credential = sample_credential(achievement=achievement)
    assert list(ob_validator().iter_errors(credential)) == []
    _, dropped = expand(credential)
    assert dropped == []


def test_ects_is_credits_available_and_an_ects_alignment() -> None:
    achievement = sample_credential()["credentialSubject"]["achievement"]
    assert achievement["creditsAvailable"] == 7.5
    whole = sample_credential(achievement=module(ects=5.0))["credentialSubject"]["achievement"]
    assert whole["creditsAvailable"] == 5 and isinstance(whole["creditsAvailable"], int)
    ects = [a for a in whole["alignment"] if a["targetType"] == "ext:ECTS"]
    assert [(a["targetCode"], a["targetName"]) for a in ects] == [("5", "5 ECTS")]


def test_hours_only_has_no_credits_available() -> None:
    achievement = sample_credential(achievement=module(ects=None))["credentialSubject"][
        "achievement"
    ]
    assert "creditsAvailable" not in achievement
    assert read_microcredential(sample_credential(achievement=module(ects=None))).hours == 210


def test_issuer_profile_carries_country_region_and_brin() -> None:
    issuer = sample_credential()["issuer"]
    assert issuer["address"] == {
        "type": ["Address"],
        "addressCountry": "Netherlands",
        "addressCountryCode": "NL",
        "addressRegion": "Zuid-Holland",
    }
    assert issuer["otherIdentifier"] == [
        {"type": "IdentifierEntry", "identifier": "99HR", "identifierType": "ext:BRIN"}
    ]


def test_learning_outcomes_become_the_narrative_when_none_is_given() -> None:
    narrative = sample_credential()["credentialSubject"]["achievement"]["criteria"]["narrative"]
    assert "- clean and combine messy tabular data" in narrative
    given = module(criteria="Passed the final assignment.")
    assert given.achievement()["criteria"] == {"narrative": "Passed the final assignment."}


def test_result_and_awarded_date() -> None:
    later = datetime(2025, 9, 1, tzinfo=UTC)
    credential = sample_credential(
        result=Result(grade="7", awarded_date=AWARDED, status="Completed"), valid_from=later
    )
    assert credential["awardedDate"] == "2025-06-30T12:00:00Z"
    assert credential["validFrom"] == "2025-09-01T00:00:00Z"
    subject = credential["credentialSubject"]
    assert subject["result"] == [
        {
            "type": ["Result"],
            "resultDescription": DATA_WRANGLING.id + "#result",
            "value": "7",
            "status": "Completed",
        }
    ]
    assert subject["achievement"]["resultDescription"][0]["id"] == DATA_WRANGLING.id + "#result"


def test_without_result_the_issue_moment_is_the_awarded_date() -> None:
    credential = build_credential(HBO, DATA_WRANGLING, LEARNER)
    assert credential["awardedDate"] == credential["validFrom"]
    assert credential["validFrom"].endswith("Z")
    assert credential["id"].startswith("urn:uuid:")
    assert "result" not in credential["credentialSubject"]


def test_valid_until_is_written_in_utc() -> None:
    from datetime import timedelta, timezone

    cet = timezone(timedelta(hours=1))
    credential = sample_credential(valid_until=datetime(2030, 1, 1, 1, 0, tzinfo=cet))
    assert credential["validUntil"] == "2030-01-01T00:00:00Z"


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        build_credential(HBO, DATA_WRANGLING, LEARNER, valid_from=datetime(2025, 1, 1))


@pytest.mark.parametrize(
    ("achievement", "field"),
    [
        (module(eqf_level=9), "credentialSubject.achievement.alignment[EQF]"),
        (
            module(participation_form="by post"),
            "credentialSubject.achievement.alignment[6].targetCode",
        ),
        (module(assessment_type=""), "credentialSubject.achievement.alignment[5].targetName"),
        (module(ects=None, hours=None), "credentialSubject.achievement.creditsAvailable"),
        (module(language="Dutch"), "credentialSubject.achievement.inLanguage"),
    ],
    ids=["eqf-9", "participation", "assessment", "workload", "language"],
)
def test_the_builder_refuses_what_the_profile_refuses(
    achievement: ModuleDefinition, field: str
) -> None:
    with pytest.raises(SchemaError) as raised:
        build_credential(HBO, achievement, LEARNER, valid_from=AWARDED)
    assert raised.value.field == field


def test_issuer_without_address_country_name_uses_the_code_table() -> None:
    issuer = IssuerProfile(
        id="did:web:x.example", name="X", url="https://x.example", country_code="be"
    )
    assert issuer.profile()["address"]["addressCountry"] == "Belgium"
    assert issuer.profile()["address"]["addressCountryCode"] == "BE"


def test_sequences_must_not_be_strings() -> None:
    with pytest.raises(TypeError):
        module(learning_outcomes="one long outcome")


# --------------------------------------------------------------------------- the learner


def test_learner_needs_a_did_or_an_identity() -> None:
    with pytest.raises(ValueError):
        Learner()


def test_identity_hash_is_salted_sha256() -> None:
    # sha256("a@example.com" + "Kosher"), the example in the OB 3.0 specification
    assert identity_hash("a@example.com", "Kosher") == (
        "sha256$b5809d8a92f8858436d7e6b87c12ebc0ae1eac4baecc2c0b913aee2c922ef399"
    )


def test_identity_object_matches_the_learner_email_only() -> None:
    identity = sample_credential()["credentialSubject"]["identifier"][0]
    assert identity["salt"] == LEARNER.salt
    assert identity_matches(identity, "jan.jansen@example.nl")
    assert identity_matches(identity, " Jan.Jansen@Example.NL ")
    assert not identity_matches(identity, "piet@example.nl")


def test_a_salt_is_generated_when_none_is_given() -> None:
    a, b = Learner(identity="x@example.nl"), Learner(identity="x@example.nl")
    assert a.salt and b.salt and a.salt != b.salt
    assert a.identity_object() == a.identity_object()


def test_holder_did_only() -> None:
    credential = sample_credential(learner=Learner(did="did:key:z6Mkexample"))
    assert credential["credentialSubject"]["id"] == "did:key:z6Mkexample"
    assert "identifier" not in credential["credentialSubject"]
