"""The log-in limiter belongs to its app (issue 15, build 1): two wallet apps in one
process, as in tests or a multi-tenant host, do not share log-in counts."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from tests.wallet.conftest import PUBLIC_URL, make_keystore, make_settings
from wallet.main import create_app


def _log_in(client: TestClient) -> int:
    return client.post(
        "/api/session", json={"username": "nobody", "password": "x" * 12}
    ).status_code


def test_log_in_counts_are_per_app(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(database_url, tmp_path)
    first = create_app(settings, keystore=make_keystore())
    second = create_app(settings, keystore=make_keystore())
    assert first.state.login_limiter is not second.state.login_limiter
    with TestClient(first, base_url=PUBLIC_URL) as a, TestClient(second, base_url=PUBLIC_URL) as b:
        statuses = [_log_in(a) for _ in range(settings.login_attempts_per_minute + 1)]
        assert statuses[-1] == 429
        assert _log_in(b) != 429  # the other app counted nothing
