"""Fixtures of the status tests (test_status.py, test_status_formats.py): the counting
local server, a fetcher that may use it, a settable clock and a list cache on that clock.
A module that defines a fixture of the same name (test_fetch.py's server) keeps its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from credentials.fetch import FetchPolicy, SafeFetcher
from credentials.status import StatusListCache
from tests.credentials.status_server import Clock, StatusServer


@pytest.fixture
def server() -> Iterator[StatusServer]:
    srv = StatusServer()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


@pytest.fixture
def fetcher() -> SafeFetcher:
    return SafeFetcher(FetchPolicy(allow_insecure=True, timeout=2.0))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cache(clock: Clock) -> StatusListCache:
    return StatusListCache(now=clock)
