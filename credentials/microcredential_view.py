"""Reading a microcredential back: the view pages, rules and summaries use.

Whatever shape an issuer gave an OB 3.0 credential (ours, or another's with its own
alignment names and number formats), ``read_microcredential`` gives one
``MicrocredentialView``; missing or odd values become None rather than errors, because a
reader shows what is there. Building credentials is ``credentials.microcredential``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from . import eu_vocabulary as vocab
from .dates import read_datetime
from .errors import MalformedInput
from .eu_vocabulary import (
    EQF,
    EQF_FRAMEWORK,
    MICROCREDENTIAL,
    NLQF,
    NLQF_FRAMEWORK,
    QF_EHEA,
    QUALITY_ASSURANCE,
)


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
