"""The issuer's tables, on the service's own SQLAlchemy registry.

Everything that must hold across several instances is a database constraint, not process
memory:

* ``StatusSlot`` – the primary key (list, index) is what makes a status-list index belong
  to exactly one credential, whichever process allocated it;
* ``StatusBitstring`` – one row per list and purpose with the bits and a ``version``;
  a status change is a compare-and-set on that version (plus ``FOR UPDATE`` on PostgreSQL),
  so two concurrent changes can never overwrite each other's bit;
* ``Offer`` – pre-authorised codes, access tokens and transaction codes are stored hashed
  and consumed by conditional ``UPDATE``s that only one transaction can win;
* ``Nonce`` – ``c_nonce`` values for key proofs, single-use the same way;
* ``IssuedCredential`` – (batch, row key) is unique, so a re-run batch issues nothing twice;
  ``replaced_by`` is set by a conditional ``UPDATE``, so a re-issue replaces a credential once;
* ``IdempotentRequest`` – an ``Idempotency-Key`` on single issuance maps to one credential.

Times are written as aware UTC datetimes (``timestamptz`` on PostgreSQL); SQLite hands
them back naive, so readers go through ``services.clock.aware``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlmodel
from sqlalchemy import JSON, Column, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy import UniqueConstraint as Unique
from sqlalchemy.orm import registry
from sqlmodel import Field


class IssuerModel(sqlmodel.SQLModel, registry=registry()):
    """Base of the issuer's tables; its metadata is what Alembic compares against."""


def _fk(target: str, *, nullable: bool = False) -> Any:
    """An indexed foreign key; rows of an institution go when the institution goes."""
    if nullable:
        return Field(default=None, foreign_key=target, ondelete="SET NULL", index=True)
    return Field(foreign_key=target, ondelete="CASCADE", index=True)


class Institution(IssuerModel, table=True):
    """An awarding body (EU element 4) with its did:web under this deployment."""

    __tablename__ = "institutions"

    id: str = Field(primary_key=True, max_length=32)
    slug: str = Field(unique=True, max_length=63)
    name: str = Field(max_length=200)
    country_code: str = Field(max_length=2)
    region: str | None = Field(default=None, max_length=100)
    url: str = Field(max_length=500)
    """The institution's website (the OB Profile ``url``)."""
    identifiers: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    """Registry numbers such as ``{"BRIN": "21PB"}``."""
    key_generation: int = 0
    """Number of the current signing key; rotation is a compare-and-set on it."""
    created_at: datetime


class SigningKey(IssuerModel, table=True):
    """An institution's key pair; the secret only ever wrapped under the KEK."""

    __tablename__ = "signing_keys"
    __table_args__ = (Unique("institution_id", "generation"),)

    id: int | None = Field(default=None, primary_key=True)
    institution_id: str = _fk("institutions.id")
    generation: int
    """1, 2, …: the verification method is ``<did>#key-<generation>``."""
    algorithm: str = Field(max_length=10)
    public_key_multibase: str = Field(max_length=200)
    wrapped_secret: str = Field(sa_type=Text)
    state: str = Field(default="current", max_length=12)
    """current, retired (still listed, still verifies) or compromised (no longer an
    assertion method: credentials it signed stop verifying)."""
    created_at: datetime
    retired_at: datetime | None = None


class ApiToken(IssuerModel, table=True):
    """A bearer token of one institution; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: str = Field(primary_key=True, max_length=32)
    institution_id: str = _fk("institutions.id")
    name: str = Field(max_length=100)
    token_hash: str = Field(unique=True, max_length=64)
    scopes: str = Field(max_length=100)
    """Space-separated: issue, revoke, admin."""
    created_at: datetime
    created_by: str = Field(max_length=200)
    revoked_at: datetime | None = None


class Module(IssuerModel, table=True):
    """A module in the institution's catalogue: the OB Achievement with the EU elements."""

    __tablename__ = "modules"
    __table_args__ = (Unique("institution_id", "slug"),)

    id: int | None = Field(default=None, primary_key=True)
    institution_id: str = _fk("institutions.id")
    slug: str = Field(max_length=64)
    definition: dict[str, Any] = Field(sa_type=JSON)
    """The validated API model (``schemas.ModuleIn``) as JSON."""
    version: int = 1
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None = None


