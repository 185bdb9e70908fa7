"""A cohort that reaches its learners: offers mailed per row, followed per row, and the
delivery list for institutions that send the links through their own channel.

Cancelling asks first on a page of its own (a plain form, works without script) that says
what happens: the link stops working, the learner cannot collect the credential.
"""

from __future__ import annotations

import csv
import io
import os
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import Response

from servicekit.web import PageError, Translator, format_date, format_number

from ...deps import Principal
from ...services import delivery, delivery_list
from ._kit import (
    WALLET_URL_ENV,
    Console,
    Failure,
    _ctx,
    _need,
    _render,
    client_status,
    refusal,
    router,
    web,
)

STATES = ("not_sent", "sent", "opened", "collected", "expired", "cancelled", "not_kept")
OPEN_STATES = ("not_sent", "sent", "opened")


def wallet_url() -> str:
    return os.environ.get(WALLET_URL_ENV, "").rstrip("/")


def row_problems(t: Translator, rows: list[dict[str, Any]]) -> list[str]:
    """Each bad row of a refused upload as a sentence naming the row."""
    out = []
    for problem in rows:
        params = {
            "row": problem.get("row"),
            "field": problem.get("field") or "",
            "grade": problem.get("grade", ""),
            "min": format_number(problem.get("min")),
            "max": format_number(problem.get("max")),
            "pass": format_number(problem.get("pass")),
        }
        key = f"issuer.row.{problem.get('code')}"
        out.append(t(key, **params) if t.has(key) else t("issuer.row.other", **params))
    return out


def start(
    request: Request, principal: Principal, module_id: str, data: bytes, *, pin: bool
) -> Response:
    """Called by the cohort form when the registrar chose delivery by e-mail."""
    from .cohort import batch_page_with  # the form lives there; imported late (a cycle)

    t = web.translator(request)
    try:
        cohort_id = delivery.start(
            _ctx(request),
            principal.institution,
            module_id,
            data,
            pin=pin,
            actor=principal.actor,
            t=t,
            wallet_url=wallet_url(),
        )
    except Failure as exc:
        rows = (getattr(exc, "extra", None) or {}).get("rows") or []
        return batch_page_with(
            request,
            principal,
            error=t("issuer.delivery.refused") if rows else refusal(t, exc),
            row_errors=row_problems(t, rows),
            module_id=module_id,
            status_code=client_status(exc),
        )
    return web.redirect(request, f"/console/batch/cohorts/{cohort_id}")


def _cohort(request: Request, principal: Principal, cohort_id: str) -> dict[str, Any]:
    try:
        return delivery.cohort(_ctx(request), principal.institution, cohort_id)
    except Failure:
        raise PageError(404, "error.not_found") from None


@router.get("/console/batch/cohorts/{cohort_id}")
def cohort_page(request: Request, principal: Console, cohort_id: str) -> Response:
    t = web.translator(request)
    cohort = _cohort(request, principal, cohort_id)
    for item in cohort["deliveries"]:
        item["href"] = (
            "/console/credential?id=" + quote(item["credential_id"], safe="")
            if item.get("credential_id")
            else None
        )
    summary = [
        t.plural(f"issuer.delivery.count.{state}", cohort["counts"][state])
        for state in STATES
        if cohort["counts"].get(state)
    ]
    return _render(
        request,
        principal,
        "cohort.html",
        page_title=t("issuer.delivery.title", module=cohort["module"]),
        cohort=cohort,
        summary=summary,
        open_states=OPEN_STATES,
        smtp_unset=cohort["unmailed"] > 0,
    )


@router.post("/console/batch/deliveries/{delivery_id}/resend")
def delivery_resend(request: Request, principal: Console, delivery_id: str) -> Response:
    _need(principal, "issue")
    t = web.translator(request)
    ctx = _ctx(request)
    try:
        found = delivery.get(ctx, principal.institution, delivery_id)
        counts = delivery.resend(
            ctx,
            principal.institution,
            delivery_id,
            actor=principal.actor,
            t=t,
            wallet_url=wallet_url(),
        )
    except Failure as exc:
        raise PageError(client_status(exc), "issuer.delivery.closed") from None
    back = f"/console/batch/cohorts/{found['cohort_id']}"
    if counts.get("sent"):
        return web.redirect(request, back, flash=("success", "issuer.delivery.resent"))
    return web.redirect(request, back, flash=("error", "issuer.delivery.not_resent"))


