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
claimed in bulk (committed, a few thousand at a time), the credentials are composed and
signed in worker processes (the CPU-bound part) as soon as their slots are claimed, and
the signed credentials are stored a chunk at a time — one transaction per chunk holding
the credentials, their audit events and their (batch, row key), the unique constraint that
makes a concurrent or repeated run issue nothing twice. A row that fails anywhere gets its
slot back and leaves nothing behind.

Why per chunk: a row is just as atomic inside its chunk's transaction, but a commit on
PostgreSQL waits for the WAL to reach the disk (about 5 ms here), and a statement per row
is a round trip per row; both together capped a 10,000-row batch at a few hundred rows/s.
A chunk goes in as one ``executemany`` per table and one commit. A crash in the middle of
a chunk loses that chunk's rows, whole, and the re-run issues them under the same ids and
slots. Only when a chunk collides with rows another run stored meanwhile is it stored row
by row, each row in its own savepoint, so that run's rows are skipped and the rest kept.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from servicekit.errors import Conflict, Invalid, ServiceError, TooLarge

from ..models import AuditEvent, Batch, Institution, IssuedCredential
from ..models import Module as ModuleRow
from ..schemas import LearnerIn, ResultIn, validate
from . import audit, compose, institutions, issuance, keys, personal, status_lists, urls
from .context import IssuerContext
from .grades import GRADE_TEXT, grade_problem

COLUMNS = ("email", "student_number", "did", "grade", "awarded_date", "result_status", "row_key")
IDENTITY_COLUMNS = ("email", "student_number", "did")
_RESULT_FIELDS = {"grade": "grade", "awarded_date": "awarded_date", "status": "result_status"}
CHUNK = 100
"""Rows per signing task: large enough to amortise inter-process overhead, small enough
that storing can start while the rest is still being signed."""
INLINE_BELOW = 2 * CHUNK
"""Smaller batches are signed in this process: starting workers would cost more."""
RESERVE_CHUNK = 2000
"""Status slots claimed per transaction; each group's rows are signed once it commits."""

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
    """issued, already_issued, conflict, duplicate (asks for confirmation) or failed."""
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
        raise Invalid("csv_encoding", "the CSV file must be UTF-8") from None
    header_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=header_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader, None)
        if not header or not any(cell.strip() for cell in header):
            raise Invalid("csv_empty", "the CSV file has no header row")
        columns = [cell.strip().lower().replace(" ", "_").replace("-", "_") for cell in header]
        unknown = [c for c in columns if c not in COLUMNS]
        if unknown:
            raise Invalid(
                "csv_unknown_column",
                f"unknown column(s) {', '.join(map(repr, unknown))}; the columns are "
                + ", ".join(COLUMNS),
            )
        if len(set(columns)) != len(columns):
            raise Invalid("csv_duplicate_column", "a column appears twice")
        if not set(columns) & set(IDENTITY_COLUMNS):
            raise Invalid(
                "csv_missing_column",
                "the CSV needs at least one of the columns email, student_number, did",
            )
        parsed = Parsed()
        seen: set[str] = set()
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            if parsed.total >= max_rows:
                raise TooLarge("batch_too_large", f"a batch may have at most {max_rows} rows")
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
        raise Invalid("csv_malformed", f"line {reader.line_num}: {exc}") from None
    if parsed.total == 0:
        raise Invalid("csv_empty", "the CSV file has no rows")
    return parsed


