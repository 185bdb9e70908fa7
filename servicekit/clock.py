"""Time for the services: one injectable clock, aware UTC everywhere.

Everything that depends on the clock (offer and nonce expiry, share links, challenges,
status re-checks) takes a :data:`Clock` so tests move time instead of sleeping. Times are
stored aware in UTC; SQLite hands them back naive, which :func:`aware` repairs, and every
time a service shows or returns goes through :func:`iso`: UTC, ``Z``, whole seconds.

There were three copies of this module; the verifier's had drifted (its ``aware`` kept a
``+02:00`` offset and its ``iso`` printed it, with microseconds), so one service answered
``2026-06-30T14:00:00.123456+02:00`` where the others said ``2026-06-30T12:00:00Z``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import overload

Clock = Callable[[], datetime]
"""A callable returning the current moment as an aware UTC datetime."""


def system_clock() -> datetime:
    return datetime.now(UTC)


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive value is taken to be UTC already (what SQLite returns)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@overload
def aware(moment: datetime) -> datetime: ...
@overload
def aware(moment: None) -> None: ...
def aware(moment: datetime | None) -> datetime | None:
    """A stored datetime as an aware UTC one, whatever the database backend returned."""
    return None if moment is None else utc(moment)


def iso(moment: datetime | None) -> str | None:
    """``2025-06-30T12:00:00Z``: UTC, whole seconds, as VCs write times and the APIs answer."""
    if moment is None:
        return None
    return utc(moment).replace(microsecond=0).isoformat().replace("+00:00", "Z")


__all__ = ["Clock", "aware", "iso", "system_clock", "utc"]
