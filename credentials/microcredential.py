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

import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from . import eu_vocabulary as vocab
from .dates import read_datetime
from .errors import MalformedInput
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
from .schema import validate_microcredential

CONTEXT: tuple[str, ...] = DEFAULT_CONTEXT
CREDENTIAL_TYPE: tuple[str, ...] = ("VerifiableCredential", "OpenBadgeCredential")
SUPERVISION = SUPERVISION_VALUES
"""The supervision values (kept under this name for the forms that offer them)."""

# OB 3.0 IdentifierTypeEnum: anything else becomes an "ext:" type.
_OB_IDENTIFIER_TYPES = frozenset(
    {
        "name", "sourcedId", "systemId", "productId", "userName", "accountId",
        "emailAddress", "nationalIdentityNumber", "isbn", "issn", "lisSourcedId",
        "oneRosterSourcedId", "sisSourcedId", "ltiContextId", "ltiDeploymentId",
        "ltiToolId", "ltiPlatformId", "ltiUserId", "identifier",
    }
)  # fmt: skip

# EU/EEA members plus neighbours whose institutions take part in Erasmus+: code -> name.
COUNTRY_NAMES: dict[str, str] = {
    "AT": "Austria", "BE": "Belgium", "BG": "Bulgaria", "HR": "Croatia", "CY": "Cyprus",
    "CZ": "Czechia", "DK": "Denmark", "EE": "Estonia", "FI": "Finland", "FR": "France",
    "DE": "Germany", "GR": "Greece", "HU": "Hungary", "IE": "Ireland", "IT": "Italy",
    "LV": "Latvia", "LT": "Lithuania", "LU": "Luxembourg", "MT": "Malta",
    "NL": "Netherlands", "PL": "Poland", "PT": "Portugal", "RO": "Romania",
    "SK": "Slovakia", "SI": "Slovenia", "ES": "Spain", "SE": "Sweden", "IS": "Iceland",
    "LI": "Liechtenstein", "NO": "Norway", "CH": "Switzerland", "GB": "United Kingdom",
    "TR": "Türkiye", "RS": "Serbia", "MK": "North Macedonia",
}  # fmt: skip


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


@dataclass(frozen=True)
class IssuerProfile:
    """The awarding body (EU element 4) and its country/region (element 3).

    ``id`` is the institution's DID (normally did:web), the key the verifier's trust registry
    and the routes' accepted institutions use. ``identifiers`` holds registry numbers such as
    ``{"BRIN": "21PB"}``; keys that are not OB identifier types are written as ``ext:KEY``.
    """

    id: str
    name: str
    url: str
    country_code: str
    country: str | None = None
    region: str | None = None
    locality: str | None = None
    identifiers: Mapping[str, str] = field(default_factory=dict)
    description: str | None = None
    email: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "identifiers", dict(self.identifiers))

    def profile(self) -> dict[str, Any]:
        """The OB 3.0 ``Profile`` object used as the credential's ``issuer``."""
        address: dict[str, Any] = {
            "type": ["Address"],
            "addressCountry": self.country
            or COUNTRY_NAMES.get(self.country_code.upper())
            or self.country_code,
            "addressCountryCode": self.country_code.upper(),
        }
        if self.region:
            address["addressRegion"] = self.region
        if self.locality:
            address["addressLocality"] = self.locality
        out: dict[str, Any] = {
            "id": self.id,
            "type": ["Profile"],
            "name": self.name,
            "url": self.url,
            "address": address,
        }
        if self.identifiers:
            out["otherIdentifier"] = _identifier_entries(self.identifiers)
        if self.description:
            out["description"] = self.description
        if self.email:
            out["email"] = self.email
        return out


@dataclass(frozen=True)
class Learner:
    """EU element 1: the holder's DID, a hashed identity, or both.

    The DID is what OpenID4VCI binds the credential to. The hashed identity (an OB
    ``IdentityObject``, ``sha256$hex(identity + salt)``) lets a verifier check "this was
    issued to jan@example.nl" when told the address, without the credential disclosing it.
    A salt is generated when none is given; it travels in the credential, as OB specifies.
    """

    did: str | None = None
    identity: str | None = None
    identity_type: str = "emailAddress"
    salt: str | None = None

    def __post_init__(self) -> None:
        if not self.did and not self.identity:
            raise ValueError("a learner needs a DID, an identity to hash, or both")
        if self.identity and not self.salt:
            object.__setattr__(self, "salt", secrets.token_hex(16))

    def identity_object(self) -> dict[str, Any] | None:
        if not self.identity:
            return None
        salt = self.salt or ""
        return {
            "type": "IdentityObject",
            "identityHash": identity_hash(self.identity, salt, self.identity_type),
            "identityType": self.identity_type,
            "hashed": True,
            "salt": salt,
        }


