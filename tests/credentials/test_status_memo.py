"""What a cached status list remembers: one download for concurrent misses, its proof
outcome (bounded in time, never for an expiring proof) and its decoded bitstring — while
everything that depends on the credential or the clock is still checked every time."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from credentials.errors import InvalidProof
from credentials.fetch import FetchPolicy, SafeFetcher
from credentials.status import StatusListCache
from credentials.status_list import status_entry
from tests.credentials.status_server import (
    Clock,
    StatusServer,
    make_credential,
    make_list,
    only,
    run,
)


@pytest.fixture
def server() -> Iterator[StatusServer]:
    srv = StatusServer()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


@pytest.fixture
def fetcher() -> SafeFetcher:
    return SafeFetcher(FetchPolicy(allow_insecure=True, timeout=2.0))


@pytest.fixture
def clock() -> Clock:
    return Clock()


class CountingProof:
    """A proof callback that counts its calls (True unless told otherwise)."""

    def __init__(self, ok: bool = True) -> None:
        self.calls = 0
        self.ok = ok
        self._lock = threading.Lock()

    def __call__(self, document: dict[str, Any]) -> tuple[bool, str]:
        with self._lock:
            self.calls += 1
        return (True, "") if self.ok else (False, "bad proof")


class Ticker:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticker() -> Ticker:
    return Ticker()


@pytest.fixture
def memo_cache(clock: Clock, ticker: Ticker) -> Iterator[StatusListCache]:
    yield StatusListCache(now=clock, monotonic=ticker, proof_memo_seconds=120)


def _credential(server: StatusServer, index: int = 5, **list_kwargs: Any) -> dict[str, Any]:
    url = server.serve(
        "/status/1",
        make_list(server.url("/status/1"), set_indexes=(5,), **list_kwargs),
        headers={"Cache-Control": "max-age=600"},
    )
    return make_credential(status_entry(url, index, "revocation"))


def test_the_proof_of_a_cached_list_is_verified_once(
    server: StatusServer, fetcher: SafeFetcher, memo_cache: StatusListCache
) -> None:
    proof = CountingProof()
    revoked, active = _credential(server, 5), _credential(server, 6)
    for _ in range(3):
        assert only(run(revoked, fetcher, memo_cache, verify=proof)).code == "revoked"
        assert only(run(active, fetcher, memo_cache, verify=proof)).code == "ok"
    assert proof.calls == 1 and server.total == 1


def test_a_failed_proof_is_remembered_as_failed(
    server: StatusServer, fetcher: SafeFetcher, memo_cache: StatusListCache
) -> None:
    proof = CountingProof(ok=False)
    credential = _credential(server)
    for _ in range(2):
        check = only(run(credential, fetcher, memo_cache, verify=proof))
        assert (check.outcome, check.code) == ("failed", "status_list_proof_invalid")
    assert proof.calls == 1


def test_a_raising_proof_callback_is_a_failure_and_remembered(
    server: StatusServer, fetcher: SafeFetcher, memo_cache: StatusListCache
) -> None:
    calls = []

    def raising(document: dict[str, Any]) -> tuple[bool, str]:
        calls.append(1)
        raise InvalidProof("cannot verify this")

    credential = _credential(server)
    for _ in range(2):
        check = only(run(credential, fetcher, memo_cache, verify=raising))
        assert check.code == "status_list_proof_invalid" and "cannot verify" in check.message
    assert len(calls) == 1


def test_the_proof_outcome_is_reverified_after_the_memo_time(
    server: StatusServer, fetcher: SafeFetcher, memo_cache: StatusListCache, ticker: Ticker
) -> None:
    proof = CountingProof()
    credential = _credential(server)
    run(credential, fetcher, memo_cache, verify=proof)
    ticker.now += 119
    run(credential, fetcher, memo_cache, verify=proof)
    assert proof.calls == 1
    ticker.now += 2
    proof.ok = False  # e.g. the issuer withdrew the key in its DID document meanwhile
    check = only(run(credential, fetcher, memo_cache, verify=proof))
    assert check.code == "status_list_proof_invalid" and proof.calls == 2
    assert server.total == 1  # the list itself is still fresh


def test_an_expiring_proof_is_verified_every_time(
    server: StatusServer, fetcher: SafeFetcher, memo_cache: StatusListCache
) -> None:
    url = server.url("/status/1")
    document = make_list(url, set_indexes=(5,))
    document["proof"]["expires"] = "2030-01-01T00:00:00Z"
    server.serve("/status/1", document, headers={"Cache-Control": "max-age=600"})
    proof = CountingProof()
    credential = make_credential(status_entry(url, 5, "revocation"))
    for _ in range(3):
        run(credential, fetcher, memo_cache, verify=proof)
    assert proof.calls == 3 and server.total == 1


def test_uncached_lists_remember_nothing(server: StatusServer, fetcher: SafeFetcher) -> None:
    cache = StatusListCache()
    url = server.serve(
        "/status/1",
        make_list(server.url("/status/1"), set_indexes=(5,)),
        headers={"Cache-Control": "no-store"},
    )
    proof = CountingProof()
    credential = make_credential(status_entry(url, 5, "revocation"))
    for _ in range(2):
        assert only(run(credential, fetcher, cache, verify=proof)).code == "revoked"
    assert proof.calls == 2 and server.total == 2


def test_a_new_list_after_expiry_is_decoded_and_verified_again(
    server: StatusServer, fetcher: SafeFetcher, memo_cache: StatusListCache, clock: Clock
) -> None:
    proof = CountingProof()
    credential = _credential(server)
    assert only(run(credential, fetcher, memo_cache, verify=proof)).code == "revoked"
    server.serve(
        "/status/1",
        make_list(server.url("/status/1")),
        headers={"Cache-Control": "max-age=600"},
    )  # un-revoked at the source
    assert only(run(credential, fetcher, memo_cache, verify=proof)).code == "revoked"
    clock.advance(601)
    assert only(run(credential, fetcher, memo_cache, verify=proof)).code == "ok"
    assert proof.calls == 2 and server.total == 2


def test_the_validity_window_is_still_checked_on_every_call(
    server: StatusServer, fetcher: SafeFetcher, memo_cache: StatusListCache, clock: Clock
) -> None:
    proof = CountingProof()
    valid_until = (clock.now + timedelta(seconds=100)).strftime("%Y-%m-%dT%H:%M:%SZ")
    credential = _credential(server, valid_until=valid_until)
    assert only(run(credential, fetcher, memo_cache, verify=proof, now=clock.now)).code == (
        "revoked"
    )
    later = clock.now + timedelta(seconds=500)  # beyond validUntil and the 5-minute skew
    clock.now = later
    check = only(run(credential, fetcher, memo_cache, verify=proof, now=later))
    assert check.code == "status_list_expired"


def test_the_issuer_is_still_matched_on_every_call(
    server: StatusServer, fetcher: SafeFetcher, memo_cache: StatusListCache
) -> None:
    proof = CountingProof()
    credential = _credential(server)
    assert only(run(credential, fetcher, memo_cache, verify=proof)).code == "revoked"
    other = make_credential(credential["credentialStatus"], issuer="did:web:other.example")
    check = only(run(other, fetcher, memo_cache, verify=proof))
    assert check.code == "status_list_issuer_mismatch"


def test_concurrent_misses_download_the_list_once(
    server: StatusServer, fetcher: SafeFetcher, clock: Clock
) -> None:
    cache = StatusListCache(now=clock)
    credential = _credential(server)
    original = fetcher.get_json

    def slow_get_json(url: str, **kwargs: Any) -> Any:
        time.sleep(0.2)  # every thread misses while the first download is under way
        return original(url, **kwargs)

    fetcher.get_json = slow_get_json  # type: ignore[method-assign]
    results: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        code = only(run(credential, fetcher, cache)).code
        with lock:
            results.append(code)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["revoked"] * 8
    assert server.total == 1
