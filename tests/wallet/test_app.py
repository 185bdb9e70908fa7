"""The app shell: refusing an unmigrated schema, the environment factory, hardening."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from servicekit.migrations import SchemaOutOfDate
from tests.wallet.conftest import WalletHarness
from wallet.config import Settings
from wallet.main import app_from_environment, create_app


def test_refuses_to_start_on_an_unmigrated_database(database_url: str, tmp_path: Path) -> None:
    with pytest.raises(SchemaOutOfDate, match="microcred migrate wallet"):
        create_app(Settings(database_url=database_url, data_dir=tmp_path, dev=True))


def test_app_from_environment(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from servicekit.migrations import upgrade

    upgrade("wallet", database_url)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("MICROCRED_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MICROCRED_DEV", "1")
    monkeypatch.setenv("MICROCRED_WALLET_KNOWN_ISSUERS", "did:web:a.example, did:web:b.example")
    monkeypatch.setenv("MICROCRED_WALLET_TOKEN_TTL", "60")
    app = app_from_environment()
    services = app.state.services
    assert services.settings.port == 8002
    assert services.settings.token_ttl == 60
    assert "did:web:b.example" in services.known
    assert (tmp_path / "kek.secret").exists()  # dev mode: a KEK file in the data dir
    with TestClient(app) as client:
        assert client.get("/healthz").json() == {"status": "ok"}


def test_security_headers_and_body_limit(wallet: WalletHarness) -> None:
    account = wallet.signup()
    response = wallet.client.get("/api/credentials", headers=account.headers)
    assert response.headers["x-frame-options"] == "DENY"
    assert "default-src 'self'" in response.headers["content-security-policy"]
    big = wallet.client.post(
        "/api/credentials/import",
        content=b"{" + b" " * (2 * 1024 * 1024) + b"}",
        headers={**account.headers, "Content-Type": "application/json"},
    )
    assert big.status_code == 413
