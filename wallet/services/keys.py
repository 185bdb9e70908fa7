"""The learner's holder key: did:key (Ed25519), created at registration, encrypted at rest.

Credentials are bound to this DID by the issuer (OpenID4VCI proof of possession) and every
presentation is signed with it, so it never leaves the wallet: it is wrapped with AES-GCM
under the key-encryption key, with the learner id as associated data so that a wrapped key
copied into another learner's row does not decrypt. An export never contains it.

Share tokens are wrapped the same way (the share id as associated data). KEK rotation
re-wraps both, row by row (:meth:`HolderKeys.rewrap_all`), while the running wallet holds
the old and the new KEK (``MICROCRED_KEK=new,old``) and keeps working.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Mapped
from sqlmodel import col, select

from credentials import Keystore, KeystoreError, Multikey
from servicekit.db import Database, rowcount

from ..models import Learner, Share


def _aad(learner_id: str) -> str:
    return f"microcred-wallet:holder-key:{learner_id}"


def _share_aad(share_id: str) -> str:
    return f"microcred-wallet:share:{share_id}"


# one table whose rows hold a KEK-wrapped secret: label, model, column, associated data
_Wrapped = tuple[str, type[Learner] | type[Share], Mapped[str | None], Callable[[str], str]]


class HolderKeys:
    def __init__(self, keystore: Keystore) -> None:
        self.keystore = keystore

    def create(self, learner_id: str) -> tuple[str, str]:
        """A new Ed25519 key for ``learner_id``: (its did:key, the wrapped secret)."""
        key = Multikey.generate("Ed25519")
        return key.controller, self.keystore.wrap(key.secret_bytes(), _aad(learner_id))

    def wrap_secret(self, learner_id: str, key: Multikey) -> str:
        """``key`` wrapped for ``learner_id`` (a key restored from an encrypted backup)."""
        return self.keystore.wrap(key.secret_bytes(), _aad(learner_id))

    def key_for(self, learner: Learner) -> Multikey:
        """The learner's key pair, unwrapped for one signing operation."""
        secret = self.keystore.unwrap(learner.wrapped_key, _aad(learner.id))
        return Multikey.from_secret_bytes("Ed25519", secret)

    def wrap_token(self, token: str, owner: str) -> str:
        """Wrap a share token so only the wallet (for its owner) can show the link again."""
        return self.keystore.wrap(token.encode(), _share_aad(owner))

    def unwrap_token(self, wrapped: str, owner: str) -> str:
        return self.keystore.unwrap(wrapped, _share_aad(owner)).decode()

    def rewrap_all(self, db: Database) -> dict[str, Any]:
        """Re-wrap every holder key and share token under the current KEK.

        Refuses (``KeystoreError``) before changing anything when a secret is wrapped under
        a KEK that is not loaded. Each row is its own transaction, with a compare-and-set
        on the wrapped value, so the running wallet is never blocked and a concurrent
        change is never overwritten; rows already under the current KEK are left alone.
        Returns counts only.
        """
        tables: tuple[_Wrapped, ...] = (
            ("holder keys", Learner, col(Learner.wrapped_key), _aad),
            ("share tokens", Share, col(Share.token_wrapped), _share_aad),
        )
        plans = []
        for label, model, column, aad in tables:
            with db.session() as session:
                found = session.exec(
                    select(col(model.id), column).where(column.is_not(None)).order_by(col(model.id))
                ).all()
            rows = [(row_id, wrapped) for row_id, wrapped in found if wrapped is not None]
            for row_id, wrapped in rows:
                kek = wrapped.split(".", 2)[1] if wrapped.count(".") >= 2 else "?"
                if kek not in self.keystore.keks:
                    raise KeystoreError(
                        f"{label}: {row_id} is wrapped under the key-encryption key {kek!r}, "
                        "which is not configured: list it after the new one in MICROCRED_KEK "
                        "(new,old) and run again"
                    )
            plans.append((label, model, column, aad, rows))
        report: dict[str, Any] = {"kek": self.keystore.current.id}
        for label, model, column, aad, rows in plans:
            counts = {"total": len(rows), "rewrapped": 0, "already_current": 0}
            for row_id, wrapped in rows:
                if not self.keystore.needs_rewrap(wrapped):
                    counts["already_current"] += 1
                    continue
                fresh = self.keystore.rewrap(wrapped, aad(row_id))
                with db.session() as session:
                    done = session.execute(
                        update(model)
                        .where(col(model.id) == row_id, column == wrapped)
                        .values({column: fresh})
                    )
                # a lost compare-and-set: the row was deleted or re-wrapped meanwhile
                counts["rewrapped" if rowcount(done) == 1 else "already_current"] += 1
            report[label.replace(" ", "_")] = counts
        return report
