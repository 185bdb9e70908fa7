"""check_status and StatusListCache against a real local server that counts its requests.

The proof of a status list credential is checked by a callback; here it is a fake that
answers (True, "") or (False, "bad proof"), since the real verifier is wired in later.
"""

from __future__ import annotations

import base64
import copy
import gzip
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from credentials.errors import InvalidProof
from credentials.fetch import FetchPolicy, FetchResponse, SafeFetcher
from credentials.report import Check
from credentials.status import StatusListCache, check_status
from credentials.status_list import StatusList, status_entry, status_list_credential

FIXTURES = Path(__file__).parent.parent / "fixtures" / "status-list"
ISSUER = "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


# --------------------------------------------------------------------------- local server


@dataclass
class Served:
    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


class StatusServer:
    """Serves status list credentials on 127.0.0.1 and counts requests per path."""

    def __init__(self) -> None:
        self.routes: dict[str, Served] = {}
        self.hits: dict[str, int] = {}
        self.accept: list[str] = []
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with outer._lock:
                    outer.hits[self.path] = outer.hits.get(self.path, 0) + 1
                    outer.accept.append(self.headers.get("Accept", ""))
                served = outer.routes.get(self.path, Served(b"not found", 404))
                self.send_response(served.status)
                self.send_header("Content-Type", "application/vc+ld+json")
                for name, value in served.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(served.body)))
                self.end_headers()
                self.wfile.write(served.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def serve(self, path: str, document: Any, **kwargs: Any) -> str:
        body = document if isinstance(document, bytes) else json.dumps(document).encode()
        self.routes[path] = Served(body, **kwargs)
        return self.url(path)

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self.hits.values())


@pytest.fixture
def server() -> Iterator[StatusServer]:
    srv = StatusServer()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


@pytest.fixture
def fetcher() -> SafeFetcher:
    return SafeFetcher(FetchPolicy(allow_insecure=True, timeout=2.0))


class Clock:
    def __init__(self, start: datetime = NOW) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cache(clock: Clock) -> StatusListCache:
    return StatusListCache(now=clock)


def proof_ok(document: dict[str, Any]) -> tuple[bool, str]:
    return True, ""


def proof_bad(document: dict[str, Any]) -> tuple[bool, str]:
    return False, "bad proof"


def make_list(
    url: str,
    purpose: str = "revocation",
    set_indexes: tuple[int, ...] = (),
    issuer: Any = ISSUER,
    **kwargs: Any,
) -> dict[str, Any]:
    status_list = StatusList()
    for index in set_indexes:
        status_list.set(index, 1)
    document = status_list_credential(
        url, issuer, purpose, status_list.encode(), valid_from="2025-01-01T00:00:00Z", **kwargs
    )  # type: ignore[arg-type]
    document["proof"] = {"type": "DataIntegrityProof", "proofValue": "zFake"}
    return document


def make_credential(*entries: dict[str, Any], issuer: Any = ISSUER) -> dict[str, Any]:
    credential: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": issuer,
        "validFrom": "2025-02-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner"},
    }
    if entries:
        credential["credentialStatus"] = entries[0] if len(entries) == 1 else list(entries)
    return credential


def run(
    credential: dict[str, Any],
    fetcher: SafeFetcher,
    cache: StatusListCache,
    verify: Any = proof_ok,
    now: datetime = NOW,
) -> list[Check]:
    return check_status(
        credential, fetcher=fetcher, cache=cache, verify_list_credential=verify, now=now
    )


def only(checks: list[Check]) -> Check:
    assert len(checks) == 1, checks
    assert checks[0].id == "status"
    return checks[0]


# --------------------------------------------------------------------------- outcomes


def test_revoked(server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache) -> None:
    url = server.serve("/status/1", make_list(server.url("/status/1"), set_indexes=(94567,)))
    check = only(run(make_credential(status_entry(url, 94567, "revocation")), fetcher, cache))
    assert (check.outcome, check.code) == ("failed", "revoked")
    assert "94567" in check.message and url in check.message
    assert "application/vc" in server.accept[0]


