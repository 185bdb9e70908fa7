"""The issued credentials: search, look at one, change its status."""

from __future__ import annotations

import json
from typing import Annotated
from urllib.parse import quote

from fastapi import Form, Query, Request
from fastapi.responses import Response

from credentials import read_microcredential
from servicekit.web import (
    PageError,
    format_date,
    microcredential_rows,
)

from ...deps import Principal
from ...services import (
    audit,
    modules,
    records,
    status_lists,
)
from ._kit import (
    PAGE_SIZE,
    Console,
    Failure,
    _ctx,
    _listed,
    _need,
    _render,
    refusal,
    router,
    web,
)


@router.get("/console/credentials")
def credential_list(
    request: Request,
    principal: Console,
    learner: str = "",
    module: str = "",
    before: int | None = Query(default=None, ge=1, le=2**31 - 1),
) -> Response:
    ctx = _ctx(request)
    t = web.translator(request)
    listing = records.listing(
        ctx,
        principal.institution,
        learner=learner.strip() or None,
        module=module or None,
        before=before,
        limit=PAGE_SIZE,
    )
    items = _listed(ctx, principal.institution, listing["credentials"])
    for item in items:
        item["href"] = "/console/credential?id=" + quote(item["credentialId"], safe="")
    more = None
    if listing["next"]:
        more = (
            f"/console/credentials?learner={quote(learner)}&module={quote(module)}"
            f"&before={listing['next']}"
        )
    return _render(
        request,
        principal,
        "credentials.html",
        page_title=t("issuer.credentials.title"),
        items=items,
        learner=learner,
        module=module,
        modules=modules.listing(ctx, principal.institution, include_archived=True),
        more=more,
    )


@router.get("/console/credential")
def credential_page(request: Request, principal: Console, id: str = "") -> Response:
    ctx = _ctx(request)
    t = web.translator(request)
    try:
        record = records.get(ctx, principal.institution, id)
    except Failure:
        raise PageError(404, "error.not_found") from None
    document = record["verifiableCredential"]
    with ctx.db.session() as session:
        history, _ = audit.query(session, principal.institution.id, credential_id=id, limit=50)
    return _render(
        request,
        principal,
        "credential.html",
        page_title=t("issuer.credential.title"),
        record=record,
        rows=microcredential_rows(read_microcredential(document), t),
        history=history,
        credential_id=id,
        download=f"/console/credential.json?id={quote(id, safe='')}",
        formatted_date=format_date,
    )


@router.get("/console/credential.json")
def credential_download(request: Request, principal: Console, id: str = "") -> Response:
    try:
        record = records.get(_ctx(request), principal.institution, id)
    except Failure:
        raise PageError(404, "error.not_found") from None
    body = json.dumps(record["verifiableCredential"], indent=2, ensure_ascii=False)
    return Response(
        body,
        media_type="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="microcredential.json"',
            "Cache-Control": "no-store",
        },
    )


_ACTIONS = {"revoke": "revoked", "suspend": "suspended", "unsuspend": "active"}
DESTRUCTIVE = ("revoke", "suspend")
"""Actions that ask first, with a reason the learner will read (unsuspending restores)."""


def _confirm_page(
    request: Request,
    principal: Principal,
    credential_id: str,
    action: str,
    *,
    reason: str = "",
    missing_reason: bool = False,
) -> Response:
    t = web.translator(request)
    try:
        record = records.get(_ctx(request), principal.institution, credential_id)
    except Failure:
        raise PageError(404, "error.not_found") from None
    learner = record.get("learner_ref") or t("issuer.confirm.the_learner")
    return _render(
        request,
        principal,
        "confirm.html",
        page_title=t(f"issuer.confirm.{action}.title"),
        consequence=t(f"issuer.confirm.{action}.consequence", learner=learner),
        action="/console/credential/status",
        fields={"credential_id": credential_id, "action": action, "confirmed": "1"},
        reason={
            "label": t("issuer.confirm.reason"),
            "hint": t("issuer.confirm.reason_public"),
            "value": reason,
            "required": True,
            "error": t("issuer.confirm.reason_missing") if missing_reason else None,
        },
        confirm_label=t(f"issuer.confirm.{action}.button"),
        back="/console/credential?id=" + quote(credential_id, safe=""),
        status_code=400 if missing_reason else 200,
    )


@router.get("/console/credential/confirm")
def credential_confirm(
    request: Request, principal: Console, id: str = "", action: str = ""
) -> Response:
    """The step before revoking or suspending: the consequence, and the reason asked for."""
    _need(principal, "revoke")
    if action not in DESTRUCTIVE:
        raise PageError(400, "error.invalid_form", detail="action")
    return _confirm_page(request, principal, id, action)


@router.post("/console/credential/status")
def credential_status(
    request: Request,
    principal: Console,
    credential_id: Annotated[str, Form()] = "",
    action: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    confirmed: Annotated[str, Form()] = "",
) -> Response:
    """Revoke, suspend or unsuspend through the same service as the status API.

    Revoking and suspending happen only from the confirmation page, with a reason; a post
    without both shows that page instead of acting.
    """
    _need(principal, "revoke")
    back = "/console/credential?id=" + quote(credential_id, safe="")
    if action not in _ACTIONS:
        raise PageError(400, "error.invalid_form", detail="action")
    reason = reason.strip()[:1000]
    if action in DESTRUCTIVE and (not confirmed or not reason):
        return _confirm_page(
            request,
            principal,
            credential_id,
            action,
            reason=reason,
            missing_reason=bool(confirmed) and not reason,
        )
    t = web.translator(request)
    try:
        state = status_lists.change(
            _ctx(request),
            principal.institution,
            credential_id,
            [_ACTIONS[action]],
            actor=principal.actor,
            reason=reason or None,
        )
    except Failure as exc:
        return web.redirect(
            request, back, flash=("error", "issuer.credential.failed"), detail=refusal(t, exc)
        )
    return web.redirect(
        request,
        back,
        flash=("success", "issuer.credential.changed"),
        status=t(f"issuer.status.{state['status']}"),
    )
