"""Time for the issuer: one injectable clock, and the storage convention.

Everything that depends on the clock (offer and nonce expiry, proof freshness, validFrom)
takes it from the ``IssuerContext`` so tests move time instead of sleeping. Datetimes are
stored aware in UTC; SQLite returns them naive, which :func:`aware` repairs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime | None) -> datetime | None:
    """A stored datetime as an aware UTC one (SQLite drops the zone, not the value)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def iso(moment: datetime | None) -> str | None:
    """``2025-06-30T12:00:00Z`` (seconds precision, as VCs write times)."""
    moment = aware(moment)
    if moment is None:
        return None
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")
