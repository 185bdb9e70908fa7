"""Dates and validity times: one module, with the strictness of each use decided here.

Three readers, from strict to lenient, each for a reason:

``parse_datetime`` — an XML Schema *dateTimeStamp* (a time zone is required). What VC 2.0
    requires of ``validFrom`` / ``validUntil`` (VCDM 2.0 §4.9) and Data Integrity of a
    proof's ``created`` / ``expires``. A value that is not one makes the document
    non-conformant: the verifier refuses it, it does not guess.

``parse_xsd_datetime`` — an XML Schema *dateTime* (the zone is optional; none means UTC).
    What VCDM 1.1 allowed for ``issuanceDate`` / ``expirationDate``, and what a **status
    list's** validity window is read with, whatever its data model. Decided on purpose: a
    status list is an issuer's infrastructure document, fetched while verifying someone
    else's credential; refusing it for a missing zone would turn a harmless 1.1-style
    timestamp into "status unknown" for every credential on the list, while a date-only or
    garbage value is still refused (``status_list_invalid``), because a window that cannot
    be read cannot be enforced. Fractional seconds and any offset are accepted by both.

``read_datetime`` / ``read_date`` / ``read_timestamp`` — for *showing* and *comparing*
    dates that are not a verification decision (the profile's ``awardedDate`` checks, the
    detail view of a credential, Open Badges 2.0 and SD-JWT VC claims, our own stored
    rows): any ISO 8601 form Python reads, surrounding spaces ignored, naive times taken as
    UTC, and ``None`` (never an exception) for anything else. They never decide whether a
    credential verifies.

Every reader returns an *aware* datetime, so two results always compare (a naive and an
aware datetime raise ``TypeError`` when compared). ``format_datetime`` writes the one
form microcred itself produces: UTC, second precision, ``Z``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

_DATE = r"-?\d{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
_TIME = r"T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?"
_ZONE = r"(Z|[+-]([01]\d|2[0-3]):[0-5]\d)"
#: XML Schema 1.1 dateTimeStamp: the time zone is required (VC 2.0, Data Integrity)
DATETIME_STAMP = re.compile(f"^{_DATE}{_TIME}{_ZONE}$")
#: XML Schema 1.1 dateTime: the time zone is optional (VCDM 1.1); without one, UTC
XSD_DATETIME = re.compile(f"^{_DATE}{_TIME}{_ZONE}?$")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_datetime(value: object) -> datetime:
    """A dateTimeStamp (a time zone is required), or ``ValueError``."""
    if not isinstance(value, str) or not DATETIME_STAMP.match(value):
        raise ValueError(f"not an XML Schema dateTimeStamp: {value!r}")
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def parse_xsd_datetime(value: object) -> datetime:
    """An XML Schema dateTime (no time zone means UTC), or ``ValueError``."""
    if not isinstance(value, str) or not XSD_DATETIME.match(value):
        raise ValueError(f"not an XML Schema dateTime: {value!r}")
    return _aware(datetime.fromisoformat(value.replace("Z", "+00:00")))


def read_datetime(value: Any) -> datetime | None:
    """Any ISO 8601 date-time (or date: midnight UTC) as an aware datetime, else None."""
    if not isinstance(value, str):
        return None
    try:
        return _aware(datetime.fromisoformat(value.strip().replace("Z", "+00:00")))
    except ValueError:
        return None


def read_date(value: Any) -> datetime | None:
    """A calendar date (``2025-06-30``) as midnight UTC, else None."""
    if not isinstance(value, str):
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        return None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def read_timestamp(value: Any) -> datetime | None:
    """A Unix time (JWT ``iat``, Open Badges 1.x dates) as an aware datetime, else None."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def format_datetime(value: datetime | str | None = None) -> str:
    """An XML Schema dateTimeStamp in UTC, second precision (what the specs show); a string
    is checked (``ValueError``) and kept as it is; None is now."""
    if isinstance(value, str):
        parse_datetime(value)
        return value
    moment = value or datetime.now(UTC)
    return _aware(moment).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


__all__ = [
    "DATETIME_STAMP",
    "XSD_DATETIME",
    "format_datetime",
    "parse_datetime",
    "parse_xsd_datetime",
    "read_date",
    "read_datetime",
    "read_timestamp",
]
