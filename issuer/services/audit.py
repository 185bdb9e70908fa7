"""The audit log: who issued, revoked, suspended or changed what, when and why.

Events are written in the same transaction as the change they describe, so the log never
claims a change that was rolled back and never misses one that was committed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from ..models import AuditEvent
from .clock import aware, iso

ACTIONS = (
    "institution.create",
    "token.create",
    "token.revoke",
    "key.rotate",
    "key.compromise",
    "module.create",
    "module.update",
    "module.archive",
    "credential.issue",
    "credential.deliver_sd_jwt",  # issue 19: the same credential delivered as dc+sd-jwt
    "credential.revoke",
    "credential.suspend",
    "credential.unsuspend",
    "offer.create",
    "offer.cancel",
    "offer.accepted",
    "offer.failed",
    "offer.deleted",
    "offer.sweep",
    "batch.run",
    # issue 17: recognition (routes, accepted issuers, cases)
    "recognition.route_publish",
    "recognition.route_archive",
    "recognition.issuer_add",
    "recognition.issuer_remove",
    "recognition.request",
    "recognition.present",
    "recognition.approve",
    "recognition.auto_award",
    "recognition.decline",
    "recognition.more",
    "recognition.evidence_revoked",
    "cohort.deliver",  # issue 16: a cohort upload became one mailed offer per row
    "delivery.resend",
    "module.image",  # issue 16: a badge image uploaded for a module
)


def record(
    session: Session,
    institution_id: str,
    actor: str,
    action: str,
    at: datetime,
    *,
    credential_id: str | None = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Add one audit event to ``session`` (committed with the change it records).

    Raises ``ValueError`` for an action not in ``ACTIONS``: a programming error, not input.
    """
    if action not in ACTIONS:  # a typo here would make the log unsearchable
        raise ValueError(f"unknown audit action {action!r}")
    session.add(
        AuditEvent(
            institution_id=institution_id,
            at=at,
            actor=actor,
            action=action,
            credential_id=credential_id,
            reason=reason,
            details=details,
        )
    )


def event_rows(
    institution_id: str,
    actor: str,
    action: str,
    at: datetime,
    credential_ids: list[str],
    details: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Rows for a bulk insert (batch issuance writes thousands)."""
    return [
        {
            "institution_id": institution_id,
            "at": at,
            "actor": actor,
            "action": action,
            "credential_id": credential_id,
            "reason": None,
            "details": details,
        }
        for credential_id in credential_ids
    ]


def query(
    session: Session,
    institution_id: str,
    *,
    action: str | None = None,
    credential_id: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before: int | None = None,
    limit: int = 100,
) -> tuple[list[dict[str, Any]], int | None]:
    """Newest first; ``before`` is the cursor (an event id) from the previous page.
    Times without a zone are taken as UTC."""
    since, until = aware(since), aware(until)
    statement = select(AuditEvent).where(AuditEvent.institution_id == institution_id)
    if action:
        statement = statement.where(AuditEvent.action == action)
    if credential_id:
        statement = statement.where(AuditEvent.credential_id == credential_id)
    if actor:
        statement = statement.where(AuditEvent.actor == actor)
    if since:
        statement = statement.where(AuditEvent.at >= since)
    if until:
        statement = statement.where(AuditEvent.at < until)
    if before:
        statement = statement.where(col(AuditEvent.id) < before)
    rows = session.exec(statement.order_by(col(AuditEvent.id).desc()).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    events = [
        {
            "id": row.id,
            "at": iso(row.at),
            "actor": row.actor,
            "action": row.action,
            "credential_id": row.credential_id,
            "reason": row.reason,
            "details": row.details,
        }
        for row in rows
    ]
    return events, (rows[-1].id if more and rows else None)
