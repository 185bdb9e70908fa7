"""Verifying a learner's presentation for recognition and weighing it against the rule.

The core verifies (proof, contexts, validity, status, holder proof and binding, any format
``read_credential`` reads: OB 3.0, VCDM 1.1, OB 2.0); the institution adds its own trust:
its registry of accepted issuers (``catalogue.trusted_dids``). Only credentials that
verified and are bound to the presenting holder go to the rules engine; the others are
listed with the reason, so the exam board sees why something did not count.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from credentials import (
    MalformedInput,
    MicrocredentialView,
    Route,
    StatusListCache,
    VerificationReport,
    Verifier,
    binding_holds,
    counted_indexes,
    default_verifier,
    evaluate,
    evidence_entry,
    evidence_id,
    holder_id,
    issuer_id,
    read_credential,
)

from ..context import IssuerContext

_VERIFIERS: weakref.WeakKeyDictionary[IssuerContext, Verifier] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def verifier(ctx: IssuerContext) -> Verifier:
    """One core verifier per issuer context (its status-list cache is worth keeping)."""
    with _LOCK:
        found = _VERIFIERS.get(ctx)
        if found is None:
            found = default_verifier(
                allow_insecure=ctx.settings.dev, status_cache=StatusListCache()
            )
            _VERIFIERS[ctx] = found
        return found


@dataclass
class Presented:
    """One verified presentation of the answer."""

    query: str
    presentation: Any
    report: VerificationReport
    credential_reports: list[VerificationReport]

    @property
    def binds(self) -> bool:
        return binding_holds(self.report)

    @property
    def holder(self) -> str | None:
        if isinstance(self.presentation, dict):
            return holder_id(self.presentation)
        return None

    def credentials(self) -> list[Any]:
        if not isinstance(self.presentation, dict):
            return []
        value = self.presentation.get("verifiableCredential")
        return value if isinstance(value, list) else [value] if value is not None else []


def verify_presentation(
    ctx: IssuerContext, query: str, vp: Any, *, nonce: str, domain: str
) -> Presented:
    report, credential_reports = verifier(ctx).verify_presentation(
        vp, challenge=nonce, domain=domain, now=ctx.now()
    )
    return Presented(query, vp, report, list(credential_reports))


@dataclass
class Assessment:
    """What the exam board sees of one answer, and what an award would reference."""

    holder: str | None
    satisfied: bool
    trusted_only: bool
    evaluation: dict[str, Any]
    items: list[dict[str, Any]] = field(default_factory=list)
    """Per submitted credential: title, issuer, trust, counted, report (sealed with the case)."""
    evidence: list[dict[str, Any]] = field(default_factory=list)
    related: list[dict[str, Any]] = field(default_factory=list)


def _trust_name(issuer: str | None, names: dict[str, str]) -> str | None:
    return names.get(issuer) if issuer else None


def assess(
    route: Route,
    presented: Sequence[Presented],
    *,
    trusted: set[str],
    names: dict[str, str],
    now: Any,
) -> Assessment:
    """Evaluate ``route`` over what may count, and prepare the evidence of an award."""
    views: list[MicrocredentialView] = []
    keyed: dict[str, tuple[Any, Any]] = {}
    items: list[dict[str, Any]] = []
    for answer in presented:
        counted = set(counted_indexes(answer.report, answer.credential_reports))
        for index, (credential, report) in enumerate(
            zip(answer.credentials(), answer.credential_reports, strict=False)
        ):
            try:
                view = read_credential(credential)
            except (MalformedInput, ValueError, TypeError):
                view = None
            issuer = (issuer_id(credential) if isinstance(credential, dict) else None) or (
                view.issuer_id if view else None
            )
            summary = report.summary or {}
            issuer = issuer or (summary.get("issuer") if isinstance(summary, dict) else None)
            item = {
                "id": evidence_id(credential),
                "title": view.title if view else None,
                "issuer": issuer,
                "issuer_name": _trust_name(issuer, names) or (view.issuer_name if view else None),
                "issuer_name_source": "registry" if _trust_name(issuer, names) else "credential",
                "trusted": issuer in trusted,
                "ects": view.ects if view else None,
                "verified": report.verified,
                "bound": index in counted,
                "format": report.format,
                "report": report.to_dict(),
                "learner": list(view.holder_identities) if view else [],
            }
            items.append(item)
            if index in counted and view is not None:
                key = view.credential_id or f"credential[{len(views)}]"
                views.append(view)
                keyed[key] = (credential, view)
    result = evaluate(route, views, trusted_issuers=trusted, now=now)
    counted_keys = [v.credential_id for v in result.credentials if v.counts]
    evidence, related = [], []
    for key in counted_keys:
        credential, view = keyed[key]
        entry, resource = evidence_entry(
            credential,
            name=view.title or key,
            issuer_id=view.issuer_id,
            issuer_name=_trust_name(view.issuer_id, names) or view.issuer_name,
            ects=view.ects,
        )
        evidence.append(entry)
        related.append(resource)
    counted_items = [i for i in items if i["bound"] and i["id"] in {e["id"] for e in evidence}]
    trusted_only = bool(counted_items) and all(i["trusted"] for i in counted_items)
    holders = {p.holder for p in presented}
    evaluation = result.to_dict()
    evaluation["counted_ids"] = [e["id"] for e in evidence]
    return Assessment(
        holder=next(iter(holders)) if len(holders) == 1 else None,
        satisfied=result.satisfied,
        trusted_only=trusted_only,
        evaluation=evaluation,
        items=items,
        evidence=evidence,
        related=related,
    )


def fresh_verifier(ctx: IssuerContext) -> Verifier:
    """A verifier with an empty status-list cache: a re-check must see today's lists."""
    return default_verifier(allow_insecure=ctx.settings.dev, status_cache=StatusListCache())


def evidence_status(ctx: IssuerContext, credential: Any, checker: Verifier) -> list[dict[str, Any]]:
    """The failed or warning ``status`` checks of an evidence credential, as of now."""
    report = checker.verify_credential(credential, now=ctx.now())
    return [
        {"code": c.code, "outcome": c.outcome}
        for c in report.checks
        if c.id.startswith("status") and c.outcome in ("failed", "warning")
    ]


__all__ = [
    "Assessment",
    "Presented",
    "assess",
    "evidence_status",
    "fresh_verifier",
    "verifier",
    "verify_presentation",
]
