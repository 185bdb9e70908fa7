"""The employer's landing page for a shared QR: what a person sees at a share URL.

Two steps (issue 16, point 1; docs/wallet.md "The employer's landing page"):

1. ``GET`` — the landing page: in the site's design, Dutch by default with the language
   switch, and *nothing of the learner on it*; it says whether the link still works and
   offers one button. Chat apps, mail scanners and prefetchers fetch this, so it counts no
   view, and a preview shows a neutral title.
2. ``POST`` (the button; a plain form, no script needed) — one view: the wallet signs the
   presentation a verifier would fetch, verifies it with the core's verifier (holder proof
   for this URL, every credential's proof, status asked of the issuer now, trust = the
   wallet's known issuers) and shows the same verdict and cards as the verifier's pages
   (``servicekit.verdicts``), a warning when the holder binding fails, and a link to check
   it again in a verifier of the reader's own.

The wallet must not import the verifier service; it shares only servicekit's views.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import Response

from servicekit.verdicts import card, headline, own_checks
from servicekit.web import Web, format_date, load_messages, report_view

from ..deps import SESSION_COOKIE
from ..services.shares import ShareAnswer

WALLET = Path(__file__).resolve().parent.parent
PRIVATE = {
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
    "Referrer-Policy": "no-referrer",
}

web = Web(
    "wallet",
    templates=WALLET / "templates",
    messages=load_messages(WALLET / "messages"),
    session_cookie=SESSION_COOKIE,
    settings_of=lambda request: request.app.state.services.settings,
)

#: Check ids that say whether the credentials belong to the one who shared them.
HOLDER_CHECKS = ("holder", "holder_binding")


def landing(request: Request, answer: ShareAnswer | None, token: str) -> Response:
    """The page behind the link itself: works or not, and the button. Counts nothing."""
    if answer is None or answer.gone:
        return _gone(request, answer)
    t = web.translator(request)
    return web.render(
        request,
        "share_public.html",
        headers=PRIVATE,
        page_title=t("share.public.title"),
        app_name=t("share.public.app_name"),
        action=f"/s/{quote(token, safe='')}",
        views_left=answer.views_left,
        expires_at=format_date(answer.expires_at, with_time=True),
    )


def shown(request: Request, answer: ShareAnswer | None, token: str) -> Response:
    """The credentials, verified now; one view was counted for this answer."""
    if answer is None or answer.gone:
        return _gone(request, answer)
    t = web.translator(request)
    overall = report_view(answer.report, t) if answer.report is not None else None
    cards = []
    for index, report in enumerate(answer.credential_reports):
        document = answer.documents[index] if index < len(answer.documents) else None
        shown_card = card(dict(report.summary or {}), report_view(report, t), t, document)
        cards.append(shown_card)
    head = headline(overall, cards, presentation=True)
    return web.render(
        request,
        "share_shown.html",
        headers=PRIVATE,
        page_title=t("share.public.title"),
        app_name=t("share.public.app_name"),
        head=head,
        cards=cards,
        own_checks=own_checks(overall, cards) if overall is not None else (),
        holder_warning=_holder_warning(overall),
        verifier_link=_verifier_link(request, answer.url),
        share_url=answer.url,
        checked_at=format_date(request.app.state.services.clock(), with_time=True),
        expires_at=format_date(answer.expires_at, with_time=True),
    )


def _gone(request: Request, answer: ShareAnswer | None) -> Response:
    t = web.translator(request)
    outcome = answer.outcome if answer is not None else "missing"
    return web.render(
        request,
        "share_gone.html",
        status_code=404 if answer is None else 410,
        headers=PRIVATE,
        page_title=t("share.public.gone_title"),
        app_name=t("share.public.app_name"),
        outcome=outcome,
    )


def _holder_warning(overall: Any) -> bool:
    """True when the presentation does not prove the credentials are the sharer's own."""
    if overall is None:
        return True
    return any(
        c.id.split(".")[-1] in HOLDER_CHECKS and c.outcome in ("failed", "warning")
        for c in overall.checks
    )


def _verifier_link(request: Request, share_url: str) -> str | None:
    """The configured verifier's start page with this link filled in, or None."""
    base = getattr(request.app.state.services.settings, "verifier_url", None)
    if not base:
        return None
    return f"{str(base).rstrip('/')}/?share={quote(share_url, safe='')}"