@dataclass(frozen=True)
class Result:
    """The learner's result: a grade on a scale, a status, and when it was awarded.

    ``description`` names the result ("Eindcijfer", "Final grade"); with ``value_min``,
    ``value_max`` and ``required_value`` (the pass mark) it becomes the achievement's
    ``ResultDescription`` that the ``Result`` points to. ``awarded_date`` becomes the
    credential's ``awardedDate``; without it the issue moment is used.
    """

    grade: str | None = None
    description: str = "Final grade"
    result_type: str = "Result"
    value_min: str | None = None
    value_max: str | None = None
    required_value: str | None = None
    status: str | None = None
    awarded_date: datetime | None = None


def identity_hash(identity: str, salt: str, identity_type: str = "emailAddress") -> str:
    """OB 3.0 IdentityHash: ``sha256$`` + hex SHA-256 of identity + salt (UTF-8).

    E-mail addresses are trimmed and lower-cased first, so that "Jan@Example.nl " and
    "jan@example.nl" hash alike; other identity types are hashed as given.
    """
    value = identity.strip().lower() if identity_type == "emailAddress" else identity
    return "sha256$" + hashlib.sha256((value + salt).encode()).hexdigest()


def identity_matches(identity_object: Mapping[str, Any], identity: str) -> bool:
    """Whether an ``IdentityObject`` names ``identity`` (hashed or plain), in constant time."""
    recorded = identity_object.get("identityHash")
    if not isinstance(recorded, str):
        return False
    identity_type = str(identity_object.get("identityType") or "emailAddress")
    if identity_object.get("hashed") is True:
        if not recorded.lower().startswith("sha256$"):
            return False
        salt = identity_object.get("salt")
        expected = identity_hash(identity, salt if isinstance(salt, str) else "", identity_type)
        return hmac.compare_digest(expected.lower(), recorded.lower())
    if identity_type == "emailAddress":
        return hmac.compare_digest(identity.strip().lower(), recorded.strip().lower())
    return hmac.compare_digest(identity, recorded)


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


def _identifier_entries(identifiers: Mapping[str, str]) -> list[dict[str, str]]:
    return [
        {
            "type": "IdentifierEntry",
            "identifier": value,
            "identifierType": key
            if key in _OB_IDENTIFIER_TYPES or key.startswith("ext:")
            else f"ext:{key}",
        }
        for key, value in identifiers.items()
    ]


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


@dataclass(frozen=True)
class AlignmentView:
    target_name: str | None
    target_url: str | None
    target_type: str | None = None
    target_framework: str | None = None
    target_code: str | None = None


