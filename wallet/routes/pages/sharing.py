"""Share links: make one (with a QR code), see who looked, revoke it after a confirmation."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from ...models import Learner
from ...services import disclosing
from ...services.store import CredentialFilter
from ._kit import (
    LearnerPage,
    Refusal,
    card_state,
    problem_status,
    problem_text,
    render,
    router,
    services_of,
    web,
)

SHARE_EXPIRY = (3600, 86_400, 7 * 86_400, 30 * 86_400, 365 * 86_400)
DEFAULT_EXPIRY = 7 * 86_400


def _shares_page(request: Request, learner: Learner, **context: Any) -> Response:
    services = services_of(request)
    t = web.translator(request)
    items = services.store.browse(learner.id, CredentialFilter())
    documents = {row.id: row.document for row in services.store.rows(learner.id)}
    for item in items:
        item["state"] = card_state(item)
        # selective disclosure (issue 18): what the learner may leave out of this one
        document = documents.get(item["id"])
        item["disclosable"] = [
            {**f, "label": f["label_nl"] if t.lang == "nl" else f["label_en"]}
            for f in disclosing.fields_for(document if isinstance(document, dict) else {})
        ]
    titles = {i["id"]: i.get("title") for i in items}
    shares = services.shares.list(learner)
    for share in shares:
        share["titles"] = [titles.get(cid) or cid for cid in share["credentialIds"]]
    context.setdefault("picked", [request.query_params.get("credential", "")])
    context.setdefault("error", None)
    return render(
        request,
        learner,
        "shares.html",
        page_title=t("wallet.shares.title"),
        items=items,
        shares=shares,
        disclosures=services.requests.disclosures(learner)[::-1],
        titles=titles,
        expiry_choices=SHARE_EXPIRY,
        keys_missing=services.portability.keys_missing(learner),
        **context,
    )


@router.get("/shares")
def shares_page(request: Request, learner: LearnerPage) -> Response:
    return _shares_page(request, learner)


@router.post("/shares")
async def share_create(request: Request, learner: LearnerPage) -> Response:
    t = web.translator(request)
    form = await request.form()
    picked = [v for v in form.getlist("credential") if isinstance(v, str) and v]
    label = str(form.get("label") or "")
    try:
        expires_in = int(str(form.get("expires_in") or DEFAULT_EXPIRY))
    except ValueError:
        expires_in = DEFAULT_EXPIRY
    raw_views = str(form.get("max_views") or "").strip()
    if not picked:
        return _shares_page(
            request, learner, error=t("wallet.shares.none_picked"), picked=[], status_code=400
        )
    try:
        created = services_of(request).shares.create(
            learner,
            picked,
            expires_in=expires_in if expires_in in SHARE_EXPIRY else DEFAULT_EXPIRY,
            max_views=int(raw_views) if raw_views.isdigit() else None,
            label=label,
            disclose=disclose_form(form, picked),
        )
    except Refusal as exc:
        return _shares_page(
            request,
            learner,
            error=problem_text(t, exc),
            picked=picked,
            status_code=problem_status(exc),
        )
    return web.redirect(
        request, f"/shares/{created['id']}", flash=("success", "wallet.share.created")
    )


def disclose_form(form: Any, picked: list[str]) -> dict[str, list[str]] | None:
    """The ticked ``disclose:<credential id>`` boxes; the service keeps only selectively
    disclosable credentials and checks every name."""
    choice = {
        cid: [v for v in form.getlist(f"disclose:{cid}") if isinstance(v, str)]
        for cid in picked
        if f"disclose-offered:{cid}" in form
    }
    return choice or None


@router.get("/shares/{share_id}")
def share_detail(request: Request, learner: LearnerPage, share_id: str) -> Response:
    services = services_of(request)
    t = web.translator(request)
    share = services.shares.get(learner, share_id, with_qr=True)
    titles = {i["id"]: i for i in services.store.browse(learner.id, CredentialFilter())}
    return render(
        request,
        learner,
        "share.html",
        page_title=t("wallet.share.title"),
        share=share,
        contents=[titles.get(cid, {"id": cid, "title": cid}) for cid in share["credentialIds"]],
        accesses=list(reversed(services.shares.accesses(learner, share_id))),
    )


@router.get("/shares/{share_id}/revoke")
def share_revoke_confirm(request: Request, learner: LearnerPage, share_id: str) -> Response:
    """The confirmation step: who loses access, and that it cannot be undone."""
    services = services_of(request)
    t = web.translator(request)
    share = services.shares.get(learner, share_id)
    return render(
        request,
        learner,
        "confirm.html",
        page_title=t("wallet.confirm.revoke_share.title"),
        heading=t("wallet.confirm.revoke_share.title"),
        subject=share.get("label") or t("wallet.share.title"),
        consequences=[
            t("wallet.confirm.revoke_share.link"),
            t("wallet.confirm.revoke_share.copies"),
            t("wallet.confirm.revoke_share.final"),
        ],
        action=f"/shares/{share_id}/revoke",
        submit=t("wallet.confirm.revoke_share.submit"),
        cancel=f"/shares/{share_id}",
    )


@router.post("/shares/{share_id}/revoke")
def share_revoke(request: Request, learner: LearnerPage, share_id: str) -> Response:
    services_of(request).shares.revoke(learner, share_id)
    return web.redirect(request, f"/shares/{share_id}", flash=("info", "wallet.share.revoked"))
