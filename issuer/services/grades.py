"""A grade against its module's scale: the one check the API, the console's single
issuance page and both cohort paths share, as a code with its numbers (pages say them in
the registrar's language; the API keeps its English words in ``GRADE_TEXT``)."""

from __future__ import annotations

from typing import Any

from ..schemas import number

GRADE_TEXT = {
    "grade_outside_scale": "the grade is outside the module's scale",
    "grade_below_pass": "the grade is below the module's pass mark: no credential is issued",
}
"""The API's words for the two grade problems (unchanged); pages translate ``reason``."""


def grade_problem(grading: dict[str, Any] | None, grade: str | None) -> dict[str, Any] | None:
    """Why ``grade`` cannot be awarded on this module's scale (a code and its numbers)."""
    if not grading or not grade:
        return None
    value = number(grade)
    if value is None:
        return None
    low, high = number(grading.get("value_min")), number(grading.get("value_max"))
    if (low is not None and value < low) or (high is not None and value > high):
        return {"code": "grade_outside_scale", "grade": grade, "min": low, "max": high}
    need = number(grading.get("required_value"))
    if need is not None and value < need:
        return {"code": "grade_below_pass", "grade": grade, "pass": need}
    return None
