"""The verification report: one shape for the CLI, the HTTP APIs and the pages.

Verification outcomes are data, never exceptions: every check is its own entry with a stable
``code`` so that a page can explain it and a machine can act on it. ``warnings`` and
``errors`` are derived views of the checks, kept for VC-API clients that only read those.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Outcome = Literal["passed", "failed", "warning", "skipped"]


@dataclass(frozen=True)
class Check:
    id: str
    outcome: Outcome
    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"id": self.id, "outcome": self.outcome, "code": self.code, "message": self.message}

    def within(self, index: int) -> Check:
        """This check of the presentation's ``index``-th credential, as the presentation's
        report lists it (``credential[i].<id>``)."""
        return Check(f"credential[{index}].{self.id}", self.outcome, self.code, self.message)

    @classmethod
    def passed(cls, id: str, message: str, code: str = "ok") -> Check:
        return cls(id, "passed", code, message)

    @classmethod
    def failed(cls, id: str, code: str, message: str) -> Check:
        return cls(id, "failed", code, message)

    @classmethod
    def warning(cls, id: str, code: str, message: str) -> Check:
        return cls(id, "warning", code, message)

    @classmethod
    def skipped(cls, id: str, message: str, code: str = "skipped") -> Check:
        return cls(id, "skipped", code, message)


@dataclass
class VerificationReport:
    """Ordered checks; verified when none failed and at least one proof check passed."""

    checks: list[Check] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    format: str | None = None
    """The format met, e.g. "VCDM 1.1 · Ed25519Signature2020" (``credentials.formats``)."""
    profile: dict[str, Any] | None = None
    """Completeness against the EU micro-credential profile (``credentials.profile``):
    ``{"name", "complete", "missing", ...}``; None when the profile was not applied."""

    def add(self, check: Check) -> Check:
        self.checks.append(check)
        return check

    def extend(self, checks: list[Check]) -> None:
        self.checks.extend(checks)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.outcome == "failed"]

    @property
    def warnings(self) -> list[Check]:
        return [c for c in self.checks if c.outcome == "warning"]

    @property
    def verified(self) -> bool:
        return not self.failed and any(
            c.id == "proof" and c.outcome == "passed" for c in self.checks
        )

    def outcome_of(self, check_id: str) -> Check | None:
        for check in self.checks:
            if check.id == check_id:
                return check
        return None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "verified": self.verified,
            "checks": [c.to_dict() for c in self.checks],
            "warnings": [c.to_dict() for c in self.warnings],
            "errors": [c.to_dict() for c in self.failed],
        }
        if self.format:
            out["format"] = self.format
        if self.summary:
            out["summary"] = self.summary
        if self.profile is not None:
            out["profile"] = self.profile
        return out
