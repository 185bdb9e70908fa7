"""Share links: the learner's API (create, list, revoke, access log) and the public link.

``POST /api/shares`` answers ``qrPng`` as a data URI (``data:image/png;base64,…``, usable
directly as an ``<img src>``) and ``qrSvg`` as the SVG document text.

``GET /s/{token}`` is public (the token is the capability): JSON (the signed presentation)
when the client asks for JSON explicitly (``Accept: application/json``, or
``application/ld+json``, ``application/vp+ld+json``, at least as preferred as HTML), the
employer's landing page otherwise (``wallet/routes/public_share.py``), which uses no view;
``POST /s/{token}`` (the page's button) shows the credentials verified on the spot and
counts one view. 410 Gone when expired, revoked or out of views; 404 when no such link
exists.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from servicekit.negotiation import accept_weights, best_weight
from servicekit.problems import ProblemError, problem_response
from servicekit.ratelimit import per_client

from ..deps import LearnerDep, ServicesDep
from ..schemas import ShareCreate
from . import public_share

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


@router.api_route(
    "/s/{token}",
    methods=["GET", "HEAD"],
    include_in_schema=False,
    dependencies=[Depends(per_client("share"))],
)
def open_share(token: str, request: Request, services: ServicesDep) -> Response:
    """JSON for software (a view); for people the landing page, which counts nothing.

    Link previews (chat apps, mail scanners, prefetch) fetch this same URL; so the page they
    get names no credential and uses no view. The reader opens the credentials with the
    page's button: :func:`show_share`.
    """
    wants_json = prefers_json(request.headers.get("accept", ""))
    if not wants_json:
        return public_share.landing(request, services.shares.peek(token), token)
    answer = services.shares.open(
        token, wants_json=True, user_agent=request.headers.get("user-agent", "")
    )
    if answer is None:
        raise ProblemError(404, "share_not_found", "no such share link", headers=_PRIVATE)
    if answer.gone:
        return problem_response(
            410, f"share_{answer.outcome}", _GONE[answer.outcome], headers=_PRIVATE
        )
    return JSONResponse(answer.presentation, headers=_PRIVATE)


@router.post("/s/{token}", include_in_schema=False, dependencies=[Depends(per_client("share"))])
def show_share(token: str, request: Request, services: ServicesDep) -> Response:
    """The reader asked to see the credentials: one view, verified on the spot."""
    answer = services.shares.open(
        token, wants_json=False, user_agent=request.headers.get("user-agent", "")
    )
    return public_share.shown(request, answer, token)


def prefers_json(accept: str) -> bool:
    """True when the client explicitly asks for JSON at least as much as for HTML."""
    weights = accept_weights(accept)
    best_json = best_weight(weights, _JSON_TYPES)
    best_html = best_weight(weights, ("text/html", "application/xhtml+xml"))
    return best_json > 0 and best_json >= best_html


_GONE = {
    "expired": "this share link has expired",
    "revoked": "the learner has revoked this share link",
    "exhausted": "this share link has been viewed as often as the learner allowed",
}