@dataclass(frozen=True)
class MicrocredentialView:
    """What a credential says, flattened for pages and rules; ``None`` where it is silent.

    Built from the JSON as it stands, without checking the proof or the profile: callers
    verify first and read second. Each field is read from microcred's OB 3.0 mapping
    (``ext:`` alignments, ``creditsAvailable``), from the legacy microcred/v1 terms, from
    SURF's edubadges fields (``ECTS``, ``SBU``, ``participationType`` ..., also inside
    ``...Extension`` objects) and from plain OB 3.0, whichever the credential has.
    """

    credential_id: str | None = None
    types: tuple[str, ...] = ()
    issuer_id: str | None = None
    issuer_name: str | None = None
    issuer_url: str | None = None
    country: str | None = None
    country_code: str | None = None
    region: str | None = None
    issuer_identifiers: dict[str, str] = field(default_factory=dict)
    achievement_id: str | None = None
    achievement_type: str | None = None
    title: str | None = None
    description: str | None = None
    criteria: str | None = None
    learning_outcomes: tuple[str, ...] = ()
    ects: float | None = None
    hours: float | None = None
    eqf_level: int | None = None
    nlqf_level: int | None = None
    qf_ehea_cycle: str | None = None
    assessment_type: str | None = None
    participation_form: str | None = None
    supervision: str | None = None
    identity_check: bool | None = None
    quality_assurance: str | None = None
    quality_assurance_url: str | None = None
    language: str | None = None
    prerequisites: tuple[str, ...] = ()
    stackability: str | None = None
    stackable_into: tuple[str, ...] = ()
    alignments: tuple[AlignmentView, ...] = ()
    tags: tuple[str, ...] = ()
    awarded_date: datetime | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    holder: str | None = None
    holder_identities: tuple[dict[str, Any], ...] = ()
    grade: str | None = None
    result_status: str | None = None

    @property
    def is_microcredential(self) -> bool:
        return self.achievement_type == MICROCREDENTIAL

    @property
    def issued(self) -> datetime | None:
        """When the learning was recognised: awardedDate, else validFrom (for age rules)."""
        return self.awarded_date or self.valid_from

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: datetimes as ISO 8601 strings, tuples as lists."""
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, datetime):
                out[key] = value.isoformat().replace("+00:00", "Z")
            elif isinstance(value, tuple):
                out[key] = list(value)
        out["is_microcredential"] = self.is_microcredential
        return out


def read_microcredential(credential: Mapping[str, Any]) -> MicrocredentialView:
    """Flatten an OB 3.0 credential (VC 2.0 or VCDM 1.1, any issuer's mapping).

    Tolerant of missing and oddly shaped fields: it never raises except for a credential
    that is not a JSON object.
    """
    if not isinstance(credential, Mapping):
        raise MalformedInput("a credential must be a JSON object")
    issuer = credential.get("issuer")
    issuer_obj: Mapping[str, Any] = issuer if isinstance(issuer, Mapping) else {}
    address = _mapping(issuer_obj.get("address"))
    subject = _first_mapping(credential.get("credentialSubject"))
    achievement = _mapping(subject.get("achievement"))
    alignments = alignment_views(achievement.get("alignment"))
    fields = _Fields(achievement, alignments)
    quality = next((a for a in alignments if a.target_type == QUALITY_ASSURANCE), None)
    result = next(iter(_mappings(subject.get("result"))), {})
    country_code = _text(address.get("addressCountryCode"))
    return MicrocredentialView(
        credential_id=_text(credential.get("id")),
        types=_strings(credential.get("type")),
        issuer_id=_text(issuer) if isinstance(issuer, str) else _text(issuer_obj.get("id")),
        issuer_name=_text(issuer_obj.get("name")),
        issuer_url=_text(issuer_obj.get("url")),
        country=_text(address.get("addressCountry")),
        country_code=country_code.upper() if country_code else None,
        region=_text(address.get("addressRegion")),
        issuer_identifiers=_identifiers(issuer_obj.get("otherIdentifier")),
        achievement_id=_text(achievement.get("id")),
        achievement_type=_text(achievement.get("achievementType")),
        title=_text(achievement.get("name")) or _text(credential.get("name")),
        description=_text(achievement.get("description")),
        criteria=_text(_mapping(achievement.get("criteria")).get("narrative")),
        learning_outcomes=fields.strings(("learningOutcome",), vocab.LEARNING_OUTCOME),
        ects=fields.ects(),
        hours=fields.hours(),
        eqf_level=_level(alignments, EQF, ("EQF", EQF_FRAMEWORK)) or fields.level("eqf"),
        nlqf_level=_level(alignments, NLQF, ("NLQF", NLQF_FRAMEWORK)) or fields.level("nlqf"),
        qf_ehea_cycle=fields.code(QF_EHEA),
        assessment_type=fields.text(("assessmentType",), vocab.ASSESSMENT_TYPE),
        participation_form=fields.text(
            ("participationForm", "participationType"), vocab.PARTICIPATION_FORM
        ),
        supervision=fields.text(("supervision", "supervisionType"), vocab.SUPERVISION_TYPE),
        identity_check=fields.flag(("identityCheck", "identityChecked"), vocab.IDENTITY_CHECK),
        quality_assurance=quality.target_name if quality else None,
        quality_assurance_url=quality.target_url if quality else None,
        language=_text(achievement.get("inLanguage")) or _text(credential.get("inLanguage")),
        prerequisites=fields.strings(("prerequisite",), vocab.PREREQUISITE),
        stackability=fields.text(("stackability",), vocab.STACKABILITY),
        stackable_into=fields.strings(("stackableInto",), vocab.STACKABLE_INTO, url=True),
        alignments=alignments,
        tags=_strings(achievement.get("tag")),
        awarded_date=read_datetime(credential.get("awardedDate")),
        valid_from=read_datetime(credential.get("validFrom") or credential.get("issuanceDate")),
        valid_until=read_datetime(credential.get("validUntil") or credential.get("expirationDate")),
        holder=_text(subject.get("id")),
        holder_identities=tuple(dict(i) for i in _mappings(subject.get("identifier"))),
        grade=_text(result.get("value")),
        result_status=_text(result.get("status")),
    )


# Field names other issuers use for the same elements, compared case-insensitively: the
# legacy microcred/v1 terms and SURF's edubadges names (OB 2.0 extensions and OB 3.0).
_ECTS_KEYS = ("ects",)
_HOURS_KEYS = ("workloadhours", "studyload", "sbu", "timeinvestment", "hours")
_EQF_KEYS = ("eqf", "eqflevel")
_NLQF_KEYS = ("nlqf", "nlqflevel")


@dataclass(frozen=True)
class _Fields:
    """One element looked up in each place an issuer may have put it, most explicit first:
    a field the achievement names (``ects``, ``ECTS``), then an ``...Extension`` object's
    field (edubadges), then microcred's ``ext:`` alignment, then a plain OB 3.0 property."""

    achievement: Mapping[str, Any]
    alignments: tuple[AlignmentView, ...]

    def _extensions(self) -> list[Mapping[str, Any]]:
        return [
            value
            for key, value in self.achievement.items()
            if isinstance(value, Mapping) and "extension" in key.lower()
        ]

    def _named(self, keys: Sequence[str]) -> Any:
        wanted = {key.lower() for key in keys}
        for node in (self.achievement, *self._extensions()):
            for key, value in node.items():
                if key.lower() in wanted and value is not None and not isinstance(value, Mapping):
                    return value
        return None

    def _aligned(self, target_type: str) -> list[AlignmentView]:
        return [a for a in self.alignments if a.target_type == target_type]

    def code(self, target_type: str) -> str | None:
        return next((a.target_code for a in self._aligned(target_type) if a.target_code), None)

    def number(self, keys: Sequence[str], target_type: str) -> float | None:
        for value in (self._named(keys), self.code(target_type)):
            number = _number(value)
            if number is not None and number >= 0:
                return number
        return None

    def ects(self) -> float | None:
        found = self.number(_ECTS_KEYS, vocab.ECTS)
        if found is None:
            found = _first_number(self.achievement, ("creditsAvailable",))
        return found

    def hours(self) -> float | None:
        return self.number(_HOURS_KEYS, vocab.NOTIONAL_WORKLOAD)

    def level(self, framework: str) -> int | None:
        value = _text(self._named(_EQF_KEYS if framework == "eqf" else _NLQF_KEYS))
        match = _LEVEL.search(value or "")
        return int(match.group(1)) if match else None

    def text(self, keys: Sequence[str], target_type: str) -> str | None:
        named = _text(self._named(keys))
        if named:
            return named
        for alignment in self._aligned(target_type):
            if alignment.target_code or alignment.target_name:
                return alignment.target_code or alignment.target_name
        return None

    def flag(self, keys: Sequence[str], target_type: str) -> bool | None:
        named = self._named(keys)
        if isinstance(named, bool):
            return named
        code = (self.code(target_type) or "").lower()
        return {"true": True, "false": False}.get(code)

    def strings(
        self, keys: Sequence[str], target_type: str, *, url: bool = False
    ) -> tuple[str, ...]:
        for key in keys:
            named = _strings(self.achievement.get(key))
            if named:
                return named
        found = (a.target_url if url else a.target_name for a in self._aligned(target_type))
        return tuple(text for text in found if text)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def alignment_views(value: Any) -> tuple[AlignmentView, ...]:
    """The alignment objects of an achievement (OB 3.0) or a BadgeClass (OB 2.0): the two
    formats name the fields alike."""
    return tuple(
        AlignmentView(
            target_name=_text(a.get("targetName")),
            target_url=_text(a.get("targetUrl")),
            target_type=_text(a.get("targetType")),
            target_framework=_text(a.get("targetFramework")),
            target_code=_text(a.get("targetCode")),
        )
        for a in _mappings(value)
    )


def _mappings(value: Any) -> list[Mapping[str, Any]]:
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, Mapping)]


