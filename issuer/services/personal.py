"""Personal data the issuer must keep and re-use, sealed under the KEK (issue 14, H-9d).

An offer keeps what the credential will say about its learner (e-mail address, student
number, name, result) until the wallet collects it, and a re-issue reads it again. A copy
of the database must not name those learners, so the JSON is stored sealed: AES-256-GCM
under the current key-encryption key, the associated data naming the offer (a sealed value
cannot be moved to another offer). The stored form is ``{"sealed": "v1.<kek>.<…>"}`` in the
same JSON column, so no schema change is needed; offers written before this change hold
plain JSON and are read as they are (lazy conversion: they are sealed when ``microcred
issuer rewrap`` runs, and in any case expire with their offer).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import update
from sqlmodel import col, select

from credentials import Keystore
from servicekit.db import rowcount

from ..models import IssuedCredential, Offer

if TYPE_CHECKING:
    from .context import IssuerContext

SEALED = "sealed"


def _aad(offer_id: str) -> str:
    return f"microcred-issuer:offer-learner:{offer_id}"


def seal(keystore: Keystore, offer_id: str, data: dict[str, Any]) -> dict[str, str]:
    """``data`` encrypted for the offers table row ``offer_id``."""
    plain = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    return {SEALED: keystore.wrap(plain, _aad(offer_id))}


def is_sealed(stored: Any) -> bool:
    return isinstance(stored, dict) and set(stored) == {SEALED}


def unseal(keystore: Keystore, offer_id: str, stored: dict[str, Any]) -> dict[str, Any]:
    """The offer's learner JSON, whether sealed or written before sealing existed."""
    if not is_sealed(stored):
        return stored
    data = json.loads(keystore.unwrap(stored[SEALED], _aad(offer_id)))
    assert isinstance(data, dict)
    return data


def reseal(keystore: Keystore, offer_id: str, stored: dict[str, Any]) -> dict[str, str] | None:
    """The value to store after a KEK change (or for a plain row), or None if current."""
    if is_sealed(stored) and not keystore.needs_rewrap(stored[SEALED]):
        return None
    return seal(keystore, offer_id, unseal(keystore, offer_id, stored))


def reseal_offers(ctx: IssuerContext) -> int:
    """Seal every offer's learner JSON under the current KEK (plain rows written before
    sealing existed, and rows under an older KEK); returns how many rows changed.

    Part of the KEK re-wrap run, so that dropping an old KEK never strands a pending
    offer. A row changed meanwhile (collected, cancelled) is compared and left alone.
    """
    changed = 0
    with ctx.db.session() as session:
        rows = session.exec(select(col(Offer.id), col(Offer.learner))).all()
    for offer_id, stored in rows:
        fresh = reseal(ctx.keystore, offer_id, stored)
        if fresh is None:
            continue
        with ctx.db.session() as session:
            row = session.get(Offer, offer_id)
            if row is not None and row.learner == stored:
                row.learner = fresh
                changed += 1
    return changed


# --------------------------------------------------------------------------- learner refs
#
# ``learner_ref`` (student number, e-mail address or holder DID) is how the registrar finds
# a learner's credentials again. It is stored as a keyed hash, ``h1.<kek id>.<hex>``:
# HMAC-SHA256 under a key derived from a KEK, over the institution id and the value, so a
# copy of the database gives no list of student numbers, the same learner at two
# institutions gets unrelated hashes, and a low-entropy student number cannot be tried
# without the KEK. The value itself, which the registrar is shown, is kept sealed
# (``learner_sealed``). A search hashes the wanted value under every loaded KEK (one hash
# each) and also tries it plain, for rows written before this change (lazy conversion:
# ``rewrap-keys`` converts them).

REF_PREFIX = "h1."


def _ref_key(kek_key: bytes) -> bytes:
    return hmac.new(kek_key, b"microcred-issuer:learner-ref-key", hashlib.sha256).digest()


