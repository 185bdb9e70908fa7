"""The verifier's did:web document (its request-signing key), for wallets to resolve.

``did:web:<host>`` resolves to ``/.well-known/did.json``; a verifier published under a
path (``did:web:<host>:<path>``) resolves to ``<path>/did.json``, which a reverse proxy
that strips the path hands to ``/did.json`` here.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ..deps import ServicesDep
from ..schemas import DidDocumentOut

router = APIRouter(tags=["identity"])


class DidJSONResponse(JSONResponse):
    media_type = "application/did+json"


@router.get("/.well-known/did.json", response_class=DidJSONResponse, response_model=DidDocumentOut)
@router.get("/did.json", response_class=DidJSONResponse, response_model=DidDocumentOut)
async def did_document(services: ServicesDep) -> DidJSONResponse:
    document = await run_in_threadpool(services.identity.did_document)
    return DidJSONResponse(
        document,
        headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=300"},
    )
