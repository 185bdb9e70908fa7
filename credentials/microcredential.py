"""The microcredential: an OB 3.0 OpenBadgeCredential carrying the EU elements.

Two directions, one module, so the mapping between the EU Council Recommendation (2022)
and Open Badges 3.0 is written down exactly once:

* **build** – :func:`build_credential` turns plain dataclasses (the module as the institution
  defines it, the issuing institution, the learner, the result) into the unsigned credential
  and checks it against the profile schema, so the issuer never signs an incomplete
  microcredential;
* **read** – :func:`read_microcredential` turns any OB 3.0 credential, ours or another
  issuer's, into a flat :class:`MicrocredentialView` for the wallet and verifier pages and
  for the route rules. It never raises on a missing field: foreign credentials are
  incomplete in many ways, and a page must still show what is there.

Where each EU element goes (docs/ob3-mapping.md has the table and the reasoning; the
``ext:`` words are defined once in :mod:`credentials.eu_vocabulary`). Only the VC 2.0 and
OB 3.0.3 contexts are used, so any OB 3.0 verifier can check what microcred issues::

    1 learner            credentialSubject.id (holder DID) / .identifier (salted SHA-256)
    2 title              achievement.name + achievementType "MicroCredential"
    3 country/region     issuer.address.addressCountry(+Code) / .addressRegion
    4 awarding body      issuer Profile: id, name, url, otherIdentifier (e.g. ext:BRIN)
    5 date of issuing    validFrom and awardedDate
    6 learning outcomes  achievement.description, criteria.narrative, alignment ext:LearningOutcome
    7 workload           creditsAvailable (ECTS) + alignment ext:ECTS / ext:NotionalWorkload
    8 level              alignment targetType ext:EQF (+ ext:NLQF, ext:QF-EHEA)
    9 assessment         alignment ext:AssessmentType
   10 participation      alignment ext:ParticipationForm
   11 quality assurance  alignment targetType ext:QualityAssurance

Credentials issued before (context https://w3id.org/microcred/v1 with top-level ``ects``,
``workloadHours``, ``assessmentType`` ...) are still read, as are SURF's edubadges fields
(``ECTS``, ``SBU``, ``participationType`` ...), plain OB 3.0 and VCDM 1.1 dates.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from . import eu_vocabulary as vocab
from .eu_vocabulary import (
    DEFAULT_CONTEXT,
    EQF,
    EQF_FRAMEWORK,
    EQF_URL,
    MICROCREDENTIAL,
    NLQF,
    NLQF_FRAMEWORK,
    NLQF_URL,
    PARTICIPATION_FORMS,
    QF_EHEA,
    QF_EHEA_FRAMEWORK,
    QF_EHEA_URL,
    QUALITY_ASSURANCE,
    SUPERVISION_VALUES,
)
from .microcredential_parties import (
    COUNTRY_NAMES,
    IssuerProfile,
    Learner,
    Result,
    _identifier_entries,
    identity_hash,
    identity_matches,
)
from .microcredential_view import (
    AlignmentView,
    MicrocredentialView,
    alignment_views,
    read_microcredential,
)
from .schema import validate_microcredential

CONTEXT: tuple[str, ...] = DEFAULT_CONTEXT
CREDENTIAL_TYPE: tuple[str, ...] = ("VerifiableCredential", "OpenBadgeCredential")
SUPERVISION = SUPERVISION_VALUES
"""The supervision values (kept under this name for the forms that offer them)."""


# --------------------------------------------------------------------------- building


@dataclass(frozen=True)
class QualityAssurance:
    """EU element 11: the quality-assurance framework the module is assured under.

    ``name`` is what a reader sees ("NVAO-accreditatie", "Kwaliteitskader
    microcredentials"); ``url`` points at the framework or the assurance decision.
    """

    name: str
    url: str
    description: str | None = None
    code: str | None = None

    def alignment(self) -> dict[str, Any]:
        return _alignment(
            QUALITY_ASSURANCE, self.name, self.url, description=self.description, code=self.code
        )


@dataclass(frozen=True)
class Alignment:
    """Any further alignment: a skill (ESCO), a competency, a programme in a catalogue."""

    name: str
    url: str
    type: str | None = None
    framework: str | None = None
    code: str | None = None
    description: str | None = None

    def to_json(self) -> dict[str, Any]:
        return _alignment(
            self.type,
            self.name,
            self.url,
            framework=self.framework,
            code=self.code,
            description=self.description,
        )


@dataclass(frozen=True)
class ModuleDefinition:
    """The module (OB ``Achievement``) as the institution defines it, once per module.

    Everything a microcredential says about the learning, as opposed to the learner: the
    same definition is issued to every learner who completes the module, so the achievement
    ``id`` is the module's stable identity (routes and duplicates are recognised by it).
    ``ects`` and/or ``hours`` give the workload; mbo modules usually state hours only.
    """

    id: str
    name: str
    description: str
    eqf_level: int
    assessment_type: str
    participation_form: str
    quality_assurance: QualityAssurance
    ects: float | None = None
    hours: int | None = None
    criteria: str | None = None
    learning_outcomes: Sequence[str] = ()
    nlqf_level: int | None = None
    qf_ehea_cycle: str | None = None
    language: str | None = None
    prerequisites: Sequence[str] = ()
    stackable_into: Sequence[str] = ()
    stackability: str | None = None
    supervision: str | None = None
    identity_check: bool | None = None
    field_of_study: str | None = None
    human_code: str | None = None
    identifiers: Mapping[str, str] = field(default_factory=dict)
    alignments: Sequence[Alignment] = ()
    tags: Sequence[str] = ()
    version: str | None = None

    def __post_init__(self) -> None:
        for name in ("learning_outcomes", "prerequisites", "stackable_into", "alignments", "tags"):
            value = getattr(self, name)
            if isinstance(value, str):
                raise TypeError(f"{name} must be a sequence of items, not a string")
            object.__setattr__(self, name, tuple(value))
        object.__setattr__(self, "identifiers", dict(self.identifiers))

    def narrative(self) -> str:
        """The criteria narrative: as given, or the learning outcomes as a Markdown list.

        Every OB reader shows the narrative, so the outcomes reach every reader (EU element
        6); the ``ext:LearningOutcome`` alignments carry the same outcomes one by one.
        """
        if self.criteria:
            return self.criteria
        if self.learning_outcomes:
            lines = "\n".join(f"- {outcome}" for outcome in self.learning_outcomes)
            return f"The learner has shown that they can:\n{lines}"
        return self.description

    def achievement(self) -> dict[str, Any]:
        """The OB 3.0 ``Achievement``: every EU element in OB 3.0's own terms."""
        out: dict[str, Any] = {
            "id": self.id,
            "type": ["Achievement"],
            "achievementType": MICROCREDENTIAL,
            "name": self.name,
            "description": self.description,
            "criteria": {"narrative": self.narrative()},
        }
        if self.ects is not None:
            out["creditsAvailable"] = _tidy_number(self.ects)
        out["alignment"] = self._alignments()
        if self.language:
            out["inLanguage"] = self.language
        if self.field_of_study:
            out["fieldOfStudy"] = self.field_of_study
        if self.human_code:
            out["humanCode"] = self.human_code
        if self.identifiers:
            out["otherIdentifier"] = _identifier_entries(self.identifiers)
        if self.tags:
            out["tag"] = list(self.tags)
        if self.version:
            out["version"] = self.version
        return out

    def _alignments(self) -> list[dict[str, Any]]:
        """The EU elements OB 3.0 has no property for, one ``ext:`` alignment each."""
        eu = vocab.EU_RECOMMENDATION_URL
        level = str(self.eqf_level)
        alignments = [
            _alignment(EQF, f"EQF level {level}", EQF_URL, framework=EQF_FRAMEWORK, code=level)
        ]
        if self.nlqf_level is not None:
            nlqf = str(self.nlqf_level)
            alignments.append(
                _alignment(
                    NLQF, f"NLQF niveau {nlqf}", NLQF_URL, framework=NLQF_FRAMEWORK, code=nlqf
                )
            )
        if self.qf_ehea_cycle:
            alignments.append(
                _alignment(
                    QF_EHEA,
                    f"QF-EHEA {self.qf_ehea_cycle} cycle",
                    QF_EHEA_URL,
                    framework=QF_EHEA_FRAMEWORK,
                    code=self.qf_ehea_cycle,
                )
            )
        if self.ects is not None:
            ects = _number_code(self.ects)
            alignments.append(
                _alignment(
                    vocab.ECTS,
                    f"{ects} ECTS",
                    vocab.ECTS_URL,
                    framework=vocab.ECTS_FRAMEWORK,
                    code=ects,
                )
            )
        if self.hours is not None:
            hours = _number_code(self.hours)
            alignments.append(_alignment(vocab.NOTIONAL_WORKLOAD, f"{hours} hours", eu, code=hours))
        alignments.append(
            _alignment(vocab.ASSESSMENT_TYPE, self.assessment_type, eu, code=self.assessment_type)
        )
        alignments.append(
            _alignment(
                vocab.PARTICIPATION_FORM,
                _PARTICIPATION_NAMES.get(self.participation_form, self.participation_form),
                eu,
                code=self.participation_form,
            )
        )
        if self.supervision is not None:
            alignments.append(
                _alignment(
                    vocab.SUPERVISION_TYPE,
                    _SUPERVISION_NAMES.get(self.supervision, self.supervision),
                    eu,
                    code=self.supervision,
                )
            )
        if self.identity_check is not None:
            name = "identity checked" if self.identity_check else "identity not checked"
            code = "true" if self.identity_check else "false"
            alignments.append(_alignment(vocab.IDENTITY_CHECK, name, eu, code=code))
        alignments.append(self.quality_assurance.alignment())
        for prerequisite in self.prerequisites:
            url = prerequisite if _URI.match(prerequisite) else eu
            alignments.append(_alignment(vocab.PREREQUISITE, prerequisite, url))
        stackability = self.stackability or ("stackable" if self.stackable_into else None)
        if stackability:
            alignments.append(_alignment(vocab.STACKABILITY, stackability, eu, code=stackability))
        for target in self.stackable_into:
            alignments.append(_alignment(vocab.STACKABLE_INTO, target, target))
        for number, outcome in enumerate(self.learning_outcomes, start=1):
            alignments.append(
                _alignment(
                    vocab.LEARNING_OUTCOME,
                    outcome,
                    f"{self.id}#learning-outcome-{number}",
                    code=str(number),
                )
            )
        alignments.extend(extra.to_json() for extra in self.alignments)
        return alignments


_PARTICIPATION_NAMES = {
    "online": "online",
    "onsite": "on site",
    "blended": "blended (online and on site)",
    "volunteering": "volunteering",
    "work-experience": "work experience",
}
_SUPERVISION_NAMES = {
    "unsupervised": "unsupervised",
    "supervised-online": "supervised online",
    "supervised-onsite": "supervised on site",
}
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+$")


#: The name the OB specification uses for what an institution calls a module.
Achievement = ModuleDefinition


def build_credential(
    issuer: IssuerProfile,
    achievement: ModuleDefinition,
    learner: Learner,
    *,
    result: Result | None = None,
    credential_id: str | None = None,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
) -> dict[str, Any]:
    """The unsigned OpenBadgeCredential, checked against the microcredential profile.

    Raises ``SchemaError`` naming the field when the inputs leave an EU element missing or
    wrong (an EQF level of 9, an unknown participation form): the issuer refuses such input
    rather than signing a credential that verifiers would reject. ``credentialStatus`` and
    the proof are added by the issuing service afterwards.
    """
    issued = _utc(valid_from) if valid_from else datetime.now(UTC).replace(microsecond=0)
    awarded = _utc(result.awarded_date) if result and result.awarded_date else issued
    subject: dict[str, Any] = {"type": ["AchievementSubject"]}
    if learner.did:
        subject["id"] = learner.did
    identity = learner.identity_object()
    if identity:
        subject["identifier"] = [identity]
    achievement_json = achievement.achievement()
    subject["achievement"] = achievement_json
    if result is not None:
        _add_result(subject, achievement_json, result)

    credential: dict[str, Any] = {
        "@context": list(CONTEXT),
        "id": credential_id or f"urn:uuid:{uuid.uuid4()}",
        "type": list(CREDENTIAL_TYPE),
        "name": achievement.name,
        "issuer": issuer.profile(),
        "validFrom": _timestamp(issued),
    }
    if valid_until is not None:
        credential["validUntil"] = _timestamp(_utc(valid_until))
    credential["awardedDate"] = _timestamp(awarded)
    credential["credentialSubject"] = subject
    validate_microcredential(credential)
    return credential


def _add_result(subject: dict[str, Any], achievement: dict[str, Any], result: Result) -> None:
    anchor = "#result" if "#" not in achievement["id"] else "-result"
    description_id = achievement["id"] + anchor
    description: dict[str, Any] = {
        "id": description_id,
        "type": ["ResultDescription"],
        "name": result.description,
        "resultType": result.result_type,
    }
    for key, value in (
        ("valueMin", result.value_min),
        ("valueMax", result.value_max),
        ("requiredValue", result.required_value),
    ):
        if value is not None:
            description[key] = str(value)
    achievement["resultDescription"] = [description]
    entry: dict[str, Any] = {"type": ["Result"], "resultDescription": description_id}
    if result.grade is not None:
        entry["value"] = str(result.grade)
    if result.status is not None:
        entry["status"] = result.status
    subject["result"] = [entry]


def _alignment(
    target_type: str | None,
    name: str,
    url: str,
    *,
    framework: str | None = None,
    code: str | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"type": ["Alignment"]}
    if target_type:
        out["targetType"] = target_type
    if framework:
        out["targetFramework"] = framework
    if code is not None:
        out["targetCode"] = code
    out["targetName"] = name
    if description:
        out["targetDescription"] = description
    out["targetUrl"] = url
    return out


def _number_code(value: float) -> str:
    """A number as an alignment's targetCode: "5", "2.5" (never "5.0")."""
    return str(_tidy_number(value))


def _tidy_number(value: float) -> int | float:
    """5.0 -> 5: the same RDF literal either way, but the JSON reads as people write it."""
    return int(value) if float(value).is_integer() else float(value)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware (VC 2.0 requires a time zone)")
    return moment.astimezone(UTC).replace(microsecond=0)


def _timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- reading


__all__ = [
    "CONTEXT",
    "COUNTRY_NAMES",
    "CREDENTIAL_TYPE",
    "EQF",
    "MICROCREDENTIAL",
    "NLQF",
    "PARTICIPATION_FORMS",
    "QF_EHEA",
    "QUALITY_ASSURANCE",
    "SUPERVISION",
    "Achievement",
    "Alignment",
    "AlignmentView",
    "IssuerProfile",
    "Learner",
    "MicrocredentialView",
    "ModuleDefinition",
    "QualityAssurance",
    "Result",
    "alignment_views",
    "build_credential",
    "identity_hash",
    "identity_matches",
    "read_microcredential",
]
