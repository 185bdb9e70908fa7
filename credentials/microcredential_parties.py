"""The people in a microcredential: the issuing institution, the learner, the result.

Split from ``credentials.microcredential`` (which composes the credential from these and
a ``ModuleDefinition``); each knows its own OB 3.0 JSON shape.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

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
