"""A local Open Badges 2.0 host for tests: a threaded HTTP server on 127.0.0.1.

It serves the edubadges-shaped fixtures in tests/fixtures/ob2 (``{BASE}`` filled in with its
own address) and whatever a test adds, and records every request path, so a test can
assert that a refused URL was never fetched. Special responses: a redirect loop, and a
body of any size streamed without a Content-Length (to test the fetcher's byte cap).
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ob2"

ASSERTION = "/public/assertions/a1b2c3"
BADGE = "/public/badges/statistics-ds"
ISSUER = "/public/issuers/UvA-informatica"
REVOCATIONS = "/public/issuers/UvA-informatica/revocations"


def fixture(name: str, base: str) -> dict[str, Any]:
    text = (FIXTURES / f"{name}.json").read_text(encoding="utf-8")
    return json.loads(text.replace("{BASE}", base))


@dataclass
class Response:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    stream_bytes: int = 0  # >0: stream this many bytes, chunked, no Content-Length


@dataclass
class BadgeHost:
    base: str
    routes: dict[str, Response] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base + path

    def serve(self, path: str, body: Any, status: int = 200, **headers: str) -> None:
        self.routes[path] = Response(status, copy.deepcopy(body), headers)

    def redirect(self, path: str, to: str) -> None:
        self.routes[path] = Response(302, None, {"Location": to})

    def huge(self, path: str, size: int) -> None:
        self.routes[path] = Response(200, None, {"Content-Type": "image/png"}, stream_bytes=size)

    def fixture(self, name: str) -> dict[str, Any]:
        return fixture(name, self.base)

    def publish_edubadges(self) -> dict[str, Any]:
        """Serve assertion, BadgeClass, Issuer and revocation list; return the assertion."""
        for path, name in (
            (ASSERTION, "assertion"),
            (BADGE, "badgeclass"),
            (ISSUER, "issuer"),
            (REVOCATIONS, "revocations"),
        ):
            self.serve(path, self.fixture(name))
        return self.fixture("assertion")


def _handler(host: BadgeHost) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def do_GET(self) -> None:
            host.requests.append(self.path)
            route = host.routes.get(self.path)
            if route is None:
                route = Response(404, {"error": "not found"})
            self.send_response(route.status)
            for name, value in route.headers.items():
                self.send_header(name, value)
            if route.stream_bytes:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                chunk = b"\0" * 65_536
                sent = 0
                try:
                    while sent < route.stream_bytes:
                        part = chunk[: route.stream_bytes - sent]
                        self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                        sent += len(part)
                    self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True
                return
            body = b"" if route.body is None else json.dumps(route.body).encode()
            if route.body is not None:
                self.send_header("Content-Type", "application/ld+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@contextmanager
def badge_host() -> Iterator[BadgeHost]:
    """A running host on a free loopback port until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    host = BadgeHost(f"http://127.0.0.1:{server.server_address[1]}")
    server.RequestHandlerClass = _handler(host)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield host
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
