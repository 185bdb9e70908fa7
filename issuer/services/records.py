"""Reading back what was issued: one credential with its status, or a filtered list.

For the registrar's screens and integrations ("which credentials did student 123456 get?",
"revoke the one for module X"); the stored document is returned exactly as signed.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from servicekit.errors import NotFound

from ..models import Institution, IssuedCredential
from ..models import Module as ModuleRow
from . import personal, status_lists
from .clock import iso
from .context import IssuerContext


def get(ctx: IssuerContext, institution: Institution, credential_id: str) -> dict[str, Any]:
    """The summary of an issued credential with the signed document (``verifiableCredential``).

    Raises ``NotFound`` (``unknown_credential``) for a credential of no or another
    institution.
    """
    with ctx.db.session() as session:
        row = session.exec(
            select(IssuedCredential).where(
                IssuedCredential.credential_id == credential_id,
                IssuedCredential.institution_id == institution.id,
            )
        ).first()
        if row is None:
            raise NotFound("unknown_credential", f"no credential {credential_id} here")
        return {**summary(ctx, row), "verifiableCredential": json.loads(row.document)}


def listing(
    ctx: IssuerContext,
    institution: Institution,
    *,
    learner: str | None = None,
    module: str | None = None,
    before: int | None = None,
    limit: int = 100,
) -> dict[str, Any]:
    """Newest first, ``limit`` per page; ``next`` is the cursor for the following page."""
    with ctx.db.session() as session:
        statement = select(IssuedCredential).where(
            IssuedCredential.institution_id == institution.id
        )
        if learner:
            # stored as a keyed hash (H-9d): look for its hash under each loaded KEK, and
            # for the plain value in rows from before hashing
            candidates = personal.ref_candidates(ctx.keystore, institution.id, learner)
            if "@" in learner:  # e-mail addresses are stored lower-cased
                candidates += personal.ref_candidates(ctx.keystore, institution.id, learner.lower())
            statement = statement.where(
                or_(
                    col(IssuedCredential.learner_ref).in_(candidates),
                    col(IssuedCredential.learner_alt_ref).in_(candidates),
                )
            )
        if module:
            module_row = session.exec(
                select(ModuleRow).where(
                    ModuleRow.institution_id == institution.id, ModuleRow.slug == module
                )
            ).first()
            statement = statement.where(
                IssuedCredential.module_id == (module_row.id if module_row else -1)
            )
        rows, cursor = page(session, statement, before=before, limit=limit)
    return {"credentials": [summary(ctx, row) for row in rows], "next": cursor}


def page(
    session: Session, statement: Any, *, before: int | None, limit: int
) -> tuple[list[IssuedCredential], int | None]:
    """One page of ``statement`` (a select of issued credentials), newest first, and the
    cursor for the next page: every credential listing pages the same way."""
    if before:
        statement = statement.where(col(IssuedCredential.id) < before)
    rows = list(
        session.exec(statement.order_by(col(IssuedCredential.id).desc()).limit(limit + 1)).all()
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)


def summary(ctx: IssuerContext, row: IssuedCredential) -> dict[str, Any]:
    """An issued-credential row as the API lists it: status, learner reference (unsealed
    for display), holder, source and dates; no credential document.
    """
    return {
        **status_lists.state(row),
        "learner_ref": personal.show_ref(
            ctx.keystore, row.institution_id, row.learner_ref, row.learner_sealed
        ),
        "holder": row.holder_did,
        "source": row.source,
        "issued_at": iso(row.issued_at),
        "revoked_at": iso(row.revoked_at),
        "status_list": row.status_list_id,
        "status_index": row.status_index,
    }
