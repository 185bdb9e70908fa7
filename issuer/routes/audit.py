"""The audit log of one institution (admin scope)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query

from ..deps import Admin, ServicesDep
from ..services import audit

router = APIRouter(tags=["audit"])


@router.get("/institutions/{slug}/audit")
def audit_log(
    ctx: ServicesDep,
    principal: Admin,
    action: str | None = None,
    credential_id: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before: int | None = Query(default=None, ge=1, le=2**31 - 1),  # a 500 when unbounded
    limit: int = Query(default=100, ge=1, le=1000),
) -> dict[str, Any]:
    """Newest first; pass ``next`` back as ``before`` for the following page."""
    with ctx.db.session() as session:
        events, cursor = audit.query(
            session,
            principal.institution.id,
            action=action,
            credential_id=credential_id,
            actor=actor,
            since=since,
            until=until,
            before=before,
            limit=limit,
        )
    return {"events": events, "next": cursor}
