"""The local listener and transports that the SafeFetcher tests prove their rules against.

Shared by the SafeFetcher tests in this folder; their fixtures are in its conftest.py.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from credentials.errors import FetchError
from credentials.fetch import (
    PINNED_ADDRESS_EXTENSION,
    FetchPolicy,
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


