"""Cohort delivery: every row of a CSV upload becomes an OpenID4VCI offer that reaches the
learner by e-mail, and the registrar follows each one.

A cohort used to produce signed files that nobody was told about and that were bound to
no holder. Here each row gets an offer (``offers.create``, the same as issuing to one
learner), so the credential is composed only when the learner's wallet collects it and is
bound to that wallet's DID. The offer link goes out by mail (``delivery_mail``) and is kept,
sealed under the KEK, for re-sending and for the delivery list an institution may send
through its own channel.

The whole upload is checked before anything is created: a bad row (an unreadable e-mail
address, a grade off the module's scale) refuses the upload with every bad row named by
line and code, so nothing is half-written. Codes, never sentences: the pages translate.

The state a registrar sees per row is derived, not stored twice: ``cancelled`` (asked
for), ``collected`` (the offer was issued to a wallet), ``expired`` (past its time, or
blocked after wrong PINs), ``opened`` (a wallet fetched the offer), ``sent`` (mailed),
``not_sent`` (no mail server, no address, or the server refused).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from sqlalchemy import update
from sqlmodel import col, select

from servicekit.errors import Conflict, NotFound, Unprocessable

from ..models import Delivery, Institution, Offer
from ..models import Module as ModuleRow
from ..schemas import OfferIn
from . import audit, batch, delivery_mail, issuance, offers, personal
from .clock import aware, iso
from .context import IssuerContext
from .grades import grade_problem

Translate = Callable[..., str]
COLLECTED = ("issued", "accepted")
WALLET_STATES = ("failed", "deleted")
ENDED = ("burnt", "cancelled")


def _module_name(session: Any, module_id: int) -> str:
    module = session.get(ModuleRow, module_id)
    return str(module.definition.get("name", module.slug)) if module is not None else ""


def _module_slug(session: Any, module_id: int) -> str:
    module = session.get(ModuleRow, module_id)
    if module is None:
        raise NotFound("unknown_module", "the delivery's module is gone")
    return str(module.slug)


def _seal(ctx: IssuerContext, delivery_id: str, data: dict[str, Any]) -> str:
    return json.dumps(personal.seal(ctx.keystore, delivery_id, data))


def _unseal(ctx: IssuerContext, row: Delivery) -> dict[str, Any]:
    return personal.unseal(ctx.keystore, row.id, json.loads(row.sealed))


def check(
    ctx: IssuerContext, institution: Institution, module_id: str, data: bytes
) -> tuple[Any, list[batch.Row]]:
    """The module and the rows, or ``Unprocessable`` naming every bad row."""
    with ctx.db.session() as session:
        module = issuance.module_row(session, institution, module_id)
    parsed = batch.parse_csv(data, max_rows=ctx.settings.max_delivery_rows)
    problems: list[dict[str, Any]] = [
        {"row": r.row, "code": (r.error or {}).get("code", "invalid_row"),
         "field": (r.error or {}).get("field")}
        for r in parsed.failed
    ]  # fmt: skip
    grading = module.definition.get("grading")
    for row in parsed.rows:
        problem = grade_problem(grading, row.result.grade if row.result else None)
        if problem:
            problems.append({"row": row.line, "field": "grade", **problem})
    if problems:
        problems.sort(key=lambda p: p["row"])
        raise Unprocessable(
            "cohort_rows_invalid", f"{len(problems)} row(s) cannot be issued", rows=problems
        )
    return module, parsed.rows


def start(
    ctx: IssuerContext,
    institution: Institution,
    module_id: str,
    data: bytes,
    *,
    pin: bool,
    actor: str,
    t: Translate,
    wallet_url: str = "",
) -> str:
    """Offers for every row of the upload, mailed where possible; the cohort's id."""
    module, rows = check(ctx, institution, module_id, data)
    cohort_id = "coh_" + secrets.token_hex(8)
    created: list[str] = []
    for row in rows:
        body: dict[str, Any] = {
            "module_id": module_id,
            "learner": row.learner.model_dump(exclude_none=True),
            "pin": pin,
        }
        if row.result:
            body["result"] = row.result.model_dump(mode="json", exclude_none=True)
        offer = offers.create(ctx, institution, OfferIn.model_validate(body), actor=actor)
        delivery_id = "dlv_" + secrets.token_hex(8)
        secret = {
            "email": row.learner.email,
            "student_number": row.learner.student_number,
            "uri": offer["offer_uri"],
            "pin": offer.get("pin"),
        }
        with ctx.db.session() as session:
            session.add(
                Delivery(
                    id=delivery_id,
                    institution_id=institution.id,
                    cohort_id=cohort_id,
                    row=row.line,
                    module_id=module.id,
                    offer_id=offer["id"],
                    sealed=_seal(ctx, delivery_id, secret),
                    created_at=ctx.now(),
                    created_by=actor,
                )
            )
        created.append(delivery_id)
    with ctx.db.session() as session:
        audit.record(
            session,
            institution.id,
            actor,
            "cohort.deliver",
            ctx.now(),
            details={"cohort": cohort_id, "module": module.slug, "rows": len(created)},
        )
    mail(ctx, institution, created, t=t, wallet_url=wallet_url)
    return cohort_id


