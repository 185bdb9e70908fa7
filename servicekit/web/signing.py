"""The per-deployment secret and the HMAC signatures made with it.

Named ``signing`` rather than ``secrets`` so that it never shadows the standard library's
``secrets`` module, which the kit uses for its random values.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path

SECRET_ENV = "MICROCRED_WEB_SECRET"


def _read_or_create_secret(path: Path) -> bytes:
    """A 32-byte key in ``path``, created once (mode 0600) and then reused.

    ``O_EXCL`` makes concurrent first starts (several workers) agree: the loser reads the
    winner's file instead of overwriting it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            data = path.read_bytes().strip()
            if data:
                return bytes.fromhex(data.decode())
            time.sleep(0.01)
        raise RuntimeError(f"the web secret file {path} is empty") from None
    key = secrets.token_bytes(32)
    with os.fdopen(fd, "w") as handle:
        handle.write(key.hex())
    return key


def deployment_secret(service: str, data_dir: Path | str | None) -> bytes:
    """The per-deployment HMAC key for CSRF tokens and flash cookies.

    ``MICROCRED_WEB_SECRET`` wins (what several instances behind a proxy must share);
    otherwise a file ``web-secret-<service>`` in the data directory, generated on first use.
    Each service has its own, so one service's cookie means nothing to another.
    """
    configured = os.environ.get(SECRET_ENV, "").strip()
    if configured:
        return hashlib.sha256(f"{service}\x00{configured}".encode()).digest()
    directory = Path(data_dir) if data_dir else Path.cwd() / ".microcred"
    return _read_or_create_secret(directory / f"web-secret-{service}")


def sign(secret: bytes, *parts: str) -> str:
    """An HMAC-SHA256 over ``parts`` (NUL-separated, so parts cannot be shifted), base64url."""
    mac = hmac.new(secret, "\x00".join(parts).encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")