class StatusList(IssuerModel, table=True):
    """A space of indexes shared by a revocation and a suspension bitstring."""

    __tablename__ = "status_lists"

    id: str = Field(primary_key=True, max_length=32)
    institution_id: str = _fk("institutions.id")
    length: int
    capacity: int
    created_at: datetime
    full_at: datetime | None = None


class StatusBitstring(IssuerModel, table=True):
    """The bits of one list for one purpose, and its last signed publication."""

    __tablename__ = "status_bitstrings"

    list_id: str = Field(
        sa_column=Column(
            String(32), ForeignKey("status_lists.id", ondelete="CASCADE"), primary_key=True
        )
    )
    purpose: str = Field(primary_key=True, max_length=12)
    encoded_list: str = Field(sa_type=Text)
    """The bits as the spec publishes them (GZIP + multibase base64url): compact while
    sparse, and read and written only through ``credentials.status_list.StatusList``."""
    version: int = 0
    signed_json: str | None = Field(default=None, sa_type=Text)
    signed_version: int | None = None
    signed_key: int | None = None
    """Generation of the key that signed ``signed_json``."""


class StatusSlot(IssuerModel, table=True):
    """Index ``status_index`` of list ``list_id`` belongs to ``credential_id``."""

    __tablename__ = "status_slots"

    list_id: str = Field(
        sa_column=Column(
            String(32), ForeignKey("status_lists.id", ondelete="CASCADE"), primary_key=True
        )
    )
    status_index: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    credential_id: str = Field(max_length=500, index=True)
    created_at: datetime


class Batch(IssuerModel, table=True):
    """One cohort issuance; its idempotency key names it across re-runs."""

    __tablename__ = "batches"
    __table_args__ = (Unique("institution_id", "idempotency_key"),)

    id: int | None = Field(default=None, primary_key=True)
    institution_id: str = _fk("institutions.id")
    idempotency_key: str = Field(max_length=200)
    module_id: int = _fk("modules.id")
    created_at: datetime
    created_by: str = Field(max_length=200)
    runs: int = 0
    last_run_at: datetime | None = None
    last_report: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    """Counts of the last run (the full per-row report is returned, not stored)."""


