"""Issue 14, item 11: production defaults.

Without ``--public-url`` the services used to assume ``http://localhost`` silently, with
cookies not ``Secure``; the verifier API answered ``verified: true`` for an unknown issuer
with nothing at the top level to say the issuer was unknown.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from servicekit.settings import ServiceSettings
from wallet.config import Settings as WalletSettings

REPO = Path(__file__).resolve().parents[2]


def _serve(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("MICROCRED_PUBLIC_URL", "MICROCRED_DEV", "DATABASE_URL")
    }
    env["MICROCRED_DATA_DIR"] = str(tmp_path)
    return subprocess.run(
        [sys.executable, "-m", "microcred", "serve", "wallet", "--port", "1", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "args", [(), ("--public-url", "http://wallet.example")], ids=["no-url", "http-url"]
)
def test_production_mode_refuses_to_start_without_an_https_public_url(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    done = _serve(tmp_path, *args)
    assert done.returncode == 2, done.stderr
    assert "https public URL" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_settings_say_when_they_may_serve(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.delenv("MICROCRED_PUBLIC_URL", raising=False)
    monkeypatch.delenv("MICROCRED_DEV", raising=False)
    assert WalletSettings(data_dir=tmp_path).production_problem() is not None
    assert WalletSettings(data_dir=tmp_path, dev=True).production_problem() is None
    https = WalletSettings(data_dir=tmp_path, public_url="https://wallet.example")
    assert https.production_problem() is None and https.is_https  # cookies: Secure
    assert isinstance(https, ServiceSettings)
