"""The exam board's case: what it shows, the decision, and the award offer it leads to.

A decision is a conditional UPDATE on the case's state (``open`` or ``more_requested``), so
two board members (or a person and the auto-award) cannot both decide. Approval makes an
OpenID4VCI pre-authorised offer of the route's award module for the holder DID that
presented: the offer's learner DID is that DID, and the credential endpoint refuses a key
proof by any other (``invalid_proof``). The award carries the evidence prepared when the
presentation was assessed (``evidence`` + ``relatedResource``, ``credentials.evidence``).

Reasons typed by a board member are shown to the learner as typed; the automatic path
records the code ``auto_award`` and its grounds (the rule's explanations) in the audit log.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlmodel import col, select

from servicekit.db import rowcount
from servicekit.errors import Conflict, Invalid, NotFound
from servicekit.tokens import token_hash

from ...models import Institution, Offer, RecognitionCase, RecognitionRoute
from ...models import Module as ModuleRow
from ...schemas import OfferIn, validate
from .. import audit, offers, oid4vci_flow
from ..clock import iso
from ..context import IssuerContext
from .sealing import seal, unseal

DECIDABLE = ("open", "more_requested")
AUTO = "auto_award"
MAX_REASON = 2000
AWARD_TTL = 30 * 24 * 3600
"""Seconds the learner's wallet has to collect an approved award."""


def case_row(
    ctx: IssuerContext,
    institution: Institution,
    case_id: str,
    detail: str = "no such recognition case",
) -> RecognitionCase:
    """The institution's case by its id; another institution's case is as unknown as none
    (shared with ``requests``, which names it a request in ``detail``)."""
    with ctx.db.session() as session:
        row = session.get(RecognitionCase, case_id) if len(case_id) <= 32 else None
    if row is None or row.institution_id != institution.id:
        raise NotFound("case_not_found", detail)
    return row


def case_route(ctx: IssuerContext, row: RecognitionCase) -> RecognitionRoute:
    with ctx.db.session() as session:
        route = session.get(RecognitionRoute, row.route_id)
    assert route is not None
    return route


def _reason(reason: Any) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise Invalid("reason_required", "give the learner a reason", field="reason")
    if len(reason) > MAX_REASON:
        raise Invalid("reason_too_long", f"at most {MAX_REASON} characters", field="reason")
    return reason.strip()


def _decide(
    ctx: IssuerContext,
    institution: Institution,
    row: RecognitionCase,
    state: str,
    *,
    actor: str,
    reason: str | None,
    action: str,
    details: dict[str, Any] | None = None,
) -> None:
    now = ctx.now()
    with ctx.db.session() as session:
        won = rowcount(
            session.execute(
                update(RecognitionCase)
                .where(col(RecognitionCase.id) == row.id, col(RecognitionCase.state).in_(DECIDABLE))
                .values(
                    state=state, reason=reason, decided_by=actor, decided_at=now, updated_at=now
                )
            )
        )
        if won != 1:
            raise Conflict("case_decided", "this case is not open for a decision")
        audit.record(
            session,
            institution.id,
            actor,
            action,
            now,
            reason=reason,
            details={"case": row.id, **(details or {})},
        )


def approve(
    ctx: IssuerContext, institution: Institution, case_id: str, *, actor: str, reason: Any = None
) -> dict[str, Any]:
    """Approve and make the award offer for the presenting holder."""
    row = case_row(ctx, institution, case_id)
    text = _reason(reason) if reason not in (None, "") else None
    _decide(
        ctx, institution, row, "approved", actor=actor, reason=text, action="recognition.approve"
    )
    return _offer_or_reopen(ctx, institution, row, actor=actor)


def auto_award(
    ctx: IssuerContext, institution: Institution, case_id: str, evaluation: dict[str, Any]
) -> None:
    """The route awards without a person: the rule passed with trusted issuers only."""
    row = case_row(ctx, institution, case_id)
    grounds = [e.get("message") for e in evaluation.get("explanations", [])]
    _decide(
        ctx,
        institution,
        row,
        "approved",
        actor="system:auto-award",
        reason=AUTO,
        action="recognition.auto_award",
        details={"grounds": grounds, "trusted_only": True, "satisfied": True},
    )
    _offer_or_reopen(ctx, institution, row, actor="system:auto-award")


def decline(
    ctx: IssuerContext, institution: Institution, case_id: str, *, actor: str, reason: Any
) -> None:
    row = case_row(ctx, institution, case_id)
    _decide(
        ctx, institution, row, "declined", actor=actor, reason=_reason(reason),
        action="recognition.decline",
    )  # fmt: skip


def ask_more(
    ctx: IssuerContext, institution: Institution, case_id: str, *, actor: str, reason: Any
) -> None:
    """Ask the learner for more; they answer with a new request (a new case)."""
    row = case_row(ctx, institution, case_id)
    _decide(
        ctx, institution, row, "more_requested", actor=actor, reason=_reason(reason),
        action="recognition.more",
    )  # fmt: skip


def _offer_or_reopen(
    ctx: IssuerContext, institution: Institution, row: RecognitionCase, *, actor: str
) -> dict[str, Any]:
    """The award offer; if it cannot be made (the award module was archived meanwhile),
    the case goes back to the state it was decided from, so nothing is left half-done
    (the audit log keeps the attempt)."""
    try:
        return _offer_award(ctx, institution, row.id, actor=actor)
    except Exception:
        with ctx.db.session() as session:
            session.execute(
                update(RecognitionCase)
                .where(col(RecognitionCase.id) == row.id, col(RecognitionCase.state) == "approved")
                .values(state=row.state, reason=row.reason, decided_by=None, decided_at=None)
            )
        raise


