"""The demo's configuration and its record of what it created (``demo.json``).

Split from :mod:`microcred.demo` so that module holds what the demo does (seed, start,
stop) and stays readable; the browser tests import these through ``microcred.demo``.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SERVICES = ("issuer", "wallet", "verifier")
DEFAULT_DATA_DIR = Path(".microcred-demo")
DEFAULT_BASE_PORT = 8001
STATE_FILE = "demo.json"
REGISTRY_FILE = "trust-registry.json"
KNOWN_ISSUERS_FILE = "known-issuers.json"
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0


# --------------------------------------------------------------------------- configuration


@dataclass
class DemoConfig:
    """Where the demo keeps its data and where each service listens.

    ``database_urls`` defaults to SQLite files in ``data_dir``; the browser tests hand in
    PostgreSQL databases instead. ``hostname`` is what the public URLs (and so the
    institutions' did:web identifiers) use.
    """

    data_dir: Path = DEFAULT_DATA_DIR
    host: str = "127.0.0.1"
    hostname: str = "localhost"
    ports: dict[str, int] = field(
        default_factory=lambda: {s: DEFAULT_BASE_PORT + i for i, s in enumerate(SERVICES)}
    )
    database_urls: dict[str, str] = field(default_factory=dict)
    status_max_age: int = 10
    """Seconds verifiers may cache the issuer's status lists. Production keeps the issuer's
    default (a minute); the demo is shorter, so a revocation shows within seconds."""

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir).resolve()

    def public_url(self, service: str) -> str:
        return f"http://{self.hostname}:{self.ports[service]}"

    def database_url(self, service: str) -> str:
        from servicekit.db import sqlite_url

        return self.database_urls.get(service) or sqlite_url(self.data_dir, service)

    @property
    def registry_path(self) -> Path:
        return self.data_dir / REGISTRY_FILE

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def known_issuers_path(self) -> Path:
        return self.data_dir / KNOWN_ISSUERS_FILE

    def settings(self, service: str) -> Any:
        """The service's own ``Settings`` for this demo (dev mode: http on localhost)."""
        from .commands import settings_for

        extra: dict[str, Any] = {}
        if service == "verifier":
            extra["trust_registry"] = str(self.registry_path)
        if service == "issuer":
            extra["status_max_age"] = self.status_max_age
        if service == "wallet" and self.known_issuers_path.exists():
            extra["known_issuers_file"] = str(self.known_issuers_path)
        if service == "wallet":  # the share page's "controleer in je eigen verifier"
            extra["verifier_url"] = self.public_url("verifier")
        return settings_for(
            service,
            host=self.host,
            port=self.ports[service],
            database_url=self.database_url(service),
            public_url=self.public_url(service),
            dev=True,
            data_dir=self.data_dir,
            **extra,
        )


# --------------------------------------------------------------------------- seeding


@dataclass
class SeededInstitution:
    slug: str
    name: str
    did: str
    token: str
    modules: list[str]


@dataclass
class DemoState:
    """What the demo created: printed at every start, never created twice."""

    institutions: dict[str, SeededInstitution] = field(default_factory=dict)
    learner_username: str = "learner"
    learner_password: str = ""
    route_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DemoState:
        return cls(
            institutions={
                slug: SeededInstitution(**entry)
                for slug, entry in dict(data.get("institutions") or {}).items()
            },
            learner_username=str(data.get("learner_username") or "learner"),
            learner_password=str(data.get("learner_password") or ""),
            route_id=str(data.get("route_id") or ""),
        )


def load_state(config: DemoConfig) -> DemoState:
    path = config.data_dir / STATE_FILE
    if not path.exists():
        return DemoState()
    return DemoState.from_dict(json.loads(path.read_text(encoding="utf-8")))


def save_state(config: DemoConfig, state: DemoState) -> None:
    """Write demo.json readable by its owner only: it holds tokens and a password."""
    path = config.data_dir / STATE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(state.to_dict(), handle, indent=2, ensure_ascii=False)
    temporary.replace(path)
