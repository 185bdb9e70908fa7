"""The wallet's settings: ``ServiceSettings`` plus the wallet's own policy knobs.

Values come from arguments first (``microcred serve wallet`` or tests), then
``MICROCRED_WALLET_<FIELD>`` environment variables (see :mod:`servicekit.settings`), then
defaults. Worker processes (``--workers N``) rebuild their settings from the environment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from servicekit.settings import ServiceSettings


@dataclass
class Settings(ServiceSettings):
    """Everything the wallet can be told; docs/wallet.md explains each knob."""

    service: ClassVar[str] = "wallet"
    default_port: ClassVar[int] = 8002

    known_issuers_file: Path | str | None = None
    """JSON or YAML file listing issuer DIDs the wallet knows (a list of DIDs, of
    ``{"id", "name"}`` objects, or ``{"issuers": [...]}``). An issuer not on the list is a
    warning shown to the learner, never a refusal."""
    known_issuers: list[str] = field(default_factory=list)
    """Further known issuer DIDs (``MICROCRED_WALLET_KNOWN_ISSUERS``: comma-separated)."""
    token_ttl: int = 12 * 3600
    """Seconds an API bearer token from ``POST /api/session`` stays valid."""
    session_ttl: int = 8 * 3600
    """Seconds a page session cookie stays valid."""
    min_password_length: int = 10
    password_time_cost: int = 3
    password_memory_kib: int = 65_536
    """argon2id cost (argon2-cffi's defaults): each log-in takes this much time and memory;
    tests lower it, deployments may raise it."""
    status_recheck_seconds: int = 300
    """A credential's status is re-checked on view when the last check is older than this;
    status lists fetched are also reused at most this long."""
    default_share_seconds: int = 7 * 86_400
    max_share_seconds: int = 365 * 86_400
    max_share_views: int = 10_000
    max_body: int = 1024 * 1024
    max_import_body: int = 20 * 1024 * 1024
    """Body limit of ``POST /api/import`` (a whole wallet export)."""
    login_attempts_per_minute: int = 20
    max_concurrent_hashes: int = 4
    verifier_url: str | None = None
    """A verifier the public share page links to ("controleer in je eigen verifier"), e.g.
    ``https://verifier.example``; also ``MICROCRED_WALLET_VERIFIER_URL``. None: no link."""
    """argon2 computations allowed at once (each takes ``password_memory_kib``); more wait."""
    """Per client address, for log-in and registration (argon2 is deliberately slow)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.known_issuers_file is not None:
            self.known_issuers_file = Path(self.known_issuers_file).expanduser()
        self.known_issuers = list(dict.fromkeys(d.strip() for d in self.known_issuers if d.strip()))
        if self.token_ttl <= 0 or self.session_ttl <= 0:
            raise ValueError("token and session lifetimes must be positive")
        if self.status_recheck_seconds < 0:
            raise ValueError("status_recheck_seconds must not be negative")
        if not 0 < self.default_share_seconds <= self.max_share_seconds:
            raise ValueError("default_share_seconds must be positive and within the maximum")
        if self.min_password_length < 8:
            raise ValueError("min_password_length must be at least 8")