def _rows(ctx: IssuerContext, institution: Institution, ids: list[str]) -> list[Delivery]:
    with ctx.db.session() as session:
        return list(
            session.exec(
                select(Delivery).where(
                    col(Delivery.id).in_(ids), Delivery.institution_id == institution.id
                )
            ).all()
        )


def wallet_link(wallet_url: str, uri: str) -> str | None:
    return f"{wallet_url.rstrip('/')}/receive?offer={quote(uri, safe='')}" if wallet_url else None


def mail(
    ctx: IssuerContext,
    institution: Institution,
    delivery_ids: list[str],
    *,
    t: Translate,
    wallet_url: str = "",
) -> dict[str, int]:
    """Mail the offers of these deliveries; counts of sent and not sent."""
    rows = _rows(ctx, institution, delivery_ids)
    outgoing = []
    counts = {"sent": 0, "not_sent": 0}
    for row in rows:
        secret = _unseal(ctx, row)
        with ctx.db.session() as session:
            offer = session.get(Offer, row.offer_id)
            module = _module_name(session, row.module_id)
        if not secret.get("email") or offer is None:
            _mark_mail(ctx, row.id, "no_email")
            counts["not_sent"] += 1
            continue
        msg = delivery_mail.message(
            ctx.settings,
            delivery_mail.OfferMail(
                to=secret["email"],
                module=module,
                institution=institution.name,
                offer_uri=secret["uri"],
                wallet_link=wallet_link(wallet_url, secret["uri"]),
                pin_required=offer.tx_code_hash is not None,
                expires=(aware(offer.expires_at) or ctx.now()).strftime("%d-%m-%Y"),
            ),
            t,
        )
        outgoing.append((row.id, msg))
    by_message = {id(msg): delivery_id for delivery_id, msg in outgoing}
    for msg, error in delivery_mail.send_all(ctx.settings, [m for _, m in outgoing]):
        _mark_mail(ctx, by_message[id(msg)], error)
        counts["not_sent" if error else "sent"] += 1
    return counts


def _mark_mail(ctx: IssuerContext, delivery_id: str, error: str | None) -> None:
    values: dict[str, Any] = {"mail_error": error}
    if error is None:
        values["mailed_at"] = ctx.now()
    with ctx.db.session() as session:
        session.execute(update(Delivery).where(col(Delivery.id) == delivery_id).values(**values))


def mark_opened(ctx: IssuerContext, offer_id: str) -> None:
    """A wallet fetched the offer behind a delivery's link (the first time counts)."""
    with ctx.db.session() as session:
        session.execute(
            update(Delivery)
            .where(col(Delivery.offer_id) == offer_id, col(Delivery.opened_at).is_(None))
            .values(opened_at=ctx.now())
        )


def state_of(ctx: IssuerContext, row: Delivery, offer: Offer | None) -> str:
    if row.cancelled_at is not None or (offer is not None and offer.state == "cancelled"):
        return "cancelled"
    if offer is not None and offer.state in COLLECTED + WALLET_STATES:
        return "collected" if offer.state in COLLECTED else "not_kept"
    expires = aware(offer.expires_at) if offer is not None else None
    if offer is None or offer.state in ENDED or (expires is not None and expires <= ctx.now()):
        return "expired"
    if row.opened_at is not None or offer.state in ("redeemed", "issuing"):
        return "opened"
    return "sent" if row.mailed_at is not None else "not_sent"


def describe(ctx: IssuerContext, row: Delivery, offer: Offer | None) -> dict[str, Any]:
    secret = _unseal(ctx, row)
    state = state_of(ctx, row, offer)
    return {
        "id": row.id,
        "row": row.row,
        "email": secret.get("email"),
        "student_number": secret.get("student_number"),
        "state": state,
        "mail_error": row.mail_error,
        "mailed_at": iso(row.mailed_at),
        "opened_at": iso(row.opened_at),
        "offer_id": row.offer_id,
        "credential_id": offer.credential_id if offer is not None else None,
        "expires_at": iso(offer.expires_at) if offer is not None else None,
        # the link and PIN only while the learner can still use them
        "uri": secret.get("uri") if state in ("sent", "opened", "not_sent") else None,
        "pin": secret.get("pin") if state in ("sent", "opened", "not_sent") else None,
    }


def cohort(ctx: IssuerContext, institution: Institution, cohort_id: str) -> dict[str, Any]:
    """A cohort's deliveries, in file order, each with its state."""
    with ctx.db.session() as session:
        rows = session.exec(
            select(Delivery)
            .where(Delivery.cohort_id == cohort_id, Delivery.institution_id == institution.id)
            .order_by(col(Delivery.row))
        ).all()
        if not rows:
            raise NotFound("unknown_cohort", f"there is no cohort {cohort_id}")
        offer_rows = session.exec(
            select(Offer).where(col(Offer.id).in_([r.offer_id for r in rows]))
        ).all()
        module = _module_name(session, rows[0].module_id)
    by_id = {o.id: o for o in offer_rows}
    items = [describe(ctx, row, by_id.get(row.offer_id)) for row in rows]
    counts: dict[str, int] = {}
    for item in items:
        counts[item["state"]] = counts.get(item["state"], 0) + 1
    return {
        "id": cohort_id,
        "module": module,
        "created_at": iso(rows[0].created_at),
        "deliveries": items,
        "counts": counts,
        "unmailed": sum(1 for r in rows if r.mail_error == "smtp_unset"),
    }


