"""Time for the verifier: one injectable clock, and UTC everywhere.

Everything that depends on the clock takes it from here (``Clock``: a callable returning an
aware UTC datetime) so tests move time instead of sleeping. SQLModel's ``UTCDateTime``
columns insist on aware datetimes, and hand them back aware.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive value is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def aware(moment: datetime | None) -> datetime | None:
    """A datetime from the database as an aware UTC one (whatever the backend returned)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def iso(moment: datetime | None) -> str | None:
    moment = aware(moment)
    return moment.isoformat().replace("+00:00", "Z") if moment else None
