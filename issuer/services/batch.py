"""Cohort issuance from a CSV file: one module, one row per learner, a report per row.

CSV format (UTF-8, optional BOM; comma, semicolon or tab separated; header row required,
column names case-insensitive, order free):

=================  ========================================================================
``email``           learner e-mail address (hashed into the credential)
``student_number``  learner student number (hashed into the credential)
``did``             holder DID (becomes ``credentialSubject.id``)
``grade``           result, e.g. ``8`` or ``7,5`` (checked against the module's scale)
``awarded_date``    ``2025-06-30`` or a date-time with zone; default: today
``result_status``   OB result status (Completed, Provisional, …)
``row_key``         what makes the row unique within the batch; default: student number,
                    else e-mail, else DID
=================  ========================================================================

At least one of ``email``, ``student_number`` and ``did`` per row. Unknown columns are
refused (a misspelt column would silently drop data).

How a run goes. The file is parsed and every row validated first (file-level problems
reject the whole upload before anything is stored). The batch is found or created by its
idempotency key (default: the file's SHA-256); rows whose key was already issued in an
earlier run are reported ``already_issued`` (or ``conflict`` when the row now says
something else — re-issuing a changed result is a revocation plus a new credential, a
decision for the registrar, not for a re-run). Status slots for the remaining rows are
claimed in bulk, the credentials are composed and signed in worker processes (the CPU-bound
part), and each signed credential is then stored atomically — in its own savepoint, inside
one transaction per signed chunk — together with its audit event and its (batch, row key),
the unique constraint that makes a concurrent or repeated run issue nothing twice. A row
that fails anywhere gets its slot back and leaves nothing behind.

Why savepoints and not a transaction per row: a row is just as atomic either way, but a
commit on PostgreSQL waits for the WAL to reach the disk (about 5 ms here), which alone
capped a 10,000-row batch at ~100 rows/s; per chunk it costs nothing noticeable. A crash
in the middle of a chunk loses that chunk's rows, whole, and the re-run issues them.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from servicekit.problems import ProblemError

from ..models import AuditEvent, Batch, Institution, IssuedCredential
from ..models import Module as ModuleRow
from ..schemas import LearnerIn, ResultIn, validate
from . import audit, compose, institutions, issuance, keys, status_lists, urls
from .context import IssuerContext

COLUMNS = ("email", "student_number", "did", "grade", "awarded_date", "result_status", "row_key")
IDENTITY_COLUMNS = ("email", "student_number", "did")
_RESULT_FIELDS = {"grade": "grade", "awarded_date": "awarded_date", "status": "result_status"}
CHUNK = 100
"""Rows per signing task: large enough to amortise inter-process overhead, small enough
that storing can start while the rest is still being signed."""
INLINE_BELOW = 2 * CHUNK
"""Smaller batches are signed in this process: starting workers would cost more."""

Progress = Callable[[int, int], None]


@dataclass
class Row:
    line: int
    row_key: str
    learner: LearnerIn
    result: ResultIn | None
    row_hash: str


@dataclass
class RowReport:
    row: int
    row_key: str | None
    status: str
    """issued, already_issued, conflict or failed."""
    credential_id: str | None = None
    error: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"row": self.row, "row_key": self.row_key, "status": self.status}
        if self.credential_id:
            out["credential_id"] = self.credential_id
        if self.error:
            out["error"] = self.error
        return out


@dataclass
class Parsed:
    rows: list[Row] = field(default_factory=list)
    failed: list[RowReport] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.rows) + len(self.failed)


# --------------------------------------------------------------------------- parsing


def parse_csv(data: bytes, *, max_rows: int) -> Parsed:
    """Every row validated; a problem with the file itself is a 400 for the whole upload."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ProblemError(400, "csv_encoding", "the CSV file must be UTF-8") from None
    header_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=header_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader, None)
        if not header or not any(cell.strip() for cell in header):
            raise ProblemError(400, "csv_empty", "the CSV file has no header row")
        columns = [cell.strip().lower().replace(" ", "_").replace("-", "_") for cell in header]
        unknown = [c for c in columns if c not in COLUMNS]
        if unknown:
            raise ProblemError(
                400,
                "csv_unknown_column",
                f"unknown column(s) {', '.join(map(repr, unknown))}; the columns are "
                + ", ".join(COLUMNS),
            )
        if len(set(columns)) != len(columns):
            raise ProblemError(400, "csv_duplicate_column", "a column appears twice")
        if not set(columns) & set(IDENTITY_COLUMNS):
            raise ProblemError(
                400,
                "csv_missing_column",
                "the CSV needs at least one of the columns email, student_number, did",
            )
        parsed = Parsed()
        seen: set[str] = set()
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            if parsed.total >= max_rows:
                raise ProblemError(
                    413, "batch_too_large", f"a batch may have at most {max_rows} rows"
                )
            line = reader.line_num
            if len(values) != len(columns):
                parsed.failed.append(
                    _failed(line, None, "csv_row_shape", None, f"expected {len(columns)} fields")
                )
                continue
            row = _row(line, dict(zip(columns, (v.strip() for v in values), strict=True)))
            if isinstance(row, RowReport):
                parsed.failed.append(row)
            elif row.row_key in seen:
                parsed.failed.append(
                    _failed(line, row.row_key, "duplicate_row_key", "row_key", "seen earlier")
                )
            else:
                seen.add(row.row_key)
                parsed.rows.append(row)
    except csv.Error as exc:
        raise ProblemError(400, "csv_malformed", f"line {reader.line_num}: {exc}") from None
    if parsed.total == 0:
        raise ProblemError(400, "csv_empty", "the CSV file has no rows")
    return parsed


