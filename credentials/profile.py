"""The microcredential profile as verification checks and a human summary.

A verifier applies the profile only to Open Badges credentials: a plain VC 2.0 credential
is not a microcredential and is reported as "skipped", not as a failure. A credential that
claims to be an OpenBadgeCredential but lacks an EU element fails the ``schema`` check with
the field named, because an employer would otherwise read a module without, say, a level.
"""

from __future__ import annotations

from typing import Any

from .microcredential import read_microcredential
from .report import Check
from .schema import microcredential_problems

OB_TYPES = {"OpenBadgeCredential", "AchievementCredential"}


def _types(credential: dict[str, Any]) -> set[str]:
    value = credential.get("type") or []
    # only strings: this also runs on input no structure check has seen ("type": [[]])
    return {t for t in (value if isinstance(value, list) else [value]) if isinstance(t, str)}


def profile_checks(credential: dict[str, Any]) -> list[Check]:
    if not _types(credential) & OB_TYPES:
        return [Check.skipped("schema", "not an Open Badges credential: profile not applied")]
    problems = microcredential_problems(credential)
    if not problems:
        return [Check.passed("schema", "has every EU micro-credential element")]
    field, message = problems[0]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    label = f"{field}: {message}" if field else message
    return [Check.failed("schema", "profile_invalid", label + more)]


def summarize(credential: dict[str, Any]) -> dict[str, Any]:
    """What an employer reads first: who issued what, how much, at which level, when."""
    view = read_microcredential(credential)
    return {
        "issuer": view.issuer_id,
        "issuerName": view.issuer_name,
        "module": view.title,
        "ects": view.ects,
        "hours": view.hours,
        "eqfLevel": view.eqf_level,
        "nlqfLevel": view.nlqf_level,
        "awarded": (view.issued.isoformat().replace("+00:00", "Z") if view.issued else None),
        "holder": view.holder,
        "grade": view.grade,
    }
