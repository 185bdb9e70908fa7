"""One clock for the three services: every time they show is UTC with ``Z`` (issue 15: the
verifier's copy had drifted and printed ``+02:00``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from servicekit import clock

AMSTERDAM_SUMMER = timezone(timedelta(hours=2))


def test_iso_is_utc_with_z_and_whole_seconds() -> None:
    moment = datetime(2026, 6, 30, 14, 0, 5, 123456, tzinfo=AMSTERDAM_SUMMER)
    assert clock.iso(moment) == "2026-06-30T12:00:05Z"
    assert clock.iso(datetime(2026, 6, 30, 12, 0, 5)) == "2026-06-30T12:00:05Z"  # naive = UTC
    assert clock.iso(None) is None


def test_aware_moves_any_offset_to_utc() -> None:
    local = datetime(2026, 6, 30, 14, 0, tzinfo=AMSTERDAM_SUMMER)
    assert clock.aware(local) == local and clock.aware(local).tzinfo is UTC
    assert clock.aware(datetime(2026, 6, 30, 12, 0)) == datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
    assert clock.aware(None) is None


@pytest.mark.parametrize("service", ["issuer", "wallet", "verifier"])
def test_every_service_uses_the_one_clock(service: str) -> None:
    import importlib

    own = importlib.import_module(f"{service}.services.clock")
    for name in clock.__all__:
        assert getattr(own, name) is getattr(clock, name)
