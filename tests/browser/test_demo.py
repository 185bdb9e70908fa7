"""``microcred demo``: one command starts three seeded services; Ctrl-C stops all of them;
a second start reuses everything and creates nothing twice.

The demo runs as a real child process group, as a person would start it in a terminal, and
is stopped with SIGINT (what Ctrl-C sends to the whole foreground group).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_base() -> int:
    """A port p with p, p+1 and p+2 all free on loopback."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base > 65000:
            continue
        if all(_free(base + i) for i in range(3)):
            return base
    raise RuntimeError("no three consecutive free ports")


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _start(data_dir: Path, base: int) -> tuple[subprocess.Popen[str], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MICROCRED_")}
    env.pop("DATABASE_URL", None)
    env["PYTHONPATH"] = str(ROOT)
    process = subprocess.Popen(
        [sys.executable, "-m", "microcred", "demo", "--data-dir", str(data_dir),
         "--port-base", str(base)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own group, like a terminal's foreground job
    )  # fmt: skip
    output = []
    deadline = time.monotonic() + 120
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        output.append(line)
        if "Data directory" in line:
            return process, "".join(output)
    process.kill()
    pytest.fail("the demo did not come up:\n" + "".join(output))


def _interrupt(process: subprocess.Popen[str]) -> str:
    """Ctrl-C: SIGINT to the demo's whole process group; everything must end cleanly."""
    os.killpg(process.pid, signal.SIGINT)
    try:
        rest, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        pytest.fail("the demo did not stop within 30 s of Ctrl-C")
    assert process.returncode == 0, rest
    return rest


def test_demo_starts_seeded_stops_cleanly_and_restarts_idempotently(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    base = _free_base()
    process, printed = _start(data_dir, base)
    try:
        urls = re.findall(r"http://localhost:\d+/(?=\s)", printed)  # the start pages only
        assert urls[:3] == [f"http://localhost:{base + i}/" for i in range(3)], printed
        state = json.loads((data_dir / "demo.json").read_text())
        for institution in state["institutions"].values():
            assert institution["token"] in printed and institution["did"] in printed
        assert state["learner_password"] in printed and "learner" in printed
        assert (data_dir / "demo.json").stat().st_mode & 0o077 == 0

        issuer, wallet, verifier = (f"http://127.0.0.1:{base + i}" for i in range(3))
        assert "Inloggen" in httpx.get(f"{issuer}/").text
        assert "wallet" in httpx.get(f"{wallet}/").text
        assert "Controleer een microcredential" in httpx.get(f"{verifier}/").text
        registry = httpx.get(f"{verifier}/trust-registry").json()
        names = sorted(i["name"] for i in registry["institutions"])
        assert names == ["Hogeschool Rijnland", "ROC Noordkust"]
        token = state["institutions"]["hs-rijnland"]["token"]
        modules = httpx.get(
            f"{issuer}/institutions/hs-rijnland/modules",
            headers={"Authorization": f"Bearer {token}"},
        ).json()["modules"]
        assert len(modules) == 4  # three modules and the route certificate (issue 17)
        login = httpx.post(
            f"{wallet}/api/session",
            json={"username": "learner", "password": state["learner_password"]},
        )
        assert login.status_code == 200
        routes = httpx.get(
            f"{wallet}/api/routes", headers={"Authorization": f"Bearer {login.json()['token']}"}
        ).json()
        assert [r["routeId"] for r in routes] == ["doorstroom-data"]
    finally:
        stopped = _interrupt(process)
    assert "stopped." in stopped
    assert all(_free(base + i) for i in range(3)), "a server outlived the demo"

    # -- a second start: same world, nothing created twice
    process, printed_again = _start(data_dir, base)
    try:
        assert json.loads((data_dir / "demo.json").read_text()) == state
        for institution in state["institutions"].values():
            assert institution["token"] in printed_again
        token = state["institutions"]["roc-noordkust"]["token"]
        modules = httpx.get(
            f"http://127.0.0.1:{base}/institutions/roc-noordkust/modules",
            headers={"Authorization": f"Bearer {token}"},
        ).json()["modules"]
        assert len(modules) == 2
        registry = json.loads((data_dir / "trust-registry.json").read_text())
        assert len(registry["institutions"]) == 2
    finally:
        _interrupt(process)
