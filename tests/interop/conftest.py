"""Fixtures for tests that drive the Node reference implementation and the outside stacks."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from interop.reference import (
    ReferenceImplementation,
    ReferenceImplementationError,
    available,
    ensure_installed,
    node_executable,
)
from tests.interop.outside import OutsideStacks
from tests.interop.tls import LocalTls, make_local_tls


def _require_node() -> None:
    """Skip when Node or the npm packages are unavailable, because interop is an extra
    check on top of the Python suite; MICROCRED_REQUIRE_INTEROP=1 (CI) turns that skip
    into a failure."""
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


@pytest.fixture(scope="session")
def reference() -> Iterator[ReferenceImplementation]:
    """One Node process for the whole session (start-up costs ~0.3 s)."""
    _require_node()
    with ReferenceImplementation() as ref:
        yield ref


@pytest.fixture(scope="session")
def local_tls(tmp_path_factory: pytest.TempPathFactory) -> LocalTls:
    """A test CA and a 127.0.0.1 server certificate, for the whole session."""
    return make_local_tls(Path(tmp_path_factory.mktemp("tls")))


@pytest.fixture(scope="session")
def outside(local_tls: LocalTls) -> Iterator[OutsideStacks]:
    """One Node process running interop/outside.mjs (DCC verifier-core and Digital Bazaar vc
    with stock loaders), trusting the session's test CA for loopback https."""
    _require_node()
    with OutsideStacks(env={"NODE_EXTRA_CA_CERTS": str(local_tls.ca_file)}) as stacks:
        yield stacks
