"""Console batches belong to the app that runs them (issue 15, build 1: no process-global
registry): another app in the same process does not see them, and the app's shutdown waits
for them and then refuses new ones."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient

from issuer.main import create_app
from servicekit.errors import Busy
from tests.issuer.support import Institution
from tests.issuer.test_console_session import _log_in as log_in_session

CSV = "email,student_number,grade\nanna@example.nl,500123,8\nbob@example.nl,500124,7\n"
WAIT_SECONDS = 30.0


def _log_in(client: TestClient, inst: Institution) -> str:
    """Log in to the console; the CSRF token for its forms (bound to the new session)."""
    log_in_session(client, inst)
    client.get("/console/batch")
    bound = client.cookies.get("mc_issuer_csrf")
    assert bound
    return bound


def _start_batch(client: TestClient, csrf: str, module_id: str) -> str:
    answer = client.post(
        "/console/batch",
        data={"module_id": module_id, "how": "direct", "csrf_token": csrf},
        files={"file": ("cohort.csv", CSV.encode(), "text/csv")},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return answer.headers["location"].rsplit("/", 1)[1]


def _wait_done(client: TestClient, job_id: str) -> dict[str, Any]:
    never = threading.Event()
    for _ in range(int(WAIT_SECONDS / 0.05)):
        state = client.get(f"/console/batch/{job_id}/state").json()
        if state["done"]:
            return state
        never.wait(0.05)
    raise AssertionError(f"batch {job_id} not done within {WAIT_SECONDS} s")


def test_a_batch_is_seen_by_its_own_app_only(
    client: TestClient, app: Any, inst: Institution, module: dict[str, Any]
) -> None:
    csrf = _log_in(client, inst)
    job_id = _start_batch(client, csrf, module["id"])
    assert _wait_done(client, job_id)["progress"] == 2
    assert client.get(f"/console/batch/{job_id}").status_code == 200

    second = create_app(app.state.issuer.settings)  # same database, same process
    assert second.state.batch_jobs is not app.state.batch_jobs
    with TestClient(second) as other:
        _log_in(other, inst)
        assert other.get(f"/console/batch/{job_id}").status_code == 404
        assert other.get(f"/console/batch/{job_id}/state").status_code == 404


def test_the_apps_shutdown_closes_its_batch_registry(app: Any) -> None:
    jobs = app.state.batch_jobs
    with TestClient(app):
        assert not jobs.closed
    assert jobs.closed
    with pytest.raises(Busy):
        jobs.start("late", object(), lambda: None)
    with TestClient(app):  # the same app started again takes batches again
        assert not jobs.closed
