"""Shared fixtures: paths to the spec vectors carried into tests/fixtures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


def load_fixture(relative: str) -> Any:
    return json.loads((FIXTURES / relative).read_text())


def fixture_text(relative: str) -> str:
    return (FIXTURES / relative).read_text()


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def database_url(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A fresh, empty database URL (SQLite, or PostgreSQL under MICROCRED_TEST_DB)."""
    from tests.support.databases import fresh_database

    with fresh_database(tmp_path) as url:
        yield url


@pytest.fixture
def frozen_rate_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hold the rate limiters' clock still: a test that makes ``limit + 1`` calls and expects
    the last one refused must not pass or fail by how fast the machine is (on a loaded
    machine 31 calls took over a minute, and the window slid)."""
    import servicekit.ratelimit

    monkeypatch.setattr(servicekit.ratelimit, "_now", lambda: 1_000_000.0)
