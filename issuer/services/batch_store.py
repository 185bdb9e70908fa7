"""Storing a signed chunk of a cohort: one transaction per chunk, row by row on a collision.

Why per chunk, and why a collision falls back to savepoints, is told in :mod:`.batch`;
this module is the database side of it (records, audit events, the (batch, row key)
constraint that makes a repeated run store nothing twice).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert
from sqlalchemy.exc import IntegrityError

from ..models import AuditEvent, Batch, Institution, IssuedCredential
from ..models import Module as ModuleRow
from . import audit, compose, issuance, personal, status_lists
from .batch_csv import Row, RowReport
from .context import IssuerContext


@dataclass(frozen=True)
class _Target:
    """What every stored row of one run shares."""

    institution: Institution
    module: ModuleRow
    batch: Batch
    generation: int
    """The signing key's generation."""
    actor: str


def _store_chunk(
    connection: Connection,
    ctx: IssuerContext,
    target: _Target,
    rows: list[Row],
    outcomes: list[compose.Outcome],
    slots: dict[str, status_lists.Slot],
    unused: list[str],
) -> list[RowReport]:
    """Store one signed chunk; the rows' reports. Ids whose slot is not used go to
    ``unused``."""
    reports: list[RowReport] = []
    signed: list[compose.Outcome] = []
    for outcome in outcomes:
        if outcome.ok:
            signed.append(outcome)
            continue
        unused.append(outcome.credential_id)
        error = {"code": outcome.code, "message": outcome.message}
        if outcome.field:
            error["field"] = outcome.field
        row = rows[outcome.row]
        reports.append(RowReport(row.line, row.row_key, "failed", error=error))
    statuses = _store_signed(connection, ctx, target, rows, signed, slots)
    for outcome in signed:
        row = rows[outcome.row]
        status = statuses[outcome.credential_id]
        if status != "issued":
            unused.append(outcome.credential_id)
        issued_id = outcome.credential_id if status == "issued" else None
        reports.append(RowReport(row.line, row.row_key, status, credential_id=issued_id))
    return reports


def _store_signed(
    connection: Connection,
    ctx: IssuerContext,
    target: _Target,
    rows: list[Row],
    signed: list[compose.Outcome],
    slots: dict[str, status_lists.Slot],
) -> dict[str, str]:
    """Credential id → ``issued`` or ``already_issued``, in one transaction for the chunk.

    The credentials and their audit events go in as two parameter lists (an
    ``executemany``: one short statement prepared once, the rows pipelined) and the chunk
    is committed once — an fsync on PostgreSQL — instead of four statements and a
    savepoint per row. Rows stored by earlier runs were left out before signing, so a
    duplicate here means a concurrent run of the same batch stored some of these rows
    meanwhile; then the chunk is rolled back and stored again row by row, each row in its
    own savepoint, and the rows the other run won are reported ``already_issued``.
    """
    if not signed:
        return {}
    now = ctx.now()
    records = [_record(ctx, target, rows[o.row], o, slots[o.credential_id], now) for o in signed]
    try:
        with connection.begin():
            # SQLModel sets __table__ on table models when the class is made; its type hints
            # do not declare it
            connection.execute(insert(IssuedCredential.__table__), records)  # type: ignore[attr-defined]
            connection.execute(
                insert(AuditEvent.__table__),  # type: ignore[attr-defined]
                _issue_events(target, now, [o.credential_id for o in signed]),
            )
    except IntegrityError:
        with connection.begin():
            return {r["credential_id"]: _store_record(connection, target, r) for r in records}
    return {o.credential_id: "issued" for o in signed}


def _record(
    ctx: IssuerContext,
    target: _Target,
    row: Row,
    outcome: compose.Outcome,
    slot: status_lists.Slot,
    now: datetime,
) -> dict[str, Any]:
    """The ``issued_credentials`` row of one signed batch row."""
    # keyed hash + sealed value, never the plain student number or e-mail (H-9d)
    ref, sealed = personal.protect_ref(ctx.keystore, target.institution.id, row.learner.reference)
    return {
        "credential_id": outcome.credential_id,
        "institution_id": target.institution.id,
        "module_id": target.module.id,
        "learner_ref": ref,
        "learner_sealed": sealed,
        "learner_alt_ref": personal.protect_ref(
            ctx.keystore, target.institution.id, issuance.alt_reference(row.learner)
        )[0],
        "holder_did": row.learner.did,
        "document": outcome.document,
        "status_list_id": slot.list_id,
        "status_index": slot.index,
        "key_generation": target.generation,
        "source": "batch",
        "batch_id": target.batch.id,
        # a keyed hash, unique within the batch like the key (the key is a student number
        # or e-mail by default); look-ups go by credential id, so a KEK change is harmless
        "row_key": personal.ref_hash(
            ctx.keystore, target.institution.id, f"row:{target.batch.id}:{row.row_key}"
        ),
        "row_hash": row.row_hash,
        "issued_at": now,
        "suspended": False,
    }


def _issue_events(
    target: _Target, now: datetime, credential_ids: list[str]
) -> list[dict[str, Any]]:
    """The ``credential.issue`` audit rows, written in the same transaction as the
    credentials they describe."""
    return audit.event_rows(
        target.institution.id,
        target.actor,
        "credential.issue",
        now,
        credential_ids,
        {"source": "batch", "module": target.module.id, "batch": target.batch.id},
    )


def _store_record(connection: Connection, target: _Target, record: dict[str, Any]) -> str:
    """One row, one savepoint: the credential and its audit event, or nothing."""
    try:
        with connection.begin_nested():
            # __table__: set by SQLModel at class creation, not in its type hints (as above)
            connection.execute(insert(IssuedCredential.__table__), record)  # type: ignore[attr-defined]
            connection.execute(
                insert(AuditEvent.__table__),  # type: ignore[attr-defined]
                _issue_events(target, record["issued_at"], [record["credential_id"]]),
            )
    except IntegrityError:
        return "already_issued"  # a concurrent run of the same batch stored this row key
    return "issued"
