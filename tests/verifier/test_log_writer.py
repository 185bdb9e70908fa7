"""The verification log's writer: rows are written behind the answers in group commits,
kept and retried while the database is away, bounded in memory, and written at shutdown."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from credentials.report import Check, VerificationReport
from servicekit.db import Database
from verifier.models import VerificationLogEntry
from verifier.services.log import LoggedCredential, VerificationLog


def report(verified: bool = True) -> VerificationReport:
    out = VerificationReport()
    out.add(Check.passed("proof", "ok") if verified else Check.failed("proof", "bad", "no"))
    return out


def item(number: int) -> LoggedCredential:
    return LoggedCredential({"id": f"urn:x:{number}", "issuer": "did:web:a.example"}, report())


def stored(db: Database) -> list[VerificationLogEntry]:
    with Session(db.engine) as session:
        return list(session.exec(select(VerificationLogEntry).order_by(VerificationLogEntry.id)))


class FlakyEngine:
    """Wraps an engine; ``begin()`` fails while ``down`` is set (a database outage)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.down = threading.Event()
        self.attempts = 0

    @contextmanager
    def begin(self) -> Iterator[Any]:
        self.attempts += 1
        if self.down.is_set():
            raise OperationalError("INSERT", {}, Exception("database is away"))
        with self.engine.begin() as connection:
            yield connection


class FlakyDatabase:
    def __init__(self, db: Database) -> None:
        self.engine = FlakyEngine(db.engine)


def now() -> datetime:
    return datetime.now(UTC)


def test_rows_are_written_in_order_with_hashes_only(migrated_url: str) -> None:
    db = Database(migrated_url)
    log = VerificationLog(db, keep_full=False, clock=now)
    try:
        for number in range(30):
            log.record("credential", [item(number)])
        assert log.flush()
        rows = stored(db)
        assert len(rows) == 30
        assert all(r.document is None and r.issuer == "did:web:a.example" for r in rows)
        assert len({r.credential_id_hash for r in rows}) == 30
    finally:
        log.close()
        db.dispose()


def test_rows_wait_out_a_database_outage(migrated_url: str) -> None:
    db = Database(migrated_url)
    flaky = FlakyDatabase(db)
    log = VerificationLog(flaky, keep_full=False, clock=now, retry_seconds=0.05)  # type: ignore[arg-type]
    try:
        flaky.engine.down.set()
        for number in range(5):
            log.record("credential", [item(number)])
        assert log.flush(timeout=0.3) is False  # still queued: the database is away
        assert stored(db) == []
        flaky.engine.down.clear()
        assert log.flush()
        assert len(stored(db)) == 5 and log.dropped == 0
        assert flaky.engine.attempts >= 2
    finally:
        log.close()
        db.dispose()


def test_the_queue_is_bounded_while_the_database_is_away(migrated_url: str) -> None:
    db = Database(migrated_url)
    flaky = FlakyDatabase(db)
    log = VerificationLog(
        flaky,  # type: ignore[arg-type]
        keep_full=False,
        clock=now,
        max_pending=10,
        retry_seconds=0.05,
    )
    try:
        flaky.engine.down.set()
        for number in range(25):
            log.record("credential", [item(number)])
        flaky.engine.down.clear()
        assert log.flush()
        rows = stored(db)
        # the newest rows are kept; those that did not fit are counted, never silently lost
        assert 10 <= len(rows) < 25
        assert log.dropped + len(rows) == 25
    finally:
        log.close()
        db.dispose()


def test_close_writes_what_is_queued_and_later_rows_are_written_inline(
    migrated_url: str,
) -> None:
    db = Database(migrated_url)
    log = VerificationLog(db, keep_full=True, clock=now)
    try:
        log.record("credential", [item(1), item(2)])
        log.close()
        assert len(stored(db)) == 2
        log.record("credential", [item(3)])  # after shutdown: no writer, written at once
        rows = stored(db)
        assert len(rows) == 3 and rows[-1].document == {
            "id": "urn:x:3",
            "issuer": "did:web:a.example",
        }
    finally:
        db.dispose()
