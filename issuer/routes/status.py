"""Published status list credentials (public, cacheable, re-signed after every change)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from servicekit.negotiation import accept_weights

from ..deps import PublicInstitution, ServicesDep
from ..services import status_lists

router = APIRouter(tags=["status"])

#: The media types a status list credential is served as, preferred first. The document is
#: the same; only the label differs, for clients that accept nothing but JSON-LD or JSON.
MEDIA_TYPES = ("application/vc", "application/ld+json", "application/json")


def negotiate(accept: str | None) -> str:
    """The media type for an ``Accept`` header: the client's best-rated type we serve.

    No header, ``*/*``, ``application/*`` or nothing we serve: ``application/vc`` (the VC
    2.0 media type). Ties go to our order, so ``application/vc`` wins when accepted.
    """
    best: tuple[float, int] | None = None
    chosen = MEDIA_TYPES[0]
    for media, quality in accept_weights(accept).items():
        if quality <= 0:
            continue
        if media in MEDIA_TYPES:
            candidate = media
        elif media in ("*/*", "application/*"):
            candidate = MEDIA_TYPES[0]
        else:
            continue
        rank = (quality, -MEDIA_TYPES.index(candidate))
        if best is None or rank > best:
            best, chosen = rank, candidate
    return chosen


#: The answer of ``status_list`` for the OpenAPI document: one signed document, three labels.
STATUS_LIST_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The signed BitstringStatusListCredential (VC 2.0)",
        "content": {
            media: {"schema": {"type": "object", "required": ["@context", "type", "proof"]}}
            for media in MEDIA_TYPES
        },
    },
    304: {"description": "Not modified (``If-None-Match`` names the current ``ETag``)"},
}


@router.get(
    "/institutions/{slug}/status/{list_id}/{purpose}",
    response_class=Response,
    responses=STATUS_LIST_RESPONSES,
)
def status_list(
    ctx: ServicesDep, institution: PublicInstitution, list_id: str, purpose: str, request: Request
) -> Response:
    published = status_lists.published(ctx, institution, list_id, purpose)
    headers = {
        "Cache-Control": f"public, max-age={ctx.settings.status_max_age}",
        "ETag": published.etag,
        "Access-Control-Allow-Origin": "*",
        "Vary": "Accept",
    }
    match = request.headers.get("if-none-match", "")
    if published.etag in [tag.strip() for tag in match.split(",")]:
        return Response(status_code=304, headers=headers)
    media_type = negotiate(request.headers.get("accept"))
    return Response(published.body, media_type=media_type, headers=headers)
