"""Public institution facts and the did:web DID document."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from ..deps import PublicInstitution, ServicesDep
from ..schemas import DidDocumentOut
from ..services import institutions, keys

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


@router.get("/institutions/{slug}")
def institution(ctx: ServicesDep, institution: PublicInstitution) -> dict[str, Any]:
    return institutions.public(ctx, institution)
