"""Dates, numbers and format lines as pages show them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .i18n import Translator


def format_date(value: Any, with_time: bool = False) -> str:
    """Dates as Dutch and English readers both read them: 2026-11-28 (ISO, unambiguous)."""
    if value is None or value == "":
        return ""
    moment = value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if isinstance(moment, datetime):
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
        return moment.strftime("%Y-%m-%d %H:%M UTC" if with_time else "%Y-%m-%d")
    return str(value)


def format_number(value: Any) -> str:
    """5.0 → "5", 2.5 → "2.5": ECTS as people write them."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return f"{value:g}"
    return str(value)


def format_text(label: str | None, t: Translator) -> str | None:
    """A report's format line in the page's language.

    Model and proof names ("VCDM 1.1", "Ed25519Signature2020") are proper names and stay as
    they are; the few words in the line ("hosted", "signed", "presentation") are translated,
    so a Dutch page never shows an English fragment or a raw code.
    """
    if not label:
        return None
    parts = []
    for part in label.split(" · "):
        head, _, last = part.rpartition(" ")
        if t.has(f"format.{part}"):
            parts.append(t(f"format.{part}"))
        elif head and t.has(f"format.{last}"):
            parts.append(f"{head} {t(f'format.{last}')}")
        else:
            parts.append(part)
    return " · ".join(parts)
