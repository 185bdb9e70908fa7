"""The wallet's clock is :mod:`servicekit.clock` (one copy for the three services);
re-exported here so the wallet's modules keep importing it from ``.clock``."""

from __future__ import annotations

from servicekit.clock import Clock, aware, iso, system_clock, utc

__all__ = ["Clock", "aware", "iso", "system_clock", "utc"]