def _row(line: int, cells: dict[str, str]) -> Row | RowReport:
    learner_data = {k: cells[k] for k in IDENTITY_COLUMNS if cells.get(k)}
    result_data = {
        name: cells[column] for name, column in _RESULT_FIELDS.items() if cells.get(column)
    }
    try:
        learner = validate(LearnerIn, learner_data)
        result = validate(ResultIn, result_data) if result_data else None
    except ProblemError as exc:
        first = (exc.extra.get("errors") or [{}])[0]
        column = first.get("field", "")
        column = _RESULT_FIELDS.get(column, column)
        key = cells.get("row_key") or None
        return _failed(line, key, "invalid_row", column or None, first.get("message", exc.detail))
    row_key = cells.get("row_key") or learner.reference
    if len(row_key) > 200:
        return _failed(line, row_key[:200], "invalid_row", "row_key", "longer than 200")
    digest = hashlib.sha256(
        json.dumps(
            [learner.model_dump(), result.model_dump(mode="json") if result else None],
            sort_keys=True,
        ).encode()
    ).hexdigest()
    return Row(line, row_key, learner, result, digest)


def _failed(
    line: int, row_key: str | None, code: str, column: str | None, message: str
) -> RowReport:
    error: dict[str, Any] = {"code": code, "message": message}
    if column:
        error["field"] = column
    return RowReport(line, row_key, "failed", error=error)


# --------------------------------------------------------------------------- running


