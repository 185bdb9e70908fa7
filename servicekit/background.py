"""Work that outlives a request, owned by the app that started it.

Module-level registries and pools are shared by every app in a process: two test apps see
each other's jobs, and nothing ever shuts a module's pool down. These two classes live on
an app's ``app.state`` instead, are created with the app, and are closed by its lifespan:

* :class:`BackgroundJobs` – jobs that run in a thread each (a cohort batch), looked up by
  id from a progress page; shutting down refuses new jobs and waits, boundedly, for the
  running ones, so a stopping server does not cut a batch off mid-chunk when it need not;
* :class:`AppExecutor` – a thread pool started on first use and shut down with the app; it
  starts again when the same app is started again (tests enter one app more than once).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from .errors import Busy

J = TypeVar("J")


@dataclass
class _Entry(Generic[J]):
    job: J
    thread: threading.Thread | None = None
    finished_at: float | None = None
    done: threading.Event = field(default_factory=threading.Event)


class BackgroundJobs(Generic[J]):
    """Jobs of one app, each running in its own thread, kept ``keep_seconds`` after they end.

    ``clock`` is for tests. A job that ended longer ago than ``keep_seconds`` is forgotten
    when the next one starts, so the registry stays small without a sweeper thread.
    """

    def __init__(
        self,
        name: str,
        *,
        keep_seconds: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.keep_seconds = keep_seconds
        self._clock = clock
        self._entries: dict[str, _Entry[J]] = {}
        self._lock = threading.Lock()
        self._closed = False

    def start(self, job_id: str, job: J, work: Callable[[], None]) -> None:
        """Register ``job`` under ``job_id`` and run ``work`` in a thread of its own.

        ``work`` reports its outcome on the job itself; whatever it raises is its own
        business (it must catch what it wants the page to show). Raises
        :class:`~servicekit.errors.Busy` once the app is shutting down.
        """
        entry: _Entry[J] = _Entry(job)

        def run() -> None:
            try:
                work()
            finally:
                entry.finished_at = self._clock()
                entry.done.set()

        with self._lock:
            if self._closed:
                raise Busy("shutting_down", "the service is shutting down; try again shortly")
            self._forget_old()
            if job_id in self._entries:
                raise ValueError(f"job {job_id!r} exists already")
            entry.thread = threading.Thread(target=run, name=f"{self.name}-{job_id}", daemon=True)
            self._entries[job_id] = entry
            entry.thread.start()

    def get(self, job_id: str) -> J | None:
        with self._lock:
            entry = self._entries.get(job_id)
        return entry.job if entry is not None else None

    @property
    def closed(self) -> bool:
        """Whether :meth:`shutdown` has begun (and no :meth:`reopen` followed)."""
        return self._closed

    def running(self) -> int:
        """How many jobs have not ended yet."""
        with self._lock:
            return sum(1 for entry in self._entries.values() if not entry.done.is_set())

    def _forget_old(self) -> None:
        cutoff = self._clock() - self.keep_seconds
        for key in [
            key
            for key, entry in self._entries.items()
            if entry.finished_at is not None and entry.finished_at < cutoff
        ]:
            del self._entries[key]

    def shutdown(self, timeout: float = 30.0) -> bool:
        """Refuse new jobs and wait up to ``timeout`` seconds in all for the running ones.

        Returns whether every job ended. Threads are daemons: a job still running after
        the timeout does not keep the process alive (a batch leaves whole chunks or
        nothing, and a re-run with the same file issues nothing twice).
        """
        with self._lock:
            self._closed = True
            pending = [entry for entry in self._entries.values() if not entry.done.is_set()]
        deadline = time.monotonic() + timeout
        for entry in pending:
            entry.done.wait(max(0.0, deadline - time.monotonic()))
        return all(entry.done.is_set() for entry in pending)

    def reopen(self) -> None:
        """Accept jobs again (the same app started a second time)."""
        with self._lock:
            self._closed = False


class AppExecutor:
    """A thread pool belonging to one app: started on first use, shut down with the app."""

    def __init__(self, max_workers: int, thread_name_prefix: str) -> None:
        self.max_workers = max_workers
        self.thread_name_prefix = thread_name_prefix
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    @property
    def started(self) -> bool:
        return self._pool is not None

    def get(self) -> ThreadPoolExecutor:
        pool = self._pool
        if pool is not None:
            return pool
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=self.max_workers, thread_name_prefix=self.thread_name_prefix
                )
            return self._pool

    def shutdown(self, wait: bool = True) -> None:
        """Finish what was submitted (when ``wait``) and stop the threads; a later
        :meth:`get` starts a fresh pool."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=not wait)


__all__ = ["AppExecutor", "BackgroundJobs"]
