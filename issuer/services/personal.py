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

import json
from typing import TYPE_CHECKING, Any

from sqlmodel import select

from credentials.keystore import Keystore

from ..models import Offer

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
        rows = session.exec(select(Offer.id, Offer.learner)).all()
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
