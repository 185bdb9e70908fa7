"""Building blocks for the verifier tests: signed microcredentials, presentations, status
lists, trust registry files and a local HTTP server that counts every connection.

The institutions are fictional; their DIDs are did:key (so proofs verify offline) unless a
test is about did:web.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from credentials.keys import Multikey
from credentials.microcredential import (
    IssuerProfile,
    Learner,
    ModuleDefinition,
    QualityAssurance,
    Result,
    build_credential,
)
from credentials.proofs import sign
from credentials.status_list import StatusList, status_entry, status_list_credential

AWARDED = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)
NVAO = QualityAssurance(
    name="NVAO accreditation (institutional audit)", url="https://www.nvao.net/"
)


def module(
    name: str = "Data Wrangling with Python",
    *,
    ects: float = 7.5,
    eqf: int = 6,
    achievement_id: str | None = None,
    tags: tuple[str, ...] = ("data science",),
) -> ModuleDefinition:
    slug = name.lower().replace(" ", "-")
    return ModuleDefinition(
        id=achievement_id or f"https://hsrijnland.example/microcredentials/{slug}",
        name=name,
        description=f"{name}: a module of the minor Data Science.",
        learning_outcomes=("apply the methods of the module to real data",),
        ects=ects,
        eqf_level=eqf,
        assessment_type="practical assignment with oral defence",
        participation_form="blended",
        quality_assurance=NVAO,
        tags=tags,
    )


def microcredential(
    issuer: Multikey,
    holder: str | Multikey,
    *,
    name: str = "Hogeschool Rijnland",
    achievement: ModuleDefinition | None = None,
    status: list[dict[str, Any]] | None = None,
    credential_id: str | None = None,
    valid_from: datetime = AWARDED,
    valid_until: datetime | None = None,
) -> dict[str, Any]:
    """A signed OB 3.0 microcredential from ``issuer`` (its key's controller is the DID)."""
    holder_did = holder.controller if isinstance(holder, Multikey) else holder
    profile = IssuerProfile(
        id=issuer.controller, name=name, url="https://hsrijnland.example", country_code="NL"
    )
    credential = build_credential(
        profile,
        achievement or module(),
        Learner(did=holder_did),
        result=Result(grade="8.5", awarded_date=valid_from),
        credential_id=credential_id,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    if status:
        credential["credentialStatus"] = status
    return sign(credential, issuer)


def tampered(document: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy with the value at a dotted ``path`` replaced."""
    copied = copy.deepcopy(document)
    *parents, last = path.split(".")
    node: Any = copied
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[last] = value
    return copied


def signed_status_list(
    issuer: Multikey, url: str, *, purpose: str = "revocation", set_indexes: tuple[int, ...] = ()
) -> dict[str, Any]:
    bits = StatusList()
    for index in set_indexes:
        bits.set(index, 1)
    unsigned = status_list_credential(
        url, issuer.controller, purpose, bits.encode(), valid_from="2025-01-01T00:00:00Z"
    )  # type: ignore[arg-type]
    return sign(unsigned, issuer)


def revocation_entry(url: str, index: int, purpose: str = "revocation") -> dict[str, Any]:
    return status_entry(url, index, purpose)  # type: ignore[arg-type]


def did_document(key: Multikey) -> dict[str, Any]:
    method = key.to_public_dict()
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": key.controller,
        "verificationMethod": [method],
        "assertionMethod": [key.id],
        "authentication": [key.id],
    }


def write_registry(path: Path, entries: list[dict[str, Any]], name: str = "test registry") -> Path:
    if path.suffix in (".yaml", ".yml"):
        import yaml

        path.write_text(yaml.safe_dump({"name": name, "institutions": entries}))
    else:
        path.write_text(json.dumps({"name": name, "institutions": entries}))
    return path


# --------------------------------------------------------------------------- local server


@dataclass
class Served:
    body: bytes
    status: int = 200
    content_type: str = "application/json"


@dataclass
class CountingServer:
    """A loopback HTTP server that serves fixed documents and counts *connections*.

    Counting connections (not only parsed requests) matters for the SSRF tests: a client
    that tried TLS against this plain-HTTP port would never produce a parsable request, but
    it would still have connected, and that is what must not happen.
    """

    routes: dict[str, Served] = field(default_factory=dict)
    connections: int = 0
    requests: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        outer = self
        self._lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with outer._lock:
                    outer.requests.append(self.path)
                served = outer.routes.get(self.path, Served(b'{"error":"not found"}', 404))
                self.send_response(served.status)
                self.send_header("Content-Type", served.content_type)
                self.send_header("Content-Length", str(len(served.body)))
                self.end_headers()
                self.wfile.write(served.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def verify_request(self, request: Any, client_address: Any) -> bool:
                with outer._lock:
                    outer.connections += 1
                return True

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return f"http://{self.host}{path}"

    def serve(self, path: str, document: Any, status: int = 200) -> str:
        body = document if isinstance(document, bytes) else json.dumps(document).encode()
        self.routes[path] = Served(body, status)
        return self.url(path)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@contextmanager
def counting_server() -> Iterator[CountingServer]:
    server = CountingServer()
    try:
        yield server
    finally:
        server.close()


@contextmanager
def dev_verifier(tmp_path: Path) -> Iterator[Any]:
    """The verifier app in dev mode on a fresh migrated database, behind a fetcher that
    reaches loopback (issuers and badge hosts that other tests run on 127.0.0.1)."""
    from fastapi.testclient import TestClient

    from credentials.fetch import FetchPolicy, SafeFetcher
    from servicekit.migrations import upgrade
    from tests.support.databases import fresh_database
    from verifier.config import Settings
    from verifier.main import create_app

    with fresh_database(tmp_path, "verifier") as url:
        upgrade("verifier", url)
        settings = Settings(
            database_url=url,
            public_url="http://127.0.0.1:8003",
            dev=True,
            data_dir=tmp_path / "verifier",
        )
        fetcher = SafeFetcher(FetchPolicy(allow_insecure=True, timeout=30))
        with TestClient(create_app(settings, fetcher=fetcher)) as client:
            yield client
