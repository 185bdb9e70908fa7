"""The wallet's tables, on the service's own SQLAlchemy registry.

Every row that holds a learner's data carries ``learner_id`` and every query filters on it:
that column, not the route, is what keeps learners apart. Deleting a learner deletes every
row that names them (the foreign keys cascade, and the service deletes explicitly too, so
SQLite without enforced foreign keys behaves the same).

Secrets are never stored in the clear: passwords as argon2 hashes, bearer tokens and share
tokens as SHA-256 (looked up by hash), the holder key and the share token (so the learner
can see their link again) wrapped with AES-GCM under the key-encryption key.
Times are aware UTC (SQLModel's ``UTCDateTime``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlmodel
from sqlalchemy import JSON, Text, UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field


class WalletModel(sqlmodel.SQLModel, registry=registry()):
    """Base of the wallet's tables; its metadata is what Alembic compares against."""


_LEARNER_FK = "learners.id"


class Learner(WalletModel, table=True):
    __tablename__ = "learners"

    id: str = Field(primary_key=True, max_length=36)
    username: str = Field(unique=True, max_length=64)
    """Lower-cased, so "Jan" and "jan" are one account."""
    password_hash: str = Field(max_length=200)
    did: str = Field(max_length=200)
    """The holder DID (did:key, Ed25519) credentials are bound to."""
    wrapped_key: str = Field(sa_type=Text)
    """The holder key's secret, wrapped under the KEK with the learner id as associated data."""
    created_at: datetime


class AuthToken(WalletModel, table=True):
    __tablename__ = "auth_tokens"

    token_hash: str = Field(primary_key=True, max_length=64)
    learner_id: str = Field(foreign_key=_LEARNER_FK, ondelete="CASCADE", index=True, max_length=36)
    kind: str = Field(max_length=10)
    """``api`` (bearer token) or ``session`` (page cookie)."""
    created_at: datetime
    expires_at: datetime = Field(index=True)


class StoredCredential(WalletModel, table=True):
    __tablename__ = "credentials"
    __table_args__ = (UniqueConstraint("learner_id", "fingerprint"),)

    id: str = Field(primary_key=True, max_length=36)
    learner_id: str = Field(foreign_key=_LEARNER_FK, ondelete="CASCADE", index=True, max_length=36)
    fingerprint: str = Field(max_length=64)
    """SHA-256 of the credential's canonical JSON: the same credential is stored once."""
    document: dict[str, Any] | str = Field(sa_type=JSON)
    """The credential as received: a JSON-LD object, or for ``dc+sd-jwt`` the compact SD-JWT
    VC with every disclosure the issuer gave (a JSON string)."""
    format: str = Field(
        default="ldp_vc", max_length=20, sa_column_kwargs={"server_default": "ldp_vc"}
    )
    """``ldp_vc`` (W3C VC / OB 3.0 with a Data Integrity proof, or an OB 2.0 assertion) or
    ``dc+sd-jwt`` (SD-JWT VC, issue 19): decides how it is verified, shown and presented."""
    credential_id: str | None = Field(default=None, sa_type=Text)
    """The credential's own ``id`` (usually ``urn:uuid:…``), for display and routes."""
    issuer_id: str | None = Field(default=None, sa_type=Text)
    issuer_name: str | None = Field(default=None, sa_type=Text)
    title: str | None = Field(default=None, sa_type=Text)
    achievement_id: str | None = Field(default=None, sa_type=Text)
    eqf_level: int | None = None
    ects: float | None = None
    issued_at: datetime | None = None
    """awardedDate, else validFrom: the date the learner filters on."""
    verified: bool
    """False only when the learner kept a credential that failed verification."""
    report: dict[str, Any] = Field(sa_type=JSON)
    """The verification report made on arrival (the wallet's own checks included)."""
    status: str = Field(max_length=20)
    """active, revoked, suspended, unknown, none (no status entry) or invalid."""
    status_checks: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    status_checked_at: datetime
    source: str = Field(max_length=20)
    """offer, import or restore (from a wallet export)."""
    received_at: datetime


class RedeemedOffer(WalletModel, table=True):
    """Offers this wallet has redeemed: a replayed offer is refused before the issuer is
    contacted (the issuer refuses a used code too; this answer is clearer and cheaper)."""

    __tablename__ = "redeemed_offers"

    offer_hash: str = Field(primary_key=True, max_length=64)
    """SHA-256 of the issuer identifier and the pre-authorised code (never the code)."""
    learner_id: str = Field(foreign_key=_LEARNER_FK, ondelete="CASCADE", index=True, max_length=36)
    credential_issuer: str = Field(sa_type=Text)
    redeemed_at: datetime


class Share(WalletModel, table=True):
    __tablename__ = "shares"

    id: str = Field(primary_key=True, max_length=36)
    learner_id: str = Field(foreign_key=_LEARNER_FK, ondelete="CASCADE", index=True, max_length=36)
    token_hash: str = Field(unique=True, max_length=64)
    token_wrapped: str | None = Field(default=None, sa_type=Text)
    """The link's token wrapped under the KEK, so only the learner's session can show the link
    again; None for shares restored from an export (history only)."""
    challenge: str = Field(max_length=64)
    credential_ids: list[str] = Field(sa_type=JSON)
    label: str | None = Field(default=None, max_length=200)
    created_at: datetime
    expires_at: datetime
    max_views: int | None = None
    views: int = 0
    revoked_at: datetime | None = None
    disclosure: dict[str, list[str]] | None = Field(default=None, sa_type=JSON)
    """Per selectively disclosable (ecdsa-sd-2023) credential: the field keys the learner
    chose to show (``grade``, ``name``, ``student_number`` …); the rest is withheld."""


