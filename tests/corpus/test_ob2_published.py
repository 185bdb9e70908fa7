"""1EdTech's published Open Badges 2.0 hosted assertion, its BadgeClass and its Issuer,
served by a local test server, verified by microcred's OB 2.0 support (credentials.ob2).

The files stay as published; only at serving time is their origin (``example.org``) replaced
by the local server's, so that the hosted-verification rules (the assertion is served at its
id, on the issuer's origin) are exercised over real HTTP. Runs once credentials.ob2 is in.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from credentials.fetch import FetchPolicy, SafeFetcher

from .corpus import CORPUS

ob2 = pytest.importorskip("credentials.ob2")

FILES = CORPUS / "credentials" / "ob20" / "1edtech-validator"
PUBLISHED_ORIGINS = ("https://example.org", "http://example.org")
SERVED = {  # path on the published origin -> corpus file
    "/beths-robotics-badge.json": "basic-assertion.json",
    "/robotics-badge.json": "assets-robotics-badge.json",
    "/organization.json": "assets-organization.json",
    "/badgecriteria.json": "assets-badgecriteria.json",
}


def _relocated(name: str, base: str) -> Any:
    text = (FILES / name).read_text()
    for origin in PUBLISHED_ORIGINS:
        text = text.replace(origin, base)
    return json.loads(text)


class _Host:
    def __init__(self) -> None:
        self.served = dict(SERVED)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.requests: list[str] = []

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        host = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                host.requests.append(self.path)
                name = host.served.get(self.path)
                body = json.dumps(_relocated(name, host.base) if name else {}).encode()
                self.send_response(200 if name else 404)
                self.send_header("Content-Type", "application/ld+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


@pytest.fixture
def host() -> Iterator[_Host]:
    running = _Host()
    thread = threading.Thread(target=running.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield running
    finally:
        running.server.shutdown()
        running.server.server_close()
        thread.join(timeout=5)


def _verify(document: Any) -> tuple[dict[str, tuple[str, str]], Any]:
    # development posture: loopback allowed, so the local host stands in for example.org
    fetcher = SafeFetcher(FetchPolicy(allow_insecure=True))
    report = ob2.verify_ob2(document, fetcher=fetcher).report
    return {c.id: (c.outcome, c.code) for c in report.checks}, report


def test_the_published_hosted_assertion_verifies(host: _Host) -> None:
    checks, report = _verify(_relocated("basic-assertion.json", host.base))
    assert checks["structure"] == ("passed", "ob2_hosted")
    assert checks["proof"] == ("passed", "ob2_hosted")
    assert checks["origin"][0] == "passed"
    assert checks["hosting"] == ("warning", "ob2_hosted_trust")  # only as good as its host
    assert report.summary["format"] == "Open Badges 2.0 · hosted"
    assert "/robotics-badge.json" in host.requests and "/organization.json" in host.requests
    view = ob2.read_ob2(
        _relocated("basic-assertion.json", host.base)
        | {"badge": _relocated("assets-robotics-badge.json", host.base)}
    )
    assert view.title == "Awesome Robotics Badge"


def test_a_tampered_copy_of_the_published_assertion_is_refused(host: _Host) -> None:
    presented = _relocated("basic-assertion.json", host.base)
    presented["issuedOn"] = "2020-01-01T00:00:00Z"
    checks, _ = _verify(presented)
    assert checks["proof"] == ("failed", "ob2_hosted_mismatch")


def test_the_published_expired_assertion_is_reported_expired(host: _Host) -> None:
    # 1EdTech's expired sample has the same id as the hosted one; serve it there
    host.served["/beths-robotics-badge.json"] = "basic-assertion-expired.json"
    checks, _ = _verify(_relocated("basic-assertion-expired.json", host.base))
    assert checks["proof"] == ("passed", "ob2_hosted")
    assert checks["validity"] == ("failed", "expired")