def _offer_award(
    ctx: IssuerContext, institution: Institution, case_id: str, *, actor: str
) -> dict[str, Any]:
    row = case_row(ctx, institution, case_id)
    route = case_route(ctx, row)
    secret = unseal(ctx, row.id, row.sealed)
    with ctx.db.session() as session:
        module = session.get(ModuleRow, route.award_module_id)
    assert module is not None and row.holder_did
    request = validate(
        OfferIn,
        {
            "module_id": module.slug,
            "learner": {"did": row.holder_did},
            "expires_in": min(AWARD_TTL, ctx.settings.max_offer_ttl),
        },
    )
    made = offers.create(
        ctx,
        institution,
        request,
        actor=actor,
        extra={
            "evidence": secret.get("evidence", []),
            "relatedResource": secret.get("related", []),
        },
    )
    secret["offer"] = {
        "credential_offer_uri": made["credential_offer_uri"],
        "offer_uri": made["offer_uri"],
    }
    with ctx.db.session() as session:
        stored = session.get(RecognitionCase, row.id)
        assert stored is not None
        stored.offer_id = made["id"]
        stored.sealed = seal(ctx, row.id, secret)
        stored.updated_at = ctx.now()
    return made


def _refresh(ctx: IssuerContext, row: RecognitionCase) -> RecognitionCase:
    """An approved case whose award the wallet collected is ``awarded``."""
    if row.state != "approved" or row.offer_id is None:
        return row
    with ctx.db.session() as session:
        offer = session.get(Offer, row.offer_id)
        if offer is None or offer.state not in oid4vci_flow.DELIVERED_STATES:
            return row
        session.execute(
            update(RecognitionCase)
            .where(col(RecognitionCase.id) == row.id, col(RecognitionCase.state) == "approved")
            .values(state="awarded", award_credential_id=offer.credential_id, updated_at=ctx.now())
        )
        fresh = session.get(RecognitionCase, row.id)
    assert fresh is not None
    return fresh


def for_learner(ctx: IssuerContext, institution: Institution, token: str) -> dict[str, Any]:
    """``GET case_uri``: the state and reason the wallet shows (the token is the key)."""
    with ctx.db.session() as session:
        row = session.exec(
            select(RecognitionCase).where(
                RecognitionCase.case_token_hash == token_hash(token),
                RecognitionCase.institution_id == institution.id,
            )
        ).first()
    if row is None:
        raise NotFound("case_not_found", "no such recognition case")
    row = _refresh(ctx, row)
    route = case_route(ctx, row)
    offer = unseal(ctx, row.id, row.sealed).get("offer") or {}
    state = row.state
    return {
        "state": state,
        "reason": row.reason if row.reason != AUTO else None,
        "reason_code": AUTO if row.reason == AUTO else None,
        "route": {
            "name": route.rule.get("name"),
            "kind": route.kind,
            "institution": institution.name,
        },
        "credential_offer_uri": offer.get("credential_offer_uri")
        if state in ("approved", "awarded")
        else None,
        "offer_uri": offer.get("offer_uri") if state in ("approved", "awarded") else None,
        "updated": iso(row.updated_at),
    }


def summary(ctx: IssuerContext, row: RecognitionCase, route: RecognitionRoute) -> dict[str, Any]:
    evaluation = row.evaluation or {}
    return {
        "id": row.id,
        "state": row.state,
        "route": {"slug": route.slug, "name": route.rule.get("name"), "kind": route.kind},
        "holder": row.holder_did,
        "satisfied": evaluation.get("satisfied"),
        "trusted_only": row.trusted_only,
        "reason": row.reason,
        "decided_by": row.decided_by,
        "created": iso(row.created_at),
        "updated": iso(row.updated_at),
        "rejected_attempts": row.rejected_attempts,
        "notice": evaluation.get("recheck"),
    }


def listing(
    ctx: IssuerContext, institution: Institution, *, states: tuple[str, ...] | None = None
) -> list[dict[str, Any]]:
    """The board's list: cases with a presentation (not the unanswered requests)."""
    with ctx.db.session() as session:
        query = select(RecognitionCase, RecognitionRoute).where(
            RecognitionCase.institution_id == institution.id,
            col(RecognitionCase.route_id) == col(RecognitionRoute.id),
            col(RecognitionCase.state).not_in(("requested", "withdrawn")),
        )
        if states:
            query = query.where(col(RecognitionCase.state).in_(states))
        rows = session.exec(query.order_by(col(RecognitionCase.updated_at).desc())).all()
    return [summary(ctx, _refresh(ctx, case), route) for case, route in rows]


def detail(ctx: IssuerContext, institution: Institution, case_id: str) -> dict[str, Any]:
    """Everything the case page shows: the learner as disclosed, each credential with its
    report, the rule line by line, the evidence an award carries."""
    row = _refresh(ctx, case_row(ctx, institution, case_id))
    if row.state in ("requested", "withdrawn"):
        raise NotFound("case_not_found", "this request has no presentation")
    route = case_route(ctx, row)
    secret = unseal(ctx, row.id, row.sealed)
    items = secret.get("items", [])
    learner = [identity for item in items for identity in item.get("learner", [])]
    return {
        **summary(ctx, row, route),
        "learner": {"did": row.holder_did, "identities": _unique(learner)},
        "credentials": items,
        "evaluation": row.evaluation or {},
        "rule": route.rule,
        "evidence": secret.get("evidence", []),
        "award_credential_id": row.award_credential_id,
        "decided_at": iso(row.decided_at),
    }


def _unique(values: list[Any]) -> list[Any]:
    seen: list[Any] = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return seen
