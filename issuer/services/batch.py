"""Cohort issuance from a CSV file: one module, one row per learner, a report per row.

The file's format and its row-by-row reading are in :mod:`.batch_csv`.

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

import hashlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from servicekit.errors import Conflict, Invalid

from ..models import Batch, Institution, IssuedCredential
from ..models import Module as ModuleRow
from . import audit, compose, institutions, issuance, keys, status_lists, urls
from .batch_csv import Row, RowReport, _failed, parse_csv
from .batch_store import _store_chunk, _Target
from .context import IssuerContext
from .grades import GRADE_TEXT, grade_problem

CHUNK = 100
"""Rows per signing task: large enough to amortise inter-process overhead, small enough
that storing can start while the rest is still being signed."""
INLINE_BELOW = 2 * CHUNK
"""Smaller batches are signed in this process: starting workers would cost more."""
RESERVE_CHUNK = 2000
"""Status slots claimed per transaction; each group's rows are signed once it commits."""

Progress = Callable[[int, int], None]


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
