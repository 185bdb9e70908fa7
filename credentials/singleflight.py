"""One download per key at a time, for the caches of remote documents.

The did:web resolver and the status-list cache both face the same burst: many verifier
threads missing the same document at the same moment. Without a gate each of them
downloads it; with one global lock a slow host would hold up every other key. A gate per
key lets the first thread load while the others for that key wait and then read the cache.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class SingleFlight(Generic[T]):
    """Per-key gates; a gate lives only while some thread holds it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._gates: dict[str, threading.Lock] = {}

    def get(self, key: str, cached: Callable[[], T | None], load: Callable[[], T]) -> T:
        """``cached()`` if it has the value, else ``load()`` by one thread per ``key``."""
        hit = cached()
        if hit is not None:
            return hit
        with self._lock:
            gate = self._gates.setdefault(key, threading.Lock())
        try:
            with gate:
                hit = cached()  # loaded by the thread we waited for
                return hit if hit is not None else load()
        finally:
            with self._lock:
                if not gate.locked():
                    self._gates.pop(key, None)
