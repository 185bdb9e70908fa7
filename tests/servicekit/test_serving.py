"""Issue 14 items 4 and 8 at the server edge, with a real uvicorn on loopback.

* access logs never carry capabilities (share tokens, offer handles, result tokens);
* ``X-Forwarded-For`` is believed only from proxies named explicitly (default: none);
* databases and the data directory are owner-only whatever the umask.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import Request
from sqlalchemy import text

from servicekit.app import create_app
from servicekit.db import Database, sqlite_url
from servicekit.serving import TRUSTED_PROXIES_ENV, redact_path, uvicorn_options
from tests.support.servers import free_port

SHARE_TOKEN = "Zq3xP0aK9vLr7TtW2mNc8yBd5HjE1uFg6sQo4iVk"


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def _app() -> Any:
    app = create_app("test")

    @app.get("/whoami")
    def whoami(request: Request) -> dict[str, str]:
        return {"client": request.client.host if request.client else ""}

    return app


@contextmanager
def serving(app: Any, **options: Any) -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="info", **options)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_the_access_log_of_a_real_server_carries_no_capability() -> None:
    capture = Capture()
    access = logging.getLogger("uvicorn.access")
    with serving(_app()) as base:
        access.addHandler(capture)
        try:
            httpx.get(f"{base}/s/{SHARE_TOKEN}", timeout=10)
            httpx.get(f"{base}/institutions/hsr/credential-offers/abcdef0123456789abcd", timeout=10)
            httpx.get(f"{base}/requests/r-1/events?token=Secret-Result-Token-123", timeout=10)
            deadline = time.monotonic() + 5
            while len(capture.lines) < 3 and time.monotonic() < deadline:
                time.sleep(0.02)
        finally:
            access.removeHandler(capture)
    logged = "\n".join(capture.lines)
    assert len(capture.lines) == 3, logged
    assert SHARE_TOKEN not in logged
    assert "abcdef0123456789abcd" not in logged
    assert "Secret-Result-Token-123" not in logged
    assert "/s/[redacted]" in logged and "token=[redacted]" in logged


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/healthz", "/healthz"),
        ("/api/shares/6f1c2a9e-0d4b-4c55-9a43-3e1f0b2c7d10", None),  # a UUID stays
        ("/institutions/hsr/modules/intro-python", None),
        (f"/x/{SHARE_TOKEN}/y", "/x/[redacted]/y"),
        ("/a?state=abc&code=xyz", "/a?state=[redacted]&code=[redacted]"),
    ],
)
def test_redaction_keeps_what_is_not_secret(path: str, expected: str | None) -> None:
    assert redact_path(path) == (expected or path)


def test_x_forwarded_for_is_not_believed_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: uvicorn trusted XFF from any loopback peer, so a client chose its own key."""
    monkeypatch.delenv(TRUSTED_PROXIES_ENV, raising=False)
    spoof = {"X-Forwarded-For": "203.0.113.9"}
    with serving(_app(), **uvicorn_options()) as base:
        seen = httpx.get(f"{base}/whoami", headers=spoof, timeout=10).json()["client"]
    assert seen == "127.0.0.1"


def test_x_forwarded_for_is_believed_from_a_named_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TRUSTED_PROXIES_ENV, "127.0.0.1")
    spoof = {"X-Forwarded-For": "203.0.113.9"}
    with serving(_app(), **uvicorn_options()) as base:
        seen = httpx.get(f"{base}/whoami", headers=spoof, timeout=10).json()["client"]
    assert seen == "203.0.113.9"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_databases_and_the_data_directory_are_owner_only(tmp_path: Path) -> None:
    """Before: created 0644 under the usual umask 022."""
    old = os.umask(0o022)
    try:
        data_dir = tmp_path / "data"
        db = Database(sqlite_url(data_dir, "issuer"))
        with db.session() as session:
            session.execute(text("CREATE TABLE t (x INTEGER)"))
            session.execute(text("INSERT INTO t VALUES (1)"))
        with db.engine.connect() as connection:  # keep WAL and shm alive while we look
            connection.execute(text("SELECT * FROM t")).all()
            files = sorted(data_dir.iterdir())
            assert {f.name for f in files} >= {"issuer.db", "issuer.db-wal", "issuer.db-shm"}
            for file in files:
                assert _mode(file) == 0o600, f"{file.name}: {oct(_mode(file))}"
        assert _mode(data_dir) == 0o700
        db.dispose()
    finally:
        os.umask(old)


def test_an_existing_world_readable_database_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "wallet.db"
    path.write_bytes(b"")
    path.chmod(0o644)
    Database(f"sqlite:///{path}").dispose()
    assert _mode(path) == 0o600
