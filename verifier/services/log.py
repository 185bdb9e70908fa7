"""The verification log: that a verification happened and how it ended, nothing personal.

A verifier sees diplomas, grades and names; keeping them would make it a honeypot and a
GDPR liability. So each verified credential leaves one row: time, kind of verification,
outcome, the issuer (an institution, not a person), the failed check codes, and the
SHA-256 of the credential id — enough to answer "was this credential checked here, and
with what outcome?" when someone presents the same credential again, and to count
outcomes per institution. The documents themselves are stored only when the operator
turns ``keep_full_log`` on. Rows older than the retention period are purged.

Logging never decides a verification: a database error while logging is reported in the
service log and the verification answer still goes out.

Rows are written behind the answer, by one writer thread per process, in group commits:
the request thread only builds its row (hashes, no document unless ``keep_full_log``) and
queues it; the writer takes everything queued, inserts it in one transaction, and goes
again. Under load one commit carries many rows, and no request waits for the database
(one ORM transaction per verification was a tenth of the verifier's time, and two worker
processes on SQLite queued behind each other's write lock). When the database is away the
rows stay queued and are retried; past ``max_pending`` the oldest are dropped, counted
and reported, so memory stays bounded. ``flush()`` waits until what was queued is written
(``entries``, the purge and shutdown call it; tests too).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, or_
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, select

from credentials import VerificationReport, issuer_id
from servicekit.db import Database, rowcount

from ..models import Challenge, PresentationRequest, VerificationLogEntry
from .clock import utc

log = logging.getLogger("microcred.verifier")

# SQLModel gives a table model its __table__ when the class is made; its type hints do not
# declare the attribute
_TABLE = VerificationLogEntry.__table__  # type: ignore[attr-defined]


def _idempotent_insert(dialect: str) -> Any:
    """INSERT that skips a row whose ``row_key`` is already there.

    When the connection breaks during COMMIT the writer cannot know whether the batch
    landed; it retries, and this makes the retry harmless (exactly-once rows, where a plain
    INSERT gave at-least-once).
    """
    if dialect == "postgresql":
        return postgresql_insert(_TABLE).on_conflict_do_nothing(index_elements=["row_key"])
    if dialect == "sqlite":
        return sqlite_insert(_TABLE).on_conflict_do_nothing(index_elements=["row_key"])
    return insert(_TABLE)


def credential_id_hash(credential: Any) -> str | None:
    """SHA-256 (hex) of the credential's ``id``, or None when it has none."""
    if isinstance(credential, dict) and isinstance(credential.get("id"), str):
        return hashlib.sha256(credential["id"].encode("utf-8")).hexdigest()
    return None


@dataclass(frozen=True)
class LoggedCredential:
    """What one log row is made from (the document is used only with keep_full_log).

    ``presentation`` is the report of the presentation the credential came in, if any: a
    credential logged from a presentation that failed (a share link on the wrong domain, a
    holder signature that does not match) is logged as not verified, with the
    presentation's failed checks. Before, such a row said ``verified: true`` because the
    credential on its own was fine (issue 14 item 10).
    """

    document: Any
    report: VerificationReport
    presentation: VerificationReport | None = None

    def _presentation_failures(self) -> list[Any]:
        """The presentation's own failed checks (not those of its other credentials)."""
        if self.presentation is None or self.presentation is self.report:
            return []
        return [c for c in self.presentation.failed if not c.id.startswith("credential[")]

    @property
    def verified(self) -> bool:
        return self.report.verified and not self._presentation_failures()

    @property
    def failed_checks(self) -> str:
        failed = [*self._presentation_failures(), *self.report.failed]
        return ",".join(dict.fromkeys(f"{c.id}:{c.code}" for c in failed))


