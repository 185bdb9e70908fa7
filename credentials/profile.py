"""Completeness against the EU micro-credential profile: a reported result, not a verdict.

Whether a credential is genuine (structure, proof, issuer, status, validity) and whether it
states all eleven mandatory elements of the EU Council Recommendation are different
questions. A genuine Open Badges credential from an institution that never heard of the
profile is still genuine, so by default an incomplete one gives a ``warning`` check
(``schema``/``profile_incomplete``) and ``report.profile`` lists what is missing, and
``verified`` is untouched. A deployment that only accepts complete microcredentials names
that as a policy ("profile required"): then the same finding is a failed ``policy`` check
(``policy_profile_required``), which says which policy refused the credential.

The profile applies only to Open Badges credentials: a plain VC is not a microcredential and
is reported as "skipped", with no profile result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .microcredential import MicrocredentialView, read_microcredential
from .report import Check
from .schema import EU_ELEMENTS, microcredential_problems

OB_TYPES = {"OpenBadgeCredential", "AchievementCredential"}
PROFILE_NAME = "eu-microcredential"
POLICY_CODE = "policy_profile_required"

#: The element names as a page shows them, in element order (EU_ELEMENTS' wording).
ELEMENT_KEYS: dict[int, str] = {
    1: "learner",
    2: "title",
    3: "country",
    4: "awarding_body",
    5: "date",
    6: "learning_outcomes",
    7: "workload",
    8: "level",
    9: "assessment",
    10: "participation",
    11: "quality_assurance",
}


class ProfileChecks(list[Check]):
    """The profile's checks, carrying the profile result for ``report.profile``.

    A list, so a ``profile_checker`` that returns plain checks keeps working; the verifier
    reads ``.profile`` when it is there.
    """

    profile: dict[str, Any] | None = None


@dataclass(frozen=True)
class ProfileResult:
    """``missing`` holds the element keys (``"level"``), ``problems`` every finding."""

    complete: bool
    missing: tuple[int, ...]
    problems: tuple[tuple[str, str], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": PROFILE_NAME,
            "complete": self.complete,
            "missing": [ELEMENT_KEYS[n] for n in self.missing],
            "missingElements": [
                {"number": n, "key": ELEMENT_KEYS[n], "name": EU_ELEMENTS[n]} for n in self.missing
            ],
            "elements": len(EU_ELEMENTS),
            "problems": [{"field": f, "message": m} for f, m in self.problems],
        }


def _types(credential: dict[str, Any]) -> set[str]:
    value = credential.get("type") or []
    # only strings: this also runs on input no structure check has seen ("type": [[]])
    return {t for t in (value if isinstance(value, list) else [value]) if isinstance(t, str)}


def evaluate(credential: dict[str, Any]) -> ProfileResult:
    """Which of the eleven EU elements the credential lacks (or states wrongly)."""
    problems = microcredential_problems(credential)
    missing: set[int] = set()
    for _, message in problems:
        for number, name in EU_ELEMENTS.items():
            if message.endswith(f"(EU element {number}: {name})"):
                missing.add(number)
    return ProfileResult(not problems, tuple(sorted(missing)), tuple(problems))


def profile_checks(credential: dict[str, Any], *, require: bool = False) -> ProfileChecks:
    """The profile as checks: ``warning`` when incomplete, a failed ``policy`` check when
    the deployment requires the profile (``require=True``)."""
    checks = ProfileChecks()
    if not _types(credential) & OB_TYPES:
        checks.append(Check.skipped("schema", "not an Open Badges credential: profile not applied"))
        return checks
    result = evaluate(credential)
    checks.profile = result.to_dict()
    if result.complete:
        checks.append(Check.passed("schema", "has every EU micro-credential element"))
        return checks
    message = _message(result)
    if require:
        checks.append(Check.failed("policy", POLICY_CODE, f"policy 'profile required': {message}"))
    else:
        checks.append(Check.warning("schema", "profile_incomplete", message))
    return checks


def _message(result: ProfileResult) -> str:
    field, first = result.problems[0]
    label = f"{field}: {first}" if field else first
    more = f" (and {len(result.problems) - 1} more)" if len(result.problems) > 1 else ""
    count = len(result.missing)
    if count:
        return (
            f"{count} of the {len(EU_ELEMENTS)} EU micro-credential elements missing or "
            f"invalid; {label}{more}"
        )
    return f"not in the EU micro-credential profile's shape; {label}{more}"


def summarize(credential: dict[str, Any]) -> dict[str, Any]:
    """What an employer reads first: who issued what, how much, at which level, when."""
    return summary_of(read_microcredential(credential))


def summary_of(view: MicrocredentialView) -> dict[str, Any]:
    """The report summary of a read credential, whatever format it was read from (OB 3.0
    here, Open Badges 2.0 in ``credentials.ob2``), so every report names the same fields."""
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
