"""Work that outlives a request belongs to its app: jobs and pools end with the app."""

from __future__ import annotations

import threading

import pytest

from servicekit.background import AppExecutor, BackgroundJobs
from servicekit.errors import Busy

WAIT = 5.0  # bound on every wait below; reaching it is a failure, not a pass


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_shutdown_waits_for_a_running_job_and_refuses_new_ones() -> None:
    jobs: BackgroundJobs[dict[str, bool]] = BackgroundJobs("test")
    gate = threading.Event()
    started = threading.Event()
    job = {"done": False}

    def work() -> None:
        started.set()
        assert gate.wait(WAIT)
        job["done"] = True

    jobs.start("a", job, work)
    assert started.wait(WAIT)
    assert jobs.running() == 1
    # the shutdown cannot finish before the job does: release the job only once the
    # shutdown has begun (it refuses new jobs from its first instant)
    def release_once_closing() -> None:
        _wait_closed(jobs)
        gate.set()

    releaser = threading.Thread(target=release_once_closing)
    releaser.start()
    assert jobs.shutdown(timeout=WAIT) is True
    assert job["done"] is True and jobs.running() == 0
    releaser.join(WAIT)
    with pytest.raises(Busy) as refused:
        jobs.start("b", {"done": False}, lambda: None)
    assert refused.value.code == "shutting_down"
    jobs.reopen()
    jobs.start("b", {"done": False}, lambda: None)


def _wait_closed(jobs: BackgroundJobs[dict[str, bool]]) -> None:
    never = threading.Event()
    for _ in range(int(WAIT / 0.005)):
        if jobs.closed:
            return
        never.wait(0.005)


def _hold(gate: threading.Event) -> None:
    assert gate.wait(WAIT)


def test_shutdown_gives_up_after_its_timeout() -> None:
    jobs: BackgroundJobs[str] = BackgroundJobs("test")
    gate = threading.Event()
    jobs.start("stuck", "job", lambda: _hold(gate))
    assert jobs.shutdown(timeout=0.05) is False
    gate.set()


def test_finished_jobs_are_forgotten_after_keep_seconds_running_ones_never() -> None:
    clock = FakeClock()
    jobs: BackgroundJobs[str] = BackgroundJobs("test", keep_seconds=60, clock=clock)
    gate = threading.Event()
    jobs.start("old", "old job", lambda: None)
    jobs.start("slow", "slow job", lambda: _hold(gate))
    assert jobs.shutdown(timeout=0.05) is False  # "old" ended, "slow" still runs
    jobs.reopen()
    clock.now += 61
    jobs.start("new", "new job", lambda: None)
    assert jobs.get("old") is None
    assert jobs.get("slow") == "slow job"
    assert jobs.get("new") == "new job"
    gate.set()
    assert jobs.shutdown(timeout=WAIT)


def test_a_job_id_is_not_taken_twice() -> None:
    jobs: BackgroundJobs[str] = BackgroundJobs("test")
    jobs.start("a", "first", lambda: None)
    with pytest.raises(ValueError):
        jobs.start("a", "second", lambda: None)
    assert jobs.get("a") == "first"


def test_an_app_executor_starts_on_first_use_and_again_after_shutdown() -> None:
    executor = AppExecutor(2, "test-pool")
    assert not executor.started
    pool = executor.get()
    assert executor.get() is pool
    assert pool.submit(lambda: 21 * 2).result(WAIT) == 42
    executor.shutdown()
    assert not executor.started
    with pytest.raises(RuntimeError):
        pool.submit(lambda: None)  # the old threads are gone for good
    fresh = executor.get()
    assert fresh is not pool and fresh.submit(lambda: "ok").result(WAIT) == "ok"
    executor.shutdown()
