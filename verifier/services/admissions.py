"""Admission and exemption decisions: the wallet's route rules, over verified credentials only.

An exam board asks "does this applicant have ≥ 15 ECTS at EQF 6 in data science from
institutions we trust, issued within five years?". The answer comes from the same rules
engine the learner's wallet uses for progress (``credentials.rules``), so the learner's
progress bar and the board's decision cannot disagree — with one difference that is the
verifier's job: only credentials that verified (proof, issuer, status, validity, and in a
presentation the holder's proof and subject binding) are handed to the engine, and
"trusted institutions" means this verifier's trust registry. Everything left out is listed
with the reason, so the board can see why a credential did not count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from credentials import MalformedInput, Route, RouteResult, evaluate, issuer_id, read_credential
from servicekit.errors import Invalid

from .clock import Clock
from .vcapi import VcApi
from .verification import VerificationResult

MAX_CREDENTIALS = 100


@dataclass(frozen=True)
class AdmissionOutcome:
    route: Route
    result: RouteResult
    rejected: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "satisfied": self.result.satisfied,
            "route": self.route.to_dict(),
            "explanations": [e.to_dict() for e in self.result.explanations],
            "missing": list(self.result.missing),
            "ects_total": self.result.ects_total,
            "hours_total": self.result.hours_total,
            "credentials": [v.to_dict() for v in self.result.credentials],
            "rejected": self.rejected,
        }


def parse_route(rule: Any) -> Route:
    """A route from a request body; a bad rule is the caller's mistake: 400 naming it."""
    if not isinstance(rule, Mapping):
        raise Invalid("invalid_route", "rule must be a route definition (an object)")
    try:
        return Route.from_dict(rule)
    except MalformedInput as exc:
        raise Invalid(exc.code, exc.message) from None


def evaluate_results(
    route: Route, results: Sequence[VerificationResult], *, now: datetime
) -> AdmissionOutcome:
    """Evaluate ``route`` over the credentials of ``results`` that may count."""
    views = []
    trusted: set[str] = set()
    rejected: list[dict[str, Any]] = []
    for result in results:
        counted = {index for index, _, _ in result.counted_credentials()}
        for index, credential in enumerate(result.credentials):
            report = (
                result.credential_reports[index] if index < len(result.credential_reports) else None
            )
            if index not in counted or report is None:
                rejected.append(_rejection(credential, report, result, index))
                continue
            view = read_credential(credential)
            views.append(view)
            trust = report.outcome_of("trust")
            if trust is not None and trust.outcome == "passed":
                trusted.add(issuer_id(credential) or view.issuer_id or "")
        if not result.credentials and not result.verified:
            rejected.append(
                {
                    "credential_id": None,
                    "issuer": None,
                    "title": None,
                    "reasons": [c.message for c in result.report.failed] or ["not verified"],
                    "codes": [c.code for c in result.report.failed],
                }
            )
    outcome = evaluate(route, views, trusted_issuers=trusted, now=now)
    return AdmissionOutcome(route, outcome, rejected)


def _rejection(
    credential: dict[str, Any], report: Any, result: VerificationResult, index: int
) -> dict[str, Any]:
    failed = list(report.failed) if report is not None else []
    if result.is_presentation and not failed:
        prefix = f"credential[{index}]."
        failed = [
            c
            for c in result.report.failed
            if not c.id.startswith("credential[") or c.id.startswith(prefix)
        ]
    reasons = [c.message for c in failed]
    try:
        view = read_credential(credential)
        title, issuer = view.title, issuer_id(credential) or view.issuer_id
    except MalformedInput:
        title, issuer = None, issuer_id(credential)
    return {
        "credential_id": credential.get("id") if isinstance(credential.get("id"), str) else None,
        "issuer": issuer,
        "title": title,
        "reasons": reasons or ["not verified"],
        "codes": [c.code for c in failed],  # stable, for pages to say it in their language
    }


class AdmissionService:
    def __init__(self, vcapi: VcApi, *, clock: Clock) -> None:
        self.vcapi = vcapi
        self.clock = clock

    def evaluate(self, body: Any) -> dict[str, Any]:
        """``{verifiablePresentation, options}`` or ``{credentials: [...]}`` plus ``rule``."""
        if not isinstance(body, dict):
            raise Invalid("invalid_request", "the request body must be a JSON object")
        route = parse_route(body.get("rule", body.get("route")))
        options = body.get("options")
        options = {} if options is None else options
        if not isinstance(options, dict):
            raise Invalid("invalid_request", "options must be a JSON object")
        results: list[VerificationResult]
        if "verifiablePresentation" in body:
            presentation = self.vcapi.verify_presentation(
                body["verifiablePresentation"], options, kind="admission"
            )
            results = [presentation]
            verification: dict[str, Any] = {"presentation": presentation.to_dict()}
            holder_proven = bool(presentation.counted_credentials()) or (
                presentation.binding_holds() and presentation.verified
            )
        else:
            credentials = body.get("credentials", body.get("verifiableCredential"))
            if isinstance(credentials, dict):
                credentials = [credentials]
            if not isinstance(credentials, list) or not credentials:
                raise Invalid(
                    "invalid_request",
                    "give a verifiablePresentation or a non-empty list of credentials",
                )
            if len(credentials) > MAX_CREDENTIALS:
                raise Invalid(
                    "too_many_credentials", f"at most {MAX_CREDENTIALS} credentials at once"
                )
            results = [
                self.vcapi.verification.verify_credential(c, kind="admission") for c in credentials
            ]
            verification = {"credentials": [r.to_dict() for r in results]}
            holder_proven = False  # loose credentials: nobody proved they are the subject
        outcome = evaluate_results(route, results, now=self.clock())
        return {**outcome.to_dict(), "holder_proven": holder_proven, "verification": verification}