def ref_hash(keystore: Keystore, institution_id: str, ref: str, kek_id: str | None = None) -> str:
    """The keyed hash stored for ``ref`` (under the current KEK unless ``kek_id``)."""
    kek = keystore.keks[kek_id] if kek_id else keystore.current
    digest = hmac.new(
        _ref_key(kek.key), f"{institution_id}\n{ref}".encode(), hashlib.sha256
    ).hexdigest()
    return f"{REF_PREFIX}{kek.id}.{digest}"


def ref_candidates(keystore: Keystore, institution_id: str, ref: str) -> list[str]:
    """Every stored form ``ref`` can have: its hash under each loaded KEK, and plain."""
    return [ref_hash(keystore, institution_id, ref, k) for k in keystore.keks] + [ref]


def _ref_aad(institution_id: str) -> str:
    return f"microcred-issuer:learner-ref:{institution_id}"


def protect_ref(
    keystore: Keystore, institution_id: str, ref: str | None
) -> tuple[str | None, str | None]:
    """(keyed hash, sealed value) to store for ``ref``."""
    if ref is None:
        return None, None
    sealed = keystore.wrap(ref.encode(), _ref_aad(institution_id))
    return ref_hash(keystore, institution_id, ref), sealed


def show_ref(
    keystore: Keystore, institution_id: str, stored: str | None, sealed: str | None
) -> str | None:
    """The learner reference as given, from a protected row or a plain (older) one."""
    if sealed:
        return keystore.unwrap(sealed, _ref_aad(institution_id)).decode()
    if stored and stored.startswith(REF_PREFIX):
        return None  # hashed without a sealed value: nothing to show
    return stored


def protect_refs(ctx: IssuerContext) -> int:
    """Hash and seal the ``learner_ref`` of issued credentials under the current KEK: plain
    rows written before this change, and rows under an older KEK. Returns rows changed."""
    keystore = ctx.keystore
    current = f"{REF_PREFIX}{keystore.current.id}."
    changed = 0
    with ctx.db.session() as session:
        rows = session.exec(
            select(
                IssuedCredential.id,
                IssuedCredential.institution_id,
                IssuedCredential.learner_ref,
                IssuedCredential.learner_sealed,
            ).where(col(IssuedCredential.learner_ref).is_not(None))
        ).all()
    for row_id, institution_id, stored, sealed in rows:
        if stored is None:  # the query leaves these out; this tells the type checker
            continue
        if stored.startswith(current) and (sealed is None or not keystore.needs_rewrap(sealed)):
            continue
        plain = show_ref(keystore, institution_id, stored, sealed)
        if plain is None:
            continue
        ref, fresh = protect_ref(keystore, institution_id, plain)
        with ctx.db.session() as session:
            done = session.execute(
                update(IssuedCredential)
                .where(
                    col(IssuedCredential.id) == row_id,
                    col(IssuedCredential.learner_ref) == stored,
                )
                .values(learner_ref=ref, learner_sealed=fresh)
            )
            changed += rowcount(done)
    return changed + _protect_row_keys(ctx)


def _protect_row_keys(ctx: IssuerContext) -> int:
    """Hash the batch row keys stored plain before H-9d (look-ups go by credential id, so
    the hash need never be recomputed: it stays under whichever KEK made it)."""
    changed = 0
    with ctx.db.session() as session:
        rows = session.exec(
            select(
                IssuedCredential.id,
                IssuedCredential.institution_id,
                IssuedCredential.batch_id,
                IssuedCredential.row_key,
            ).where(
                col(IssuedCredential.row_key).is_not(None),
                col(IssuedCredential.row_key).not_like(f"{REF_PREFIX}%"),
            )
        ).all()
    for row_id, institution_id, batch_id, row_key in rows:
        tag = ref_hash(ctx.keystore, institution_id, f"row:{batch_id}:{row_key}")
        with ctx.db.session() as session:
            done = session.execute(
                update(IssuedCredential)
                .where(col(IssuedCredential.id) == row_id, col(IssuedCredential.row_key) == row_key)
                .values(row_key=tag)
            )
            changed += rowcount(done)
    return changed