def _row(line: int, cells: dict[str, str]) -> Row | RowReport:
    learner_data = {k: cells[k] for k in IDENTITY_COLUMNS if cells.get(k)}
    result_data = {
        name: cells[column] for name, column in _RESULT_FIELDS.items() if cells.get(column)
    }
    try:
        learner = validate(LearnerIn, learner_data)
        result = validate(ResultIn, result_data) if result_data else None
    except ServiceError as exc:
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
    allow_duplicates: bool = False,
) -> dict[str, Any]:
    """Issue the module to every row of the CSV ``data``; the per-row report.

    A row whose (module, learner, result) was issued before — by another batch, or earlier
    in this file under another row key — is not issued but reported ``duplicate``: the
    registrar is asked, and confirms with ``allow_duplicates`` (issue 14 item 10: a cohort
    file re-uploaded with one row fixed and no Idempotency-Key gave four learners a second
    credential).
    """
    started = time.perf_counter()
    warm_up(ctx, data)
    parsed = parse_csv(data, max_rows=ctx.settings.max_batch_rows)
    key = idempotency_key or "sha256:" + hashlib.sha256(data).hexdigest()
    if not key or len(key) > 200 or not key.isprintable():
        raise Invalid(
            "invalid_idempotency_key", "Idempotency-Key must be 1-200 printable characters"
        )
    with ctx.db.session() as session:
        module = issuance.module_row(session, institution, module_slug)
    batch, new_batch = _batch(ctx, institution, module, key, actor)
    reports: list[RowReport] = list(parsed.failed)
    earlier = _earlier_rows(ctx, batch)
    grading = module.definition.get("grading")
    pending: list[Row] = []
    elsewhere = {} if allow_duplicates else _issued_elsewhere(ctx, institution, module, batch)
    in_file: dict[str, int] = {}
    ids = dict(
        zip(
            (row.row_key for row in parsed.rows),
            _credential_ids(institution, batch, parsed.rows),
            strict=True,
        )
    )
    for row in parsed.rows:
        if ids[row.row_key] not in earlier and not allow_duplicates:
            duplicate = _duplicate_report(row, elsewhere, in_file)
            if duplicate is not None:
                reports.append(duplicate)
                continue
        if ids[row.row_key] in earlier:
            digest, credential_id = earlier[ids[row.row_key]]
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
        problem = grade_problem(grading, row.result.grade if row.result else None)
        if problem:
            reason = problem.pop("code")
            report = _failed(row.line, row.row_key, "invalid_row", "grade", GRADE_TEXT[reason])
            assert report.error is not None
            report.error.update(reason=reason, **problem)  # numbers the page can say
            reports.append(report)
            continue
        pending.append(row)
    total = parsed.total
    done = total - len(pending)
    if progress:
        progress(done, total)
    if pending:
        reports.extend(
            _issue_rows(
                ctx, institution, module, batch, pending, actor, done, total, progress, new_batch
            )
        )
    reports.sort(key=lambda r: r.row)
    counts = {
        status: sum(1 for r in reports if r.status == status)
        for status in ("issued", "already_issued", "conflict", "failed")
    }
    duplicates = sum(1 for r in reports if r.status == "duplicate")
    if duplicates:  # only then, so that reports of ordinary runs keep their shape
        counts["duplicate"] = duplicates
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
        stored = session.get(Batch, batch.id)
        assert stored is not None
        stored.runs += 1
        stored.last_run_at = ctx.now()
        stored.last_report = summary
        session.add(stored)
        audit.record(session, institution.id, actor, "batch.run", ctx.now(), details=summary)
    return {**summary, "rows": [r.to_dict() for r in reports]}


def _issued_elsewhere(
    ctx: IssuerContext, institution: Institution, module: ModuleRow, batch: Batch
) -> dict[str, str]:
    """Row hash → credential id of this module's live batch credentials in other batches.

    The row hash covers the learner's identity columns and the result, so equal hashes mean
    the same (module, learner, result). Revoked credentials do not count: issuing anew after
    a revocation is the intended way to correct one.
    """
    table = IssuedCredential
    with ctx.db.engine.connect() as connection:
        found = connection.execute(
            select(table.row_hash, table.credential_id).where(
                table.institution_id == institution.id,
                table.module_id == module.id,
                table.batch_id != batch.id,
                col(table.row_hash).is_not(None),
                col(table.revoked_at).is_(None),
            )
        ).all()
    return {row_hash: credential_id for row_hash, credential_id in found}


def _duplicate_report(
    row: Row, elsewhere: dict[str, str], in_file: dict[str, int]
) -> RowReport | None:
    """A ``duplicate`` report when this row's (learner, result) was seen; else None."""
    earlier_line = in_file.setdefault(row.row_hash, row.line)
    if row.row_hash in elsewhere:
        message = "this learner already has a credential for this module with this result"
        credential_id: str | None = elsewhere[row.row_hash]
    elif earlier_line != row.line:
        message = f"line {earlier_line} has the same learner and result"
        credential_id = None
    else:
        return None
    return RowReport(
        row.line,
        row.row_key,
        "duplicate",
        credential_id=credential_id,
        error={
            "code": "possible_duplicate",
            "message": message + "; run again with allow_duplicates to issue it anyway",
        },
    )


