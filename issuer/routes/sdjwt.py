"""SD-JWT VC documents: JWT VC issuer metadata, vct type metadata, Token Status Lists."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from credentials import TOKEN_STATUS_LIST_MEDIA_TYPE as MEDIA_TYPE

from ..deps import PublicInstitution, ServicesDep
from ..schemas import JwtVcIssuerMetadataOut, TypeMetadataOut, media_content
from ..services import sdjwt

router = APIRouter(tags=["sd-jwt-vc"])

PUBLIC = {"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=300"}


@router.get("/.well-known/jwt-vc-issuer/institutions/{slug}", response_model=JwtVcIssuerMetadataOut)
def jwt_vc_issuer(ctx: ServicesDep, institution: PublicInstitution) -> JSONResponse:
    return JSONResponse(sdjwt.jwt_vc_issuer_metadata(ctx, institution), headers=PUBLIC)


@router.get("/institutions/{slug}/vct/{module_type}", response_model=TypeMetadataOut)
def type_metadata(
    ctx: ServicesDep, institution: PublicInstitution, module_type: str
) -> JSONResponse:
    return JSONResponse(sdjwt.type_metadata(ctx, institution, module_type), headers=PUBLIC)


@router.get(
    "/institutions/{slug}/status/{list_id}/token",
    response_class=Response,
    responses=media_content("The Token Status List (a signed JWT)", MEDIA_TYPE),
)
def token_status_list(ctx: ServicesDep, institution: PublicInstitution, list_id: str) -> Response:
    body = sdjwt.token_status_list(ctx, institution, list_id)
    headers = {
        "Cache-Control": f"public, max-age={ctx.settings.status_max_age}",
        "Access-Control-Allow-Origin": "*",
    }
    return Response(body, media_type=MEDIA_TYPE, headers=headers)
