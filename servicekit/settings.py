"""Settings every service has; each service subclasses ``ServiceSettings`` for its own.

Values come from arguments (the CLI) first, then ``MICROCRED_*`` / ``DATABASE_URL``
environment variables, then defaults: an embedded SQLite file under the data directory and
``http://localhost:PORT`` as the public URL.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from .db import normalise_url, sqlite_url


def default_data_dir() -> Path:
    return Path(os.environ.get("MICROCRED_DATA_DIR", "") or Path.cwd() / ".microcred")


@dataclass
class ServiceSettings:
    service: ClassVar[str] = ""
    default_port: ClassVar[int] = 8000

    host: str = "127.0.0.1"
    port: int = 0
    database_url: str = ""
    public_url: str = ""
    dev: bool = False
    data_dir: Path = field(default_factory=default_data_dir)

    def __post_init__(self) -> None:
        if not self.port:
            self.port = int(os.environ.get("MICROCRED_PORT", "") or self.default_port)
        self.data_dir = Path(self.data_dir)
        if not self.database_url:
            self.database_url = os.environ.get("DATABASE_URL", "") or sqlite_url(
                self.data_dir, self.service
            )
        self.database_url = normalise_url(self.database_url)
        if not self.public_url:
            self.public_url = os.environ.get("MICROCRED_PUBLIC_URL", "") or (
                f"http://localhost:{self.port}"
            )
        self.public_url = self.public_url.rstrip("/")
        if not self.dev and not self.public_url.startswith("https://"):
            self.dev = os.environ.get("MICROCRED_DEV", "") == "1"

    @property
    def is_https(self) -> bool:
        return self.public_url.startswith("https://")

    def production_problem(self) -> str | None:
        """Why these settings may not serve outside development (None: they may).

        Production mode (no ``--dev``) refuses to start without an https public URL: a
        service that silently assumed ``http://localhost`` put that address into every
        credential, offer and share link, and set its cookies without ``Secure`` (issue 14,
        item 11). With an https public URL every cookie is ``Secure`` (``Web.set_cookie``).
        """
        if self.dev or self.is_https:
            return None
        return (
            f"production mode needs an https public URL (--public-url https://... or "
            f"MICROCRED_PUBLIC_URL), not {self.public_url!r}; pass --dev (or MICROCRED_DEV=1) "
            "to run over http for development"
        )
