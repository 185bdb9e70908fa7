"""Issue 7, drill 3: an issuer process killed with SIGKILL in the middle of a 10,000-row
cohort batch, restarted, and the batch re-run with the same idempotency key.

SIGKILL is what the kernel's OOM killer, ``kill -9`` or a node failure does: no exception
handler, no ``finally``, no rollback by the process — whatever the database committed is
all that is left, and the open transaction is aborted by the server when the connection
drops. The drill kills the server once the database shows some rows committed (so the
kill lands mid-batch, not before or after), then checks what the issue promises:

* no credential half-issued: every ``issued_credentials`` row has its status slot;
* no status index leaked: after the crash, the only slots without a credential are the
  reservations of the interrupted batch — exactly one per row it had not stored yet, under
  the row's deterministic credential id — and the re-run takes them over, so that
  afterwards no slot is without its credential;
* re-running the same file with the same ``Idempotency-Key`` on the restarted process
  issues exactly the rows that were lost, so that afterwards every row is issued exactly
  once: 10,000 credentials, 10,000 slots, all distinct.

All the findings are collected and reported together, so one run shows the whole state of
the database rather than only the first broken invariant.

Runs on both backends: on SQLite one process owns the file (the supported single-machine
deployment), on PostgreSQL the same drill checks the server side of an aborted connection.
"""

from __future__ import annotations

import json
import random
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine

from tests.scale.support import (
    IssuerDeployment,
    create_module,
    database,
    rows,
    scalar,
    serve,
    set_up_issuer,
)
from tests.support.databases import backend, fresh_database

PUBLIC_URL = "https://credentials.scale.test"
ROWS = 10_000
KILL_AFTER = 1_500
"""Committed credentials the database must show before the kill: some rows are stored,
most are still to come (the batch commits every 100 rows)."""
BATCH_KEY = "cohort-2026-sigkill"
BATCH_TIMEOUT = 300.0
POLL_EVERY = 0.05


def cohort_csv(rows_count: int = ROWS) -> bytes:
    """A realistic export from a student information system (a decimal comma quoted)."""
    grades = ["6", '"7,5"', "8", "9"]
    pick = random.Random(3)
    lines = ["student_number,email,grade,awarded_date"]
    lines += [
        f"{600000 + i},student{i}@example.nl,{pick.choice(grades)},2026-06-30"
        for i in range(rows_count)
    ]
    return ("\n".join(lines) + "\n").encode()


def upload(base_url: str, deployment: IssuerDeployment, data: bytes) -> httpx.Response:
    """The registrar's upload; always the same key, as a retrying client would send it."""
    return httpx.post(
        base_url + deployment.path("/batches?module_id=data-wrangling"),
        content=data,
        headers={
            **deployment.headers,
            "Content-Type": "text/csv",
            "Idempotency-Key": BATCH_KEY,
        },
        timeout=BATCH_TIMEOUT,
    )


def integrity(engine: Engine) -> dict[str, int]:
    """Counts that a crash must leave consistent: credentials, slots, and either without
    the other."""
    return {
        "credentials": scalar(engine, "SELECT count(*) FROM issued_credentials"),
        "slots": scalar(engine, "SELECT count(*) FROM status_slots"),
        "credentials_without_slot": scalar(
            engine,
            "SELECT count(*) FROM issued_credentials c WHERE NOT EXISTS (SELECT 1 FROM"
            " status_slots s WHERE s.list_id = c.status_list_id"
            " AND s.status_index = c.status_index AND s.credential_id = c.credential_id)",
        ),
        "slots_without_credential": scalar(
            engine,
            "SELECT count(*) FROM status_slots s WHERE NOT EXISTS (SELECT 1 FROM"
            " issued_credentials c WHERE c.credential_id = s.credential_id)",
        ),
        "audit_issue_events": scalar(
            engine, "SELECT count(*) FROM audit_events WHERE action = 'credential.issue'"
        ),
    }


def consistency_problems(moment: str, counts: dict[str, int], reserved: int = 0) -> list[str]:
    """What must hold at every moment, crash or not, as readable findings.

    ``reserved``: slots an interrupted batch holds for the rows it has not stored yet.
    """
    problems = []
    if counts["credentials_without_slot"]:
        problems.append(
            f"{moment}: {counts['credentials_without_slot']} credentials without their "
            "status slot (half-issued)"
        )
    if counts["slots_without_credential"] != reserved:
        problems.append(
            f"{moment}: {counts['slots_without_credential']} status slots claimed for "
            f"credentials that do not exist, expected {reserved} batch reservations "
            f"(leaked indexes; {counts['credentials']} credentials, {counts['slots']} slots)"
        )
    if counts["audit_issue_events"] != counts["credentials"]:
        problems.append(
            f"{moment}: {counts['audit_issue_events']} credential.issue audit events for "
            f"{counts['credentials']} credentials"
        )
    return problems