def _earlier_rows(ctx: IssuerContext, batch: Batch) -> dict[str, tuple[str | None, str]]:
    """Credential id → (row hash, credential id) of what earlier runs of the batch stored.

    Keyed by the credential id, which a row's key determines within its batch
    (``_credential_ids``): the row key itself is not stored readable (H-9d), and the id
    finds rows of runs from before that change as well. Only those columns: on a re-run of
    a large batch, loading the whole rows would mean reading back every signed document
    just to learn that it exists.
    """
    table = IssuedCredential
    with ctx.db.engine.connect() as connection:
        found = connection.execute(
            select(table.row_hash, table.credential_id).where(table.batch_id == batch.id)
        ).all()
    return {credential_id: (row_hash, credential_id) for row_hash, credential_id in found}


def _batch(
    ctx: IssuerContext, institution: Institution, module: ModuleRow, key: str, actor: str
) -> tuple[Batch, bool]:
    """The batch of this idempotency key, and whether this run created it."""
    assert module.id is not None  # a stored row has its primary key
    for _ in range(2):
        with ctx.db.session() as session:
            batch = session.exec(
                select(Batch).where(
                    Batch.institution_id == institution.id, Batch.idempotency_key == key
                )
            ).first()
        if batch is not None:
            if batch.module_id != module.id:
                raise Conflict(
                    "idempotency_key_reused",
                    "this idempotency key belongs to a batch of another module; nothing was issued",
                )
            return batch, False
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
            return batch, True
        except IntegrityError:
            continue  # created by a concurrent upload of the same batch: use that one
    raise Conflict("batch_conflict", "the batch could not be registered; try again")


@dataclass(frozen=True)
class _Target:
    """What every stored row of one run shares."""

    institution: Institution
    module: ModuleRow
    batch: Batch
    generation: int
    """The signing key's generation."""
    actor: str


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
    new_batch: bool,
) -> list[RowReport]:
    public_url = ctx.settings.public_url
    now = ctx.now().replace(microsecond=0)
    with ctx.db.session() as session:
        key, generation = keys.signer(ctx, session, institution)
    target = _Target(institution, module, batch, generation, actor)
    credential_ids = _credential_ids(institution, batch, rows)
    signer = _Signer(
        ctx,
        compose.Constants(
            institutions.profile(ctx, institution),
            compose.module_definition(
                urls.module_url(public_url, institution.slug, module.slug), module.definition
            ),
            module.definition.get("grading"),
            compose.KeyMaterial.of(key),
            now,
            module.definition.get("proof_suite"),
        ),
        pooled=len(rows) >= INLINE_BELOW,
    )
    slots: dict[str, status_lists.Slot] = {}
    reports: list[RowReport] = []
    unused: list[str] = []
    try:
        # Each group's chunks go to the workers as soon as its slots are committed, so
        # signing starts while the next group's slots are still being claimed.
        for start in range(0, len(rows), RESERVE_CHUNK):
            group = credential_ids[start : start + RESERVE_CHUNK]
            slots.update(_reserve(ctx, institution, group, reuse_claims=not new_batch))
            signer.submit(_jobs(ctx, institution, rows, credential_ids, slots, start, now))
        with ctx.db.engine.connect() as connection:
            for outcomes in signer.results():
                reports.extend(_store_chunk(connection, ctx, target, rows, outcomes, slots, unused))
                done += len(outcomes)
                if progress:
                    progress(done, total)
    finally:
        signer.cancel()
    if unused:
        with ctx.db.session() as session:
            status_lists.release_claims(session, [(cid, slots[cid]) for cid in unused])
    return reports


def _credential_ids(institution: Institution, batch: Batch, rows: list[Row]) -> list[str]:
    """The ids the batch rows' credentials get, the same on every run of the batch.

    Deterministic so that a re-run after a crash reuses the status slots the crashed run
    claimed. Derived under a namespace from the institution and the batch's idempotency key
    (by default the file's SHA-256), so ids reveal nothing about the learner's row key.
    """
    namespace = uuid.uuid5(
        uuid.NAMESPACE_URL, f"{institution.id}:{batch.id}:{batch.idempotency_key}"
    )
    return [f"urn:uuid:{uuid.uuid5(namespace, row.row_key)}" for row in rows]