def recent(ctx: IssuerContext, institution: Institution, limit: int = 10) -> list[dict[str, Any]]:
    """The latest cohorts (id, when, how many rows), newest first."""
    with ctx.db.session() as session:
        rows = session.exec(
            select(Delivery.cohort_id, Delivery.created_at, Delivery.module_id)
            .where(Delivery.institution_id == institution.id, Delivery.row >= 0)
            .order_by(col(Delivery.created_at).desc())
            .limit(limit * 200)
        ).all()
        seen: dict[str, dict[str, Any]] = {}
        for cohort_id, created_at, module_id in rows:
            entry = seen.setdefault(
                cohort_id,
                {
                    "id": cohort_id,
                    "created_at": iso(created_at),
                    "module": _module_name(session, module_id),
                    "rows": 0,
                },
            )
            entry["rows"] += 1
    return list(seen.values())[:limit]


def _one(ctx: IssuerContext, institution: Institution, delivery_id: str) -> Delivery:
    with ctx.db.session() as session:
        row = session.get(Delivery, delivery_id)
    if row is None or row.institution_id != institution.id:
        raise NotFound("unknown_delivery", f"there is no delivery {delivery_id}")
    return row


def get(ctx: IssuerContext, institution: Institution, delivery_id: str) -> dict[str, Any]:
    row = _one(ctx, institution, delivery_id)
    with ctx.db.session() as session:
        offer = session.get(Offer, row.offer_id)
    return {**describe(ctx, row, offer), "cohort_id": row.cohort_id}


def resend(
    ctx: IssuerContext,
    institution: Institution,
    delivery_id: str,
    *,
    actor: str,
    t: Translate,
    wallet_url: str = "",
) -> dict[str, int]:
    """Mail the link again; an expired offer is replaced by a fresh one first."""
    row = _one(ctx, institution, delivery_id)
    with ctx.db.session() as session:
        offer = session.get(Offer, row.offer_id)
    state = state_of(ctx, row, offer)
    if state in ("collected", "cancelled", "not_kept"):
        raise Conflict("delivery_closed", f"delivery {delivery_id} is {state}", state=state)
    if state == "expired":
        _renew(ctx, institution, row, actor=actor)
    with ctx.db.session() as session:
        audit.record(
            session, institution.id, actor, "delivery.resend", ctx.now(),
            details={"delivery": delivery_id, "cohort": row.cohort_id},
        )  # fmt: skip
    return mail(ctx, institution, [delivery_id], t=t, wallet_url=wallet_url)


def _renew(ctx: IssuerContext, institution: Institution, row: Delivery, *, actor: str) -> None:
    """A new offer with the same learner data and result, for an expired one."""
    with ctx.db.session() as session:
        old = session.get(Offer, row.offer_id)
        module_slug = _module_slug(session, row.module_id)
    if old is None:
        raise NotFound("unknown_offer", "the delivery's offer is gone")
    sealed = personal.unseal(ctx.keystore, old.id, old.learner)
    body: dict[str, Any] = {
        "module_id": module_slug,
        "learner": sealed.get("learner") or {},
        "pin": old.tx_code_hash is not None,
    }
    if sealed.get("result"):
        body["result"] = sealed["result"]
    offer = offers.create(ctx, institution, OfferIn.model_validate(body), actor=actor)
    secret = {**_unseal(ctx, row), "uri": offer["offer_uri"], "pin": offer.get("pin")}
    with ctx.db.session() as session:
        session.execute(
            update(Delivery)
            .where(col(Delivery.id) == row.id)
            .values(
                offer_id=offer["id"],
                sealed=_seal(ctx, row.id, secret),
                opened_at=None,
                mailed_at=None,
                mail_error=None,
            )
        )


def cancel(
    ctx: IssuerContext, institution: Institution, delivery_id: str, *, actor: str
) -> dict[str, Any]:
    """Withdraw the offer: the link stops working at once; a collected one cannot be."""
    row = _one(ctx, institution, delivery_id)
    with ctx.db.session() as session:
        offer = session.get(Offer, row.offer_id)
    if state_of(ctx, row, offer) in ("collected", "cancelled", "not_kept"):
        raise Conflict("delivery_closed", f"delivery {delivery_id} cannot be cancelled")
    if offer is not None and offer.state in ("offered", "redeemed"):
        offers.cancel(ctx, institution, offer.id, actor=actor)
    with ctx.db.session() as session:
        session.execute(
            update(Delivery).where(col(Delivery.id) == row.id).values(cancelled_at=ctx.now())
        )
    return get(ctx, institution, delivery_id)
