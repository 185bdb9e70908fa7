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
