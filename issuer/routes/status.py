"""Published status list credentials (public, cacheable, re-signed after every change)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from ..deps import Ctx, PublicInstitution
from ..services import status_lists

router = APIRouter(tags=["status"])


@router.get("/institutions/{slug}/status/{list_id}/{purpose}")
def status_list(
    ctx: Ctx, institution: PublicInstitution, list_id: str, purpose: str, request: Request
) -> Response:
    published = status_lists.published(ctx, institution, list_id, purpose)
    headers = {
        "Cache-Control": f"public, max-age={ctx.settings.status_max_age}",
        "ETag": published.etag,
        "Access-Control-Allow-Origin": "*",
    }
    match = request.headers.get("if-none-match", "")
    if published.etag in [tag.strip() for tag in match.split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(published.body, media_type="application/vc", headers=headers)