def test_suspended(server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache) -> None:
    url = server.serve(
        "/status/s", make_list(server.url("/status/s"), "suspension", set_indexes=(7,))
    )
    check = only(run(make_credential(status_entry(url, 7, "suspension")), fetcher, cache))
    assert (check.outcome, check.code) == ("failed", "suspended")


def test_active(server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache) -> None:
    url = server.serve("/status/1", make_list(server.url("/status/1"), set_indexes=(1, 3)))
    check = only(run(make_credential(status_entry(url, 2, "revocation")), fetcher, cache))
    assert check.outcome == "passed"
    assert "not revoked" in check.message


def test_revocation_and_suspension_entries_each_get_a_check(
    server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache
) -> None:
    revocation = server.serve("/r", make_list(server.url("/r")))
    suspension = server.serve("/s", make_list(server.url("/s"), "suspension", set_indexes=(9,)))
    checks = run(
        make_credential(
            status_entry(revocation, 9, "revocation"), status_entry(suspension, 9, "suspension")
        ),
        fetcher,
        cache,
    )
    assert [(c.outcome, c.code) for c in checks] == [("passed", "ok"), ("failed", "suspended")]
    assert all(c.id == "status" for c in checks)


def test_no_credential_status_is_one_skipped_check(
    fetcher: SafeFetcher, cache: StatusListCache
) -> None:
    check = only(run(make_credential(), fetcher, cache))
    assert check.outcome == "skipped"
    empty = make_credential()
    empty["credentialStatus"] = []
    assert only(run(empty, fetcher, cache)).outcome == "skipped"


# --------------------------------------------------------------------------- unknown status


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_unreachable_list_is_a_warning_never_revoked(
    fetcher: SafeFetcher, cache: StatusListCache
) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/status/1"
    check = only(run(make_credential(status_entry(url, 5, "revocation")), fetcher, cache))
    assert (check.outcome, check.code) == ("warning", "status_unknown")
    assert "could not be determined" in check.message
    assert "revoked" not in check.code


@pytest.mark.parametrize(
    "served",
    [
        Served(b"oops", 500),
        Served(b"not found", 404),
        Served(b"<html>not json</html>"),
        Served(b"x" * 2_000_000),  # over the fetcher's 1 MiB cap
    ],
)
def test_http_failures_are_status_unknown(
    served: Served, server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache
) -> None:
    server.routes["/status/1"] = served
    check = only(
        run(make_credential(status_entry(server.url("/status/1"), 5, "revocation")), fetcher, cache)
    )
    assert (check.outcome, check.code) == ("warning", "status_unknown")


def test_refused_list_url_is_status_unknown_and_not_fetched(
    server: StatusServer, cache: StatusListCache
) -> None:
    url = server.serve("/status/1", make_list(server.url("/status/1"), set_indexes=(5,)))
    production = SafeFetcher(FetchPolicy())
    check = only(run(make_credential(status_entry(url, 5, "revocation")), production, cache))
    assert (check.outcome, check.code) == ("warning", "status_unknown")
    assert server.total == 0


# --------------------------------------------------------------------------- untrusted lists


def test_issuer_mismatch(
    server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache
) -> None:
    url = server.serve(
        "/status/1", make_list(server.url("/status/1"), set_indexes=(5,), issuer="did:key:zOther")
    )
    check = only(run(make_credential(status_entry(url, 5, "revocation")), fetcher, cache))
    assert (check.outcome, check.code) == ("failed", "status_list_issuer_mismatch")
    assert "did:key:zOther" in check.message


def test_issuer_objects_compare_by_id(
    server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache
) -> None:
    url = server.serve(
        "/status/1",
        make_list(server.url("/status/1"), set_indexes=(5,), issuer={"id": ISSUER, "name": "U"}),
    )
    credential = make_credential(
        status_entry(url, 5, "revocation"), issuer={"id": ISSUER, "type": ["Profile"]}
    )
    assert only(run(credential, fetcher, cache)).code == "revoked"


