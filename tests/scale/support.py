"""Real service processes for the scale drills: ``microcred`` as an operator runs it.

The drills of issue 7 are about what happens *between* processes (two instances behind a
load balancer, a process killed by the kernel), so nothing here runs a service inside the
test process: every service is a ``microcred serve …`` child on a loopback port, set up
with the ``microcred`` CLI, reached over HTTP, and checked by reading its database
directly. Children log to files (a pipe nobody reads would fill up and stall the server)
and run in their own process group, so that after a SIGKILL the batch signing workers the
server had started can still be found and ended by their group id.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from credentials.keystore import new_kek_value
from servicekit.db import normalise_url
from tests.issuer.support import module_spec
from tests.support.databases import backend
from tests.support.servers import free_port

REPO = Path(__file__).resolve().parents[2]
MICROCRED = Path(sys.executable).with_name("microcred")
"""The installed console script next to the interpreter running the tests
(``.venv/bin/microcred``): the drills run what an operator runs."""

START_TIMEOUT = 90.0
"""Seconds a service may take to answer /healthz; generous, as this machine is shared."""
STOP_TIMEOUT = 20.0

requires_postgresql = pytest.mark.skipif(
    backend() != "postgresql",
    reason="several processes on one database is a PostgreSQL deployment; this drill runs "
    "in the PostgreSQL pass of scripts/test (MICROCRED_TEST_DB=postgresql), which is "
    "mandatory in CI",
)


def service_environment(data_dir: Path, kek: str | None = None) -> dict[str, str]:
    """The environment of every process of one deployment: one KEK, one data directory.

    Whatever ``MICROCRED_*``/``DATABASE_URL`` the test run itself has is dropped, so a
    child is configured only by what the drill says.
    """
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("MICROCRED_") and name != "DATABASE_URL"
    }
    data_dir.mkdir(parents=True, exist_ok=True)
    env["MICROCRED_KEK"] = kek or new_kek_value()
    env["MICROCRED_DATA_DIR"] = str(data_dir)
    return env


def microcred(*args: str, env: dict[str, str], timeout: float = 180.0) -> str:
    """Run ``microcred …`` to completion; its stdout (a failure shows stderr)."""
    result = subprocess.run(
        [str(MICROCRED), *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, f"microcred {' '.join(args)}: {result.stderr[-2000:]}"
    return result.stdout


@dataclass
class ServiceProcess:
    """One ``microcred serve`` child: where it listens and how to end it."""

    name: str
    base_url: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_tail(self, size: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-size:]
        except OSError:
            return ""

    def sigkill(self) -> None:
        """What the kernel's OOM killer or ``kill -9`` does: no handler, no cleanup."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=STOP_TIMEOUT)

    def stop(self) -> None:
        """End the server gracefully if it still runs, then anything left in its group."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT)
        # The group is ours (start_new_session): signing workers orphaned by a SIGKILL.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)


class _PortTaken(Exception):
    """Another program bound the free port between ``free_port`` and the child's bind."""


@contextlib.contextmanager
def serve(
    service: str,
    *,
    name: str,
    database_url: str,
    public_url: str,
    env: dict[str, str],
    log_dir: Path,
    dev: bool = False,
) -> Iterator[ServiceProcess]:
    """``microcred serve <service>`` on a free loopback port until the block ends."""
    for attempt in range(3):
        child = _start(service, name, database_url, public_url, env, log_dir, dev, attempt)
        try:
            wait_ready(child)
        except _PortTaken:
            child.stop()
            continue
        except BaseException:
            child.stop()
            raise
        break
    else:
        raise RuntimeError(f"{name}: no free port could be bound in three attempts")
    try:
        yield child
    finally:
        child.stop()


def _start(
    service: str,
    name: str,
    database_url: str,
    public_url: str,
    env: dict[str, str],
    log_dir: Path,
    dev: bool,
    attempt: int,
) -> ServiceProcess:
    port = free_port()
    log = log_dir / (f"{name}.log" if attempt == 0 else f"{name}.{attempt}.log")
    command = [
        str(MICROCRED), "serve", service, "--host", "127.0.0.1", "--port", str(port),
        "--database-url", database_url, "--public-url", public_url,
    ]  # fmt: skip
    if dev:
        command.append("--dev")
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command,
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return ServiceProcess(name, f"http://127.0.0.1:{port}", process, log)


def wait_ready(child: ServiceProcess) -> None:
    """Until *this* child answers /healthz.

    The machine is shared with other test runs that also pick free ports, so a 200 from
    the port is not enough: uvicorn's own "running on <url>" line in the child's log says
    that the child, not some other server, holds the port.
    """
    banner = f"running on {child.base_url} "
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if child.process.poll() is not None:
            tail = child.log_tail()
            if "address already in use" in tail.lower():
                raise _PortTaken(child.base_url)
            raise RuntimeError(f"{child.name} exited at start:\n{tail}")
        if banner in child.log_tail(100_000).lower():
            try:
                if httpx.get(f"{child.base_url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{child.name} did not answer /healthz:\n{child.log_tail()}")
        time.sleep(0.1)


# --------------------------------------------------------------------------- the issuer


@dataclass(frozen=True)
class IssuerDeployment:
    """An institution on a migrated issuer database, as the operator's CLI set it up."""

    database_url: str
    public_url: str
    env: dict[str, str]
    slug: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def path(self, suffix: str) -> str:
        return f"/institutions/{self.slug}{suffix}"


def set_up_issuer(
    database_url: str, public_url: str, data_dir: Path, slug: str = "hsr"
) -> IssuerDeployment:
    """``microcred migrate issuer`` and ``microcred issuer add-institution``."""
    env = service_environment(data_dir)
    microcred("migrate", "issuer", "--database-url", database_url, env=env)
    args = [
        "issuer", "add-institution", "--slug", slug, "--name", "Hogeschool Rijnland",
        "--brin", "99HR", "--database-url", database_url, "--public-url", public_url,
    ]  # fmt: skip
    created = json.loads(microcred(*args, env=env))
    return IssuerDeployment(database_url, public_url, env, slug, created["token"])


def create_module(base_url: str, deployment: IssuerDeployment) -> dict[str, Any]:
    """The catalogue entry the drills issue (every EU element, see tests/issuer)."""
    response = httpx.post(
        base_url + deployment.path("/modules"),
        json=module_spec(),
        headers=deployment.headers,
        timeout=60,
    )
    assert response.status_code == 201, response.text
    return response.json()


# --------------------------------------------------------------------------- the database


@contextlib.contextmanager
def database(url: str) -> Iterator[Engine]:
    """A read connection pool of the test's own, independent of every service process."""
    engine = create_engine(normalise_url(url))
    try:
        yield engine
    finally:
        engine.dispose()


def scalar(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as connection:
        return connection.execute(text(sql), params).scalar_one()


def rows(engine: Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(text(sql), params).all())
