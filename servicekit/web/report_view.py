"""Verification reports as pages show them: one verdict, then every check."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from credentials import VerificationReport

from .formatting import format_text
from .i18n import Translator


@dataclass(frozen=True)
class CheckRow:
    id: str
    label: str
    outcome: str
    outcome_label: str
    code: str
    message: str
    """What the check found, in the page's language, chosen by ``code`` (``check_message``)."""
    detail: str = ""
    """The engine's own words (English, with URLs and DIDs): for logs and API clients,
    never shown on a Dutch page."""


@dataclass(frozen=True)
class ReportView:
    """A verification report as a page shows it: one verdict, then every check."""

    verified: bool
    state: str  # see report_state
    checks: tuple[CheckRow, ...]
    summary: dict[str, Any]
    profile: dict[str, Any] | None = None
    """The EU profile result (``credentials.profile``); shown next to the verdict."""
    format: str | None = None
    """The format the report met, as the core names it ("VCDM 1.1 · Ed25519Signature2020")."""
    format_label: str | None = None
    """The same in the page's language ("Open Badges 2.0 · gehost (niet ondertekend)")."""

    @property
    def failed(self) -> tuple[CheckRow, ...]:
        return tuple(c for c in self.checks if c.outcome == "failed")

    @property
    def warnings(self) -> tuple[CheckRow, ...]:
        return tuple(c for c in self.checks if c.outcome == "warning")


def _check_label(check_id: str, t: Translator, message: str = "") -> str:
    base = check_id
    if check_id.startswith("credential[") and "]." in check_id:
        index, _, rest = check_id[len("credential[") :].partition("].")
        inner = _check_label(rest, t, message)
        number: int | str
        try:
            number = int(index) + 1
        except ValueError:
            number = index
        return t("check.credential_n", n=number, label=inner)
    if base == "status":
        # a credential has a revocation and a suspension entry: say which one this is
        lowered = message.lower()
        if "revo" in lowered:
            base = "status_revocation"
        elif "suspen" in lowered:
            base = "status_suspension"
    key = f"check.{base}"
    return t(key) if t.has(key) else check_id


def check_message(check_id: str, code: str, outcome: str, message: str, t: Translator) -> str:
    """A check's finding in the reader's language, from its stable ``code``.

    Engines write English sentences with the facts in them ("the eddsa-rdfc-2022 signature
    does not verify"); pages translate by code instead (``checkmsg.<check>.<code>``, then
    ``checkmsg.<code>``), so no engine sentence reaches a Dutch page. A code without a
    message gets a general sentence per outcome that names the code (support can look it
    up); English pages show the engine's sentence there, which is English already.
    """
    inner = check_id.rpartition("].")[2] if check_id.startswith("credential[") else check_id
    for key in (f"checkmsg.{inner}.{code}", f"checkmsg.{code}"):
        if t.has(key):
            return t(key)
    if t.lang == "en" and message:
        return message
    return t(f"checkmsg.other.{outcome}" if outcome else "checkmsg.other.failed", code=code)


def report_view(report: VerificationReport | Mapping[str, Any], t: Translator) -> ReportView:
    """Turn a report (object or its dict form) into rows a template can show as-is.

    The state picks the badge: a revoked or suspended status wins over other failures,
    because "ingetrokken" is what an employer must read, not "signature check failed".
    """
    if isinstance(report, VerificationReport):
        raw_checks: Iterable[Mapping[str, Any]] = [c.to_dict() for c in report.checks]
        verified = report.verified
        summary = dict(report.summary or {})
        profile = report.profile
        fmt = report.format
    else:
        raw_checks = [c for c in report.get("checks", []) if isinstance(c, Mapping)]
        verified = bool(report.get("verified"))
        summary = dict(report.get("summary") or {})
        found = report.get("profile")
        profile = dict(found) if isinstance(found, Mapping) else None
        fmt = report.get("format") if isinstance(report.get("format"), str) else None
    rows = tuple(
        CheckRow(
            id=str(c.get("id", "")),
            label=_check_label(str(c.get("id", "")), t, str(c.get("message", ""))),
            outcome=str(c.get("outcome", "")),
            outcome_label=t(f"outcome.{c.get('outcome', '')}"),
            code=str(c.get("code", "")),
            message=check_message(
                str(c.get("id", "")),
                str(c.get("code", "")),
                str(c.get("outcome", "")),
                str(c.get("message", "")),
                t,
            ),
            detail=str(c.get("message", "")),
        )
        for c in raw_checks
    )
    return ReportView(verified=verified, state=report_state(verified, rows), checks=rows,
                      summary=summary, profile=profile, format=fmt,
                      format_label=format_text(fmt, t))  # fmt: skip


def report_state(verified: bool, checks: Sequence[CheckRow] | Sequence[Mapping[str, Any]]) -> str:
    """One word for the badge: verified, untrusted, unknown, revoked, suspended, expired or
    failed.

    A revoked, suspended or expired credential says so before anything else, because that
    is what an employer must read, not "a check failed". A credential that verified but
    whose status could not be fetched, or whose issuer is not in the trust registry, is
    not shown as plainly green: both are reasons to look closer.
    """
    rows: list[tuple[str, str, str]] = []
    for check in checks:
        if isinstance(check, CheckRow):
            rows.append((check.id, check.outcome, check.code))
        else:
            rows.append(
                (
                    str(check.get("id", "")),
                    str(check.get("outcome", "")),
                    str(check.get("code", "")),
                )
            )
    failed_codes = {code for _, outcome, code in rows if outcome == "failed"}
    for state in ("revoked", "suspended", "expired"):
        if state in failed_codes:
            return state
    if not verified:
        return "failed"
    if any(code == "status_unknown" for _, outcome, code in rows if outcome == "warning"):
        return "unknown"
    if any(
        (cid == "trust" or cid.endswith(".trust")) and outcome == "warning"
        for cid, outcome, _ in rows
    ):
        return "untrusted"
    return "verified"
