"""Row 2: cohort issuance through the issuer's batch path, into SQLite and PostgreSQL.

Drives ``issuer.services.batch.run`` — the function behind ``POST
/institutions/{slug}/batches`` — with a 10,000-row CSV for one module: every row gets a
status list entry, a signed credential, an audit event and its (batch, row key) record.
The issuer is built exactly as in production (migrated database, key store, worker pool
with one process per CPU); only HTTP is left out, to measure the issuing, not the upload.

The issuer service is still being built; if its interface moves, this row reports
"not measured" with the reason instead of failing the whole bench.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from microcred.samples import module_spec

PG_ADMIN_URL = os.environ.get("MICROCRED_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")

# the same complete module (every EU element) the issuer's tests use
MODULE_SPEC: dict[str, Any] = module_spec()


def cohort_csv(rows: int) -> bytes:
    grades = ["6", '"7,5"', "8", "9"]  # a decimal comma must be quoted in a comma CSV
    lines = ["student_number,email,grade,awarded_date\n"]
    lines += [
        f"{500000 + i},student{i}@example.nl,{grades[i % 4]},2026-06-30\n" for i in range(rows)
    ]
    return "".join(lines).encode()


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="microcred-bench-") as folder:
        yield f"sqlite:///{Path(folder) / 'issuer.db'}"


@contextmanager
def postgresql_database() -> Iterator[str]:
    import psycopg

    name = f"mc_bench_{secrets.token_hex(6)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def issue_cohort(database_url: str, rows: int) -> dict[str, Any]:
    """Issue a ``rows``-row cohort on a fresh issuer database; rows/s and the counts."""
    from credentials.keystore import Kek, Keystore
    from issuer.config import Settings
    from issuer.main import create_app
    from issuer.schemas import ModuleIn, validate
    from issuer.services import batch, institutions, modules
    from servicekit.migrations import upgrade

    upgrade("issuer", database_url)
    with tempfile.TemporaryDirectory(prefix="microcred-bench-data-") as data_dir:
        settings = Settings(
            database_url=database_url,
            public_url="http://127.0.0.1:8001",
            dev=True,
            data_dir=Path(data_dir),
            batch_workers=-1,  # production default: one signing process per CPU
            admin_token=secrets.token_hex(16),
        )
        app = create_app(settings, keystore=Keystore([Kek.from_secret(secrets.token_bytes(32))]))
        ctx = app.state.issuer
        institutions.create(
            ctx,
            slug="bench",
            name="Hogeschool Rijnland",
            region="Zuid-Holland",
            identifiers={"BRIN": "99HR"},
        )
        with ctx.db.session() as session:
            institution = institutions.by_slug(session, "bench")
        modules.create(ctx, institution, validate(ModuleIn, MODULE_SPEC), actor="bench")
        data = cohort_csv(rows)
        try:
            started = time.perf_counter()
            report = batch.run(
                ctx, institution, "data-wrangling", data, actor="bench", idempotency_key="cohort"
            )
            seconds = time.perf_counter() - started
        finally:
            # the signing workers and the connections end with the measurement, so the next
            # backend's run does not share the machine with an idle pool and its memory
            ctx.close()
    issued = report["counts"]["issued"]
    if issued != rows:
        raise RuntimeError(f"issued {issued} of {rows}: {report['counts']}")
    return {"rows": rows, "seconds": round(seconds, 3), "per_second": round(rows / seconds, 1)}


def measure(backend: str, rows: int) -> dict[str, Any]:
    """Row 2 for one backend, or ``{"error": reason}`` when it cannot be measured."""
    try:
        database = sqlite_database() if backend == "sqlite" else postgresql_database()
        with database as url:
            return issue_cohort(url, rows)
    except Exception as exc:  # the bench reports why instead of stopping
        return {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
