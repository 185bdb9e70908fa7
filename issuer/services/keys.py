"""Institution signing keys: generation, encryption at rest, rotation, the DID document.

A secret key exists in plain form only in memory: it is wrapped (AES-256-GCM under the
KEK, ``credentials.keystore``) before it reaches the database, with associated data naming
the institution and key generation, so a wrapped key copied into another institution's
row (or another generation's) does not decrypt. Keys are never returned or logged.

Rotation keeps every earlier public key in the DID document (``verificationMethod`` and
``assertionMethod``): credentials signed before a routine rotation keep verifying. A key
marked *compromised* stays listed as a verification method, for the record, but leaves
``assertionMethod`` — whatever it signed, before or after the theft, stops verifying
(``services.reissue`` replaces what it signed).

KEK rotation (:func:`rewrap_all`): the operator lists the new KEK first and the old one
second (``MICROCRED_KEK=new:…,old:…``), restarts the instances, runs ``microcred issuer
rewrap-keys``, and then drops the old KEK. Each row is re-wrapped in its own short
transaction with a compare-and-set on the wrapped value, so running instances (which
hold both KEKs) keep signing throughout, and a rotation racing the re-wrap is never
overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select as sa_select
from sqlalchemy import update
from sqlmodel import Session, col, select

from contexts import DID_V1, MULTIKEY_V1
from credentials import KeystoreError, Multikey, normalise_algorithm
from servicekit.db import rowcount
from servicekit.errors import Busy, Conflict, NotFound

from ..models import Institution, SigningKey
from . import audit, personal, urls
from .context import IssuerContext

KEY_STATES = ("current", "retired", "compromised")


def _aad(institution_id: str, generation: int) -> str:
    return f"microcred/issuer/signing-key/{institution_id}/{generation}"


def new_key(
    ctx: IssuerContext, institution: Institution, generation: int, key_type: str
) -> SigningKey:
    """A fresh key pair for ``institution`` as a (not yet added) row, secret wrapped."""
    algorithm = normalise_algorithm(key_type)
    key = Multikey.generate(algorithm)
    wrapped = ctx.keystore.wrap(key.secret_bytes(), _aad(institution.id, generation))
    return SigningKey(
        institution_id=institution.id,
        generation=generation,
        algorithm=algorithm,
        public_key_multibase=key.public_key_multibase,
        wrapped_secret=wrapped,
        state="current",
        created_at=ctx.now(),
    )


def current_key_row(session: Session, institution: Institution) -> SigningKey:
    """The institution's current signing key row (not yet unwrapped).

    Raises ``Conflict`` (``no_signing_key``) when the institution has none.
    """
    row = session.exec(
        select(SigningKey).where(
            SigningKey.institution_id == institution.id, SigningKey.state == "current"
        )
    ).first()
    if row is None:
        raise Conflict(
            "no_signing_key", f"institution {institution.slug} has no current signing key"
        )
    return row


def signer(ctx: IssuerContext, session: Session, institution: Institution) -> tuple[Multikey, int]:
    """The institution's current key with its secret, and its generation.

    Decrypted keys are cached per (institution, generation): a rotation elsewhere changes
    which generation is current, which this query sees at once.
    """
    row = current_key_row(session, institution)
    return load_key(ctx, institution, row), row.generation


def load_key(ctx: IssuerContext, institution: Institution, row: SigningKey) -> Multikey:
    """The usable key pair of ``row``, unwrapped with the KEK and cached on ``ctx``.

    Raises ``Busy`` (``signing_key_unavailable``) when the configured KEK cannot unwrap it
    or the unwrapped secret does not match the stored public key: an operator's problem,
    so nothing is signed and the caller may try again once the KEK is fixed.
    """
    cached = ctx.cached_key(institution.id, row.generation)
    if cached is not None:
        return cached
    try:
        secret = ctx.keystore.unwrap(row.wrapped_secret, _aad(institution.id, row.generation))
    except KeystoreError:
        # Wrong KEK or a row moved between institutions; say so without any detail.
        raise Busy(
            "signing_key_unavailable",
            "the institution's signing key cannot be decrypted with the configured "
            "key-encryption key",
        ) from None
    vm_id = urls.verification_method(ctx.settings.public_url, institution.slug, row.generation)
    key = Multikey.from_secret_bytes(
        row.algorithm, secret, controller=vm_id.split("#", 1)[0], id=vm_id
    )
    if key.public_key_multibase != row.public_key_multibase:
        raise Busy("signing_key_unavailable", "the stored key pair is inconsistent")
    ctx.cache_key(institution.id, row.generation, key)
    return key


def rotate(
    ctx: IssuerContext,
    session: Session,
    institution: Institution,
    *,
    key_type: str | None = None,
    compromised: bool = False,
) -> SigningKey:
    """Replace the current key; the old one becomes retired (or compromised).

    The generation counter on the institution row is bumped with a compare-and-set, so
    two rotations racing in two processes cannot both install a "current" key.
    """
    old = current_key_row(session, institution)
    generation = institution.key_generation
    result = session.execute(
        update(Institution)
        .where(
            col(Institution.id) == institution.id,
            col(Institution.key_generation) == generation,
        )
        .values(key_generation=generation + 1)
    )
    if rowcount(result) != 1:
        raise Conflict("rotation_conflict", "another key rotation happened meanwhile")
    session.execute(
        update(SigningKey)
        .where(col(SigningKey.id) == old.id)
        .values(state="compromised" if compromised else "retired", retired_at=ctx.now())
    )
    row = new_key(ctx, institution, generation + 1, key_type or old.algorithm)
    session.add(row)
    session.flush()
    institution.key_generation = generation + 1
    ctx.forget_keys(institution.id)
    return row


_MAX_INT = 2**31 - 1


def key_row(session: Session, institution: Institution, generation: int) -> SigningKey:
    """The institution's key of ``generation`` (any state).

    Raises ``NotFound`` (``unknown_key``) for a generation it never had.
    """
    if not 0 < generation <= _MAX_INT:  # beyond the column's range: PostgreSQL would fail
        raise NotFound("unknown_key", f"there is no key-{generation}")
    row = session.exec(
        select(SigningKey).where(
            SigningKey.institution_id == institution.id, SigningKey.generation == generation
        )
    ).first()
    if row is None:
        raise NotFound("unknown_key", f"there is no key-{generation}")
    return row


def mark_compromised(
    ctx: IssuerContext, session: Session, institution: Institution, generation: int
) -> SigningKey:
    """Take a retired key out of ``assertionMethod`` (the current key: rotate instead)."""
    row = key_row(session, institution, generation)
    if row.state == "current":
        raise Conflict("key_is_current", "rotate the key with compromised=true to replace it")
    row.state = "compromised"
    row.retired_at = row.retired_at or ctx.now()
    session.add(row)
    ctx.forget_keys(institution.id)
    return row


def did_document(ctx: IssuerContext, session: Session, institution: Institution) -> dict[str, Any]:
    """The did:web DID document: every key as a Multikey, the usable ones as assertion
    methods, the current one also for authentication."""
    did = urls.institution_did(ctx.settings.public_url, institution.slug)
    rows = session.exec(
        select(SigningKey)
        .where(SigningKey.institution_id == institution.id)
        .order_by(col(SigningKey.generation))
    ).all()
    methods = []
    assertion = []
    authentication = []
    for row in rows:
        vm_id = f"{did}#key-{row.generation}"
        methods.append(
            {
                "id": vm_id,
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": row.public_key_multibase,
            }
        )
        if row.state != "compromised":
            assertion.append(vm_id)
        if row.state == "current":
            authentication.append(vm_id)
    return {
        "@context": [DID_V1, MULTIKEY_V1],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": assertion,
        "authentication": authentication,
    }


def key_summaries(session: Session, institution: Institution) -> list[dict[str, Any]]:
    """Public facts about the keys (never the secret), for the admin API and the CLI."""
    rows = session.exec(
        select(SigningKey)
        .where(SigningKey.institution_id == institution.id)
        .order_by(col(SigningKey.generation))
    ).all()
    return [
        {
            "generation": row.generation,
            "verification_method": f"#key-{row.generation}",
            "algorithm": row.algorithm,
            "public_key_multibase": row.public_key_multibase,
            "state": row.state,
        }
        for row in rows
    ]


def rotate_key(
    ctx: IssuerContext,
    institution: Institution,
    *,
    actor: str,
    key_type: str | None = None,
    compromised: bool = False,
) -> list[dict[str, Any]]:
    """Rotate in its own transaction, with the audit event; the keys afterwards."""
    with ctx.db.session() as session:
        current = session.get(Institution, institution.id)
        assert current is not None
        row = rotate(ctx, session, current, key_type=key_type, compromised=compromised)
        audit.record(
            session,
            institution.id,
            actor,
            "key.rotate",
            ctx.now(),
            details={"generation": row.generation, "old_compromised": compromised},
        )
        session.flush()
        return key_summaries(session, current)


def compromise(
    ctx: IssuerContext, institution: Institution, generation: int, *, actor: str
) -> list[dict[str, Any]]:
    """Mark key ``generation`` compromised, audit it; the institution's key summaries.

    Raises ``NotFound`` (``unknown_key``) and ``Conflict`` (``key_is_current``: rotate
    with ``compromised=true`` instead). What it signed is re-issued by ``reissue``.
    """
    with ctx.db.session() as session:
        mark_compromised(ctx, session, institution, generation)
        audit.record(
            session,
            institution.id,
            actor,
            "key.compromise",
            ctx.now(),
            details={"generation": generation},
        )
        session.flush()
        return key_summaries(session, institution)


# --------------------------------------------------------------------------- KEK rotation


@dataclass
class Rewrapped:
    """Counts of a re-wrap run (never any key material)."""

    kek: str
    """Id of the KEK everything is wrapped under now (an id, not the key)."""
    total: int = 0
    rewrapped: int = 0
    already_current: int = 0
    offers_resealed: int = 0
    """Offers whose sealed learner data (H-9d) moved to the current KEK."""
    learner_refs_protected: int = 0
    """Issued credentials whose learner reference was (re-)hashed and sealed (H-9d)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "kek": self.kek,
            "total": self.total,
            "rewrapped": self.rewrapped,
            "already_current": self.already_current,
            "offers_resealed": self.offers_resealed,
            "learner_refs_protected": self.learner_refs_protected,
        }


