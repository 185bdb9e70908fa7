"""SafeFetcher: the SSRF rules, proven against real local listeners.

Every refusal test also proves that *no request left the process*: the local listener
counts what it receives, and an autouse guard fails the test if anything tries to open a
TCP connection to an address other than loopback (no traffic to 10.0.0.1 or
169.254.169.254 is allowed in this workplace, so those refusals must happen before any
connection attempt).
"""

from __future__ import annotations

import gzip
import ipaddress
import socket
import time

import pytest

from credentials.errors import FetchError
from credentials.fetch import (
    FetchHTTPError,
    FetchPolicy,
    FetchResponse,
    SafeFetcher,
    address_refusal_reason,
    is_public_address,
)
from tests.credentials.fetch.support import (
    DEV,
    PUBLIC_IP,
    ExplodingTransport,
    LocalServer,
    Reply,
    fetch_error,
    fixed_resolver,
)

# --------------------------------------------------------------------------- refusals


def test_loopback_refused_in_production_mode_and_nothing_is_sent(
    server: LocalServer, connections: list[tuple[str, int]]
) -> None:
    fetcher = SafeFetcher(FetchPolicy())
    err = fetch_error(lambda: fetcher.get(server.url("/")), "fetch_refused_scheme")
    assert "http" in err.message
    err = fetch_error(
        lambda: fetcher.get(f"https://127.0.0.1:{server.port}/"), "fetch_refused_address"
    )
    assert "127.0.0.1" in err.message and "loopback" in err.message
    assert server.count == 0
    assert connections == []


def test_localhost_name_resolving_to_loopback_is_refused(
    server: LocalServer, connections: list[tuple[str, int]]
) -> None:
    fetcher = SafeFetcher(FetchPolicy())
    err = fetch_error(
        lambda: fetcher.get(f"https://localhost:{server.port}/"), "fetch_refused_address"
    )
    assert "localhost" in err.message and "public address" in err.message
    assert "127.0.0.1" not in err.message  # what a name resolves to is not told (issue 14)
    assert server.count == 0
    assert connections == []


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://169.254.169.254/latest/meta-data/", "scheme"),
        ("https://10.0.0.1/", "private"),
        ("https://[::1]/", "loopback"),
        ("https://[::ffff:127.0.0.1]/", "IPv4-mapped"),
        ("https://[::ffff:169.254.169.254]/", "link-local"),
        ("https://[fe80::1]/", "link-local"),
        ("https://[fd00::1]/", "unique local"),
        ("https://100.64.0.1/", "CGNAT"),
        ("https://0.0.0.0/", "unspecified"),
        ("https://224.0.0.1/", "multicast"),
        ("https://240.0.0.1/", "reserved"),
        ("https://127.1/", "public address"),  # odd IPv4 spellings resolve, then get checked
    ],
)
def test_refused_before_any_connection_attempt(
    url: str, why: str, connections: list[tuple[str, int]]
) -> None:
    transport = ExplodingTransport()
    fetcher = SafeFetcher(FetchPolicy(), transport=transport)
    with pytest.raises(FetchError) as info:
        fetcher.get(url)
    assert info.value.code in ("fetch_refused_address", "fetch_refused_scheme")
    assert why in info.value.message
    assert transport.calls == 0
    # And with the real transport too: the refusal precedes the socket layer.
    with pytest.raises(FetchError):
        SafeFetcher(FetchPolicy()).get(url)
    assert connections == []


def test_dev_mode_still_refuses_link_local_metadata(connections: list[tuple[str, int]]) -> None:
    fetcher = SafeFetcher(DEV, transport=ExplodingTransport())
    err = fetch_error(
        lambda: fetcher.get("http://169.254.169.254/latest/meta-data/"), "fetch_refused_address"
    )
    assert "169.254.169.254" in err.message
    assert connections == []


def test_dev_mode_allows_private_addresses_without_connecting_here() -> None:
    # check_url applies the policy and resolves, but opens no connection.
    checked = SafeFetcher(DEV).check_url("http://10.0.0.1:8080/x")
    assert checked.address == "10.0.0.1"
    with pytest.raises(FetchError):
        SafeFetcher(FetchPolicy()).check_url("https://10.0.0.1/x")


def test_any_bad_resolved_address_refuses_the_host() -> None:
    fetcher = SafeFetcher(
        FetchPolicy(),
        transport=ExplodingTransport(),
        resolver=fixed_resolver({"mixed.test": [PUBLIC_IP, "10.0.0.1"]}),
    )
    err = fetch_error(lambda: fetcher.get("https://mixed.test/"), "fetch_refused_address")
    assert "mixed.test" in err.message
    # the internal DNS answer is not told to the caller (issue 14 item 9)
    assert "10.0.0.1" not in err.message and "private" not in err.message


