"""The app as a whole: it refuses to start unmigrated or without a KEK, builds from the
environment for worker processes, and answers everything with problem details."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from credentials.keystore import KeystoreError, new_kek_value
from issuer.config import Settings
from issuer.main import app_from_environment, create_app
from servicekit.migrations import SchemaOutOfDate
from tests.issuer.support import problem


def test_an_unmigrated_database_is_refused(database_url: str, keystore: Any) -> None:
    with pytest.raises(SchemaOutOfDate) as info:
        create_app(Settings(database_url=database_url), keystore=keystore)
    assert "microcred migrate issuer" in str(info.value)


def test_no_kek_no_service(migrated: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("MICROCRED_KEK", "MICROCRED_KEK_FILE", "MICROCRED_DEV"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(KeystoreError):
        create_app(
            Settings(database_url=migrated, public_url="https://issuer.example", data_dir=tmp_path)
        )
    # dev mode: a KEK file in the data directory, readable by the owner only
    create_app(Settings(database_url=migrated, dev=True, data_dir=tmp_path))
    assert (tmp_path / "kek.secret").stat().st_mode & 0o777 == 0o600


def test_worker_processes_build_the_app_from_the_environment(
    migrated: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", migrated)
    monkeypatch.setenv("MICROCRED_PUBLIC_URL", "https://credentials.hsrijnland.example")
    monkeypatch.setenv("MICROCRED_KEK", new_kek_value())
    monkeypatch.setenv("MICROCRED_ISSUER_STATUS_MAX_AGE", "30")
    monkeypatch.setenv("MICROCRED_DATA_DIR", str(tmp_path))
    app = app_from_environment()
    settings = app.state.issuer.settings
    assert settings.public_url == "https://credentials.hsrijnland.example"
    assert settings.status_max_age == 30 and settings.port == 8001
    with TestClient(app) as client:
        answer = client.get("/healthz")
        assert answer.status_code == 200
        assert answer.headers["strict-transport-security"]  # https public URL


def test_unknown_routes_and_methods_are_problems(client: TestClient, inst: Any) -> None:
    problem(client.get("/nothing-here"), 404, "not_found")
    problem(client.put(inst.path("/did.json")), 405, "method_not_allowed")
    response = client.get(inst.path("/did.json"))
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "default-src" in response.headers["content-security-policy"]


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError):
        Settings(status_list_capacity=0, database_url="sqlite://")
    with pytest.raises(ValueError):
        Settings(offer_ttl=10, max_offer_ttl=5, database_url="sqlite://")


def test_the_api_describes_itself(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/institutions/{slug}/credentials/issue",
        "/institutions/{slug}/credentials/status",
        "/institutions/{slug}/batches",
        "/.well-known/openid-credential-issuer/institutions/{slug}",
        "/institutions/{slug}/token",
        "/institutions/{slug}/credential",
    ):
        assert path in paths
