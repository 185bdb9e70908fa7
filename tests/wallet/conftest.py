"""Wallet test fixtures: a migrated fresh database per test, the real app over HTTP
(TestClient), a hand-moved clock and a fake internet behind the wallet's SafeFetcher."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from credentials.fetch import FetchPolicy, SafeFetcher
from credentials.keys import Multikey
from credentials.keystore import Kek, Keystore
from servicekit.migrations import upgrade
from tests.wallet.fakes import Clock, FakeInternet, credential_for
from wallet.config import Settings
from wallet.main import create_app

PUBLIC_URL = "https://wallet.example"
PASSWORD = "correct horse battery"


@dataclass
class Account:
    username: str
    did: str
    headers: dict[str, str]


@dataclass
class WalletHarness:
    client: TestClient
    internet: FakeInternet
    clock: Clock
    settings: Settings
    issuer_key: Multikey = field(default_factory=Multikey.generate)

    def signup(self, username: str | None = None) -> Account:
        username = username or f"learner{secrets.token_hex(3)}"
        created = self.client.post(
            "/api/learners", json={"username": username, "password": PASSWORD}
        )
        assert created.status_code == 201, created.text
        token = self.client.post("/api/session", json={"username": username, "password": PASSWORD})
        assert token.status_code == 200, token.text
        headers = {"Authorization": f"Bearer {token.json()['token']}"}
        return Account(username, created.json()["did"], headers)

    def credential(self, account: Account | str | None, **kwargs: Any) -> dict[str, Any]:
        did = account.did if isinstance(account, Account) else account
        return credential_for(self.issuer_key, did, **kwargs)

    def store(self, account: Account, credential: dict[str, Any] | None = None, **kw: Any) -> str:
        """Import a credential (a fresh one by default) and return its wallet id."""
        response = self.client.post(
            "/api/credentials/import",
            json={"credential": credential or self.credential(account, **kw)},
            headers=account.headers,
        )
        assert response.status_code == 201, response.text
        return response.json()["id"]


def make_settings(database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    upgrade("wallet", database_url)
    return Settings(
        database_url=database_url,
        public_url=PUBLIC_URL,
        data_dir=tmp_path,
        password_time_cost=1,
        password_memory_kib=8192,  # fast tests; production keeps argon2-cffi's defaults
        **overrides,
    )


def fake_fetcher(internet: FakeInternet) -> SafeFetcher:
    return SafeFetcher(
        FetchPolicy(), httpx.MockTransport(internet.handle), resolver=internet.resolver
    )


def make_keystore() -> Keystore:
    return Keystore([Kek.from_secret(secrets.token_bytes(32), "test")])


@pytest.fixture
def wallet(database_url: str, tmp_path: Path) -> Iterator[WalletHarness]:
    internet = FakeInternet()
    clock = Clock()
    settings = make_settings(database_url, tmp_path)
    app = create_app(
        settings, clock=clock, fetcher=fake_fetcher(internet), keystore=make_keystore()
    )
    with TestClient(app, base_url=PUBLIC_URL) as client:
        yield WalletHarness(client, internet, clock, settings)