@router.get("/console/batch/deliveries/{delivery_id}/cancel")
def delivery_cancel_confirm(request: Request, principal: Console, delivery_id: str) -> Response:
    """The confirmation step: what cancelling does, before it is done."""
    _need(principal, "issue")
    t = web.translator(request)
    try:
        found = delivery.get(_ctx(request), principal.institution, delivery_id)
    except Failure:
        raise PageError(404, "error.not_found") from None
    if found["state"] not in OPEN_STATES:
        raise PageError(409, "issuer.delivery.closed")
    learner = found["email"] or found["student_number"] or ""
    return _render(
        request,
        principal,
        "confirm.html",
        page_title=t("issuer.delivery.cancel_title"),
        consequence=t("issuer.delivery.cancel_consequence", learner=learner),
        action=f"/console/batch/deliveries/{delivery_id}/cancel",
        fields={},
        reason=None,
        confirm_label=t("issuer.delivery.cancel_confirm"),
        back=f"/console/batch/cohorts/{found['cohort_id']}",
    )


@router.post("/console/batch/deliveries/{delivery_id}/cancel")
def delivery_cancel(request: Request, principal: Console, delivery_id: str) -> Response:
    _need(principal, "issue")
    try:
        done = delivery.cancel(
            _ctx(request), principal.institution, delivery_id, actor=principal.actor
        )
    except Failure as exc:
        raise PageError(client_status(exc), "issuer.delivery.closed") from None
    return web.redirect(
        request,
        f"/console/batch/cohorts/{done['cohort_id']}",
        flash=("info", "issuer.delivery.cancelled"),
    )


def _list_rows(request: Request, cohort: dict[str, Any]) -> list[dict[str, Any]]:
    t = web.translator(request)
    wallet = wallet_url()
    return [
        {
            "row": item["row"],
            "email": item["email"] or "",
            "student_number": item["student_number"] or "",
            "state": t(f"issuer.delivery.state.{item['state']}"),
            "link": (delivery.wallet_link(wallet, item["uri"]) or item["uri"])
            if item["uri"]
            else "",
            "pin": item["pin"] or "",
            "uri": item["uri"] or "",
        }
        for item in cohort["deliveries"]
    ]


def _cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text, never runs as a formula (CSV injection)."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _headers(t: Translator) -> dict[str, str]:
    return {key: t(f"issuer.delivery.list.{key}") for key in delivery_list.COLUMNS}


@router.get("/console/batch/cohorts/{cohort_id}/delivery-list.csv")
def delivery_list_csv(request: Request, principal: Console, cohort_id: str) -> Response:
    """The links (and PINs) to send through the institution's own channel."""
    _need(principal, "issue")
    t = web.translator(request)
    rows = _list_rows(request, _cohort(request, principal, cohort_id))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    headers = _headers(t)
    writer.writerow([headers[key] for key in delivery_list.COLUMNS])
    for row in rows:
        writer.writerow([_cell(row[key]) for key in delivery_list.COLUMNS])
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="delivery-{cohort_id}.csv"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/console/batch/cohorts/{cohort_id}/delivery-list.pdf")
def delivery_list_pdf(request: Request, principal: Console, cohort_id: str) -> Response:
    """The same list as a printable PDF, one QR code per learner still to collect."""
    _need(principal, "issue")
    t = web.translator(request)
    cohort = _cohort(request, principal, cohort_id)
    pdf = delivery_list.pdf(
        title=t("issuer.delivery.title", module=cohort["module"]),
        subtitle=t("issuer.delivery.list.made", date=format_date(cohort["created_at"])),
        headers=_headers(t),
        rows=_list_rows(request, cohort),
        scan_hint=t("issuer.delivery.list.scan"),
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="delivery-{cohort_id}.pdf"',
            "Cache-Control": "no-store",
        },
    )
