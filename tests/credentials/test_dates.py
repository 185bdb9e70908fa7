"""The one date module: each reader's edge cases, and the status-list leniency on purpose."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from credentials import dates
from credentials.status import _validity_problem

T = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)
PLUS2 = timezone(timedelta(hours=2))

GARBAGE: list[Any] = [
    None,
    20250630,
    "",
    "yesterday",
    "2025-13-01T00:00:00Z",
    "2025-06-31T00:00:00Z",
    "2025-06-30T24:00:00Z",
    "2025-06-30 12:00:00Z",  # a space is ISO 8601-ish, not XML Schema
    "2025-06-30T12:00Z",  # seconds are required
    "2025-06-30T12:00:00+2:00",
    "2025-06-30T12:00:00+24:00",
    " 2025-06-30T12:00:00Z",
    "2025-06-30T12:00:00.Z",
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-06-30T12:00:00Z", T),
        ("2025-06-30T14:00:00+02:00", T),
        ("2025-06-30T10:00:00-02:00", T),
        ("2025-06-30T12:00:00.5Z", T + timedelta(milliseconds=500)),
        ("2025-06-30T12:00:00.123456789Z", T + timedelta(microseconds=123456)),
        ("2025-06-30T12:00:00+00:00", T),
    ],
)
def test_a_datetime_stamp_with_any_offset_or_fraction(text: str, expected: datetime) -> None:
    assert dates.parse_datetime(text) == expected
    assert dates.parse_xsd_datetime(text) == expected
    assert dates.read_datetime(text) == expected


@pytest.mark.parametrize("text", ["2025-06-30T12:00:00", "2025-06-30T12:00:00.25"])
def test_no_time_zone_is_refused_for_vc2_and_utc_for_xsd_datetime(text: str) -> None:
    with pytest.raises(ValueError, match="dateTimeStamp"):
        dates.parse_datetime(text)
    parsed = dates.parse_xsd_datetime(text)
    assert parsed.tzinfo is UTC and parsed.replace(microsecond=0) == T


def test_date_only_is_no_datetime_but_is_read_as_midnight_utc() -> None:
    for strict in (dates.parse_datetime, dates.parse_xsd_datetime):
        with pytest.raises(ValueError):
            strict("2025-06-30")
    midnight = datetime(2025, 6, 30, tzinfo=UTC)
    assert dates.read_date("2025-06-30") == midnight
    assert dates.read_datetime("2025-06-30") == midnight
    assert dates.read_date("2025-06-30T12:00:00Z") is None


@pytest.mark.parametrize("value", GARBAGE)
def test_garbage_is_a_value_error_or_none_never_anything_else(value: Any) -> None:
    for strict in (dates.parse_datetime, dates.parse_xsd_datetime):
        with pytest.raises(ValueError):
            strict(value)
    lenient = dates.read_datetime(value)
    assert lenient is None or lenient.tzinfo is not None


def test_a_leap_second_matches_the_grammar_but_is_still_a_value_error() -> None:
    with pytest.raises(ValueError):
        dates.parse_datetime("2016-12-31T23:59:60Z")
    assert dates.read_datetime("2016-12-31T23:59:60Z") is None


def test_the_lenient_reader_trims_and_always_gives_an_aware_time() -> None:
    assert dates.read_datetime("  2025-06-30T12:00:00  ") == T
    assert dates.read_datetime("2025-06-30T14:00:00+02:00") == T
    # two results always compare (naive vs aware would raise TypeError)
    assert dates.read_datetime("2025-06-30T12:00:00") == dates.read_datetime("2025-06-30T12:00Z")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1751284800, T),
        (1751284800.5, T + timedelta(milliseconds=500)),
        (True, None),
        ("1751284800", None),
        (10**20, None),
    ],
)
def test_unix_timestamps(value: Any, expected: datetime | None) -> None:
    assert dates.read_timestamp(value) == expected


def test_format_writes_utc_seconds_and_checks_strings() -> None:
    assert dates.format_datetime(datetime(2025, 6, 30, 14, 0, 0, 999, tzinfo=PLUS2)) == (
        "2025-06-30T12:00:00Z"
    )
    assert dates.format_datetime(datetime(2025, 6, 30, 12, 0)) == "2025-06-30T12:00:00Z"
    assert dates.format_datetime("2025-06-30T14:00:00+02:00") == "2025-06-30T14:00:00+02:00"
    with pytest.raises(ValueError):
        dates.format_datetime("30 June 2025")


# --- the status-list leniency, decided on purpose ------------------------------------------


def _window(start: Any, end: Any | None = None) -> dict[str, Any]:
    document: dict[str, Any] = {"validFrom": start}
    if end is not None:
        document["validUntil"] = end
    return document


def test_a_status_list_window_without_a_time_zone_is_read_as_utc() -> None:
    """A VCDM 1.1-style timestamp on a status list does not make every credential on it
    'status unknown': it is UTC."""
    assert _validity_problem(_window("2025-06-30T11:00:00", "2025-06-30T13:00:00"), T, "u") is None
    late = _validity_problem(_window("2025-06-30T11:00:00", "2025-06-30T11:30:00"), T, "u")
    assert late is not None and late.code == "status_list_expired"


@pytest.mark.parametrize("bad", ["2025-06-30", "soon", 12])
def test_a_status_list_window_that_is_not_a_datetime_is_refused(bad: Any) -> None:
    """A window that cannot be read cannot be enforced: date-only and garbage are refused."""
    problem = _validity_problem(_window(bad), T, "u")
    assert problem is not None and problem.code == "status_list_invalid"