class ShareAccess(WalletModel, table=True):
    __tablename__ = "share_accesses"

    id: int | None = Field(default=None, primary_key=True)
    share_id: str = Field(foreign_key="shares.id", ondelete="CASCADE", index=True, max_length=36)
    learner_id: str = Field(foreign_key=_LEARNER_FK, ondelete="CASCADE", index=True, max_length=36)
    accessed_at: datetime
    outcome: str = Field(max_length=20)
    """served, or why not: expired, revoked, exhausted."""
    representation: str = Field(max_length=10)
    """json (a machine asked for the presentation) or html (a person's browser)."""
    verifier_checked: bool
    client: str = Field(max_length=40)
    """microcred-verifier (the microcred verifier's fetcher), software or browser."""
    user_agent: str | None = Field(default=None, max_length=200)


class LearnerRoute(WalletModel, table=True):
    __tablename__ = "learner_routes"
    __table_args__ = (UniqueConstraint("learner_id", "route_id"),)

    id: str = Field(primary_key=True, max_length=36)
    learner_id: str = Field(foreign_key=_LEARNER_FK, ondelete="CASCADE", index=True, max_length=36)
    route_id: str = Field(max_length=200)
    definition: dict[str, Any] = Field(sa_type=JSON)
    source: str = Field(max_length=20)
    """published (adopted from the catalogue), own (given by the learner) or restore."""
    added_at: datetime


class PublishedRoute(WalletModel, table=True):
    """The catalogue of route definitions learners can adopt (``microcred wallet add-route``)."""

    __tablename__ = "published_routes"

    route_id: str = Field(primary_key=True, max_length=200)
    definition: dict[str, Any] = Field(sa_type=JSON)
    published_at: datetime


class Disclosure(WalletModel, table=True):
    """What the learner sent to which verifier in answer to a presentation request."""

    __tablename__ = "disclosures"

    id: str = Field(primary_key=True, max_length=36)
    learner_id: str = Field(foreign_key=_LEARNER_FK, ondelete="CASCADE", index=True, max_length=36)
    client_id: str = Field(sa_type=Text)
    verifier_name: str | None = Field(default=None, sa_type=Text)
    purpose: str | None = Field(default=None, sa_type=Text)
    response_uri: str = Field(sa_type=Text)
    credential_ids: list[str] = Field(sa_type=JSON)
    outcome: str = Field(max_length=20)
    """sent or declined."""
    sent_at: datetime
    fields: dict[str, list[str]] | None = Field(default=None, sa_type=JSON)
    """Selective disclosure: per credential sent, the field keys shown (the rest withheld)."""
    disclosed: dict[str, list[str]] | None = Field(default=None, sa_type=JSON)
    """For SD-JWT VCs (issue 19): wallet credential id -> the selectively disclosable claims
    the learner let go (paths like ``result.grade``); the always-disclosed claims are not
    listed. None for Data Integrity credentials, which always go whole."""


# -- recognition (issue 17): routes an institution owns, and the learner's requests ----------


class RecognitionRoute(WalletModel, table=True):
    """What the wallet needs, beside the rule, to ask an institution for recognition: where
    the route was published and where to ask. One row per adopted institution route."""

    __tablename__ = "recognition_routes"

    route_row_id: str = Field(
        foreign_key="learner_routes.id", ondelete="CASCADE", primary_key=True, max_length=36
    )
    learner_id: str = Field(foreign_key=_LEARNER_FK, ondelete="CASCADE", index=True, max_length=36)
    url: str = Field(sa_type=Text)
    """The route document's URL (``GET /institutions/{inst}/routes/{route}``)."""
    recognition_endpoint: str = Field(sa_type=Text)
    institution_name: str = Field(sa_type=Text)
    institution_id: str | None = Field(default=None, sa_type=Text)
    kind: str = Field(max_length=20)
    """``route`` (a route credential) or ``exemption``."""
    award: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    fetched_at: datetime


class RecognitionCase(WalletModel, table=True):
    """A request for recognition: the institution's case as the learner follows it."""

    __tablename__ = "recognition_cases"

    id: str = Field(primary_key=True, max_length=36)
    learner_id: str = Field(foreign_key=_LEARNER_FK, ondelete="CASCADE", index=True, max_length=36)
    route_row_id: str | None = Field(default=None, max_length=36)
    """The adopted route it was asked for (kept as text: the case outlives unfollowing)."""
    route_name: str = Field(sa_type=Text)
    institution_name: str = Field(sa_type=Text)
    case_uri: str = Field(sa_type=Text)
    """Carries the institution's unguessable token: shown to nobody but its learner."""
    authorization_request: str = Field(sa_type=Text)
    response_uri: str = Field(sa_type=Text)
    """Where the presentation goes: joins the case to the learner's disclosure record."""
    state: str = Field(max_length=20)
    """``awaiting_consent`` (not sent yet), then the institution's: open, more_requested,
    approved, declined, awarded; ``unreachable`` is never stored."""
    reason: str | None = Field(default=None, sa_type=Text)
    credential_offer_uri: str | None = Field(default=None, sa_type=Text)
    credential_id: str | None = Field(default=None, max_length=36)
    """The wallet id of the award once collected."""
    collect_error: str | None = Field(default=None, max_length=100)
    """The code of the last failed collection (the learner can try again)."""
    created_at: datetime
    updated_at: datetime
    checked_at: datetime | None = None
