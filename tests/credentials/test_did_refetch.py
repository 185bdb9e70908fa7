"""After a key rotation the resolver re-fetches once for a key it does not know (issue 14.1).

Before: a cached DID document hid a new key for the whole cache time (300 s), and every
credential and status list signed with it failed with ``did_resolution_failed``.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from credentials.dids import DidResolver
from credentials.errors import DidResolutionError

DID = "did:web:issuer.example"
URL = "https://issuer.example/.well-known/did.json"


class RotatingFetcher:
    """Serves the issuer's DID document with the keys it has now; counts downloads."""

    class Policy:
        allow_insecure = False

    def __init__(self, delay: float = 0.0) -> None:
        self.policy = self.Policy()
        self.keys = ["key-1"]
        self.hits = 0
        self.delay = delay
        self._lock = threading.Lock()

    def with_policy(self, **changes: Any) -> RotatingFetcher:
        return self

    def get_json(self, url: str, **kwargs: Any) -> tuple[dict[str, Any], None]:
        assert url == URL
        with self._lock:
            self.hits += 1
        time.sleep(self.delay)
        methods = [{"id": f"{DID}#{k}", "type": "Multikey", "controller": DID} for k in self.keys]
        return {
            "id": DID,
            "verificationMethod": methods,
            "assertionMethod": [m["id"] for m in methods],
        }, None


class Ticker:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_key_added_after_caching_is_found_by_one_refetch() -> None:
    fetcher = RotatingFetcher()
    resolver = DidResolver(fetcher, clock=Ticker())  # type: ignore[arg-type]
    assert resolver.verification_method(f"{DID}#key-1")["id"] == f"{DID}#key-1"
    fetcher.keys.append("key-2")  # the issuer rotates; the cache is still fresh
    assert resolver.verification_method(f"{DID}#key-2")["id"] == f"{DID}#key-2"
    assert resolver.is_authorised(f"{DID}#key-2", "assertionMethod")
    assert fetcher.hits == 2
    resolver.verification_method(f"{DID}#key-1")  # the old key: from the refreshed cache
    assert fetcher.hits == 2


def test_refetches_for_unknown_keys_are_rate_limited_per_did() -> None:
    fetcher, ticker = RotatingFetcher(), Ticker()
    resolver = DidResolver(  # type: ignore[arg-type]
        fetcher, clock=ticker, refetch_burst=2, refetch_interval=10.0
    )
    resolver.resolve(DID)
    for number in range(10):  # an attacker names made-up keys
        with pytest.raises(DidResolutionError):
            resolver.verification_method(f"{DID}#made-up-{number}")
    assert fetcher.hits == 1 + 2
    ticker.now += 10.0  # one token back
    fetcher.keys.append("key-2")
    assert resolver.verification_method(f"{DID}#key-2")
    assert fetcher.hits == 4


def test_threads_meeting_one_new_key_share_one_refetch() -> None:
    fetcher = RotatingFetcher(delay=0.2)
    resolver = DidResolver(fetcher)  # type: ignore[arg-type]
    resolver.resolve(DID)
    fetcher.keys.append("key-2")
    found: list[str] = []

    def worker() -> None:
        found.append(resolver.verification_method(f"{DID}#key-2")["id"])

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert found == [f"{DID}#key-2"] * 6
    assert fetcher.hits == 2
