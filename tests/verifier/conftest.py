"""Fixtures for the verifier: a real app on a freshly migrated database (SQLite, or
PostgreSQL under MICROCRED_TEST_DB=postgresql), keys, and a counting local server."""

from __future__ import annotations

import base64
import os
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from credentials.keys import Multikey
from servicekit.migrations import upgrade
from servicekit.tokens import token_hash
from tests.verifier.support import CountingServer, counting_server
from verifier.config import Settings
from verifier.main import create_app

with warnings.catch_warnings():
    # starlette announces a future httpx2 requirement at import; nothing to act on here
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PUBLIC_URL = "https://verifier.example"
_ENV = (
    "MICROCRED_DEV",
    "MICROCRED_PUBLIC_URL",
    "MICROCRED_PORT",
    "DATABASE_URL",
    "MICROCRED_TRUST_REGISTRY",
    "MICROCRED_STRICT_TRUST",
    "MICROCRED_KEEP_FULL_LOG",
    "MICROCRED_VERIFIER_ADMIN_TOKEN",
    "MICROCRED_LOG_RETENTION_DAYS",
    "MICROCRED_CLOCK_SKEW",
    "MICROCRED_VERIFIER_POLICIES",
    "MICROCRED_VERIFIER_PAGE_POLICIES",
)

MakeClient = Callable[..., TestClient]
ACME_KEY = "acme-requester-api-key"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read the environment; tests state everything they need explicitly."""
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    # the verifier signs request objects with a key wrapped under this (random) KEK
    monkeypatch.setenv("MICROCRED_KEK", base64.urlsafe_b64encode(os.urandom(32)).decode())


@pytest.fixture
def migrated_url(database_url: str) -> str:
    upgrade("verifier", database_url)
    return database_url


@pytest.fixture
def settings_for(migrated_url: str, tmp_path: Path) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": migrated_url,
            "data_dir": tmp_path,
            "public_url": PUBLIC_URL,
            # a registered requester: its key names it "Acme BV" (issue 14, item 7)
            "requester_keys": {token_hash(ACME_KEY): "Acme BV"},
        }
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def make_client(settings_for: Callable[..., Settings]) -> Iterator[MakeClient]:
    """``make_client(**settings, clock=…, fetcher=…)``: a started app (lifespan run)."""
    clients: list[TestClient] = []

    def make(*, clock: Any = None, fetcher: Any = None, **overrides: Any) -> TestClient:
        app = create_app(settings_for(**overrides), clock=clock, fetcher=fetcher)
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: MakeClient) -> TestClient:
    return make_client()


@pytest.fixture
def dev_client(make_client: MakeClient) -> TestClient:
    """Dev mode: http and loopback allowed for did:web, status lists and share links."""
    return make_client(dev=True, public_url="http://localhost:8003")


@pytest.fixture(params=["ed25519", "p256"])
def issuer_key(request: pytest.FixtureRequest) -> Multikey:
    """The institution's key: both cryptosuites (eddsa-rdfc-2022, ecdsa-rdfc-2019)."""
    return Multikey.generate(request.param)


@pytest.fixture
def issuer() -> Multikey:
    return Multikey.generate("ed25519")


@pytest.fixture
def holder() -> Multikey:
    return Multikey.generate("ed25519")


@pytest.fixture
def server() -> Iterator[CountingServer]:
    with counting_server() as srv:
        yield srv
