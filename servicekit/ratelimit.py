"""Rate limits answered with 429 and ``Retry-After``.

A sliding-window counter per (limit name, key) in process memory: cheap enough to put in
front of log-in, token, verification and share-link routes. With N instances the effective
limit is at most N times the configured one, which is acceptable for abuse damping (the
database-enforced invariants — single-use nonces and codes — do not depend on it).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from fastapi import Request

from .problems import ProblemError


def _now() -> float:
    """The limiters' default clock, looked up at each hit so that a test can hold it still
    (a window must not slide because a loaded machine took a minute for 30 requests)."""
    return time.monotonic()


class RateLimiter:
    def __init__(self, clock: Callable[[], float] | None = None, max_keys: int = 100_000):
        self._clock = clock
        self._hits: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()
        self._max_keys = max_keys

    def hit(self, name: str, key: str, limit: int, window: float) -> float:
        """Record a hit; return 0 when allowed, else the seconds until one is allowed."""
        now = self._clock() if self._clock is not None else _now()
        with self._lock:
            if len(self._hits) > self._max_keys:
                self._hits.clear()  # bounded memory under a key-spraying attack
            hits = self._hits.setdefault((name, key), deque())
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= limit:
                return max(0.0, hits[0] + window - now)
            hits.append(now)
            return 0.0

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()


def client_key(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def limit(
    limiter: RateLimiter,
    name: str,
    per_window: int,
    window: float = 60.0,
    key: Callable[[Request], str] = client_key,
) -> Callable[[Request], None]:
    """A FastAPI dependency enforcing ``per_window`` requests per ``window`` seconds."""

    def dependency(request: Request) -> None:
        wait = limiter.hit(name, key(request), per_window, window)
        if wait:
            raise ProblemError(
                429,
                "rate_limited",
                f"too many requests; try again in {math.ceil(wait)} s",
                headers={"Retry-After": str(math.ceil(wait))},
            )

    return dependency


#: Requests per minute per client for the routes that attackers like; 0 disables a limit.
#: Override with MICROCRED_RATE_<NAME> (e.g. MICROCRED_RATE_VERIFY=0 for a load test).
DEFAULT_LIMITS = {"verify": 240, "share": 120, "token": 60, "request": 30}


def _configured(name: str) -> int:
    import os

    value = os.environ.get(f"MICROCRED_RATE_{name.upper()}", "")
    return int(value) if value.isdigit() else DEFAULT_LIMITS[name]


def per_client(name: str, window: float = 60.0) -> Callable[[Request], None]:
    """A dependency limiting ``name`` per client with a limiter owned by the app.

    One limiter per app instance (on ``app.state``) keeps apps in one process, such as
    tests, from sharing counts.
    """
    per_window = _configured(name)

    def dependency(request: Request) -> None:
        if per_window <= 0:
            return
        state = request.app.state
        limiter = getattr(state, "rate_limiter", None)
        if limiter is None:
            limiter = state.rate_limiter = RateLimiter()
        limit(limiter, name, per_window, window)(request)

    return dependency
