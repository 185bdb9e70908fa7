"""Fixtures of the security tests: signed sample worlds and the network guard."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.security.support import COUNTERS, NetworkGuard, World, make_world, record


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Write how many generated cases each property really ran (docs/security.md)."""
    for counter in COUNTERS:
        if counter.n:
            record(counter.name, counter.n)


@pytest.fixture(scope="session")
def ed25519_world() -> World:
    return make_world("ed25519")


@pytest.fixture(scope="session")
def p256_world() -> World:
    # a P-256 institution and a P-256 holder: both suites on both proof purposes
    return make_world("p256", holder_algorithm="p256")


@pytest.fixture(params=["ed25519", "p256"])
def world(request: pytest.FixtureRequest) -> World:
    return request.getfixturevalue(f"{request.param}_world")


@pytest.fixture
def no_network() -> Iterator[NetworkGuard]:
    """Fails the test if anything tried to resolve a name or open a connection.

    The attempt itself is also refused with ``OSError`` at once, so a leak cannot hang a
    test on a real timeout; the assertion afterwards makes sure a swallowed ``OSError``
    (``SafeFetcher`` turns it into ``FetchError``) still fails the test.
    """
    guard = NetworkGuard()
    with guard.active():
        yield guard
    assert guard.attempts == [], f"network access attempted: {guard.attempts[:5]}"