def _kek_id(wrapped: str) -> str:
    """The id of the KEK a secret is wrapped under (``v1.<id>.<body>``)."""
    parts = wrapped.split(".", 2)
    return parts[1] if len(parts) == 3 else "?"


def rewrap_all(ctx: IssuerContext) -> Rewrapped:
    """Re-wrap every institution signing key under the current KEK, row by row.

    Refuses before changing anything when a key is wrapped under a KEK that is not
    loaded (``KeystoreError``: the operator dropped the old KEK too early). Idempotent:
    rows already under the current KEK are counted, not touched.
    """
    keystore = ctx.keystore
    with ctx.db.session() as session:
        # SQLAlchemy's own select: SQLModel's typed overloads stop at four columns
        rows = (
            session.execute(
                sa_select(
                    col(SigningKey.id),
                    col(SigningKey.institution_id),
                    col(SigningKey.generation),
                    col(SigningKey.wrapped_secret),
                    col(Institution.slug),
                )
                .join(Institution, col(Institution.id) == SigningKey.institution_id)
                .order_by(col(SigningKey.id))
            )
            .tuples()
            .all()
        )
    for _, _, generation, wrapped, slug in rows:
        if _kek_id(wrapped) not in keystore.keks:
            raise KeystoreError(
                f"key-{generation} of institution {slug} is wrapped under the key-encryption "
                f"key {_kek_id(wrapped)!r}, which is not configured: list it after the new "
                "one in MICROCRED_KEK (new,old) and run again"
            )
    report = Rewrapped(kek=keystore.current.id, total=len(rows))
    for row_id, institution_id, generation, wrapped, slug in rows:
        aad = _aad(institution_id, generation)
        for _ in range(3):  # another re-wrap may win the compare-and-set; re-read then
            if not keystore.needs_rewrap(wrapped):
                report.already_current += 1
                break
            try:
                fresh = keystore.rewrap(wrapped, aad)
            except KeystoreError:
                raise KeystoreError(
                    f"key-{generation} of institution {slug} does not decrypt with its "
                    "key-encryption key (tampered, or moved between rows)"
                ) from None
            with ctx.db.session() as session:
                done = session.execute(
                    update(SigningKey)
                    .where(col(SigningKey.id) == row_id, col(SigningKey.wrapped_secret) == wrapped)
                    .values(wrapped_secret=fresh)
                )
                if rowcount(done) == 1:
                    report.rewrapped += 1
                    break
                current = session.get(SigningKey, row_id)
                wrapped = current.wrapped_secret if current is not None else ""
            if not wrapped:
                report.total -= 1  # the row went (institution deleted) meanwhile
                break
    report.offers_resealed = personal.reseal_offers(ctx)
    report.learner_refs_protected = personal.protect_refs(ctx)
    return report
