"""Share links: the learner's API (create, list, revoke, access log) and the public link.

``POST /api/shares`` answers ``qrPng`` as a data URI (``data:image/png;base64,…``, usable
directly as an ``<img src>``) and ``qrSvg`` as the SVG document text.

``GET /s/{token}`` is public (the token is the capability): JSON (the signed presentation)
when the client asks for JSON explicitly (``Accept: application/json``, or
``application/ld+json``, ``application/vp+ld+json``, at least as preferred as HTML), a
readable HTML page otherwise; 410 Gone when expired, revoked or out of views; 404 when no
such link exists.
"""

from __future__ import annotations

import html
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from servicekit.problems import ProblemError, problem_response
from servicekit.ratelimit import per_client

from ..deps import LearnerDep, ServicesDep
from ..schemas import ShareCreate
from ..services.shares import ShareAnswer

router = APIRouter(tags=["shares"])
_JSON_TYPES = ("application/json", "application/ld+json", "application/vp+ld+json")
_PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}


@router.post("/api/shares", status_code=201)
def create_share(body: ShareCreate, learner: LearnerDep, services: ServicesDep) -> dict:
    return services.shares.create(
        learner,
        body.credential_ids,
        expires_in=body.expires_in,
        max_views=body.max_views,
        label=body.label,
        disclose=body.disclose,
    )


@router.get("/api/shares")
def list_shares(learner: LearnerDep, services: ServicesDep) -> list[dict[str, Any]]:
    return services.shares.list(learner)


@router.get("/api/shares/{share_id}")
def get_share(share_id: str, learner: LearnerDep, services: ServicesDep) -> dict[str, Any]:
    return services.shares.get(learner, share_id, with_qr=True)


@router.delete("/api/shares/{share_id}", status_code=204)
def revoke_share(share_id: str, learner: LearnerDep, services: ServicesDep) -> Response:
    services.shares.revoke(learner, share_id)
    return Response(status_code=204)


@router.get("/api/shares/{share_id}/accesses")
def share_accesses(
    share_id: str, learner: LearnerDep, services: ServicesDep
) -> list[dict[str, Any]]:
    return services.shares.accesses(learner, share_id)


@router.get("/s/{token}", include_in_schema=False, dependencies=[Depends(per_client("share"))])
def open_share(token: str, request: Request, services: ServicesDep) -> Response:
    wants_json = prefers_json(request.headers.get("accept", ""))
    answer = services.shares.open(
        token, wants_json=wants_json, user_agent=request.headers.get("user-agent", "")
    )
    if answer is None:
        if wants_json:
            raise ProblemError(404, "share_not_found", "no such share link", headers=_PRIVATE)
        return HTMLResponse(_gone_page(None), status_code=404, headers=_PRIVATE)
    if answer.gone:
        if wants_json:
            return problem_response(
                410, f"share_{answer.outcome}", _GONE[answer.outcome], headers=_PRIVATE
            )
        return HTMLResponse(_gone_page(answer.outcome), status_code=410, headers=_PRIVATE)
    if wants_json:
        return JSONResponse(answer.presentation, headers=_PRIVATE)
    return HTMLResponse(_page(answer), headers=_PRIVATE)


def prefers_json(accept: str) -> bool:
    """True when the client explicitly asks for JSON at least as much as for HTML."""
    best_json, best_html = 0.0, 0.0
    for part in accept.split(","):
        media, _, params = part.strip().partition(";")
        media = media.strip().lower()
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media in _JSON_TYPES:
            best_json = max(best_json, quality)
        elif media in ("text/html", "application/xhtml+xml"):
            best_html = max(best_html, quality)
    return best_json > 0 and best_json >= best_html


_GONE = {
    "expired": "this share link has expired",
    "revoked": "the learner has revoked this share link",
    "exhausted": "this share link has been viewed as often as the learner allowed",
}


def _html(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{html.escape(title)}</title></head><body>{body}</body></html>"
    )


def _gone_page(outcome: str | None) -> str:
    message = _GONE.get(outcome or "", "there is no share link at this address")
    return _html(
        "Share link not available",
        f"<main><h1>Share link not available</h1><p>{html.escape(message.capitalize())}.</p>"
        "<p>Ask the learner for a new link.</p></main>",
    )


def _page(answer: ShareAnswer) -> str:
    e = html.escape
    items = []
    for item in answer.credentials:
        rows = [
            ("Institution", item["institution"]),
            ("Country", item["country"]),
            ("ECTS", _num(item["ects"])),
            ("Hours of study", _num(item["hours"])),
            ("EQF level", item["level"]),
            ("Issued", item["issued"]),
            ("Grade", item["grade"]),
        ]
        withheld = [
            f"{w['nl']} niet gedeeld ({w['en']} not shared)" for w in item.get("withheldLabels", [])
        ]
        facts = "".join(
            f"<dt>{e(label)}</dt><dd>{e(str(value))}</dd>" for label, value in rows if value
        )
        if withheld:
            facts += "<dt>Niet gedeeld / Not shared</dt>" + "".join(
                f'<dd class="withheld">{e(text)}</dd>' for text in withheld
            )
        check = _VERDICTS.get(item["verdict"], _VERDICTS["unverified"])
        items.append(
            f"<section><h2>{e(item['title'] or 'Credential')}</h2><dl>{facts}</dl>"
            f"<p>{e(check)}</p></section>"
        )
    body = (
        "<main><h1>Shared microcredentials</h1>"
        "<p>A learner shared these credentials with you. This page is for reading; to check "
        "them, give this link to a verifier (for example the microcred verifier), which "
        "fetches the presentation signed by the learner's wallet.</p>"
        + "".join(items)
        + f"<p>This link expires at {e(answer.expires_at or '')}.</p></main>"
    )
    return _html("Shared microcredentials", body)


#: What the page says per verdict (``ShareService.verdict``): checked now, trust-aware.
_VERDICTS = {
    "verified": (
        "Checked just now by the learner's wallet: the signature is valid, the issuer is an "
        "institution this wallet knows, and the issuer has not revoked it."
    ),
    "unknown_issuer": (
        "The signature is valid, but the issuer is not an institution this wallet knows: the "
        "wallet cannot vouch for who issued it. Check it with a verifier you trust."
    ),
    "revoked": "The issuer has REVOKED this credential.",
    "suspended": "The issuer has SUSPENDED this credential.",
    "status_unknown": (
        "The wallet could not check just now whether the issuer has revoked this credential."
    ),
    "unverified": "The learner's wallet could NOT verify this credential.",
}


def _num(value: float | None) -> str | None:
    return None if value is None else f"{value:g}"