def _first_mapping(value: Any) -> Mapping[str, Any]:
    found = _mappings(value)
    return found[0] if found else {}


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _strings(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    return tuple(text for text in (_text(item) for item in items) if text)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip().replace(",", "."))
        except ValueError:
            return None
    return None


def _first_number(node: Mapping[str, Any], keys: Sequence[str]) -> float | None:
    for key in keys:
        number = _number(node.get(key))
        if number is not None and number >= 0:
            return number
    return None


_LEVEL = re.compile(r"\b([1-8])\b")


def _level(
    alignments: Sequence[AlignmentView], target_type: str, names: Sequence[str]
) -> int | None:
    """The level from an alignment of the framework, by type or by framework name."""
    lowered = {name.lower() for name in names}
    for alignment in alignments:
        framework = (alignment.target_framework or "").lower()
        if alignment.target_type != target_type and framework not in lowered:
            continue
        for text in (alignment.target_code, alignment.target_name):
            match = _LEVEL.search(text or "")
            if match:
                return int(match.group(1))
    return None


def _identifiers(value: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for entry in _mappings(value):
        kind, identifier = _text(entry.get("identifierType")), _text(entry.get("identifier"))
        if kind and identifier:
            out[kind.removeprefix("ext:")] = identifier
    return out


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