def _reserve(
    ctx: IssuerContext, institution: Institution, credential_ids: list[str], *, reuse_claims: bool
) -> dict[str, status_lists.Slot]:
    """A status slot for each credential id, committed before any of them is signed.

    Committed, so that the claims survive into the row stores and a crash leaves them under
    the rows' deterministic ids: a run that died (SIGKILL, lost database) left its claims
    behind, and the re-run takes them over instead of leaking them and claiming new ones.
    Looking for such claims is skipped (``reuse_claims`` false) when this very run created
    the batch, as no earlier run can have claimed anything under its ids.
    """
    with ctx.db.session() as session:
        reused = status_lists.claimed(session, institution, credential_ids) if reuse_claims else {}
        fresh = [c for c in credential_ids if c not in reused]
        return {**reused, **status_lists.allocate(ctx, session, institution, fresh)}


def _jobs(
    ctx: IssuerContext,
    institution: Institution,
    rows: list[Row],
    credential_ids: list[str],
    slots: dict[str, status_lists.Slot],
    start: int,
    now: datetime,
) -> list[compose.Job]:
    """The signing jobs of one reservation group (``job.row`` indexes ``rows``)."""
    public_url = ctx.settings.public_url
    jobs = []
    for index in range(start, min(start + RESERVE_CHUNK, len(rows))):
        row, cid = rows[index], credential_ids[index]
        result = row.result
        jobs.append(
            compose.Job(
                row=index,
                credential_id=cid,
                learner=compose.LearnerSpec(
                    row.learner.email, row.learner.student_number, row.learner.did
                ),
                result=compose.ResultSpec(result.grade, result.awarded_date, result.status)
                if result
                else None,
                valid_from=now,
                status_entries=status_lists.entries(public_url, institution.slug, slots[cid]),
            )
        )
    return jobs


def warm_up(ctx: IssuerContext, data: bytes) -> None:
    """Start the signing workers in the background when ``data`` is a large batch.

    Starting the pool (a fresh interpreter that imports the signing code, then one fork
    per worker) takes a second or more, and the first ``submit`` waits for it; doing it
    from a thread while the file is parsed and the slots are claimed takes it off the
    batch's critical path. A file that turns out to be refused leaves a started pool
    behind, which the next batch uses.
    """
    if data.count(b"\n") < INLINE_BELOW:
        return
    pool = ctx.signing_pool()
    if pool is None:
        return

    def start() -> None:
        try:
            for _ in range(ctx.settings.workers):
                pool.submit(compose.ready)
        except (RuntimeError, BrokenProcessPool):
            pass  # shut down or broken meanwhile: the batch itself finds out and copes

    threading.Thread(target=start, name="batch-pool-warm-up", daemon=True).start()


class _Signer:
    """Signs job chunks in order: in worker processes when it pays, else in this one.

    Chunks are submitted as their jobs become available and come back in submission
    order. If a worker dies (killed, out of memory) the affected chunks are signed here
    and the broken pool is discarded, so the next batch starts a fresh one.
    """

    def __init__(self, ctx: IssuerContext, constants: compose.Constants, *, pooled: bool) -> None:
        self.ctx = ctx
        self.constants = constants
        self.pool = ctx.signing_pool() if pooled else None
        self.chunks: list[list[compose.Job]] = []
        self.futures: list[Future[list[compose.Outcome]] | None] = []

    def submit(self, jobs: list[compose.Job]) -> None:
        for start in range(0, len(jobs), CHUNK):
            chunk = jobs[start : start + CHUNK]
            self.chunks.append(chunk)
            self.futures.append(self._submit(chunk))

    def _submit(self, chunk: list[compose.Job]) -> Future[list[compose.Outcome]] | None:
        if self.pool is None:
            return None
        try:
            return self.pool.submit(compose.sign_chunk, self.constants, chunk)
        except BrokenProcessPool:
            self._broken()
            return None

    def results(self) -> Iterator[list[compose.Outcome]]:
        """Each chunk's outcomes, in submission order."""
        for index, chunk in enumerate(self.chunks):
            future, self.futures[index] = self.futures[index], None
            if future is not None:
                try:
                    outcomes = future.result()
                except BrokenProcessPool:
                    self._broken()
                else:
                    yield outcomes
                    continue
            yield compose.sign_chunk(self.constants, chunk)

    def _broken(self) -> None:
        """A worker died: forget the pool and sign the rest here."""
        if self.pool is not None:
            self.ctx.discard_pool()
            self.pool = None

    def cancel(self) -> None:
        """Drop whatever was not collected (the batch failed part-way, or is done)."""
        for future in self.futures:
            if future is not None:
                future.cancel()


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
