"""Open Badges 2.0 assertions: recognising one, and reading it for people.

What an assertion is (``is_ob2``, hosted or signed) and what it says, as the same
``MicrocredentialView`` as OB 3.0: edubadges and other OB 2.0 issuers put the EU elements
in extensions (ECTS, EQF, study load, language, learning outcomes); ``read_ob2`` maps
what is there and leaves the rest empty. Verifying assertions is ``credentials.ob2``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .dates import read_datetime, read_timestamp
from .microcredential_view import (  # the same readers as OB 3.0's
    MicrocredentialView,
    _text,
    alignment_views,
)
from .microcredential_view import _number as _any_number

OB2_CONTEXT = "https://w3id.org/openbadges/v2"
OB2_CONTEXTS = frozenset({OB2_CONTEXT, "https://openbadgespec.org/v2/context.json"})

FORMAT_HOSTED = "Open Badges 2.0 · hosted"

FORMAT_SIGNED = "Open Badges 2.0 · signed"

JWS_KEY = "jws"

ACCEPT = "application/ld+json, application/json;q=0.9"

HOSTED_TYPES = frozenset({"hosted", "HostedBadge"})

SIGNED_TYPES = frozenset({"signed", "SignedBadge"})

ECTS_EXTENSION = "extensions:ECTSExtension"

EQF_EXTENSION = "extensions:EQFExtension"

STUDY_LOAD_EXTENSION = "extensions:StudyLoadExtension"

LANGUAGE_EXTENSION = "extensions:LanguageExtension"

LEARNING_OUTCOME_EXTENSION = "extensions:LearningOutcomeExtension"


def _types(value: Any) -> set[str]:
    items = value if isinstance(value, list) else [value]
    return {item for item in items if isinstance(item, str)}


def _contexts(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def is_ob2_assertion(document: Any) -> bool:
    """An OB 2.0 ``Assertion`` object (JSON), as hosted or as kept after a signed check."""
    if not isinstance(document, Mapping):
        return False
    context = {c.rstrip("/") for c in _contexts(document.get("@context")) if isinstance(c, str)}
    return bool(context & OB2_CONTEXTS) and "Assertion" in _types(document.get("type"))


def is_ob2(document: Any) -> bool:
    """OB 2.0 in any shape this module takes: an assertion object or a compact JWS of one."""
    if isinstance(document, str):
        return _jws_payload(document) is not None
    return is_ob2_assertion(document)


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _jws_payload(token: str) -> dict[str, Any] | None:
    token = token.strip()
    if token.count(".") != 2 or len(token) > 1_000_000:
        return None
    try:
        payload = json.loads(_b64url(token.split(".")[1]))
    except (ValueError, TypeError):
        return None
    return payload if is_ob2_assertion(payload) else None


def verification_type(assertion: Mapping[str, Any]) -> str | None:
    """``"hosted"`` or ``"signed"`` (OB 1.1's ``verify`` is read as an alias)."""
    verification = assertion.get("verification", assertion.get("verify"))
    kind = verification.get("type") if isinstance(verification, Mapping) else None
    if kind in HOSTED_TYPES:
        return "hosted"
    if kind in SIGNED_TYPES:
        return "signed"
    return None


def recipient_identities(assertion: Mapping[str, Any]) -> tuple[dict[str, Any], ...]:
    """The recipient as OB 3.0 ``IdentityObject`` data (``identity_matches`` reads it)."""
    recipient = assertion.get("recipient")
    if not isinstance(recipient, Mapping) or not isinstance(recipient.get("identity"), str):
        return ()
    kind = recipient.get("type") if isinstance(recipient.get("type"), str) else "email"
    identity: dict[str, Any] = {
        "type": "IdentityObject",
        "identityType": "emailAddress" if kind == "email" else kind,
        "identityHash": recipient["identity"],
        "hashed": recipient.get("hashed") is True,
    }
    if isinstance(recipient.get("salt"), str):
        identity["salt"] = recipient["salt"]
    return (identity,)


def _date(value: Any) -> datetime | None:
    # OB 1.x allowed Unix timestamps; OB 2.0 any ISO 8601 form
    return read_timestamp(value) or read_datetime(value)


def _number(value: Any) -> float | None:
    """A non-negative number (edubadges writes "5" and "2,5" as well as 5 and 2.5)."""
    number = _any_number(value)
    return number if number is not None and number >= 0 else None


def _extension(badge: Mapping[str, Any], name: str, field: str) -> Any:
    node = badge.get(name)
    if not isinstance(node, Mapping):  # some exports nest them under "extensions"
        nested = badge.get("extensions")
        node = nested.get(name) if isinstance(nested, Mapping) else None
    return node.get(field) if isinstance(node, Mapping) else None


def _language(value: Any) -> str | None:
    text = _text(value)
    if not text:
        return None
    code = text.replace("_", "-").split("-")[0].lower()  # edubadges writes "nl_NL", "en_EN"
    return code or None


def read_ob2(assertion: Mapping[str, Any]) -> MicrocredentialView:
    """Flatten an OB 2.0 assertion; BadgeClass and Issuer are read where embedded."""
    if isinstance(assertion, str):
        payload = _jws_payload(assertion)
        assertion = payload or {}
    badge_value = assertion.get("badge")
    badge: Mapping[str, Any] = badge_value if isinstance(badge_value, Mapping) else {}
    issuer_value = badge.get("issuer")
    issuer: Mapping[str, Any] = issuer_value if isinstance(issuer_value, Mapping) else {}
    alignments = alignment_views(badge.get("alignment"))
    eqf = _number(_extension(badge, EQF_EXTENSION, "EQF"))
    criteria = badge.get("criteria")
    outcomes = _extension(badge, LEARNING_OUTCOME_EXTENSION, "LearningOutcome")
    issued = _date(assertion.get("issuedOn"))
    tags = badge.get("tags")
    return MicrocredentialView(
        credential_id=_text(assertion.get("id")),
        types=("Assertion",),
        issuer_id=_text(issuer.get("id")) or (_text(issuer_value) if issuer_value else None),
        issuer_name=_text(issuer.get("name")),
        issuer_url=_text(issuer.get("url")),
        achievement_id=_text(badge.get("id")) or _text(badge_value),
        title=_text(badge.get("name")),
        description=_text(badge.get("description")),
        criteria=_text(criteria.get("narrative")) if isinstance(criteria, Mapping) else None,
        learning_outcomes=(outcome,) if (outcome := _text(outcomes)) else (),
        ects=_number(_extension(badge, ECTS_EXTENSION, "ECTS")),
        hours=_number(_extension(badge, STUDY_LOAD_EXTENSION, "StudyLoad")),
        eqf_level=int(eqf) if eqf is not None and 1 <= eqf <= 8 else None,
        language=_language(_extension(badge, LANGUAGE_EXTENSION, "Language")),
        alignments=alignments,
        tags=tuple(t for t in (tags if isinstance(tags, list) else []) if isinstance(t, str)),
        awarded_date=issued,
        valid_from=issued,
        valid_until=_date(assertion.get("expires")),
        holder_identities=recipient_identities(assertion),
    )
