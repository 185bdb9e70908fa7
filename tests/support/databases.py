"""Fresh databases for tests: SQLite files, or PostgreSQL databases created per test.

``MICROCRED_TEST_DB=postgresql`` switches the whole suite to the PostgreSQL server at
``MICROCRED_TEST_PG`` (default: the machine's server on 127.0.0.1:5432, trust auth).
If PostgreSQL is selected but unreachable, tests fail; they never silently skip.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ADMIN_URL = os.environ.get("MICROCRED_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def backend() -> str:
    return os.environ.get("MICROCRED_TEST_DB", "sqlite")


@contextmanager
def fresh_database(tmp_path: Path, name: str = "test") -> Iterator[str]:
    if backend() != "postgresql":
        yield f"sqlite:///{tmp_path / name}.db"
        return
    import psycopg

    db = f"mc_{name}_{secrets.token_hex(6)}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db}"')
    base = ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{db}".replace("postgresql://", "postgresql+psycopg://", 1)
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
