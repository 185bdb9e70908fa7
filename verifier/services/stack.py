"""Checking a stack (issue 17, Build 5): a route or exemption credential presented together
with the credentials it stands on.

An award references each underlying credential in ``evidence[]`` and, with a digest of the
exact credential presented to the institution, in ``relatedResource[]``
(``credentials.evidence``). Given one verification (a presentation, a share link, the
presentations answering one request), every credential in it that carries such references
is an award, and the others are its candidate parts:

* a part is **verified** when one presented credential has the referenced digest and it
  verifies itself; **digest_mismatch** when a presented credential has the referenced id
  but not its digest (changed after the award: a failure, named); **missing** when it was
  not presented; **failed** when the matching credential does not verify;
* **revoked** (or suspended) when the matching credential is intact and genuine but its
  issuer has since revoked it. That is a *warning naming the module*, not a failure of the
  award: the institution recognised the module when it was valid, and whether the award
  stands is its exam board's decision (the institution gets a notice in its console). The
  policy and its reasoning are in docs/recognition.md.

Presented alone, an award verifies on its own; its stack says the parts were not shown.
The answer is plain data (codes and numbers, no sentences) so the API returns it and the
pages translate it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from credentials import MicrocredError, VerificationReport, check_stack, evidence_refs

from .verification import VerificationResult

COMPLETE, PARTIAL, ALONE, BROKEN = "complete", "partial", "alone", "broken"
_WITHIN = re.compile(r"^credential\[(\d+)\]\.")
_WITHDRAWN = ("revoked", "suspended")


def _part_state(report: VerificationReport | None) -> str:
    """verified, revoked, suspended or failed: what the matching credential is worth."""
    if report is None:
        return "failed"
    failed = [c for c in report.checks if c.outcome == "failed"]
    codes = {c.code for c in failed}
    for state in _WITHDRAWN:
        # withdrawn, and nothing else wrong: genuine and unchanged, revoked since
        if state in codes and all(c.code in _WITHDRAWN or c.id == "policy" for c in failed):
            return state
    return "verified" if report.verified else "failed"


def _is_award(credential: Any) -> bool:
    try:
        return isinstance(credential, dict) and bool(evidence_refs(credential))
    except MicrocredError:
        return False


def stacks(
    credentials: Sequence[Any], reports: Sequence[VerificationReport | None]
) -> list[dict[str, Any]]:
    """One stack per award among ``credentials`` (``reports`` aligned with them)."""
    out: list[dict[str, Any]] = []
    for index, award in enumerate(credentials):
        if not _is_award(award):
            continue
        others = [(i, c) for i, c in enumerate(credentials) if i != index and c is not None]
        try:
            result = check_stack(award, [c for _, c in others])
        except MicrocredError:
            continue  # a part that cannot be digested is not one of its parts
        position = {id(c): i for i, c in others}
        parts = []
        for entry in result.entries:
            part_index = None if entry.credential is None else position.get(id(entry.credential))
            if entry.status == "found":
                report = reports[part_index] if part_index is not None else None
                status = _part_state(report)
            else:
                status = entry.status
            parts.append(
                {
                    "id": entry.ref.id,
                    "name": entry.ref.name,
                    "issuer": entry.ref.issuer_name or entry.ref.issuer_id,
                    "issuerId": entry.ref.issuer_id,
                    "ects": entry.ref.ects,
                    "status": status,
                    "index": part_index,
                }
            )
        award_report = reports[index] if index < len(reports) else None
        summary = dict(award_report.summary or {}) if award_report is not None else {}
        out.append(
            {
                "index": index,
                "title": summary.get("module"),
                "institution": summary.get("issuerName") or summary.get("issuer"),
                "awardVerified": bool(award_report is not None and award_report.verified),
                "modules": result.modules,
                "institutions": result.institutions,
                "verdict": _verdict(parts),
                "parts": parts,
                "warnings": [
                    {"code": f"module_{p['status']}", "name": p["name"] or p["id"]}
                    for p in parts
                    if p["status"] in _WITHDRAWN
                ],
            }
        )
    return out


def _verdict(parts: list[dict[str, Any]]) -> str:
    if any(p["status"] in ("digest_mismatch", "failed") for p in parts):
        return BROKEN
    presented = [p for p in parts if p["status"] != "missing"]
    if not presented:
        return ALONE
    return COMPLETE if len(presented) == len(parts) else PARTIAL


def stacks_of(result: VerificationResult) -> list[dict[str, Any]]:
    """The stacks in one verification (a credential alone, a presentation, a share)."""
    if not result.credentials:
        return []
    return stacks(result.credentials, result.credential_reports)


def withdrawn_parts(result: VerificationResult, stacks: Sequence[dict[str, Any]]) -> set[int]:
    """The credentials that are only parts revoked (or suspended) after the award of an
    award that verifies, when they are the *only* reason the verification failed; empty
    otherwise. A page leaves them out of its headline verdict: the award's verdict stands
    and the tree names them (the policy in the module docstring)."""
    parts = {
        p["index"]
        for stack in stacks
        if stack["awardVerified"] and stack["verdict"] != BROKEN
        for p in stack["parts"]
        if p["status"] in _WITHDRAWN and p["index"] is not None
    }
    if not parts:
        return set()
    for check in result.report.failed:
        match = _WITHIN.match(check.id)
        if match is None or int(match.group(1)) not in parts:
            return set()
    return parts


def stacks_of_results(results: Sequence[VerificationResult]) -> list[dict[str, Any]]:
    """The stacks across several presentations answering one request (the award and its
    parts may come in separate presentations, one per DCQL query). ``index`` counts the
    credentials in order over all the presentations."""
    credentials: list[Any] = []
    reports: list[VerificationReport | None] = []
    for result in results:
        credentials.extend(result.credentials)
        reports.extend(result.credential_reports[: len(result.credentials)])
    return stacks(credentials, reports)


__all__ = [
    "ALONE",
    "BROKEN",
    "COMPLETE",
    "PARTIAL",
    "stacks",
    "stacks_of",
    "stacks_of_results",
    "withdrawn_parts",
]