class IssuedCredential(IssuerModel, table=True):
    """A signed credential as issued, with its status slot and who it was for."""

    __tablename__ = "issued_credentials"
    __table_args__ = (
        Unique("batch_id", "row_key"),
        # Unique per institution, not over all of them: a global constraint told one
        # institution which ids another had used (409 on issuing one, H-9f).
        Unique("institution_id", "credential_id", name="uq_issued_credentials_institution_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    credential_id: str = Field(max_length=500, index=True)
    institution_id: str = _fk("institutions.id")
    module_id: int | None = _fk("modules.id", nullable=True)
    learner_ref: str | None = Field(default=None, max_length=320, index=True)
    """Student number, e-mail address or holder DID: how the registrar finds it again —
    as a keyed hash (``services/personal.py``, H-9d); plain in rows from before that."""
    learner_sealed: str | None = Field(default=None, sa_type=Text)
    """The same value sealed under the KEK, for showing it to the registrar."""
    learner_alt_ref: str | None = Field(default=None, max_length=320, index=True)
    """The keyed hash of the learner's e-mail address when ``learner_ref`` holds the student
    number, so the registrar finds a credential by either (issue 16 point 11)."""
    holder_did: str | None = Field(default=None, max_length=500)
    document: str = Field(sa_type=Text)
    """The signed credential exactly as handed out (JSON text)."""
    status_list_id: str = Field(max_length=32)
    status_index: int
    key_generation: int = Field(index=True)
    """The signing key's generation: after a compromise, what it signed is found by it."""
    source: str = Field(max_length=12)
    """vc-api, module, batch or offer."""
    batch_id: int | None = _fk("batches.id", nullable=True)
    row_key: str | None = Field(default=None, max_length=200)
    row_hash: str | None = Field(default=None, max_length=64)
    issued_at: datetime = Field(index=True)
    revoked_at: datetime | None = None
    suspended: bool = False
    status_changed_at: datetime | None = None
    replaced_by: str | None = Field(default=None, max_length=500, index=True)
    """The credential that replaces this one (re-issued after its signing key was
    compromised); set in the same transaction that stores the replacement, so a
    credential is replaced at most once."""
    replacement_offer_id: str | None = Field(default=None, max_length=32)
    """For a credential the learner's wallet collected over OpenID4VCI: the offer through
    which the wallet collects the replacement (``replaced_by`` once it has)."""


class IdempotentRequest(IssuerModel, table=True):
    """An ``Idempotency-Key`` on a single issuance and the credential it produced."""

    __tablename__ = "idempotent_requests"
    __table_args__ = (Unique("institution_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    institution_id: str = _fk("institutions.id")
    key: str = Field(max_length=200)
    request_hash: str = Field(max_length=64)
    credential_id: str = Field(max_length=500)
    created_at: datetime


class Offer(IssuerModel, table=True):
    """An OpenID4VCI credential offer (pre-authorised code flow) for one learner."""

    __tablename__ = "offers"

    id: str = Field(primary_key=True, max_length=32)
    institution_id: str = _fk("institutions.id")
    module_id: int = _fk("modules.id")
    learner: dict[str, Any] = Field(sa_type=JSON)
    """What the credential will say about the learner (e-mail/student number as given:
    the institution's own records), and the result."""
    learner_ref: str | None = Field(default=None, max_length=320, index=True)
    handle_hash: str = Field(unique=True, max_length=64)
    """SHA-256 of the secret in the ``credential_offer_uri``."""
    code_hash: str = Field(unique=True, max_length=64)
    tx_code_hash: str | None = Field(default=None, max_length=64)
    tx_code_length: int | None = None
    tx_code_failures: int = 0
    created_at: datetime
    created_by: str = Field(max_length=200)
    expires_at: datetime = Field(index=True)
    redeemed_at: datetime | None = None
    access_token_hash: str | None = Field(default=None, unique=True, max_length=64)
    access_expires_at: datetime | None = None
    issued_at: datetime | None = None
    credential_id: str | None = Field(default=None, max_length=500)
    state: str = Field(default="offered", max_length=12)
    """offered → redeemed (access token issued) → issuing → issued (sent) → accepted (the
    wallet says it holds it) or failed / deleted (the wallet says it does not); or burnt
    (too many wrong PINs) or cancelled. A failed issuance, or one left in ``issuing`` by a
    crash (``offers.sweep_stuck``), goes back from issuing to redeemed."""


class Nonce(IssuerModel, table=True):
    """A ``c_nonce`` from the nonce endpoint; a key proof may use it once."""

    __tablename__ = "nonces"

    nonce_hash: str = Field(primary_key=True, max_length=64)
    institution_id: str = _fk("institutions.id")
    created_at: datetime
    expires_at: datetime = Field(index=True)
    used_at: datetime | None = None


class AuditEvent(IssuerModel, table=True):
    """Who did what to which credential, when and why."""

    __tablename__ = "audit_events"

    id: int | None = Field(default=None, primary_key=True)
    institution_id: str = _fk("institutions.id")
    at: datetime = Field(index=True)
    actor: str = Field(max_length=200)
    """``token:<id>`` (API), ``cli`` (operator), ``wallet:<holder DID>`` (OpenID4VCI)."""
    action: str = Field(max_length=40, index=True)
    credential_id: str | None = Field(default=None, max_length=500, index=True)
    reason: str | None = Field(default=None, sa_type=Text)
    details: dict[str, Any] | None = Field(default=None, sa_type=JSON)


# --------------------------------------------------------------------------- recognition (issue 17)


class RecognitionRoute(IssuerModel, table=True):
    """A route or exemption rule the institution publishes, and what it awards.

    ``rule`` is the core's route format (``credentials.rules``) unchanged; what the issuer
    adds sits beside it: the catalogue module whose achievement the award carries (its EU
    elements, ECTS and level) and whether a passing rule with trusted issuers only awards
    without a person.
    """

    __tablename__ = "recognition_routes"
    __table_args__ = (Unique("institution_id", "slug"),)

    id: int | None = Field(default=None, primary_key=True)
    institution_id: str = _fk("institutions.id")
    slug: str = Field(max_length=64)
    kind: str = Field(max_length=12)
    """route (a certificate for the route) or exemption (for a named course)."""
    rule: dict[str, Any] = Field(sa_type=JSON)
    award_module_id: int = _fk("modules.id")
    auto_award: bool = False
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None = None


class AcceptedIssuer(IssuerModel, table=True):
    """An institution whose credentials this institution trusts ("trusted" in a rule)."""

    __tablename__ = "recognition_accepted_issuers"
    __table_args__ = (Unique("institution_id", "did"),)

    id: int | None = Field(default=None, primary_key=True)
    institution_id: str = _fk("institutions.id")
    did: str = Field(max_length=500)
    name: str = Field(max_length=200)
    added_at: datetime
    added_by: str = Field(max_length=200)


class RecognitionCase(IssuerModel, table=True):
    """One request for recognition: the presentation request, then the exam board's case.

    ``requested`` (waiting for the wallet's answer) → ``open`` → ``approved`` (an offer
    made) → ``awarded`` (the wallet collected it); or ``declined`` / ``more_requested``.
    The nonce is consumed by a conditional UPDATE (one answer wins); the case token in the
    learner's ``case_uri`` and what was presented are stored hashed or sealed.
    """

    __tablename__ = "recognition_cases"

    id: str = Field(primary_key=True, max_length=32)
    institution_id: str = _fk("institutions.id")
    route_id: int = _fk("recognition_routes.id")
    nonce: str = Field(max_length=64)
    state_token: str = Field(max_length=64)
    case_token_hash: str = Field(unique=True, max_length=64)
    state: str = Field(default="requested", max_length=16, index=True)
    created_at: datetime
    expires_at: datetime
    nonce_used_at: datetime | None = None
    presented_at: datetime | None = None
    holder_did: str | None = Field(default=None, max_length=500)
    sealed: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    """The presentation, the learner as disclosed and the verification reports (sealed)."""
    evaluation: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    """The rule evaluation (``RouteResult.to_dict``) and the evidence it rests on."""
    trusted_only: bool = False
    reason: str | None = Field(default=None, sa_type=Text)
    decided_by: str | None = Field(default=None, max_length=200)
    decided_at: datetime | None = None
    offer_id: str | None = Field(default=None, max_length=32)
    award_credential_id: str | None = Field(default=None, max_length=500)
    rejected_attempts: int = 0
    last_rejection: str | None = Field(default=None, sa_type=Text)
    updated_at: datetime


class Delivery(IssuerModel, table=True):
    """One learner of a cohort upload: the offer made for them and how it reached them.

    The offer itself (``offers``) holds the single-use secrets as hashes; the offer link and
    PIN the registrar may need again (re-send, delivery list) and the learner's e-mail
    address are sealed under the KEK in ``sealed``, like the offer's learner data.
    """

    __tablename__ = "deliveries"

    id: str = Field(primary_key=True, max_length=32)
    institution_id: str = _fk("institutions.id")
    cohort_id: str = Field(max_length=32, index=True)
    row: int
    module_id: int = _fk("modules.id")
    offer_id: str = Field(max_length=32, index=True)
    sealed: str = Field(sa_type=Text)
    created_at: datetime = Field(index=True)
    created_by: str = Field(max_length=200)
    mailed_at: datetime | None = None
    mail_error: str | None = Field(default=None, max_length=40)
    """Why no mail went out: ``smtp_unset``, ``smtp_failed`` or ``no_email``."""
    opened_at: datetime | None = None
    """When a wallet first fetched the offer behind the link."""
    cancelled_at: datetime | None = None


class ModuleImage(IssuerModel, table=True):
    """A module's badge image (OB 3.0 achievement ``image``), re-encoded on upload."""

    __tablename__ = "module_images"

    module_id: int = Field(
        sa_column=Column(Integer, ForeignKey("modules.id", ondelete="CASCADE"), primary_key=True)
    )
    media_type: str = Field(max_length=20)
    data: bytes = Field(sa_type=LargeBinary)
    digest: str = Field(max_length=64)
    """SHA-256 of ``data``: the ETag, and the ``?v=`` that makes a changed image a new URL."""
    updated_at: datetime
