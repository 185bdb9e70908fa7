"""Sample institutions, modules and learners: one fictional world for tests, benchmarks
and examples.

Fictional institutions (an hbo, a wo and an mbo school) with ``.example`` DIDs, so that the
examples in docs/examples/routes/, the tests and the benchmarks speak about the same world.
It lives in the umbrella package (which may import anything) rather than in ``tests/`` so
that ``bench/`` can use it without depending on the test suite, and rather than in the core
so that the core's public API stays free of sample data (docs/design.md).
"""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from credentials import (
    IssuerProfile,
    Learner,
    ModuleDefinition,
    QualityAssurance,
    Result,
    build_credential,
)

HBO = IssuerProfile(
    id="did:web:hsrijnland.example",
    name="Hogeschool Rijnland",
    url="https://hsrijnland.example",
    country_code="NL",
    region="Zuid-Holland",
    identifiers={"BRIN": "99HR"},
)
WO = IssuerProfile(
    id="did:web:unidelta.example",
    name="Universiteit Delta",
    url="https://unidelta.example",
    country_code="NL",
    region="Utrecht",
    identifiers={"BRIN": "99UD"},
)
MBO = IssuerProfile(
    id="did:web:rocnoordkust.example",
    name="ROC Noordkust",
    url="https://rocnoordkust.example",
    country_code="NL",
    identifiers={"BRIN": "99RN"},
)
FOREIGN = IssuerProfile(
    id="did:web:hochschule-nord.example",
    name="Hochschule Nord",
    url="https://hochschule-nord.example",
    country_code="DE",
)

NVAO = QualityAssurance(
    name="NVAO accreditation (institutional audit)",
    url="https://www.nvao.net/",
)
KWALITEITSKADER = QualityAssurance(
    name="Kwaliteitskader microcredentials mbo",
    url="https://example.org/kwaliteitskader-microcredentials-mbo",
)

DATA_WRANGLING = ModuleDefinition(
    id="https://hsrijnland.example/microcredentials/data-wrangling",
    name="Data Wrangling with Python",
    description="Cleaning, joining and reshaping real-world data sets with pandas.",
    learning_outcomes=(
        "clean and combine messy tabular data",
        "document data provenance and the choices made",
    ),
    ects=7.5,
    hours=210,
    eqf_level=6,
    nlqf_level=6,
    qf_ehea_cycle="first",
    assessment_type="practical assignment with oral defence",
    participation_form="blended",
    supervision="supervised-onsite",
    identity_check=True,
    quality_assurance=NVAO,
    language="nl",
    prerequisites=("basic Python programming",),
    stackable_into=("https://hsrijnland.example/minors/data-science",),
    tags=("data science", "python"),
)

LEARNER = Learner(
    did="did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
    identity="jan.jansen@example.nl",
    salt="a1b2c3d4e5f60718",
)

AWARDED = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)


def module(**changes: Any) -> ModuleDefinition:
    """The sample module with some fields changed."""
    return replace(DATA_WRANGLING, **changes)


def sample_credential(**kwargs: Any) -> dict[str, Any]:
    """A complete, valid, unsigned microcredential (a fresh copy each time)."""
    kwargs.setdefault(
        "result",
        Result(
            grade="8.5", value_min="1", value_max="10", required_value="5.5", awarded_date=AWARDED
        ),
    )
    kwargs.setdefault("credential_id", "urn:uuid:6b1c1a3e-0f9e-4a8a-9d5e-1b2c3d4e5f60")
    kwargs.setdefault("valid_from", AWARDED)
    issuer = kwargs.pop("issuer", HBO)
    achievement = kwargs.pop("achievement", DATA_WRANGLING)
    learner = kwargs.pop("learner", LEARNER)
    return copy.deepcopy(build_credential(issuer, achievement, learner, **kwargs))


LEGACY_CONTEXT = "https://w3id.org/microcred/v1"

# alignment targetType of the current shape -> the legacy microcred/v1 term
_LEGACY_TERMS = {
    "ext:AssessmentType": "assessmentType",
    "ext:ParticipationForm": "participationForm",
    "ext:Supervision": "supervision",
    "ext:Stackability": "stackability",
}


def legacy_shape(credential: dict[str, Any]) -> dict[str, Any]:
    """The same credential as microcred issued it before issue 13: the microcred/v1 context
    with its top-level achievement terms (``ects``, ``workloadHours``, ``assessmentType``,
    ``learningOutcome`` ...) instead of ``ext:`` alignments. Test data only: microcred
    reads this shape but no longer writes it."""
    old = copy.deepcopy(credential)
    old["@context"] = [*old["@context"], LEGACY_CONTEXT]
    achievement = old["credentialSubject"]["achievement"]
    kept, outcomes, prerequisites, into = [], [], [], []
    for alignment in achievement.pop("alignment"):
        kind, code = alignment.get("targetType"), alignment.get("targetCode")
        if kind in _LEGACY_TERMS:
            achievement[_LEGACY_TERMS[kind]] = code
        elif kind == "ext:ECTS":
            achievement["ects"] = float(code) if "." in code else int(code)
        elif kind == "ext:NotionalWorkload":
            achievement["workloadHours"] = int(code)
        elif kind == "ext:IdentityCheck":
            achievement["identityCheck"] = code == "true"
        elif kind == "ext:LearningOutcome":
            outcomes.append(alignment["targetName"])
        elif kind == "ext:Prerequisite":
            prerequisites.append(alignment["targetName"])
        elif kind == "ext:StackableInto":
            into.append(alignment["targetUrl"])
        else:
            kept.append(alignment)
    achievement["alignment"] = kept
    if outcomes:
        achievement["learningOutcome"] = outcomes
    if prerequisites:
        achievement["prerequisite"] = prerequisites
    if into:
        achievement["stackableInto"] = into
    return old


def legacy_credential(**kwargs: Any) -> dict[str, Any]:
    """:func:`sample_credential` in the legacy microcred/v1 shape."""
    return legacy_shape(sample_credential(**kwargs))


def module_spec(**changes: Any) -> dict[str, Any]:
    """A complete module with every EU element (and the optional ones)."""
    spec: dict[str, Any] = {
        "id": "data-wrangling",
        "name": "Data Wrangling with Python",
        "description": "Cleaning, joining and reshaping real-world data sets with pandas.",
        "learning_outcomes": [
            "clean and combine messy tabular data",
            "document data provenance and the choices made",
        ],
        "ects": 7.5,
        "hours": 210,
        "eqf_level": 6,
        "nlqf_level": 6,
        "qf_ehea_cycle": "first",
        "assessment_type": "practical assignment with oral defence",
        "participation_form": "blended",
        "supervision": "supervised-onsite",
        "identity_check": True,
        "quality_assurance": {
            "name": "NVAO accreditation (institutional audit)",
            "url": "https://www.nvao.net/",
        },
        "language": "nl",
        "prerequisites": ["basic Python programming"],
        "stackable_into": ["https://hsrijnland.example/minors/data-science"],
        "tags": ["data science", "python"],
        "grading": {
            "description": "Eindcijfer",
            "value_min": "1",
            "value_max": "10",
            "required_value": "5.5",
        },
    }
    spec.update(changes)
    return spec
