"""The printable credential: a PDF download whose QR code verifies.

The QR code on the PDF opens a share link made for this PDF (label "PDF", valid as long as
the wallet allows share links, at most a year), listed with the learner's other links so it
can be revoked like any of them: an employer scanning the printed page gets the verifier's
landing page with the live verdict (signature, status, holder), not a copy of the text.
Hence a POST (it creates that link), confirmed by the button's own wording. The credential
page itself also prints cleanly (``@media print`` in ``static/wallet.css``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import Response

from credentials import read_credential
from servicekit.web import format_date, microcredential_rows

from ...services.pdf import PrintedCredential, render_pdf
from ._kit import LearnerPage, Refusal, card_state, router, services_of, web
from .notices import badge_image

PDF_SHARE_SECONDS = 365 * 86_400


@router.post("/credentials/{credential_id}/pdf")
def credential_pdf(
    request: Request,
    learner: LearnerPage,
    credential_id: str,
    with_link: Annotated[str, Form()] = "",
) -> Response:
    services = services_of(request)
    t = web.translator(request)
    detail = services.store.detail(learner, credential_id)
    view = read_credential(detail["credential"])
    state = card_state(detail)
    qr_url = None
    if with_link and state == "verified" and not isinstance(detail["credential"], str):
        try:
            share = services.shares.create(
                learner,
                [credential_id],
                expires_in=min(PDF_SHARE_SECONDS, services.settings.max_share_seconds),
                max_views=None,
                label=t("wallet.print.share_label"),
            )
            qr_url = share.get("url")
        except Refusal:
            qr_url = None
    badge = badge_image(request, detail["credential"])
    document = PrintedCredential(
        title=view.title or t("wallet.detail.title"),
        institution=(detail.get("institution") or {}).get("name") or view.issuer_name or "",
        state_label=t(f"wallet.state.{state}"),
        rows=[
            (row.label, "; ".join(row.items) if row.items else row.value)
            for row in microcredential_rows(view, t)
        ],
        footer=t(
            "wallet.print.footer",
            when=format_date(detail["statusCheck"].get("checkedAt"), with_time=True),
        ),
        qr_url=qr_url,
        qr_caption=t("wallet.print.qr_caption"),
        badge_png=_png_bytes(badge),
        notes=[] if qr_url else [t("wallet.print.no_qr")],
    )
    return Response(
        render_pdf(document),
        media_type="application/pdf",
        headers={
            "Content-Disposition": 'attachment; filename="microcredential.pdf"',
            "Cache-Control": "no-store",
        },
    )


def _png_bytes(data_uri: str | None) -> bytes | None:
    import base64

    if not data_uri or not data_uri.startswith(("data:image/png;", "data:image/jpeg;")):
        return None
    try:
        return base64.b64decode(data_uri.split(",", 1)[1])
    except ValueError:
        return None
