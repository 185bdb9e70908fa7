"""check_status and StatusListCache against a real local server that counts its requests.

The proof of a status list credential is checked by a callback; here it is a fake that
answers (True, "") or (False, "bad proof"), since the real verifier is wired in later.
"""

from __future__ import annotations

import base64
import copy
import gzip
import socket
import threading
from typing import Any

import pytest

from credentials.errors import InvalidProof
from credentials.fetch import FetchPolicy, FetchResponse, SafeFetcher
from credentials.status import StatusListCache
from credentials.status_list import status_entry
from tests.credentials.status_server import (
    ISSUER,
    Clock,
    Served,
    StatusServer,
    load,
    make_credential,
    make_list,
    only,
    proof_bad,
    run,
)

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
