"""The verify thread pool belongs to its app (issue 15, build 1): each app has its own, it
starts on the first verification, and the app's shutdown stops it."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from verifier.config import Settings
from verifier.main import create_app


def _verify_threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name.startswith("microcred-verify")}


def test_each_app_has_its_own_pool_and_its_shutdown_stops_it(
    settings_for: Callable[..., Settings],
) -> None:
    first = create_app(settings_for())
    second = create_app(settings_for())
    assert first.state.verify_pool is not second.state.verify_pool
    before = _verify_threads()
    with TestClient(first) as client:
        answer = client.post("/credentials/verify", content=b"{}")
        assert answer.status_code == 400 and answer.json()["checks"]  # a report, verified off-loop
        pool = first.state.verify_pool.get()
        assert first.state.verify_pool.started
        assert not second.state.verify_pool.started  # the other app's pool never started
        assert _verify_threads() - before  # its threads run now
    assert not first.state.verify_pool.started
    with pytest.raises(RuntimeError):
        pool.submit(print)  # shut down for good: the threads are gone
    assert not (_verify_threads() - before)
    with TestClient(first) as client:  # the same app started again verifies again
        assert client.post("/credentials/verify", content=b"{}").status_code == 400
