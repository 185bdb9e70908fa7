"""The issuer's settings: ``ServiceSettings`` plus the issuer's own knobs.

Values come from arguments first (``microcred serve issuer`` or the tests), then
``MICROCRED_ISSUER_<FIELD>`` environment variables (see :mod:`servicekit.settings`), then
defaults. Worker processes (``--workers N``) rebuild their settings from the environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import ClassVar

from credentials import STATUS_LIST_MIN_LENGTH as MIN_LENGTH
from servicekit.settings import ServiceSettings


@dataclass
class Settings(ServiceSettings):
    """Everything the issuer can be told; see docs/issuer.md for each knob."""

    service: ClassVar[str] = "issuer"
    default_port: ClassVar[int] = 8001

    admin_token: str = ""
    """Bearer token for the service-wide ``/admin`` endpoints (creating institutions over
    HTTP); empty disables them, leaving the CLI as the only way."""
    max_body: int = 1024 * 1024
    """Largest JSON request body, in bytes (413 above it)."""
    max_csv_bytes: int = 8 * 1024 * 1024
    """Largest batch CSV upload, in bytes (413 above it)."""
    max_batch_rows: int = 50_000
    batch_workers: int = -1
    """Processes that build and sign batch credentials; -1 = one per CPU, 0 = in-process."""
    status_max_age: int = 60
    """Seconds a status list credential may be cached (Cache-Control max-age)."""
    status_list_validity: int = 6 * 3600
    """Seconds a signed status list is valid (its ``validUntil``). A list is re-signed when
    less than half of this is left, so an old list replayed at its URL is refused within
    this time (issue 14.5; docs/security.md)."""
    status_list_capacity: int = MIN_LENGTH
    """Indexes handed out per list before a new list is opened. Lists are always
    ``MIN_LENGTH`` (131,072) entries long; a smaller capacity exists for tests only, as it
    shrinks the crowd a credential hides in."""
    offer_ttl: int = 7 * 24 * 3600
    """Default lifetime of a credential offer (pre-authorised code), in seconds."""
    max_offer_ttl: int = 30 * 24 * 3600
    access_token_ttl: int = 600
    nonce_ttl: int = 300
    proof_max_age: int = 300
    """Seconds a wallet's key proof (its ``iat``) may be old, and also how far ahead of
    our clock it may be."""
    tx_code_attempts: int = 5
    """Wrong transaction codes (PINs) tolerated before an offer is burnt."""
    smtp_host: str = ""
    """Mail server for cohort deliveries; empty means nothing is mailed (the registrar is
    told, and uses the delivery list instead)."""
    smtp_port: int = 0
    """0 = the security mode's usual port (587 starttls, 465 ssl, 25 none)."""
    smtp_from: str = ""
    smtp_security: str = "starttls"
    """starttls, ssl or none (none only for a relay on the same host or in tests)."""
    smtp_user: str = ""
    smtp_password: str = ""
    max_delivery_rows: int = 2000
    """Rows in one cohort delivery upload (each becomes an offer and an e-mail)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.smtp_security not in ("starttls", "ssl", "none"):
            raise ValueError("smtp_security must be starttls, ssl or none")
        if self.status_list_capacity < 1 or self.status_list_capacity > MIN_LENGTH:
            raise ValueError(f"status_list_capacity must be between 1 and {MIN_LENGTH}")
        if min(self.offer_ttl, self.max_offer_ttl, self.access_token_ttl, self.nonce_ttl) <= 0:
            raise ValueError("offer, access token and nonce lifetimes must be positive")
        if self.status_list_validity < 2 * max(self.status_max_age, 1):
            raise ValueError("status_list_validity must be at least twice status_max_age")
        if self.offer_ttl > self.max_offer_ttl:
            raise ValueError("offer_ttl must not exceed max_offer_ttl")

    @property
    def workers(self) -> int:
        """The number of signing processes a batch uses (0 = sign in this process)."""
        if self.batch_workers >= 0:
            return self.batch_workers
        return max(1, os.cpu_count() or 1)
