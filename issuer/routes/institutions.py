"""Public institution facts and the did:web DID document."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ..deps import PublicInstitution, ServicesDep
from ..schemas import DidDocumentOut
from ..services import institutions, keys
from .pages import public as public_pages

router = APIRouter(tags=["institutions"])


DID_DOCUMENT_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The DID document, as did:web resolvers fetch it",
        "content": {"application/did+ld+json": {"schema": {"type": "object"}}},
    }
}


@router.get(
    "/institutions/{slug}/did.json",
    response_model=DidDocumentOut,
    responses=DID_DOCUMENT_RESPONSE,
)
def did_document(ctx: ServicesDep, institution: PublicInstitution) -> JSONResponse:
    """The did:web DID document (``did:web:<host>:institutions:<slug>``)."""
    with ctx.db.session() as session:
        document = keys.did_document(ctx, session, institution)
    return JSONResponse(
        document,
        media_type="application/did+ld+json",
        headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"},
    )


@router.get(
    "/institutions/{slug}",
    response_model=dict[str, Any],
    responses={200: {"content": {"text/html": {}}}},  # for browsers (issue 16 point 9b)
)
def institution(request: Request, ctx: ServicesDep, institution: PublicInstitution) -> Any:
    """The institution's facts; a browser following the link from a credential gets the
    human page (issue 16 point 9b), JSON clients the JSON."""
    if public_pages.wants_html(request):
        return public_pages.institution_page(request, institution)
    return institutions.public(ctx, institution)
