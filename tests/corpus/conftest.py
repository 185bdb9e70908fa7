"""Prints the corpus count (DCC-accepted vs microcred-accepted) at the end of the run."""

from __future__ import annotations

from typing import Any

RESULTS: dict[str, Any] = {}


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if RESULTS:
        terminalreporter.write_sep("=", "published-credential corpus")
        for line in RESULTS.get("lines", []):
            terminalreporter.write_line(line)
