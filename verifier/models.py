"""The verifier's tables, on the service's own SQLAlchemy registry.

Only what must outlive a request or be shared between instances is stored:

* ``Challenge`` – VC-API challenges, single-use across every instance: using one is a
  conditional UPDATE (``used_at IS NULL``) that only one transaction can win;
* ``PresentationRequest`` – OpenID4VP-shaped requests; the nonce column is unique and is
  consumed the same way, and the stored result is what the employer's page polls;
* ``VerifierKey`` – the verifier's signing key for OpenID4VP request objects (wrapped);
* ``VerificationLogEntry`` – outcome, time, issuer and a hash of the credential id; the
  document itself only when ``keep_full_log`` is on.

Times are aware UTC datetimes (SQLModel's ``UTCDateTime``: timestamptz on PostgreSQL).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlmodel
from sqlalchemy import JSON, Text
from sqlalchemy.orm import registry
from sqlmodel import Field

# ``sqlmodel.SQLModel`` is referenced through its module on purpose: the only ``…Model``
# class defined at this module's top level is ``VerifierModel``, whose metadata is the
# verifier's schema (tests/test_migrations.py finds it by that naming convention).


class VerifierModel(sqlmodel.SQLModel, registry=registry()):
    """Base of the verifier's tables; its metadata is what Alembic compares against."""


class Challenge(VerifierModel, table=True):
    __tablename__ = "challenges"

    challenge_hash: str = Field(primary_key=True, max_length=64)
    """SHA-256 of the challenge: a leaked table cannot be used to answer challenges."""
    created_at: datetime
    expires_at: datetime = Field(index=True)
    used_at: datetime | None = None


class PresentationRequest(VerifierModel, table=True):
    __tablename__ = "presentation_requests"

    id: str = Field(primary_key=True, max_length=64)
    nonce: str = Field(unique=True, max_length=128)
    state: str = Field(max_length=128)
    result_token_hash: str = Field(max_length=64)
    """Only the creator (the employer's page) may read the result, which names the learner."""
    purpose: str = Field(sa_type=Text)
    client_name: str = Field(max_length=200)
    spec: dict[str, Any] = Field(sa_type=JSON)
    """What was asked: credential types, modules, a route rule (as given)."""
    dcql_query: dict[str, Any] = Field(sa_type=JSON)
    created_at: datetime
    expires_at: datetime = Field(index=True)
    status: str = Field(default="pending", max_length=20)
    nonce_used_at: datetime | None = None
    completed_at: datetime | None = None
    result: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    rejected_attempts: int = 0
    last_rejection: str | None = Field(default=None, sa_type=Text)


class VerifierKey(VerifierModel, table=True):
    """The verifier's own signing key (request objects, OpenID4VP ``decentralized_identifier:``).

    The secret is only ever stored wrapped under the KEK (``credentials.keystore``), bound to
    its generation, like an issuer's keys. Generation ``1`` is created on first use; a
    conditional insert on the primary key lets one instance win when several start at once.
    """

    __tablename__ = "verifier_keys"

    generation: int = Field(primary_key=True)
    """1, 2, …: the verification method is ``<did>#key-<generation>``."""
    algorithm: str = Field(max_length=10)
    public_key_multibase: str = Field(max_length=200)
    wrapped_secret: str = Field(sa_type=Text)
    created_at: datetime


class VerificationLogEntry(VerifierModel, table=True):
    __tablename__ = "verification_log"

    id: int | None = Field(default=None, primary_key=True)
    row_key: str | None = Field(default=None, max_length=32, unique=True, index=True)
    """Random, set when the row is queued: a retried batch cannot write a row twice."""
    created_at: datetime = Field(index=True)
    kind: str = Field(max_length=20)
    """credential, presentation, share, request or admission."""
    verified: bool
    issuer: str | None = Field(default=None, sa_type=Text)
    credential_id_hash: str | None = Field(default=None, max_length=64)
    failed_checks: str = Field(default="", sa_type=Text)
    """Check ids and codes that failed (``proof:invalid_proof``): no personal data."""
    document: dict[str, Any] | None = Field(default=None, sa_type=JSON)