def run(
    ctx: IssuerContext,
    institution: Institution,
    module_slug: str,
    data: bytes,
    *,
    actor: str,
    idempotency_key: str | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Issue the module to every row of the CSV ``data``; the per-row report."""
    started = time.perf_counter()
    parsed = parse_csv(data, max_rows=ctx.settings.max_batch_rows)
    key = idempotency_key or "sha256:" + hashlib.sha256(data).hexdigest()
    if not key or len(key) > 200 or not key.isprintable():
        raise ProblemError(
            400, "invalid_idempotency_key", "Idempotency-Key must be 1-200 printable characters"
        )
    with ctx.db.session() as session:
        module = issuance.module_row(session, institution, module_slug)
    batch = _batch(ctx, institution, module, key, actor)
    reports: list[RowReport] = list(parsed.failed)
    with ctx.db.session() as session:
        earlier = {
            r.row_key: (r.row_hash, r.credential_id)
            for r in session.exec(
                select(IssuedCredential).where(IssuedCredential.batch_id == batch.id)
            ).all()
        }
    grading = module.definition.get("grading")
    pending: list[Row] = []
    for row in parsed.rows:
        if row.row_key in earlier:
            digest, credential_id = earlier[row.row_key]
            status = "already_issued" if digest == row.row_hash else "conflict"
            report = RowReport(row.line, row.row_key, status, credential_id=credential_id)
            if status == "conflict":
                report.error = {
                    "code": "row_changed",
                    "message": "this row key was issued earlier with other data; revoke that "
                    "credential and issue anew if the change is intended",
                }
            reports.append(report)
            continue
        try:
            issuance.check_grade(grading, row.result)
        except ProblemError as exc:
            message = (exc.extra.get("errors") or [{"message": exc.detail}])[0]["message"]
            reports.append(_failed(row.line, row.row_key, "invalid_row", "grade", message))
            continue
        pending.append(row)
    total = parsed.total
    done = total - len(pending)
    if progress:
        progress(done, total)
    if pending:
        reports.extend(
            _issue_rows(ctx, institution, module, batch, pending, actor, done, total, progress)
        )
    reports.sort(key=lambda r: r.row)
    counts = {
        status: sum(1 for r in reports if r.status == status)
        for status in ("issued", "already_issued", "conflict", "failed")
    }
    seconds = time.perf_counter() - started
    summary = {
        "batch_id": batch.id,
        "idempotency_key": key,
        "module_id": module.slug,
        "total": total,
        "counts": counts,
        "seconds": round(seconds, 3),
        "rows_per_second": round(total / seconds, 1) if seconds > 0 else None,
    }
    with ctx.db.session() as session:
        row = session.get(Batch, batch.id)
        assert row is not None
        row.runs += 1
        row.last_run_at = ctx.now()
        row.last_report = summary
        session.add(row)
        audit.record(session, institution.id, actor, "batch.run", ctx.now(), details=summary)
    return {**summary, "rows": [r.to_dict() for r in reports]}


def _batch(
    ctx: IssuerContext, institution: Institution, module: ModuleRow, key: str, actor: str
) -> Batch:
    for _ in range(2):
        with ctx.db.session() as session:
            batch = session.exec(
                select(Batch).where(
                    Batch.institution_id == institution.id, Batch.idempotency_key == key
                )
            ).first()
        if batch is not None:
            if batch.module_id != module.id:
                raise ProblemError(
                    409,
                    "idempotency_key_reused",
                    "this idempotency key belongs to a batch of another module; nothing was issued",
                )
            return batch
        try:
            with ctx.db.session() as session:
                batch = Batch(
                    institution_id=institution.id,
                    idempotency_key=key,
                    module_id=module.id,
                    created_at=ctx.now(),
                    created_by=actor,
                )
                session.add(batch)
            return batch
        except IntegrityError:
            continue  # created by a concurrent upload of the same batch: use that one
    raise ProblemError(409, "batch_conflict", "the batch could not be registered; try again")


def _issue_rows(
    ctx: IssuerContext,
    institution: Institution,
    module: ModuleRow,
    batch: Batch,
    rows: list[Row],
    actor: str,
    done: int,
    total: int,
    progress: Progress | None,
) -> list[RowReport]:
    public_url = ctx.settings.public_url
    now = ctx.now().replace(microsecond=0)
    with ctx.db.session() as session:
        key, generation = keys.signer(ctx, session, institution)
    credential_ids = [_credential_id(institution, batch, row) for row in rows]
    slots: dict[str, status_lists.Slot] = {}
    for start in range(0, len(rows), 2000):
        with ctx.db.session() as session:  # committed: claims survive into the row stores
            wanted = credential_ids[start : start + 2000]
            # a run that died (SIGKILL, lost database) left its claims behind under these
            # same ids: take them over instead of leaking them and claiming new ones
            reused = status_lists.claimed(session, wanted)
            slots.update(reused)
            slots.update(
                status_lists.allocate(
                    ctx, session, institution, [c for c in wanted if c not in reused]
                )
            )
    jobs = [
        compose.Job(
            row=index,
            credential_id=cid,
            learner=compose.LearnerSpec(r.learner.email, r.learner.student_number, r.learner.did),
            result=compose.ResultSpec(r.result.grade, r.result.awarded_date, r.result.status)
            if r.result
            else None,
            valid_from=now,
            status_entries=status_lists.entries(public_url, institution.slug, slots[cid]),
        )
        for index, (r, cid) in enumerate(zip(rows, credential_ids, strict=True))
    ]
    profile = institutions.profile(ctx, institution)
    definition = compose.module_definition(
        urls.module_url(public_url, institution.slug, module.slug), module.definition
    )
    grading = module.definition.get("grading")
    material = compose.KeyMaterial.of(key)
    reports: list[RowReport] = []
    unused: list[str] = []
    with ctx.db.engine.connect() as connection:
        for outcomes in _signed(ctx, profile, definition, grading, material, now, jobs):
            # One transaction per signed chunk, one savepoint per row: a row is stored
            # whole or not at all, and the commit (an fsync on PostgreSQL, ~5 ms) is paid
            # per chunk instead of per row.
            with connection.begin():
                for outcome in outcomes:
                    row = rows[outcome.row]
                    if not outcome.ok:
                        unused.append(outcome.credential_id)
                        error = {"code": outcome.code, "message": outcome.message}
                        if outcome.field:
                            error["field"] = outcome.field
                        reports.append(RowReport(row.line, row.row_key, "failed", error=error))
                        continue
                    status = _store_row(
                        connection,
                        ctx,
                        institution,
                        module,
                        batch,
                        row,
                        outcome,
                        slots,
                        generation,
                        actor,
                    )
                    if status != "issued":
                        unused.append(outcome.credential_id)
                    reports.append(
                        RowReport(
                            row.line,
                            row.row_key,
                            status,
                            credential_id=outcome.credential_id if status == "issued" else None,
                        )
                    )
            done += len(outcomes)
            if progress:
                progress(done, total)
    if unused:
        with ctx.db.session() as session:
            status_lists.release_claims(session, [(cid, slots[cid]) for cid in unused])
    return reports


def _credential_id(institution: Institution, batch: Batch, row: Row) -> str:
    """The id a batch row's credential gets, the same on every run of the batch.

    Deterministic so that a re-run after a crash reuses the status slots the crashed run
    claimed. Derived under a namespace from the institution and the batch's idempotency key
    (by default the file's SHA-256), so ids reveal nothing about the learner's row key.
    """
    namespace = uuid.uuid5(
        uuid.NAMESPACE_URL, f"{institution.id}:{batch.id}:{batch.idempotency_key}"
    )
    return f"urn:uuid:{uuid.uuid5(namespace, row.row_key)}"


def _signed(
    ctx: IssuerContext,
    profile: Any,
    definition: Any,
    grading: dict[str, Any] | None,
    material: compose.KeyMaterial,
    created: Any,
    jobs: list[compose.Job],
) -> Iterator[list[compose.Outcome]]:
    """Signed outcomes chunk by chunk, in order; in worker processes when it pays."""
    chunks = [jobs[i : i + CHUNK] for i in range(0, len(jobs), CHUNK)]
    pool = ctx.signing_pool() if len(jobs) >= INLINE_BELOW else None
    if pool is None:
        for chunk in chunks:
            yield compose.sign_jobs(profile, definition, grading, material, created, chunk)
        return
    futures: list[Future[list[compose.Outcome]]] = [
        pool.submit(compose.sign_jobs, profile, definition, grading, material, created, chunk)
        for chunk in chunks
    ]
    try:
        for index, future in enumerate(futures):
            try:
                outcomes = future.result()
            except BrokenProcessPool:
                # A worker died (killed, out of memory): finish here, start afresh next time.
                ctx.discard_pool()
                outcomes = compose.sign_jobs(
                    profile, definition, grading, material, created, chunks[index]
                )
            yield outcomes
    finally:
        for future in futures:
            future.cancel()


def _store_row(
    connection: Any,
    ctx: IssuerContext,
    institution: Institution,
    module: ModuleRow,
    batch: Batch,
    row: Row,
    outcome: compose.Outcome,
    slots: dict[str, status_lists.Slot],
    generation: int,
    actor: str,
) -> str:
    """One row, one savepoint: the credential and its audit event, or nothing."""
    slot = slots[outcome.credential_id]
    now = ctx.now()
    try:
        with connection.begin_nested():
            connection.execute(
                insert(IssuedCredential.__table__),  # type: ignore[attr-defined]
                {
                    "credential_id": outcome.credential_id,
                    "institution_id": institution.id,
                    "module_id": module.id,
                    "learner_ref": row.learner.reference,
                    "holder_did": row.learner.did,
                    "document": outcome.document,
                    "status_list_id": slot.list_id,
                    "status_index": slot.index,
                    "key_generation": generation,
                    "source": "batch",
                    "batch_id": batch.id,
                    "row_key": row.row_key,
                    "row_hash": row.row_hash,
                    "issued_at": now,
                    "suspended": False,
                },
            )
            connection.execute(
                insert(AuditEvent.__table__),  # type: ignore[attr-defined]
                audit.event_rows(
                    institution.id,
                    actor,
                    "credential.issue",
                    now,
                    [outcome.credential_id],
                    {"source": "batch", "module": module.id, "batch": batch.id},
                ),
            )
    except IntegrityError:
        return "already_issued"  # a concurrent run of the same batch stored this row key
    return "issued"
