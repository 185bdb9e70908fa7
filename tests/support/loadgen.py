"""A small closed-loop load generator and a /proc memory probe for the soak tests.

The server under load is a ``microcred serve`` child process; the load comes from worker
threads of the test process, so the server's memory (read from ``/proc/<pid>/status``)
holds the server and nothing of the load generator.

An *operation* is a callable ``(client, rng) -> list[(name, status)]``: one user action,
which may take several requests (a challenge, then the presentation that uses it). Workers
pick operations by weight with their own seeded RNG, one request after the other (closed
loop: throughput is what the server sustains, never more than it can take). *Paced*
operations run on their own thread at a fixed interval instead — for actions a per-client
limit deliberately keeps rare (log-in).

What is counted is statuses per request name; a transport failure (no answer) counts as
status 0, so "zero 5xx" and "zero lost requests" are both visible in one table.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

Outcome = list[tuple[str, int]]
Operation = Callable[[httpx.Client, random.Random], Outcome]


@dataclass
class LoadResult:
    """What a run produced: per request name, how many of each status."""

    seconds: float
    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    rss_samples: list[tuple[float, int]] = field(default_factory=list)
    """``(seconds since start, RSS in KiB)`` of the server, sampled once a second."""
    unexpected: list[str] = field(default_factory=list)
    """Operations whose answer broke an expectation (an assertion in the operation): the
    worker goes on, and the run reports them instead of losing a thread and its counts."""

    @property
    def requests(self) -> int:
        return sum(sum(c.values()) for c in self.statuses.values())

    @property
    def server_errors(self) -> int:
        return sum(n for c in self.statuses.values() for s, n in c.items() if s >= 500)

    @property
    def no_answer(self) -> int:
        return sum(c.get(0, 0) for c in self.statuses.values())

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def count(self, name: str, *statuses: int) -> int:
        counter = self.statuses.get(name, Counter())
        return sum(counter[s] for s in statuses) if statuses else sum(counter.values())

    def rss_at(self, moment: float) -> int:
        """The first RSS sample at or after ``moment`` seconds (the last one if none)."""
        for when, rss in self.rss_samples:
            if when >= moment:
                return rss
        return self.rss_samples[-1][1]

    def table(self) -> str:
        return ", ".join(
            f"{name} {dict(sorted(counter.items()))}"
            for name, counter in sorted(self.statuses.items())
        )


def rss_kib(pid: int) -> int:
    """The resident set size of ``pid`` in KiB (``VmRSS`` in ``/proc/<pid>/status``)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def run_load(
    base_url: str,
    mix: list[tuple[int, Operation]],
    *,
    seconds: float,
    workers: int,
    server_pid: int,
    paced: list[tuple[float, Operation]] = (),  # type: ignore[assignment]
    seed: int = 9,
) -> LoadResult:
    """Run ``mix`` on ``workers`` threads (and ``paced`` on their own) for ``seconds``."""
    result = LoadResult(seconds=seconds)
    lock = threading.Lock()
    stop = threading.Event()
    weights = [weight for weight, _ in mix]
    operations = [operation for _, operation in mix]

    def record(outcome: Outcome) -> None:
        with lock:
            for name, status in outcome:
                result.statuses.setdefault(name, Counter())[status] += 1

    def guarded(operation: Operation, client: httpx.Client, rng: random.Random) -> None:
        try:
            record(operation(client, rng))
        except httpx.HTTPError:
            record([(getattr(operation, "__name__", "operation"), 0)])
        except Exception as exc:  # an operation's own check failed: keep it, keep going
            with lock:
                result.unexpected.append(f"{getattr(operation, '__name__', '?')}: {exc!r}"[:300])

    def worker(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        with httpx.Client(base_url=base_url, timeout=60) as client:
            while not stop.is_set():
                guarded(rng.choices(operations, weights)[0], client, rng)

    def pacer(index: int, every: float, operation: Operation) -> None:
        rng = random.Random(seed * 2000 + index)
        with httpx.Client(base_url=base_url, timeout=60) as client:
            while not stop.wait(every):
                guarded(operation, client, rng)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(workers)]
    threads += [
        threading.Thread(target=pacer, args=(i, every, op), daemon=True)
        for i, (every, op) in enumerate(paced)
    ]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    deadline = start + seconds
    while (now := time.monotonic()) < deadline:
        result.rss_samples.append((now - start, rss_kib(server_pid)))
        time.sleep(min(1.0, max(0.0, deadline - now)))
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    result.seconds = time.monotonic() - start
    result.rss_samples.append((result.seconds, rss_kib(server_pid)))
    return result
