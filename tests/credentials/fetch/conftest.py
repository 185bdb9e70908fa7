"""Fixtures of the SafeFetcher tests: a real local listener, and a guard on every test here
that fails it the moment a TCP connection to anything but loopback is attempted."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from tests.credentials.fetch.support import LocalServer


@pytest.fixture
def server() -> Iterator[LocalServer]:
    srv = LocalServer().start()
    yield srv
    srv.stop()


@pytest.fixture(autouse=True)
def connections(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Record outgoing TCP connections; anything but loopback fails the test at once."""
    made: list[tuple[str, int]] = []
    real = socket.create_connection

    def guarded(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        if address[0] not in ("127.0.0.1", "::1"):
            pytest.fail(f"a connection to {address} was attempted")
        made.append(address)
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", guarded)
    return made
