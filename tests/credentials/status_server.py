"""A local status list server that counts its requests, a settable clock, and the
credentials and lists the status tests build (shared by the status test modules)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from credentials.fetch import SafeFetcher
from credentials.report import Check
from credentials.status import StatusListCache, check_status
from credentials.status_list import StatusList, status_list_credential

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


class Clock:
    def __init__(self, start: datetime = NOW) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


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