@pytest.mark.slow
def test_a_batch_killed_mid_way_leaves_nothing_half_done_and_a_rerun_completes_it(
    tmp_path: Path,
) -> None:
    data = cohort_csv()
    problems: list[str] = []
    with fresh_database(tmp_path, "scale_sigkill") as url, database(url) as engine:
        deployment = set_up_issuer(url, PUBLIC_URL, tmp_path / "data")
        with serve(
            "issuer", name="issuer", database_url=url, public_url=PUBLIC_URL,
            env=deployment.env, log_dir=tmp_path,
        ) as first:  # fmt: skip
            create_module(first.base_url, deployment)
            outcome: dict[str, Any] = {}

            def send() -> None:
                try:
                    outcome["response"] = upload(first.base_url, deployment, data)
                except httpx.HTTPError as exc:
                    outcome["error"] = exc

            sender = threading.Thread(target=send, name="upload", daemon=True)
            started = time.perf_counter()
            sender.start()
            deadline = time.monotonic() + BATCH_TIMEOUT
            committed = 0
            while committed < KILL_AFTER:
                assert sender.is_alive(), f"the batch ended before the kill: {outcome}"
                assert time.monotonic() < deadline, f"only {committed} rows after the timeout"
                time.sleep(POLL_EVERY)
                committed = scalar(engine, "SELECT count(*) FROM issued_credentials")
            first.sigkill()
            killed_after = time.perf_counter() - started
            sender.join(timeout=30)
            first.stop()  # its orphaned signing workers, if any
        assert "response" not in outcome, "the killed process still answered the upload"
        after_kill = integrity(engine)
        assert 0 < after_kill["credentials"] < ROWS, after_kill
        problems += consistency_problems(
            "after SIGKILL", after_kill, reserved=ROWS - after_kill["credentials"]
        )

        with serve(
            "issuer", name="issuer-restarted", database_url=url, public_url=PUBLIC_URL,
            env=deployment.env, log_dir=tmp_path,
        ) as second:  # fmt: skip
            after_restart = integrity(engine)
            problems += consistency_problems(
                "after restart", after_restart, reserved=ROWS - after_restart["credentials"]
            )
            started = time.perf_counter()
            response = upload(second.base_url, deployment, data)
            rerun_seconds = time.perf_counter() - started
            assert response.status_code == 200, response.text[:1000]
            report = response.json()
            stored_before = after_kill["credentials"]
            expected_counts = {
                "issued": ROWS - stored_before,
                "already_issued": stored_before,
                "conflict": 0,
                "failed": 0,
            }
            if report["counts"] != expected_counts:
                problems.append(f"re-run counts {report['counts']}, expected {expected_counts}")
            again = upload(second.base_url, deployment, data).json()["counts"]
            if again != {"issued": 0, "already_issued": ROWS, "conflict": 0, "failed": 0}:
                problems.append(f"a second re-run was not a no-op: {again}")

        final = integrity(engine)
        problems += consistency_problems("after the re-run", final)
        problems += _exactly_once(engine, final)
    print(
        f"\nSIGKILL drill on {backend()}: killed after {killed_after:.1f} s with "
        f"{after_kill['credentials']} of {ROWS} rows stored "
        f"({after_kill['credentials'] / killed_after:.0f} rows/s incl. start-up) and "
        f"{after_kill['slots']} slots claimed; re-run issued "
        f"{report['counts']['issued']} rows in {rerun_seconds:.1f} s "
        f"({report['counts']['issued'] / rerun_seconds:.0f} rows/s); final {final}"
    )
    assert not problems, "\n".join(problems)


def _exactly_once(engine: Engine, final: dict[str, int]) -> list[str]:
    """10,000 credentials and 10,000 slots, one per row key, none shared."""
    problems = []
    if final["credentials"] != ROWS:
        problems.append(f"{final['credentials']} credentials, expected {ROWS}")
    if final["slots"] != ROWS:
        problems.append(f"{final['slots']} status slots, expected {ROWS}")
    row_keys = scalar(
        engine, "SELECT count(DISTINCT row_key) FROM issued_credentials WHERE batch_id IS NOT NULL"
    )
    if row_keys != ROWS:
        problems.append(f"{row_keys} distinct row keys issued, expected {ROWS}")
    twice = rows(
        engine,
        "SELECT row_key, count(*) FROM issued_credentials GROUP BY row_key HAVING count(*) > 1",
    )
    if twice:
        problems.append(f"rows issued more than once: {twice[:5]}")
    shared = scalar(
        engine,
        "SELECT count(*) FROM (SELECT status_list_id, status_index FROM issued_credentials"
        " GROUP BY status_list_id, status_index HAVING count(*) > 1) AS doubles",
    )
    if shared:
        problems.append(f"{shared} status indexes used by more than one credential")
    sample = rows(
        engine,
        "SELECT document, status_list_id, status_index FROM issued_credentials"
        " ORDER BY credential_id LIMIT 200",
    )
    for row in sample:
        entries = json.loads(row.document)["credentialStatus"]
        signed = {
            (e["statusListCredential"].split("/")[-2], int(e["statusListIndex"])) for e in entries
        }
        if signed != {(row.status_list_id, row.status_index)}:
            problems.append(f"a signed credential names {signed}, its row another slot")
            break
    batches = scalar(engine, "SELECT count(*) FROM batches")
    if batches != 1:
        problems.append(f"{batches} batch rows for one idempotency key")
    return problems