class VerificationLog:
    """Queues log rows and writes them in batches from a writer thread (see the module)."""

    def __init__(
        self,
        db: Database,
        *,
        keep_full: bool,
        clock: Callable[[], datetime],
        max_batch: int = 500,
        max_pending: int = 50_000,
        retry_seconds: float = 1.0,
        linger_seconds: float = 0.05,
    ) -> None:
        self.db = db
        self.keep_full = keep_full
        self._clock = clock
        self.max_batch = max_batch
        self.max_pending = max_pending
        self.retry_seconds = retry_seconds
        self.linger_seconds = linger_seconds
        self.dropped = 0
        """Rows given up because the database stayed away while ``max_pending`` piled up."""
        self._pending: deque[dict[str, Any]] = deque()
        self._writing = 0  # rows taken by the writer and not yet committed (or re-queued)
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._idle = False  # the writer waits for rows: the next record must wake it
        self._hurry = False  # a flush is waiting: write without lingering

    # -- recording (request threads)

    def record(self, kind: str, items: Iterable[LoggedCredential]) -> None:
        """Queue one log row per checked credential; written behind the answer, so a slow
        database never delays a verification. Stores hashes and check codes only (documents
        only when ``keep_full_log``).
        """
        now = utc(self._clock())
        rows = [self._row(kind, item, now) for item in items]
        if not rows:
            return
        with self._cond:
            self._pending.extend(rows)
            overflow = len(self._pending) - self.max_pending
            for _ in range(max(0, overflow)):
                self._pending.popleft()
            if overflow > 0:
                self.dropped += overflow
                log.warning(
                    "verification log: %d rows dropped (the database is not taking them)",
                    overflow,
                )
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(
                    target=self._run, name="verification-log-writer", daemon=True
                )
                self._thread.start()
            elif self._idle:
                # waking a thread costs more than building the row: only when it sleeps
                self._idle = False
                self._cond.notify_all()
        if self._closed:  # after shutdown there is no writer: write inline
            self._write_now()

    def _row(self, kind: str, item: LoggedCredential, now: datetime) -> dict[str, Any]:
        document = item.document if isinstance(item.document, dict) else None
        issuer = issuer_id(document) if document is not None else None
        return {
            "row_key": secrets.token_hex(16),
            "created_at": now,
            "kind": kind,
            "verified": item.verified,
            "issuer": issuer,
            "credential_id_hash": credential_id_hash(document),
            "failed_checks": item.failed_checks,
            "document": document if self.keep_full else None,
        }

    # -- writing (the writer thread)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._idle = True
                    self._cond.wait()
                self._idle = False
                if not self._pending:  # closed and drained
                    return
                if len(self._pending) < self.max_batch and not (self._hurry or self._closed):
                    # let a few more rows arrive: one commit for all of them
                    self._cond.wait(timeout=self.linger_seconds)
            if not self._write_batch():
                with self._cond:  # the database is away: wait a little, unless closing
                    if self._closed:
                        self.dropped += len(self._pending)
                        self._pending.clear()
                        return
                    self._cond.wait(timeout=self.retry_seconds)

    def _take(self) -> list[dict[str, Any]]:
        with self._cond:
            batch = [
                self._pending.popleft() for _ in range(min(self.max_batch, len(self._pending)))
            ]
            self._writing += len(batch)
            return batch

    def _write_batch(self) -> bool:
        """Write one batch; on a database error put it back (front of the queue)."""
        batch = self._take()
        if not batch:
            return True
        try:
            with self.db.engine.begin() as connection:
                connection.execute(_idempotent_insert(connection.dialect.name), batch)
        except SQLAlchemyError as exc:
            log.warning(
                "verification log not written yet (%d rows, will retry): %s",
                len(batch),
                type(exc).__name__,
            )
            with self._cond:
                self._pending.extendleft(reversed(batch))
                self._writing -= len(batch)
                self._cond.notify_all()
            return False
        with self._cond:
            self._writing -= len(batch)
            self._cond.notify_all()
        return True

    def _write_now(self) -> None:
        while True:
            with self._cond:
                if not self._pending:
                    return
            if not self._write_batch():
                return

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every row queued so far is written; False if that took too long
        (the database is away)."""
        with self._cond:
            if self._thread is None or not self._thread.is_alive():
                pending = bool(self._pending)
            else:
                pending = False
                self._hurry = True
                self._cond.notify_all()
                done = self._cond.wait_for(
                    lambda: not self._pending and not self._writing, timeout=timeout
                )
                self._hurry = False
                if not done:
                    return False
        if pending:
            self._write_now()
        with self._cond:
            return not self._pending

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued and stop the writer (application shutdown)."""
        self.flush(timeout)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    # -- reading

    def entries(self, limit: int = 100) -> list[VerificationLogEntry]:
        """The newest ``limit`` log entries (what this process queued is written first)."""
        self.flush()  # what this process answered is in the table before it is read
        with self.db.session() as session:
            statement = (
                select(VerificationLogEntry)
                .order_by(col(VerificationLogEntry.id).desc())
                .limit(limit)
            )
            return list(session.exec(statement))


@dataclass(frozen=True)
class PurgeResult:
    log_entries: int
    requests: int
    challenges: int

    def to_dict(self) -> dict[str, int]:
        return {
            "log_entries": self.log_entries,
            "requests": self.requests,
            "challenges": self.challenges,
        }


def purge(
    db: Database,
    *,
    now: datetime,
    log_retention_days: int,
    result_retention_hours: int,
) -> PurgeResult:
    """Delete what the retention settings no longer allow to be kept.

    Log rows older than ``log_retention_days``; presentation requests (whose results name
    the learner) ended more than ``result_retention_hours`` ago; challenges expired for a
    day (kept that long so a late replay is still recognised as a replay).
    """
    now = utc(now)
    log_cutoff = now - timedelta(days=log_retention_days)
    result_cutoff = now - timedelta(hours=result_retention_hours)
    challenge_cutoff = now - timedelta(days=1)
    with db.session() as session:
        removed_log = rowcount(
            session.execute(
                delete(VerificationLogEntry).where(
                    col(VerificationLogEntry.created_at) < log_cutoff
                )
            )
        )
        removed_requests = rowcount(
            session.execute(
                delete(PresentationRequest).where(
                    or_(
                        col(PresentationRequest.completed_at) < result_cutoff,
                        col(PresentationRequest.expires_at) < result_cutoff,
                    )
                )
            )
        )
        removed_challenges = rowcount(
            session.execute(delete(Challenge).where(col(Challenge.expires_at) < challenge_cutoff))
        )
    return PurgeResult(removed_log, removed_requests, removed_challenges)
