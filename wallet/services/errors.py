"""The wallet's refusals, as RFC 9457 problems with stable codes.

Services raise these (``servicekit.problems.ProblemError``) so that the API and the pages
show the same reason; the helpers keep the codes in one place. A resource that does not
exist and one that belongs to another learner are the same 404: ids leak nothing.
"""

from __future__ import annotations

from typing import Any

from servicekit.problems import ProblemError


def not_found(what: str) -> ProblemError:
    return ProblemError(404, f"{what}_not_found", f"no such {what.replace('_', ' ')}")


def bad_request(code: str, detail: str, **extra: Any) -> ProblemError:
    return ProblemError(400, code, detail, **extra)


def conflict(code: str, detail: str, **extra: Any) -> ProblemError:
    return ProblemError(409, code, detail, **extra)
