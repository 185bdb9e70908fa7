"""did:web resolution cache: one download for concurrent misses, expiry, bounded size."""

from __future__ import annotations

import threading
import time
from typing import Any

from credentials.dids import DidResolver


class FakeFetcher:
    """Serves a DID document for any did:web URL, slowly, counting requests per URL."""

    class Policy:
        allow_insecure = False

    def __init__(self, delay: float = 0.0) -> None:
        self.policy = self.Policy()
        self.delay = delay
        self.hits: dict[str, int] = {}
        self._lock = threading.Lock()

    def with_policy(self, **changes: Any) -> FakeFetcher:
        return self

    def get_json(self, url: str, **kwargs: Any) -> tuple[dict[str, Any], None]:
        with self._lock:
            self.hits[url] = self.hits.get(url, 0) + 1
        time.sleep(self.delay)
        host = url.removeprefix("https://").split("/")[0]
        return {"id": f"did:web:{host}", "verificationMethod": []}, None


class Ticker:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_concurrent_misses_resolve_once() -> None:
    fetcher = FakeFetcher(delay=0.2)
    resolver = DidResolver(fetcher)  # type: ignore[arg-type]
    results: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        document = resolver.resolve("did:web:issuer.example#key-1")
        with lock:
            results.append(document["id"])

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["did:web:issuer.example"] * 8
    assert fetcher.hits == {"https://issuer.example/.well-known/did.json": 1}


def test_documents_are_fetched_again_after_the_cache_time() -> None:
    fetcher, ticker = FakeFetcher(), Ticker()
    resolver = DidResolver(fetcher, cache_ttl=60, clock=ticker)  # type: ignore[arg-type]
    resolver.resolve("did:web:issuer.example")
    ticker.now += 59
    resolver.resolve("did:web:issuer.example")
    ticker.now += 2
    resolver.resolve("did:web:issuer.example")
    assert sum(fetcher.hits.values()) == 2


def test_the_cache_is_bounded() -> None:
    fetcher, ticker = FakeFetcher(), Ticker()
    resolver = DidResolver(fetcher, clock=ticker, max_entries=3)  # type: ignore[arg-type]
    for number in range(6):
        resolver.resolve(f"did:web:issuer{number}.example")
        ticker.now += 1
    assert len(resolver._cache) == 3
    resolver.resolve("did:web:issuer5.example")  # the newest are kept
    assert fetcher.hits["https://issuer5.example/.well-known/did.json"] == 1
    resolver.resolve("did:web:issuer0.example")  # the oldest was dropped
    assert fetcher.hits["https://issuer0.example/.well-known/did.json"] == 2
