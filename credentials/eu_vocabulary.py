"""The words microcred uses to say the EU micro-credential elements in Open Badges 3.0 terms.

Defined once, here, and used by the builder and the reader (``credentials.microcredential``),
the profile schema (``schemas/microcredential.schema.json``, which a test holds to these
constants), the profile verdict and ``docs/ob3-mapping.md``.

Why alignments: OB 3.0 has no property for an ECTS value's unit, a form of participation or
a type of assessment, and a property OB 3.0 does not define needs a context of its own,
which independent verifiers do not ship. ``Alignment`` is defined by the OB 3.0 context,
its ``targetType`` may be any ``ext:`` string (AlignmentTargetType is an open enumeration),
and every OB 3.0 display shows ``targetName``. So each element that OB 3.0 has no property
for becomes one alignment: ``targetType`` says which element, ``targetCode`` the machine
value, ``targetName`` the words a person reads, ``targetUrl`` (required by OB) where the
element or value is defined.

The ``ext:`` names follow SURF's OB 3.0 examples where SURF has one (``ext:EQF``,
``ext:QualityAssurance``, ``ext:BRIN``); docs/ob3-mapping.md lists where microcred differs.
"""

from __future__ import annotations

#: ``@context`` of every credential microcred issues by default: only what every OB 3.0
#: verifier ships (the status list and Data Integrity terms are in the VC 2.0 context).
DEFAULT_CONTEXT: tuple[str, ...] = (
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
)

#: The microcred extension context of credentials issued before issue 13: read, never written.
LEGACY_CONTEXT = "https://w3id.org/microcred/v1"

#: ``achievement.achievementType`` of a microcredential (an OB 3.0 AchievementType value).
MICROCREDENTIAL = "MicroCredential"

# ---------------------------------------------------------------- alignment targetTypes
EQF = "ext:EQF"
"""Level in the European Qualifications Framework; ``targetCode`` "1"–"8" (element 8)."""
NLQF = "ext:NLQF"
"""Level in the Dutch qualifications framework; ``targetCode`` "1"–"8" (element 8)."""
QF_EHEA = "ext:QF-EHEA"
"""Bologna cycle; ``targetCode`` short, first, second or third (element 8)."""
ECTS = "ext:ECTS"
"""ECTS credits; ``targetCode`` the number ("5", "2.5"); equals ``creditsAvailable`` (7)."""
NOTIONAL_WORKLOAD = "ext:NotionalWorkload"
"""Notional workload in hours; ``targetCode`` the number of hours ("140") (element 7)."""
ASSESSMENT_TYPE = "ext:AssessmentType"
"""Type of assessment; ``targetCode`` the institution's value, e.g. "written-exam" (9)."""
PARTICIPATION_FORM = "ext:ParticipationForm"
"""Form of participation; ``targetCode`` one of :data:`PARTICIPATION_FORMS` (10)."""
SUPERVISION_TYPE = "ext:Supervision"
"""Supervision of the assessment; ``targetCode`` one of :data:`SUPERVISION_VALUES`."""
IDENTITY_CHECK = "ext:IdentityCheck"
"""Whether the learner's identity was checked at assessment; ``targetCode`` "true"/"false"."""
QUALITY_ASSURANCE = "ext:QualityAssurance"
"""Type of quality assurance; ``targetName`` the framework, ``targetUrl`` the decision (11)."""
PREREQUISITE = "ext:Prerequisite"
"""A prerequisite for enrolment; ``targetName`` its text, ``targetUrl`` a module if it is one."""
STACKABILITY = "ext:Stackability"
"""Integration/stackability option; ``targetCode`` standalone or stackable."""
STACKABLE_INTO = "ext:StackableInto"
"""One credential this one stacks into; ``targetUrl`` that credential's (or programme's) id."""
LEARNING_OUTCOME = "ext:LearningOutcome"
"""One learning outcome; ``targetName`` its text (element 6, also in ``criteria.narrative``)."""

