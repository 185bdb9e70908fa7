"""Issuing to one learner: an OpenID4VCI offer (QR code, link, optional PIN) or signed at once."""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from servicekit.qr import qr_png_data_uri
from servicekit.reading import form_fields
from servicekit.web import (
    PageError,
)

from ...deps import Principal
from ...schemas import IssueModuleIn, OfferIn, validate
from ...services import (
    issuance,
    modules,
    offers,
)
from ._kit import (
    OFFER_COOKIE,
    WALLET_URL_ENV,
    Console,
    Failure,
    _ctx,
    _need,
    _render,
    client_status,
    failure_status,
    refusal,
    router,
    web,
)


def _issue_page(request: Request, principal: Principal, **context: Any) -> Response:
    t = web.translator(request)
    context.setdefault("form", {"module_id": request.query_params.get("module", "")})
    context.setdefault("error", None)
    return _render(
        request,
        principal,
        "issue.html",
        page_title=t("issuer.issue.title"),
        modules=modules.listing(_ctx(request), principal.institution),
        **context,
    )


@router.get("/console/issue")
def issue_form(request: Request, principal: Console) -> Response:
    return _issue_page(request, principal)


@router.post("/console/issue")
async def issue(request: Request, principal: Console) -> Response:
    """An offer for the learner's wallet (default), or a credential signed at once."""
    _need(principal, "issue")
    ctx = _ctx(request)
    t = web.translator(request)
    form = await form_fields(request)
    learner = {
        key: form[key].strip()
        for key in ("email", "student_number", "did")
        if form.get(key, "").strip()
    }
    result = {
        key: form[name].strip()
        for key, name in (("grade", "grade"), ("awarded_date", "awarded_date"))
        if form.get(name, "").strip()
    }
    body: dict[str, Any] = {"module_id": form.get("module_id", ""), "learner": learner}
    if result:
        body["result"] = result
    direct = form.get("how") == "direct"
    try:
        if direct:
            issued = issuance.issue_module(
                ctx,
                principal.institution,
                validate(IssueModuleIn, body),
                actor=principal.actor,
                raw_body=body,
            )
        else:
            if form.get("pin"):
                body["pin"] = True
            created = offers.create(
                ctx, principal.institution, validate(OfferIn, body), actor=principal.actor
            )
    except Failure as exc:
        return _issue_page(
            request,
            principal,
            form=form,
            error=t("issuer.issue.invalid", detail=refusal(t, exc)),
            status_code=client_status(exc),
        )
    if direct:
        target = "/console/credential?id=" + quote(issued.credential["id"], safe="")
        return web.redirect(request, target, flash=("success", "issuer.issue.signed"))
    path = f"/console/offers/{created['id']}"
    response = web.redirect(request, path)
    sealed = web.seal(
        request,
        "offer",
        json.dumps({"uri": created["offer_uri"], "pin": created.get("pin")}),
        ctx.settings.max_offer_ttl,
    )
    web.set_cookie(
        request, response, OFFER_COOKIE, sealed, max_age=ctx.settings.offer_ttl, path=path
    )
    return response


def _offer(request: Request, principal: Principal, offer_id: str) -> dict[str, Any]:
    try:
        return offers.get(_ctx(request), principal.institution, offer_id)
    except Failure:
        raise PageError(404, "error.not_found") from None


@router.get("/console/offers/{offer_id}")
def offer_page(request: Request, principal: Console, offer_id: str) -> Response:
    t = web.translator(request)
    offer = _offer(request, principal, offer_id)
    raw = web.unseal(request, "offer", request.cookies.get(OFFER_COOKIE))
    secret = json.loads(raw) if raw else {}
    link = secret.get("uri") if offer["state"] == "offered" else None
    wallet = os.environ.get(WALLET_URL_ENV, "").rstrip("/")
    return _render(
        request,
        principal,
        "offer.html",
        page_title=t("issuer.offer.title"),
        offer=offer,
        link=link,
        qr=qr_png_data_uri(link) if link else None,
        pin=secret.get("pin") if link else None,
        wallet_link=f"{wallet}/receive?offer={quote(link, safe='')}" if link and wallet else None,
        has_secret=bool(raw),
        credential_href=(
            "/console/credential?id=" + quote(offer["credential_id"], safe="")
            if offer.get("credential_id")
            else None
        ),
    )


@router.get("/console/offers/{offer_id}/state")
def offer_state(request: Request, principal: Console, offer_id: str) -> Response:
    """For poll.js: has the learner collected the offer yet?"""
    offer = _offer(request, principal, offer_id)
    done = offer["state"] not in ("offered", "redeemed", "issuing")
    body = {"done": done, "url": f"/console/offers/{offer_id}"} if done else {"done": False}
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@router.get("/console/offers/{offer_id}/cancel")
def offer_cancel_confirm(request: Request, principal: Console, offer_id: str) -> Response:
    """Asks first: once cancelled, the learner's QR code and link stop working."""
    _need(principal, "issue")
    t = web.translator(request)
    offer = _offer(request, principal, offer_id)
    if offer["state"] not in ("offered", "redeemed"):
        raise PageError(409, "issuer.error.offer_not_cancellable")
    return _render(
        request,
        principal,
        "confirm.html",
        page_title=t("issuer.confirm.offer.title"),
        consequence=t(
            "issuer.confirm.offer.consequence",
            learner=offer.get("learner_ref") or t("issuer.confirm.the_learner"),
        ),
        action=f"/console/offers/{offer_id}/cancel",
        fields={},
        reason=None,
        confirm_label=t("issuer.confirm.offer.button"),
        back=f"/console/offers/{offer_id}",
    )


@router.post("/console/offers/{offer_id}/cancel")
def offer_cancel(request: Request, principal: Console, offer_id: str) -> Response:
    _need(principal, "issue")
    try:
        offers.cancel(_ctx(request), principal.institution, offer_id, actor=principal.actor)
    except Failure as exc:
        raise PageError(failure_status(exc), "error.not_found") from None
    return web.redirect(
        request, f"/console/offers/{offer_id}", flash=("info", "issuer.offer.cancelled")
    )
