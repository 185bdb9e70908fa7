"""Receiving: an institution's offer (pasted, scanned, or opened as a link), a file, or an
Open Badge 2.0 by its URL.

An offer is shown before it is accepted: ``GET /receive?offer=…`` reads the offer and the
issuer's metadata (``ReceiveService.preview_offer``, nothing is redeemed) and shows the
module, institution, ECTS and level the issuer announces; the learner then accepts with one
button (and the PIN when one is needed). On a phone, a "scan QR" button opens the camera
(``static/scan.js``); the page works without it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import File, Form, Request, UploadFile
from fastapi.responses import Response

from ...models import Learner
from ._kit import (
    LearnerPage,
    Refusal,
    problem_status,
    problem_text,
    render,
    router,
    services_of,
    web,
)


def _receive_page(request: Request, learner: Learner, **context: Any) -> Response:
    t = web.translator(request)
    offer = str(context.pop("offer", request.query_params.get("offer", ""))).strip()
    preview, preview_error = None, None
    if offer:
        try:
            preview = services_of(request).receive.preview_offer(offer)
        except Refusal as exc:
            if "error" not in context:  # the refusal of the offer itself says it already
                preview_error = problem_text(t, exc)
    return render(
        request,
        learner,
        "receive.html",
        page_title=t("wallet.receive.title"),
        offer=offer,
        preview=preview,
        preview_error=preview_error,
        **context,
    )


@router.get("/receive")
def receive_form(request: Request, learner: LearnerPage) -> Response:
    """Paste an offer; an offer link opened on a phone arrives here as ``?offer=``."""
    return _receive_page(request, learner)


@router.post("/receive/preview")
def receive_preview(
    request: Request, learner: LearnerPage, offer: Annotated[str, Form()] = ""
) -> Response:
    """A pasted or scanned offer: show what it brings before accepting it."""
    return _receive_page(request, learner, offer=offer)


@router.post("/receive/offer")
def receive_offer(
    request: Request,
    learner: LearnerPage,
    offer: Annotated[str, Form()] = "",
    pin: Annotated[str, Form()] = "",
    keep: Annotated[str, Form()] = "",
    format: Annotated[str, Form()] = "",
) -> Response:
    t = web.translator(request)
    try:
        received = services_of(request).receive.receive_offer(
            learner,
            offer.strip(),
            tx_code=pin.strip() or None,
            keep_unverified=bool(keep),
            format=format.strip() or None,
        )
    except Refusal as exc:
        return _receive_page(
            request,
            learner,
            offer=offer.strip(),
            error=t("wallet.receive.failed", detail=problem_text(t, exc)),
            status_code=problem_status(exc, gateway=True),
        )
    return _to_credential(request, received[0])


def _to_credential(request: Request, stored: dict[str, Any]) -> Response:
    """After an import: the stored credential's page, with the flash that names it."""
    return web.redirect(
        request,
        f"/credentials/{stored['id']}",
        flash=("success", "wallet.receive.ok"),
        title=stored.get("title") or "",
    )


@router.post("/receive/file")
def receive_file(
    request: Request,
    learner: LearnerPage,
    file: Annotated[UploadFile | None, File()] = None,
    keep: Annotated[str, Form()] = "",
) -> Response:
    services = services_of(request)
    t = web.translator(request)
    raw = file.file.read(services.settings.max_body + 1) if file is not None else b""
    if not raw.strip():
        return _receive_page(
            request, learner, file_error=t("wallet.receive.no_file"), status_code=400
        )
    try:
        stored = services.receive.import_credential(
            learner, raw.decode("utf-8", errors="replace"), keep_unverified=bool(keep)
        )
    except Refusal as exc:
        return _receive_page(
            request,
            learner,
            file_error=t("wallet.receive.failed", detail=problem_text(t, exc)),
            status_code=problem_status(exc),
        )
    return _to_credential(request, stored)


@router.post("/receive/badge")
def receive_badge(
    request: Request,
    learner: LearnerPage,
    url: Annotated[str, Form()] = "",
    keep: Annotated[str, Form()] = "",
) -> Response:
    """An Open Badges 2.0 assertion by its URL, fetched through the wallet's safe fetcher."""
    t = web.translator(request)
    try:
        stored = services_of(request).receive.import_url(
            learner, url.strip(), keep_unverified=bool(keep)
        )
    except Refusal as exc:
        return _receive_page(
            request,
            learner,
            badge_url=url.strip(),
            badge_error=t("wallet.receive.failed", detail=problem_text(t, exc)),
            status_code=problem_status(exc),
        )
    return _to_credential(request, stored)