#: Every targetType microcred writes, in the order the builder writes them.
TARGET_TYPES: tuple[str, ...] = (
    EQF,
    NLQF,
    QF_EHEA,
    ECTS,
    NOTIONAL_WORKLOAD,
    ASSESSMENT_TYPE,
    PARTICIPATION_FORM,
    SUPERVISION_TYPE,
    IDENTITY_CHECK,
    QUALITY_ASSURANCE,
    PREREQUISITE,
    STACKABILITY,
    STACKABLE_INTO,
    LEARNING_OUTCOME,
)

PARTICIPATION_FORMS = ("online", "onsite", "blended", "volunteering", "work-experience")
SUPERVISION_VALUES = ("unsupervised", "supervised-online", "supervised-onsite")
STACKABILITY_VALUES = ("standalone", "stackable")

# ---------------------------------------------------------------- where the values are defined
EQF_FRAMEWORK = "European Qualifications Framework"
EQF_URL = "https://europass.europa.eu/en/description-eight-eqf-levels"
NLQF_FRAMEWORK = "Nederlands Kwalificatieraamwerk (NLQF)"
NLQF_URL = "https://www.nlqf.nl/"
QF_EHEA_FRAMEWORK = "Qualifications Framework of the European Higher Education Area"
QF_EHEA_URL = "https://www.ehea.info/page-qualification-frameworks"
ECTS_FRAMEWORK = "European Credit Transfer and Accumulation System"
ECTS_URL = "https://education.ec.europa.eu/education-levels/higher-education/inclusive-and-connected-higher-education/european-credit-transfer-and-accumulation-system"
EU_RECOMMENDATION = "Council Recommendation on micro-credentials (2022/C 243/02)"
EU_RECOMMENDATION_URL = "https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=CELEX:32022H0627(02)"
"""Annex I defines notional workload, assessment, participation, supervision, stackability."""

#: The paths of the EU elements in the default shape (docs/ob3-mapping.md has the reasoning).
FIELD_PATHS: dict[str, str] = {
    "learner": "credentialSubject.id / credentialSubject.identifier[] (IdentityObject)",
    "title": "credentialSubject.achievement.name (+ achievementType MicroCredential)",
    "country": "issuer.address.addressCountry / addressCountryCode",
    "awarding_body": "issuer.id, issuer.name, issuer.url, issuer.otherIdentifier[]",
    "date": "validFrom (+ awardedDate)",
    "learning_outcomes": (
        f"credentialSubject.achievement.criteria.narrative (+ alignment[{LEARNING_OUTCOME}])"
    ),
    "ects": f"credentialSubject.achievement.creditsAvailable (+ alignment[{ECTS}])",
    "hours": f"credentialSubject.achievement.alignment[{NOTIONAL_WORKLOAD}].targetCode",
    "level": f"credentialSubject.achievement.alignment[{EQF}|{NLQF}|{QF_EHEA}].targetCode",
    "assessment": f"credentialSubject.achievement.alignment[{ASSESSMENT_TYPE}].targetCode",
    "participation": f"credentialSubject.achievement.alignment[{PARTICIPATION_FORM}].targetCode",
    "quality_assurance": f"credentialSubject.achievement.alignment[{QUALITY_ASSURANCE}]",
}

__all__ = [
    "ASSESSMENT_TYPE",
    "DEFAULT_CONTEXT",
    "ECTS",
    "ECTS_FRAMEWORK",
    "ECTS_URL",
    "EQF",
    "EQF_FRAMEWORK",
    "EQF_URL",
    "EU_RECOMMENDATION",
    "EU_RECOMMENDATION_URL",
    "FIELD_PATHS",
    "IDENTITY_CHECK",
    "LEARNING_OUTCOME",
    "LEGACY_CONTEXT",
    "MICROCREDENTIAL",
    "NLQF",
    "NLQF_FRAMEWORK",
    "NLQF_URL",
    "NOTIONAL_WORKLOAD",
    "PARTICIPATION_FORM",
    "PARTICIPATION_FORMS",
    "PREREQUISITE",
    "QF_EHEA",
    "QF_EHEA_FRAMEWORK",
    "QF_EHEA_URL",
    "QUALITY_ASSURANCE",
    "STACKABILITY",
    "STACKABILITY_VALUES",
    "STACKABLE_INTO",
    "SUPERVISION_TYPE",
    "SUPERVISION_VALUES",
    "TARGET_TYPES",
]
