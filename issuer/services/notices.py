"""The status notice: what a learner's wallet shows next to a revoked or suspended credential.

A status list says only *that* a credential is revoked or suspended; the learner also
deserves to know *why* and *since when*. The registrar's reason (asked for on the
confirmation page of revoking and suspending, and on the status API) is read back from the
audit log, where the status change recorded it, so there is one source for it.

Privacy: the notice is public and keyed by the credential id alone. Whoever holds the
credential (the learner, and anyone the learner showed it to) knows that id and can read
the reason; nobody else can guess it (ids are random UUIDs unless an API client chose
them). That is why the console tells the registrar, next to the reason field, that the
learner and whoever holds the credential will read it, and why the notice carries no name,
no e-mail address, no student number and no actor: only status, reason and date.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from servicekit.errors import NotFound

from ..models import AuditEvent, IssuedCredential
from .clock import iso
from .context import IssuerContext

ACTION_OF = {"revoked": "credential.revoke", "suspended": "credential.suspend"}


def status_notice(ctx: IssuerContext, credential_id: str) -> dict[str, Any]:
    """``{"credential_id", "status", "reason", "since"}`` for a credential issued here."""
    with ctx.db.session() as session:
        rows = session.exec(
            select(IssuedCredential).where(IssuedCredential.credential_id == credential_id)
        ).all()
        if len(rows) != 1:  # unknown here, or (only with client-chosen ids) not unique
            raise NotFound("unknown_credential", "no credential with this id was issued here")
        row = rows[0]
        status = "revoked" if row.revoked_at else ("suspended" if row.suspended else "active")
        reason = None
        if status in ACTION_OF:
            event = session.exec(
                select(AuditEvent)
                .where(
                    AuditEvent.institution_id == row.institution_id,
                    AuditEvent.credential_id == credential_id,
                    AuditEvent.action == ACTION_OF[status],
                )
                .order_by(col(AuditEvent.id).desc())
            ).first()
            reason = event.reason if event is not None else None
        since = row.revoked_at if status == "revoked" else row.status_changed_at or row.issued_at
    return {"credential_id": credential_id, "status": status, "reason": reason, "since": iso(since)}
