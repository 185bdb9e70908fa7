"""Database engines for SQLite (embedded default) and PostgreSQL (production).

One ``Database`` per service process. SQLite runs in WAL mode with a busy timeout so that a
pilot with several workers does not trip over "database is locked"; PostgreSQL gets a
pre-pinged pool sized from the environment (see docs/deployment.md).

Both have bounded waits on purpose: when the database is gone, a request must end in a
503 (``is_unavailable``) within seconds rather than hang on a lock or a dead address, and
the pool must hand out working connections again as soon as the database is back, without
a restart (tests/security/test_drill_database.py cuts the database for 5 s under load).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from sqlalchemy import event
from sqlalchemy.engine import CursorResult, Engine, Result
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlmodel import Session, create_engine


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and use psycopg 3 for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def sqlite_url(data_dir: Path, name: str) -> str:
    # owner-only: the data directory holds the databases, keys and web secrets (issue 14
    # item 4); an existing directory is the operator's to set
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    return f"sqlite:///{(data_dir / f'{name}.db').resolve()}"


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///`` URL, or None (in-memory databases, other engines)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url[len(prefix) :] in ("", ":memory:"):
        return None
    return Path(url[len(prefix) :].split("?", 1)[0])


def make_owner_only(path: Path) -> None:
    """Create ``path`` if missing and give it mode 0600, whatever the umask.

    SQLite creates the ``-wal`` and ``-shm`` files with the database file's mode, so making
    the database owner-only before the first connection covers them too; files an older
    version left at 0644 are tightened here as well.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for each in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if each.exists():
            os.chmod(each, 0o600)


def _seconds(name: str, default: float) -> float:
    """A non-negative number of seconds from the environment (``default`` when unset/bad)."""
    try:
        value = float(os.environ.get(name, "") or default)
    except ValueError:
        return default
    return value if value >= 0 else default


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        # How long a writer waits for another connection's lock before "database is
        # locked" (a 503). 30 s rides out any ordinary lock; MICROCRED_DB_BUSY_TIMEOUT
        # shortens it where failing fast matters more than waiting.
        busy = _seconds("MICROCRED_DB_BUSY_TIMEOUT", 30.0)
        file = sqlite_path(url)
        if file is not None:
            make_owner_only(file)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": busy})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(busy * 1000)}")
            cursor.close()

        return engine
    return create_engine(
        url,
        # a connection the server (or the network) dropped is replaced at checkout, so the
        # pool recovers by itself after an outage
        pool_pre_ping=True,
        pool_size=int(os.environ.get("MICROCRED_DB_POOL_SIZE", "10")),
        max_overflow=int(os.environ.get("MICROCRED_DB_MAX_OVERFLOW", "10")),
        pool_timeout=float(os.environ.get("MICROCRED_DB_POOL_TIMEOUT", "10")),
        # libpq waits for an unreachable host as long as the kernel does (minutes); a
        # bounded connect turns an outage into prompt 503s instead of hung requests
        connect_args={
            "connect_timeout": max(1, int(_seconds("MICROCRED_DB_CONNECT_TIMEOUT", 5.0)))
        },
    )


class Database:
    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url)

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on any error."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()


def is_unavailable(exc: BaseException) -> bool:
    """True for errors that mean "the database is not reachable" rather than bad data.

    That is: the driver's operational errors (refused or dropped connections, SQLite's
    "database is locked" after the busy timeout), any error that invalidated the
    connection, and a pool checkout that timed out (every connection stuck on a database
    that does not answer) — all answered 503 by servicekit.app, never 500.
    """
    return isinstance(exc, OperationalError | PoolTimeout) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    )


def rowcount(result: Result[Any]) -> int:
    """Rows matched by an UPDATE or DELETE.

    ``Session.execute`` is typed to return a plain ``Result``, but for DML it is a
    ``CursorResult``, the only kind that knows ``rowcount``; this says so once.
    """
    return cast("CursorResult[Any]", result).rowcount
