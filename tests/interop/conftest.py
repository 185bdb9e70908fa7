"""Fixtures for tests that drive the Node reference implementation."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.interop.reference import (
    ReferenceImplementation,
    ReferenceImplementationError,
    available,
    ensure_installed,
    node_executable,
)


@pytest.fixture(scope="session")
def reference() -> Iterator[ReferenceImplementation]:
    """One Node process for the whole session (start-up costs ~0.3 s).

    Skips when Node or the npm packages are unavailable, because interop is
    an extra check on top of the Python suite; set MICROCRED_REQUIRE_INTEROP=1
    (CI) to turn that skip into a failure.
    """
    required = bool(os.environ.get("MICROCRED_REQUIRE_INTEROP"))
    problem = None
    if node_executable() is None:
        problem = "node not found on PATH"
    elif not available():
        try:
            ensure_installed()
        except ReferenceImplementationError as exc:
            problem = str(exc)
    if problem is not None:
        if required:
            pytest.fail(f"interop reference implementation unavailable: {problem}")
        pytest.skip(f"interop reference implementation unavailable: {problem}")
    with ReferenceImplementation() as ref:
        yield ref
