"""The issuer tests' fixtures: a migrated database, an app, an institution, a module.

Every test gets a fresh database (SQLite, or PostgreSQL under MICROCRED_TEST_DB), migrated
with the checked-in Alembic revisions, a key store with a random KEK, and a clock it can
move. ``public_url`` is the address a live server for the same app would have, so that
did:web identifiers resolve when a test serves the app with ``live_server``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from credentials.keystore import Kek, Keystore
from issuer.config import Settings
from issuer.main import create_app
from servicekit.migrations import upgrade
from tests.issuer.support import Clock, Institution, issuer_settings, make_institution, module_spec
from tests.support.servers import free_port


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def keystore() -> Keystore:
    return Keystore([Kek.from_secret(secrets.token_bytes(32))])


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def migrated(database_url: str) -> str:
    upgrade("issuer", database_url)
    return database_url


@pytest.fixture
def settings(migrated: str, port: int, tmp_path: Path) -> Settings:
    return issuer_settings(migrated, port, tmp_path)


@pytest.fixture
def app(settings: Settings, keystore: Keystore, clock: Clock) -> Any:
    return create_app(settings, keystore=keystore, clock=clock)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def inst(app: Any) -> Institution:
    return make_institution(app)


@pytest.fixture
def other(app: Any) -> Institution:
    return make_institution(app, "unidelta", name="Universiteit Delta")


@pytest.fixture
def module(client: TestClient, inst: Institution) -> dict[str, Any]:
    response = client.post(inst.path("/modules"), json=module_spec(), headers=inst.headers)
    assert response.status_code == 201, response.text
    return response.json()