@pytest.mark.parametrize(
    "document",
    [
        {"hello": "world"},
        ["not", "an", "object"],
        "a string",
        None,
        {"type": ["VerifiableCredential"], "issuer": ISSUER, "credentialSubject": {}},
        {
            "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": ISSUER,
            "credentialSubject": {"type": "BitstringStatusList", "statusPurpose": "revocation"},
        },
        {
            "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": ISSUER,
            "credentialSubject": {"type": "Other", "encodedList": "u", "statusPurpose": "x"},
        },
    ],
)
def test_not_a_credential(
    document: Any, server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache
) -> None:
    url = server.serve("/status/1", document)
    check = only(run(make_credential(status_entry(url, 5, "revocation")), fetcher, cache))
    assert (check.outcome, check.code) == ("failed", "status_list_not_a_credential")


def test_bad_proof(server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache) -> None:
    url = server.serve("/status/1", make_list(server.url("/status/1"), set_indexes=(5,)))
    check = only(
        run(make_credential(status_entry(url, 5, "revocation")), fetcher, cache, proof_bad)
    )
    assert (check.outcome, check.code) == ("failed", "status_list_proof_invalid")
    assert "bad proof" in check.message


def test_proof_callback_receives_the_list_and_may_raise(
    server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache
) -> None:
    list_url = server.url("/status/1")
    url = server.serve("/status/1", make_list(list_url))
    seen: list[dict[str, Any]] = []

    def raising(document: dict[str, Any]) -> tuple[bool, str]:
        seen.append(document)
        raise InvalidProof()

    check = only(run(make_credential(status_entry(url, 5, "revocation")), fetcher, cache, raising))
    assert check.code == "status_list_proof_invalid"
    assert seen[0]["id"] == list_url


def test_purpose_mismatch(
    server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache
) -> None:
    url = server.serve("/status/1", make_list(server.url("/status/1"), "suspension", (5,)))
    check = only(run(make_credential(status_entry(url, 5, "revocation")), fetcher, cache))
    assert (check.outcome, check.code) == ("failed", "status_purpose_mismatch")


def test_list_with_several_purposes(
    server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache
) -> None:
    document = make_list(server.url("/status/1"), set_indexes=(5,))
    document["credentialSubject"]["statusPurpose"] = ["revocation", "suspension"]
    url = server.serve("/status/1", document)
    checks = run(
        make_credential(status_entry(url, 5, "revocation"), status_entry(url, 6, "suspension")),
        fetcher,
        cache,
    )
    assert [c.code for c in checks] == ["revoked", "ok"]
    assert server.total == 1


@pytest.mark.parametrize(
    ("window", "code"),
    [
        ({"validUntil": "2026-01-01T00:00:00Z"}, "status_list_expired"),
        ({"validFrom": "2027-01-01T00:00:00Z"}, "status_list_not_yet_valid"),
        ({"validFrom": "yesterday"}, "status_list_invalid"),
    ],
)
def test_validity_window(
    window: dict[str, str],
    code: str,
    server: StatusServer,
    fetcher: SafeFetcher,
    cache: StatusListCache,
) -> None:
    document = make_list(server.url("/status/1"), set_indexes=(5,))
    document.update(window)
    url = server.serve("/status/1", document)
    check = only(run(make_credential(status_entry(url, 5, "revocation")), fetcher, cache))
    assert (check.outcome, check.code) == ("failed", code)


def test_index_beyond_the_list(
    server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache
) -> None:
    url = server.serve("/status/1", make_list(server.url("/status/1")))
    check = only(run(make_credential(status_entry(url, 131_072, "revocation")), fetcher, cache))
    assert (check.outcome, check.code) == ("failed", "status_index_out_of_range")


