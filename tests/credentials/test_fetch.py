"""SafeFetcher: the SSRF rules, proven against real local listeners.

Every refusal test also proves that *no request left the process*: the local listener
counts what it receives, and an autouse guard fails the test if anything tries to open a
TCP connection to an address other than loopback (no traffic to 10.0.0.1 or
169.254.169.254 is allowed in this workplace, so those refusals must happen before any
connection attempt).
"""

from __future__ import annotations

import datetime as dt
import gzip
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from credentials.errors import FetchError
from credentials.fetch import (
    PINNED_ADDRESS_EXTENSION,
    FetchHTTPError,
    FetchPolicy,
    FetchResponse,
    PinnedTransport,
    SafeFetcher,
    address_refusal_reason,
    is_public_address,
)

# --------------------------------------------------------------------------- local server


@dataclass
class Reply:
    """What the local server answers on one path."""

    status: int = 200
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    content_length: bool = True
    delay: float = 0.0  # before the status line
    trickle: float = 0.0  # between body chunks
    chunk: int = 65_536


class LocalServer:
    """A threaded HTTP(S) listener on 127.0.0.1 that records every request it receives."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self.routes: dict[str, Reply | Callable[[LocalServer], Reply]] = {}
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with server._lock:
                    server.requests.append(
                        {
                            "method": self.command,
                            "path": self.path,
                            "headers": {k.lower(): v for k, v in self.headers.items()},
                            "body": body,
                        }
                    )
                route = server.routes.get(self.path.split("?")[0], Reply(404, b"not found"))
                reply = route(server) if callable(route) else route
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    if reply.content_length:
                        self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    for start in range(0, len(reply.body), reply.chunk):
                        self.wfile.write(reply.body[start : start + reply.chunk])
                        self.wfile.flush()
                        if reply.trickle:
                            time.sleep(reply.trickle)
                except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                    pass  # the client stopped reading, as a size cap should

            do_GET = do_POST = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if ssl_context is not None:
            self.httpd.socket = ssl_context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.scheme = "https" if ssl_context is not None else "http"
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    def start(self) -> LocalServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[LocalServer]:
    srv = LocalServer().start()
    yield srv
    srv.stop()


@pytest.fixture(autouse=True)
def connections(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Record outgoing TCP connections; anything but loopback fails the test at once."""
    made: list[tuple[str, int]] = []
    real = socket.create_connection

    def guarded(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        if address[0] not in ("127.0.0.1", "::1"):
            pytest.fail(f"a connection to {address} was attempted")
        made.append(address)
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", guarded)
    return made


class ExplodingTransport(httpx.BaseTransport):
    """A transport that must never be reached."""

    def __init__(self) -> None:
        self.calls = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        pytest.fail(f"the transport was called for {request.url}")


class ForwardingTransport(httpx.BaseTransport):
    """Pretends to be the internet: sends every request to the local server over http.

    Used with a resolver that maps test names to a *public* address, so that the strict
    (production) policy can be exercised end to end without any non-local traffic.
    """

    def __init__(self, server: LocalServer) -> None:
        self.server = server
        self.pinned: list[str] = []
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.pinned.append(request.extensions[PINNED_ADDRESS_EXTENSION])
        forwarded = httpx.Request(
            request.method,
            request.url.copy_with(scheme="http", host="127.0.0.1", port=self.server.port),
            headers=request.headers,
            content=request.read(),
            extensions=request.extensions,
        )
        return self._inner.handle_request(forwarded)


def fixed_resolver(table: dict[str, list[str]]) -> Callable[[str, int], list[str]]:
    def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise socket.gaierror(f"unknown test host {host}")
        return table[host]

    return resolve


PUBLIC_IP = "93.184.215.14"  # only ever handed to ForwardingTransport, never connected to
DEV = FetchPolicy(allow_insecure=True)


def fetch_error(call: Callable[[], Any], code: str) -> FetchError:
    with pytest.raises(FetchError) as info:
        call()
    assert info.value.code == code, info.value.message
    return info.value


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


# --------------------------------------------------------------------------- redirects


def test_relative_redirect_is_followed(server: LocalServer) -> None:
    server.routes["/a"] = Reply(302, b"", headers={"Location": "/b"})
    server.routes["/b"] = Reply(body=b'{"at": "b"}')
    document, response = SafeFetcher(DEV).get_json(server.url("/a"))
    assert document == {"at": "b"}
    assert response.url == server.url("/b")
    assert [r["path"] for r in server.requests] == ["/a", "/b"]


def test_redirect_to_refused_address_is_refused(
    server: LocalServer, connections: list[tuple[str, int]]
) -> None:
    """Even in dev mode a redirect to the metadata service is stopped at the hop check."""
    server.routes["/r"] = Reply(
        302, b"", headers={"Location": "http://169.254.169.254/latest/meta-data/"}
    )
    err = fetch_error(lambda: SafeFetcher(DEV).get(server.url("/r")), "fetch_refused_address")
    assert "169.254.169.254" in err.message
    assert server.count == 1
    assert connections == [("127.0.0.1", server.port)]


@pytest.mark.parametrize(
    "location",
    [
        "https://10.0.0.1/internal",
        "https://169.254.169.254/latest/meta-data/",
        "https://localhost/admin",
        "https://[::1]/admin",
        "http://issuer.example/plain-http",
    ],
)
def test_redirect_from_public_host_to_refused_target_in_production_mode(
    server: LocalServer, location: str, connections: list[tuple[str, int]]
) -> None:
    server.routes["/start"] = Reply(302, b"", headers={"Location": location})
    transport = ForwardingTransport(server)
    fetcher = SafeFetcher(
        FetchPolicy(),
        transport=transport,
        resolver=fixed_resolver({"issuer.example": [PUBLIC_IP], "localhost": ["127.0.0.1"]}),
    )
    with pytest.raises(FetchError) as info:
        fetcher.get("https://issuer.example/start")
    assert info.value.code in ("fetch_refused_address", "fetch_refused_scheme")
    assert transport.pinned == [PUBLIC_IP]  # only the first hop went out
    assert server.count == 1
    assert all(addr[0] == "127.0.0.1" for addr in connections)


def test_production_mode_fetch_through_public_name(server: LocalServer) -> None:
    server.routes["/did.json"] = Reply(body=b'{"id": "did:web:issuer.example"}')
    transport = ForwardingTransport(server)
    fetcher = SafeFetcher(
        FetchPolicy(),
        transport=transport,
        resolver=fixed_resolver({"issuer.example": [PUBLIC_IP]}),
    )
    document, response = fetcher.get_json("https://issuer.example/did.json")
    assert document == {"id": "did:web:issuer.example"}
    assert response.url == "https://issuer.example/did.json"
    assert transport.pinned == [PUBLIC_IP]
    assert server.requests[0]["headers"]["host"] == "issuer.example"


def test_too_many_redirects(server: LocalServer) -> None:
    server.routes["/loop"] = Reply(302, b"", headers={"Location": "/loop"})
    fetcher = SafeFetcher(FetchPolicy(allow_insecure=True, max_redirects=3))
    fetch_error(lambda: fetcher.get(server.url("/loop")), "fetch_too_many_redirects")
    assert server.count == 4


def test_redirect_without_location(server: LocalServer) -> None:
    server.routes["/r"] = Reply(302, b"")
    fetch_error(lambda: SafeFetcher(DEV).get(server.url("/r")), "fetch_http_error")


def test_cross_host_redirect_can_be_forbidden(server: LocalServer) -> None:
    server.routes["/r"] = Reply(302, b"", headers={"Location": server.url("/x", host="localhost")})
    server.routes["/x"] = Reply(body=b"{}")
    strict = FetchPolicy(allow_insecure=True, allow_cross_host_redirects=False)
    fetch_error(lambda: SafeFetcher(strict).get(server.url("/r")), "fetch_refused_redirect")
    assert server.count == 1


def test_credentials_are_not_forwarded_across_origins(server: LocalServer) -> None:
    other = LocalServer().start()
    try:
        other.routes["/landing"] = Reply(body=b"{}")
        server.routes["/r"] = Reply(307, b"", headers={"Location": other.url("/landing")})
        SafeFetcher(DEV).post_json(
            server.url("/r"), {"a": 1}, headers={"Authorization": "Bearer secret"}
        )
        assert server.requests[0]["headers"]["authorization"] == "Bearer secret"
        landed = other.requests[0]
        assert "authorization" not in landed["headers"]
        assert landed["method"] == "POST"  # 307 keeps the method and body
        assert json.loads(landed["body"]) == {"a": 1}
    finally:
        other.stop()


def test_post_then_303_becomes_get(server: LocalServer) -> None:
    server.routes["/submit"] = Reply(303, b"", headers={"Location": "/result"})
    server.routes["/result"] = Reply(body=b'{"done": true}')
    response = SafeFetcher(DEV).post_form(server.url("/submit"), {"a": "b"})
    assert response.json() == {"done": True}
    assert [r["method"] for r in server.requests] == ["POST", "GET"]
    assert server.requests[1]["body"] == b""


# --------------------------------------------------------------------------- POST


def test_post_json(server: LocalServer) -> None:
    server.routes["/api"] = Reply(201, b'{"created": true}')
    response = SafeFetcher(DEV).post_json(
        server.url("/api"), {"name": "Café", "n": [1, 2]}, headers={"X-Extra": "1"}
    )
    assert response.status == 201
    assert response.json() == {"created": True}
    sent = server.requests[0]
    assert sent["method"] == "POST"
    assert sent["headers"]["content-type"] == "application/json"
    assert sent["headers"]["x-extra"] == "1"
    assert json.loads(sent["body"].decode("utf-8")) == {"name": "Café", "n": [1, 2]}


def test_post_form(server: LocalServer) -> None:
    server.routes["/token"] = Reply(400, b'{"error": "invalid_grant"}')
    with pytest.raises(FetchHTTPError) as info:
        SafeFetcher(DEV).post_form(
            server.url("/token"),
            {"grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code", "x": "a b&c"},
        )
    assert info.value.response.json() == {"error": "invalid_grant"}
    sent = server.requests[0]
    assert sent["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert b"x=a+b%26c" in sent["body"]


# --------------------------------------------------------------------------- TLS


def _self_signed(tmp_path: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_https_pinned_to_address_verifies_certificate_by_name(
    tmp_path: Path, connections: list[tuple[str, int]]
) -> None:
    """TLS goes to the pinned address, yet SNI and certificate checks use the host name."""
    cert, key = _self_signed(tmp_path, "pinned.test")
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)
    seen_sni: list[str | None] = []
    server_ctx.sni_callback = lambda sock, name, ctx: seen_sni.append(name)  # type: ignore[assignment,misc,return-value]
    tls = LocalServer(server_ctx).start()
    try:
        tls.routes["/ok"] = Reply(body=b'{"tls": true}')
        client_ctx = ssl.create_default_context(cafile=str(cert))
        resolver = fixed_resolver({"pinned.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})
        fetcher = SafeFetcher(DEV, transport=PinnedTransport(client_ctx), resolver=resolver)
        assert fetcher.get_json(f"https://pinned.test:{tls.port}/ok")[0] == {"tls": True}
        assert seen_sni[0] == "pinned.test"
        assert tls.requests[0]["headers"]["host"] == f"pinned.test:{tls.port}"
        # Same address, another name: the certificate does not match, so no request.
        fetch_error(lambda: fetcher.get(f"https://other.test:{tls.port}/ok"), "fetch_unreachable")
        assert tls.count == 1
        assert all(addr == ("127.0.0.1", tls.port) for addr in connections)
    finally:
        tls.stop()


def test_pinned_transport_requires_a_pinned_address() -> None:
    with pytest.raises(httpx.ConnectError):
        PinnedTransport().handle_request(httpx.Request("GET", "https://example.com/"))


def test_mock_transport_sees_the_logical_url() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"mocked": True})

    fetcher = SafeFetcher(
        FetchPolicy(),
        transport=httpx.MockTransport(handler),
        resolver=fixed_resolver({"issuer.example": [PUBLIC_IP]}),
    )
    assert fetcher.get_json("https://issuer.example/x#frag")[0] == {"mocked": True}
    assert str(seen[0].url) == "https://issuer.example/x"
    assert seen[0].extensions[PINNED_ADDRESS_EXTENSION] == PUBLIC_IP
