"""A module revoked after the award: the institution is told, the award stays (issue 17).

An award was decided on credentials that were valid when presented; revoking one later
(fraud found, an administrative error) does not by itself undo the exam board's decision,
which may rest on more than that one module. So the award credential is not revoked
automatically. Instead the institution re-checks the status of the evidence of its awards
(console view, ``microcred issuer recheck-awards``) and gets a notice naming the module, so
that the board decides — and a verifier that sees the stack warns on its own
(docs/recognition.md, "Revoked evidence").
"""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from credentials import Verifier, evidence_id

from ...models import Institution, RecognitionCase
from .. import audit
from ..clock import iso
from ..context import IssuerContext
from .assessment import evidence_status, fresh_verifier
from .sealing import unseal

RECHECKED = ("approved", "awarded")


def recheck(ctx: IssuerContext, institution: Institution | None = None) -> list[dict[str, Any]]:
    """Re-check every award's evidence; returns one entry per case with a problem."""
    with ctx.db.session() as session:
        query = select(RecognitionCase).where(col(RecognitionCase.state).in_(RECHECKED))
        if institution is not None:
            query = query.where(RecognitionCase.institution_id == institution.id)
        rows = session.exec(query).all()
    notices = []
    checker = fresh_verifier(ctx)
    for row in rows:
        notice = _recheck_case(ctx, row, checker)
        if notice["revoked"]:
            notices.append({"case": row.id, **notice})
    return notices


def _recheck_case(ctx: IssuerContext, row: RecognitionCase, checker: Verifier) -> dict[str, Any]:
    evaluation = dict(row.evaluation or {})
    counted = set(evaluation.get("counted_ids", []))
    secret = unseal(ctx, row.id, row.sealed)
    titles = {item.get("id"): item.get("title") for item in secret.get("items", [])}
    problems = []
    for presentation in secret.get("presentations", []):
        embedded = (
            presentation.get("verifiableCredential") if isinstance(presentation, dict) else None
        )
        for credential in embedded if isinstance(embedded, list) else [embedded]:
            if credential is None:
                continue
            ident = evidence_id(credential)
            if ident not in counted:
                continue
            found = evidence_status(ctx, credential, checker)
            if found:
                problems.append(
                    {"id": ident, "title": titles.get(ident), "codes": [f["code"] for f in found]}
                )
    before = {p["id"] for p in (evaluation.get("recheck") or {}).get("revoked", [])}
    notice = {"at": iso(ctx.now()), "revoked": problems}
    evaluation["recheck"] = notice
    with ctx.db.session() as session:
        stored = session.get(RecognitionCase, row.id)
        assert stored is not None
        stored.evaluation = evaluation
        fresh = [p for p in problems if p["id"] not in before]
        if fresh:
            audit.record(
                session,
                row.institution_id,
                "system:recheck",
                "recognition.evidence_revoked",
                ctx.now(),
                credential_id=row.award_credential_id,
                details={"case": row.id, "evidence": fresh},
            )
    return notice