def test_undecodable_or_short_list(
    server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache
) -> None:
    document = make_list(server.url("/status/1"))
    document["credentialSubject"]["encodedList"] = "zNotBase64url"
    url = server.serve("/status/1", document)
    check = only(run(make_credential(status_entry(url, 5, "revocation")), fetcher, cache))
    assert (check.outcome, check.code) == ("failed", "status_list_invalid")

    short = make_list(server.url("/status/2"))
    # A valid encoding of a list with only 8,192 entries (below the herd-privacy minimum).
    short["credentialSubject"]["encodedList"] = "u" + base64.urlsafe_b64encode(
        gzip.compress(bytes(1024))
    ).decode().rstrip("=")
    url2 = server.serve("/status/2", short)
    check = only(run(make_credential(status_entry(url2, 5, "revocation")), fetcher, cache))
    assert (check.outcome, check.code) == ("failed", "status_list_too_short")


# --------------------------------------------------------------------------- entry shape


@pytest.mark.parametrize(
    "entry",
    [
        "not an object",
        {"type": "BitstringStatusListEntry", "statusListIndex": "5"},
        {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"},
        {"statusPurpose": "revocation", "statusListIndex": "-1"},
        {"statusPurpose": "revocation", "statusListIndex": "abc"},
        {"statusPurpose": "revocation", "statusListIndex": " 5"},
        {"statusPurpose": "revocation", "statusListIndex": "5.0"},
        {"statusPurpose": "revocation", "statusListIndex": 5.0},
        {"statusPurpose": "revocation", "statusListIndex": -3},
        {"statusPurpose": "revocation", "statusListIndex": True},
        {"statusPurpose": "revocation", "statusListIndex": "5", "statusListCredential": None},
        {"statusPurpose": "revocation", "statusListIndex": "5", "statusListCredential": "nope"},
        {"statusPurpose": 7, "statusListIndex": "5"},
        {"statusPurpose": "revocation", "statusListIndex": "5", "statusSize": 2},
        {"statusPurpose": "revocation", "statusListIndex": "5", "statusSize": 0},
        {"statusPurpose": "revocation", "statusListIndex": "5", "id": "SAME"},
    ],
)
def test_invalid_entries_fail_without_fetching(
    entry: Any, server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache
) -> None:
    url = server.serve("/status/1", make_list(server.url("/status/1")))
    if isinstance(entry, dict):
        entry = {"type": "BitstringStatusListEntry", "statusListCredential": url, **entry}
        if entry.get("id") == "SAME":
            entry["id"] = url
    check = only(run(make_credential(entry), fetcher, cache))
    assert (check.outcome, check.code) == ("failed", "status_entry_invalid")
    assert server.total == 0


def test_credential_status_of_wrong_type(fetcher: SafeFetcher, cache: StatusListCache) -> None:
    credential = make_credential()
    credential["credentialStatus"] = "https://example.com/status"
    assert only(run(credential, fetcher, cache)).code == "status_entry_invalid"


def test_integer_index_is_accepted(
    server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache
) -> None:
    url = server.serve("/status/1", make_list(server.url("/status/1"), set_indexes=(23,)))
    entry = status_entry(url, 23, "revocation")
    entry["statusListIndex"] = 23
    assert only(run(make_credential(entry), fetcher, cache)).code == "revoked"


def test_unknown_entry_type_is_a_warning(
    server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache
) -> None:
    entry = {"id": "https://example.com/status/1", "type": "CredentialStatusList2017"}
    check = only(run(make_credential(entry), fetcher, cache))
    assert (check.outcome, check.code) == ("warning", "status_unknown")
    assert "CredentialStatusList2017" in check.message
    assert server.total == 0


def test_unsupported_purpose_is_a_warning(
    server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache
) -> None:
    url = server.serve("/status/1", make_list(server.url("/status/1")))
    entry = status_entry(url, 5, "revocation")
    entry["statusPurpose"] = "refresh"
    check = only(run(make_credential(entry), fetcher, cache))
    assert (check.outcome, check.code) == ("warning", "status_purpose_unsupported")


# --------------------------------------------------------------------------- spec fixtures


def test_1edtech_validator_fixture_is_revoked(
    server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache
) -> None:
    """The 1EdTech pair: list with bit 23 set, credential (issuer object) pointing at 23."""
    list_credential = load("validator-testlist-statuslistcredential.json")
    credential = load("validator-credential-status-revoked.json")
    list_credential["id"] = server.url("/testlist")  # served here: its id names this URL
    url = server.serve("/testlist", list_credential)
    credential["credentialStatus"]["statusListCredential"] = url
    credential["credentialStatus"]["id"] = url + "#23"
    check = only(run(credential, fetcher, cache))
    assert (check.outcome, check.code) == ("failed", "revoked")


def test_spec_examples_are_active(
    server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache
) -> None:
    list_credential = load("spec-example-bitstringstatuslistcredential.json")
    credential = load("spec-example-revocable-credential.json")
    list_credential["id"] = server.url("/credentials/status/3")  # its id names this URL
    url = server.serve("/credentials/status/3", list_credential)
    credential["credentialStatus"]["statusListCredential"] = url
    credential["credentialStatus"]["id"] = url + "#94567"
    check = only(run(credential, fetcher, cache))
    assert check.outcome == "passed"


# --------------------------------------------------------------------------- cache


def _revocable(server: StatusServer, path: str = "/status/1", **served: Any) -> dict[str, Any]:
    url = server.serve(path, make_list(server.url(path), set_indexes=(5,)), **served)
    return make_credential(status_entry(url, 5, "revocation"))


def test_cache_hit_within_max_age(
    server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache, clock: Clock
) -> None:
    credential = _revocable(server, headers={"Cache-Control": "public, max-age=60"})
    for _ in range(3):
        assert only(run(credential, fetcher, cache)).code == "revoked"
        clock.advance(10)
    assert server.total == 1


def test_cache_expiry_with_injected_clock(
    server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache, clock: Clock
) -> None:
    credential = _revocable(server, headers={"Cache-Control": "max-age=60"})
    run(credential, fetcher, cache)
    clock.advance(59)
    run(credential, fetcher, cache)
    assert server.total == 1
    clock.advance(2)
    run(credential, fetcher, cache)
    assert server.total == 2


def test_cache_sees_an_unrevocation_only_after_expiry(
    server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache, clock: Clock
) -> None:
    credential = _revocable(server, headers={"Cache-Control": "max-age=30"})
    assert only(run(credential, fetcher, cache)).code == "revoked"
    server.serve("/status/1", make_list(server.url("/status/1")), headers={})
    assert only(run(credential, fetcher, cache)).code == "revoked"
    clock.advance(31)
    assert only(run(credential, fetcher, cache)).code == "ok"


def test_no_store_and_no_cache_are_never_cached(
    server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache
) -> None:
    a = _revocable(server, "/a", headers={"Cache-Control": "no-store"})
    b = _revocable(server, "/b", headers={"Cache-Control": "no-cache, max-age=600"})
    for _ in range(2):
        run(a, fetcher, cache)
        run(b, fetcher, cache)
    assert server.hits == {"/a": 2, "/b": 2}
    assert len(cache) == 0


def test_default_ttl_without_headers(
    server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache, clock: Clock
) -> None:
    credential = _revocable(server)
    run(credential, fetcher, cache)
    clock.advance(299)
    run(credential, fetcher, cache)
    assert server.total == 1
    clock.advance(2)
    run(credential, fetcher, cache)
    assert server.total == 2


def test_list_ttl_is_honoured(
    server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache, clock: Clock
) -> None:
    url = server.serve(
        "/status/1", make_list(server.url("/status/1"), set_indexes=(5,), ttl_ms=10_000)
    )
    credential = make_credential(status_entry(url, 5, "revocation"))
    run(credential, fetcher, cache)
    clock.advance(9)
    run(credential, fetcher, cache)
    assert server.total == 1
    clock.advance(2)
    run(credential, fetcher, cache)
    assert server.total == 2


def test_shortest_of_http_and_ttl_wins(cache: StatusListCache) -> None:
    document = make_list("https://issuer.example/status/1", ttl_ms=20_000)
    long_http = FetchResponse("u", 200, {"cache-control": "max-age=600"}, b"")
    assert cache.ttl_for(document, long_http) == 20.0
    short_http = FetchResponse("u", 200, {"cache-control": "max-age=5"}, b"")
    assert cache.ttl_for(document, short_http) == 5.0


def test_expires_header(cache: StatusListCache) -> None:
    response = FetchResponse(
        "u",
        200,
        {"date": "Mon, 01 Jun 2026 12:00:00 GMT", "expires": "Mon, 01 Jun 2026 12:02:00 GMT"},
        b"",
    )
    assert cache.ttl_for({}, response) == 120.0
    aged = FetchResponse("u", 200, {"cache-control": "max-age=100", "age": "40"}, b"")
    assert cache.ttl_for({}, aged) == 60.0
    invalid = FetchResponse("u", 200, {"expires": "0"}, b"")
    assert cache.ttl_for({}, invalid) == 0.0


def test_ttl_is_capped(clock: Clock) -> None:
    cache = StatusListCache(now=clock, max_ttl=600)
    response = FetchResponse("u", 200, {"cache-control": "max-age=31536000"}, b"")
    assert cache.ttl_for({}, response) == 600


def test_cache_is_bounded(clock: Clock) -> None:
    cache = StatusListCache(now=clock, max_entries=3)
    for i in range(5):
        cache.put(f"https://issuer.example/{i}", {"n": i})
        clock.advance(1)
    assert len(cache) == 3
    assert cache.get("https://issuer.example/0") is None
    assert cache.get("https://issuer.example/4") == {"n": 4}


def test_one_fetch_per_list_within_a_call_even_without_caching(
    server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache
) -> None:
    document = make_list(server.url("/status/1"), set_indexes=(5,))
    document["credentialSubject"]["statusPurpose"] = ["revocation", "suspension"]
    url = server.serve("/status/1", document, headers={"Cache-Control": "no-store"})
    run(
        make_credential(status_entry(url, 5, "revocation"), status_entry(url, 6, "suspension")),
        fetcher,
        cache,
    )
    assert server.total == 1


def test_failed_fetches_are_not_cached(
    server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache
) -> None:
    server.routes["/status/1"] = Served(b"oops", 503)
    credential = make_credential(status_entry(server.url("/status/1"), 5, "revocation"))
    assert only(run(credential, fetcher, cache)).code == "status_unknown"
    server.serve("/status/1", make_list(server.url("/status/1"), set_indexes=(5,)))
    assert only(run(credential, fetcher, cache)).code == "revoked"


def test_cache_is_thread_safe(server: StatusServer, fetcher: SafeFetcher, clock: Clock) -> None:
    cache = StatusListCache(now=clock)
    credential = _revocable(server, headers={"Cache-Control": "max-age=60"})
    results: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(5):
            code = only(run(copy.deepcopy(credential), fetcher, cache)).code
            with lock:
                results.append(code)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["revoked"] * 40
    assert server.total <= 8  # concurrent first misses may each fetch once


# --------------------------------------------------------------------------- StatusList2021


def make_2021_list(
    url: str, purpose: str = "revocation", set_indexes: tuple[int, ...] = ()
) -> dict:
    """A VCDM 1.1 StatusList2021Credential: encodedList is base64url GZIP, no multibase."""
    bits = bytearray(16 * 1024)
    for index in set_indexes:
        bits[index // 8] |= 0x80 >> (index % 8)
    encoded = base64.urlsafe_b64encode(gzip.compress(bytes(bits))).rstrip(b"=").decode()
    return {
        "@context": [
            "https://www.w3.org/2018/credentials/v1",
            "https://w3id.org/vc/status-list/2021/v1",
        ],
        "id": url,
        "type": ["VerifiableCredential", "StatusList2021Credential"],
        "issuer": ISSUER,
        "issuanceDate": "2025-01-01T00:00:00Z",
        "credentialSubject": {
            "id": url + "#list",
            "type": "StatusList2021",
            "statusPurpose": purpose,
            "encodedList": encoded,
        },
        "proof": {"type": "Ed25519Signature2020", "proofValue": "zFake"},
    }


def entry_2021(url: str, index: int, purpose: str = "revocation") -> dict:
    return {
        "id": f"{url}#{index}",
        "type": "StatusList2021Entry",
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": url,
    }


def test_status_list_2021_revoked_and_not(
    server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache
) -> None:
    url = server.serve("/2021/1", make_2021_list(server.url("/2021/1"), set_indexes=(94567,)))
    revoked = only(run(make_credential(entry_2021(url, 94567)), fetcher, cache))
    assert (revoked.outcome, revoked.code) == ("failed", "revoked")
    fine = only(run(make_credential(entry_2021(url, 94566)), fetcher, cache))
    assert fine.outcome == "passed"


def test_status_list_2021_entry_needs_a_2021_list(
    server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache
) -> None:
    url = server.serve("/status/1", make_list(server.url("/status/1")))
    check = only(run(make_credential(entry_2021(url, 3)), fetcher, cache))
    assert (check.outcome, check.code) == ("failed", "status_list_not_a_credential")
    assert "StatusList2021Credential" in check.message


def test_status_list_2021_expired_list_by_expiration_date(
    server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache
) -> None:
    document = make_2021_list(server.url("/2021/old"))
    document["expirationDate"] = "2026-01-01T00:00:00Z"
    url = server.serve("/2021/old", document)
    check = only(run(make_credential(entry_2021(url, 3)), fetcher, cache))
    assert (check.outcome, check.code) == ("failed", "status_list_expired")


# --------------------------------------------------------------------------- 1EdTech


CREDENTIAL_ID = "https://issuer.example/credentials/3732"


def revocation_list(*revoked: dict, issuer: str | None = ISSUER) -> dict:
    document: dict = {"id": "https://issuer.example/r", "revokedCredentials": list(revoked)}
    if issuer is not None:
        document["issuer"] = issuer
    return document


def edtech_credential(url: str, credential_id: str | None = CREDENTIAL_ID) -> dict:
    credential = make_credential({"id": url, "type": "1EdTechRevocationList"})
    if credential_id:
        credential["id"] = credential_id
    return credential


def test_1edtech_revocation_list_names_the_revoked_credential(
    server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache
) -> None:
    url = server.serve(
        "/revocations",
        revocation_list({"id": CREDENTIAL_ID, "revocationReason": "issued in error"}),
    )
    check = only(run(edtech_credential(url), fetcher, cache))
    assert (check.outcome, check.code) == ("failed", "revoked")
    assert "issued in error" in check.message


def test_1edtech_revocation_list_entry_with_revoked_true_or_false(
    server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache
) -> None:
    """VCRL 1.0 (the method OB 3.0 § "OpenBadgeCredential Verification" defers to): a
    listed credential is revoked when its entry's ``revoked`` is true or omitted; an entry
    with ``revoked: false`` (reinstated) is not a revocation."""
    revoked = server.serve("/revoked", revocation_list({"id": CREDENTIAL_ID, "revoked": True}))
    check = only(run(edtech_credential(revoked), fetcher, cache))
    assert (check.outcome, check.code) == ("failed", "revoked")
    reinstated = server.serve(
        "/reinstated", revocation_list({"id": CREDENTIAL_ID, "revoked": False})
    )
    assert only(run(edtech_credential(reinstated), fetcher, cache)).outcome == "passed"
    garbled = server.serve("/garbled", revocation_list({"id": CREDENTIAL_ID, "revoked": "no"}))
    check = only(run(edtech_credential(garbled), fetcher, cache))
    assert (check.outcome, check.code) == ("failed", "status_list_not_a_credential")


def test_1edtech_revocation_list_without_the_credential_passes(
    server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache
) -> None:
    url = server.serve("/revocations", revocation_list({"id": "https://issuer.example/c/other"}))
    assert only(run(edtech_credential(url), fetcher, cache)).outcome == "passed"
    empty = server.serve("/empty", {"id": "https://issuer.example/empty"})  # 0..* entries
    assert only(run(edtech_credential(empty), fetcher, cache)).outcome == "passed"


@pytest.mark.parametrize(
    ("document", "credential_id", "outcome", "code"),
    [
        (revocation_list(issuer="did:example:other"), CREDENTIAL_ID, "failed",
         "status_list_issuer_mismatch"),
        ({"revokedCredentials": ["https://x"]}, CREDENTIAL_ID, "failed",
         "status_list_not_a_credential"),
        (revocation_list(), None, "warning", "status_unknown"),
    ],
)  # fmt: skip
def test_1edtech_revocation_list_refusals(
    server: StatusServer,
    fetcher: SafeFetcher,
    cache: StatusListCache,
    document: dict,
    credential_id: str | None,
    outcome: str,
    code: str,
) -> None:
    url = server.serve("/revocations", document)
    check = only(run(edtech_credential(url, credential_id), fetcher, cache))
    assert (check.outcome, check.code) == (outcome, code)


def test_1edtech_revocation_list_unreachable_is_unknown_not_revoked(
    server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache
) -> None:
    check = only(run(edtech_credential(server.url("/missing")), fetcher, cache))
    assert (check.outcome, check.code) == ("warning", "status_unknown")


# --------------------------------------------------------------------------- replay (issue 14.5)
# Before: the list id was not compared with its URL, and an old signed list replayed at the
# list's URL (from before a revocation) made a revoked credential verify again.

NO_STORE = {"Cache-Control": "no-store"}


def test_a_list_signed_for_another_url_is_refused(
    server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache
) -> None:
    other = make_list(server.url("/status/other"))  # genuine, but the list of another URL
    url = server.serve("/status/mine", other)
    check = only(run(make_credential(status_entry(url, 5, "revocation")), fetcher, cache))
    assert (check.outcome, check.code) == ("failed", "status_list_id_mismatch")


def test_an_old_list_replayed_after_a_revocation_is_stale(
    server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache
) -> None:
    url = server.url("/status/1")
    before = make_list(url)  # validFrom 2025-01-01, nothing revoked
    after = make_list(url, set_indexes=(5,))
    after["validFrom"] = "2025-03-01T00:00:00Z"
    credential = make_credential(status_entry(url, 5, "revocation"))
    server.serve("/status/1", after, headers=NO_STORE)
    assert only(run(credential, fetcher, cache)).code == "revoked"
    server.serve("/status/1", before, headers=NO_STORE)  # the attacker replays the old list
    check = only(run(credential, fetcher, cache))
    assert (check.outcome, check.code) == ("failed", "status_list_stale")


def test_an_older_copy_with_the_same_bits_is_no_replay(
    server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache
) -> None:
    url = server.url("/status/1")
    newer = make_list(url)
    newer["validFrom"] = "2025-03-01T00:00:00Z"
    credential = make_credential(status_entry(url, 5, "revocation"))
    server.serve("/status/1", newer, headers=NO_STORE)
    assert only(run(credential, fetcher, cache)).outcome == "passed"
    server.serve("/status/1", make_list(url), headers=NO_STORE)  # re-signed earlier, same bits
    assert only(run(credential, fetcher, cache)).outcome == "passed"


def test_a_list_past_its_valid_until_is_refused(
    server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache
) -> None:
    url = server.url("/status/1")
    server.serve("/status/1", make_list(url, valid_until="2025-01-02T00:00:00Z"))
    check = only(run(make_credential(status_entry(url, 5, "revocation")), fetcher, cache))
    assert (check.outcome, check.code) == ("failed", "status_list_expired")