def test_unresolvable_host_is_unreachable() -> None:
    fetcher = SafeFetcher(FetchPolicy(), resolver=fixed_resolver({}))
    fetch_error(lambda: fetcher.get("https://nowhere.test/"), "fetch_unreachable")


@pytest.mark.parametrize(
    "url", ["ftp://example.com/x", "file:///etc/passwd", "gopher://x/", "data:,hi", "//x/y"]
)
def test_other_schemes_are_refused(url: str) -> None:
    fetcher = SafeFetcher(DEV, transport=ExplodingTransport())
    with pytest.raises(FetchError) as info:
        fetcher.get(url)
    assert info.value.code in ("fetch_refused_scheme", "fetch_invalid_url")


def test_userinfo_urls_are_refused() -> None:
    fetcher = SafeFetcher(FetchPolicy(), transport=ExplodingTransport())
    fetch_error(lambda: fetcher.get("https://trusted.example@evil.example/"), "fetch_invalid_url")


def test_allowed_hosts(server: LocalServer) -> None:
    server.routes["/ok"] = Reply(body=b'{"ok": true}')
    policy = FetchPolicy(allow_insecure=True, allowed_hosts=frozenset({"127.0.0.1"}))
    assert SafeFetcher(policy).get_json(server.url("/ok"))[0] == {"ok": True}
    other = FetchPolicy(allow_insecure=True, allowed_hosts=frozenset({"issuer.example"}))
    fetch_error(lambda: SafeFetcher(other).get(server.url("/ok")), "fetch_refused_host")
    assert server.count == 1


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("93.184.215.14", True),
        ("2606:4700:4700::1111", True),
        ("::ffff:8.8.8.8", True),
        ("127.0.0.1", False),
        ("127.255.255.254", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("172.31.255.255", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("100.127.255.254", False),
        ("0.0.0.0", False),
        ("224.0.0.251", False),
        ("255.255.255.255", False),
        ("192.0.2.1", False),  # documentation range
        ("::", False),
        ("::1", False),
        ("fe80::1", False),
        ("fe80::1%eth0", False),
        ("fc00::1", False),
        ("fd12:3456::1", False),
        ("ff02::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("::ffff:169.254.169.254", False),
        ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
        ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1
        ("2001:db8::1", False),
    ],
)
def test_is_public_address(address: str, public: bool) -> None:
    assert is_public_address(address) is public
    if not public:
        assert address_refusal_reason(address) is not None


def test_is_public_address_accepts_ip_objects() -> None:
    assert is_public_address(ipaddress.ip_address("1.1.1.1"))
    assert not is_public_address(ipaddress.ip_address("10.0.0.1"))


# --------------------------------------------------------------------------- dev mode fetches


def test_allowed_with_allow_insecure(server: LocalServer) -> None:
    server.routes["/doc.json"] = Reply(body=b'{"hello": "world"}')
    document, response = SafeFetcher(DEV).get_json(server.url("/doc.json"))
    assert document == {"hello": "world"}
    assert isinstance(response, FetchResponse)
    assert response.status == 200
    assert response.headers["content-type"] == "application/json"
    assert all(k == k.lower() for k in response.headers)
    assert server.count == 1
    sent = server.requests[0]["headers"]
    assert sent["host"] == f"127.0.0.1:{server.port}"
    assert sent["accept"] == "application/json"
    assert sent["user-agent"].startswith("microcred/")


def test_connection_is_pinned_to_the_checked_address(
    server: LocalServer, connections: list[tuple[str, int]]
) -> None:
    """The name is resolved once per hop and the socket goes to that exact address."""
    server.routes["/x"] = Reply(body=b"{}")
    calls: list[str] = []
    answers = iter([["127.0.0.1"], ["10.0.0.1"]])  # a rebinding resolver

    def rebinding(host: str, port: int) -> list[str]:
        calls.append(host)
        return next(answers)

    fetcher = SafeFetcher(DEV, resolver=rebinding)
    response = fetcher.get(f"http://rebind.test:{server.port}/x")
    assert response.status == 200
    assert calls == ["rebind.test"]
    assert connections == [("127.0.0.1", server.port)]
    assert server.requests[0]["headers"]["host"] == f"rebind.test:{server.port}"


def test_accept_header_is_passed(server: LocalServer) -> None:
    server.routes["/vc"] = Reply(body=b"{}")
    SafeFetcher(DEV).get(server.url("/vc"), accept="application/vc")
    assert server.requests[0]["headers"]["accept"] == "application/vc"


def test_http_error_carries_status_and_body(server: LocalServer) -> None:
    server.routes["/missing"] = Reply(404, b'{"error": "nope"}')
    with pytest.raises(FetchHTTPError) as info:
        SafeFetcher(DEV).get(server.url("/missing"))
    assert info.value.code == "fetch_http_error"
    assert "404" in info.value.message
    assert info.value.status == 404
    assert info.value.response.json() == {"error": "nope"}


def test_server_error_is_http_error(server: LocalServer) -> None:
    server.routes["/boom"] = Reply(500, b"oops")
    err = fetch_error(lambda: SafeFetcher(DEV).get(server.url("/boom")), "fetch_http_error")
    assert "500" in err.message


def test_unreachable_port() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    fetch_error(lambda: SafeFetcher(DEV).get(f"http://127.0.0.1:{port}/"), "fetch_unreachable")


def test_invalid_json(server: LocalServer) -> None:
    server.routes["/bad"] = Reply(body=b"{not json")
    server.routes["/nan"] = Reply(body=b'{"x": NaN}')
    server.routes["/latin1"] = Reply(body=b'{"x": "\xff"}')
    fetcher = SafeFetcher(DEV)
    for path in ("/bad", "/nan", "/latin1"):
        fetch_error(lambda p=path: fetcher.get_json(server.url(p)), "fetch_invalid_json")
    response = fetcher.get(server.url("/bad"))
    fetch_error(response.json, "fetch_invalid_json")


# --------------------------------------------------------------------------- size, time


def test_size_cap_with_content_length(server: LocalServer) -> None:
    server.routes["/big"] = Reply(body=b"x" * 2_000)
    server.routes["/fits"] = Reply(body=b"x" * 1_000)
    fetcher = SafeFetcher(FetchPolicy(allow_insecure=True, max_bytes=1_000))
    err = fetch_error(lambda: fetcher.get(server.url("/big")), "fetch_too_large")
    assert "2000" in err.message
    assert len(fetcher.get(server.url("/fits")).content) == 1_000


def test_size_cap_without_content_length(server: LocalServer) -> None:
    server.routes["/stream"] = Reply(body=b"y" * 500_000, content_length=False, chunk=1_000)
    server.routes["/small"] = Reply(body=b'{"a": 1}', content_length=False)
    fetcher = SafeFetcher(FetchPolicy(allow_insecure=True, max_bytes=10_000))
    fetch_error(lambda: fetcher.get(server.url("/stream")), "fetch_too_large")
    assert fetcher.get_json(server.url("/small"))[0] == {"a": 1}


def test_gzip_bomb_is_capped_while_decompressing(server: LocalServer) -> None:
    bomb = gzip.compress(b"\0" * 5_000_000)
    assert len(bomb) < 10_000
    server.routes["/bomb"] = Reply(body=bomb, headers={"Content-Encoding": "gzip"})
    server.routes["/gz"] = Reply(
        body=gzip.compress(b'{"z": true}'), headers={"Content-Encoding": "gzip"}
    )
    fetcher = SafeFetcher(FetchPolicy(allow_insecure=True, max_bytes=100_000))
    fetch_error(lambda: fetcher.get(server.url("/bomb")), "fetch_too_large")
    assert fetcher.get_json(server.url("/gz"))[0] == {"z": True}
    assert server.requests[0]["headers"]["accept-encoding"] == "identity"


def test_timeout(server: LocalServer) -> None:
    server.routes["/slow"] = Reply(delay=3.0)
    fetcher = SafeFetcher(FetchPolicy(allow_insecure=True, timeout=0.5))
    started = time.monotonic()
    fetch_error(lambda: fetcher.get(server.url("/slow")), "fetch_timeout")
    took = time.monotonic() - started
    # the 0.5 s timeout cut the wait short of the server's 3 s (margin for a loaded machine)
    assert took < 2.5, f"{took:.2f} s: the timeout did not end the wait before the reply"


def test_trickling_body_hits_the_overall_deadline(server: LocalServer) -> None:
    server.routes["/trickle"] = Reply(body=b"z" * 80, chunk=1, trickle=0.05)
    fetcher = SafeFetcher(FetchPolicy(allow_insecure=True, timeout=0.5))
    started = time.monotonic()
    fetch_error(lambda: fetcher.get(server.url("/trickle")), "fetch_timeout")
    took = time.monotonic() - started
    # the whole body takes 4 s to trickle in; the 0.5 s deadline ends it well before
    assert took < 3.0, f"{took:.2f} s: the overall deadline did not end the trickle"


