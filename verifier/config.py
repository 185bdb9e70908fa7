"""The verifier's settings: ``ServiceSettings`` plus the verifier's own policy knobs.

Values come from arguments first (the ``microcred serve verifier`` command), then
``MICROCRED_VERIFIER_<FIELD>`` environment variables (see :mod:`servicekit.settings`; the
old plain ``MICROCRED_*`` names still work, with a warning), then defaults. Worker
processes (``--workers N``) rebuild their settings from the environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from credentials import parse_policies
from servicekit.errors import Unauthorized
from servicekit.settings import ServiceSettings
from servicekit.tokens import token_hash


@dataclass
class Settings(ServiceSettings):
    """Everything the verifier can be told; see docs/verifier.md for each knob."""

    service: ClassVar[str] = "verifier"
    default_port: ClassVar[int] = 8003
    old_env_names: ClassVar[Mapping[str, str]] = {
        **ServiceSettings.old_env_names,
        "trust_registry": "MICROCRED_TRUST_REGISTRY",
        "strict_trust": "MICROCRED_STRICT_TRUST",
        "keep_full_log": "MICROCRED_KEEP_FULL_LOG",
        "requester_keys": "MICROCRED_REQUESTER_KEYS",
        "log_retention_days": "MICROCRED_LOG_RETENTION_DAYS",
        "clock_skew": "MICROCRED_CLOCK_SKEW",
    }

    trust_registry: Path | str | None = None
    """JSON or YAML file of accredited institutions; None = an empty registry."""
    trust_registry_check_seconds: float = 5.0
    """How often (at most) the registry file's mtime is checked for an automatic reload."""
    strict_trust: bool = False
    """Adds the ``trusted-issuers-only`` policy everywhere: unknown or unaccredited issuers
    fail verification (as a failed ``policy`` check) instead of only giving a warning."""
    policies: str = ""
    """VC-API policies (comma-separated names from ``credentials.policies``); empty: what
    the specifications call conforming is accepted (``MICROCRED_VERIFIER_POLICIES``)."""
    page_policies: str = "no-inline-contexts,holder-is-subject"
    """Policies of the employer pages, share links, presentation requests and admissions
    (``MICROCRED_VERIFIER_PAGE_POLICIES``): stricter by default, each reported by name."""
    clock_skew: float = 300.0
    """Seconds of tolerance on validFrom / validUntil (clocks of issuers differ)."""
    log_retention_days: int = 90
    keep_full_log: bool = False
    """Also store the verified documents in the log (personal data: off by default)."""
    challenge_ttl: int = 600
    """Seconds a challenge from POST /challenges stays usable."""
    request_ttl: int = 600
    """Default lifetime of a presentation request in seconds."""
    max_request_ttl: int = 86_400
    result_retention_hours: int = 1
    """Presentation-request results (which name the learner) are purged after this, and not
    shown once it has passed even before the purge runs. One hour is what a result page
    needs (the employer reads it as the answer arrives); it was 24 (issue 14 item 9)."""
    max_body: int = 1024 * 1024
    admin_token: str = ""
    """Bearer token for /admin endpoints; empty disables them."""
    sse_timeout: float = 300.0
    """Seconds an events stream stays open waiting for a result."""
    requester_keys: dict[str, str] = field(default_factory=dict)
    """Registered requesters: SHA-256 (hex) of an API key -> the requester name wallets are
    shown. Also read from ``MICROCRED_VERIFIER_REQUESTER_KEYS`` (JSON object of the same shape). A
    request names its requester only through such a key (issue 14, item 7)."""

    def requester_for(self, api_key: str | None) -> str | None:
        """The registered requester name an API key stands for (None: anonymous).

        An unknown key is refused rather than treated as anonymous, so a typo in a
        requester's configuration shows at once."""
        if not api_key:
            return None
        name = self.requester_keys.get(token_hash(api_key))
        if name is None:
            raise Unauthorized(
                "requester_key_invalid",
                "this API key is not a registered requester of this verifier",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return name

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.trust_registry is not None:
            self.trust_registry = Path(self.trust_registry).expanduser()
        parse_policies(self.policies)  # a typo must stop the service, not weaken it
        parse_policies(self.page_policies)
        if self.clock_skew < 0 or self.log_retention_days < 0:
            raise ValueError("clock_skew and log_retention_days must not be negative")
        if self.challenge_ttl <= 0 or self.request_ttl <= 0 or self.max_request_ttl <= 0:
            raise ValueError("challenge and request lifetimes must be positive")
