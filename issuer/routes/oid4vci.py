"""OpenID4VCI endpoints (the wallet's side): metadata, offer, token, nonce, credential.

The credential issuer identifier is ``{public_url}/institutions/<slug>``; its metadata is
served at the 1.0 location (``/.well-known/openid-credential-issuer`` inserted before the
path) and at the draft-13 one (appended), and likewise the OAuth AS metadata. Protocol
errors are OAuth JSON (``{"error": …}``); token and nonce answers are ``no-store``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from servicekit.errors import STATUS_BY_KIND, Invalid
from servicekit.ratelimit import per_client
from servicekit.reading import form_fields, is_json, json_body, media_type

from ..deps import PublicInstitution, ServicesDep
from ..schemas import (
    AuthorizationServerMetadataOut,
    CredentialIssuerMetadataOut,
    CredentialOfferOut,
    CredentialOut,
    NonceOut,
    TokenOut,
    media_content,
)
from ..services import delivery, offers, oid4vci_flow

router = APIRouter(tags=["openid4vci"])

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
PUBLIC = {"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=300"}


def _oauth_error(error: offers.OAuthError) -> JSONResponse:
    return JSONResponse(
        error.body(),
        status_code=STATUS_BY_KIND[error.kind.kind],
        headers={**NO_STORE, **error.headers},
    )


async def _json_body(request: Request, error_code: str) -> Any:
    """The request's JSON body (None when it is not sent as JSON); unparseable JSON is the
    endpoint's own OAuth error (``error_code``), raised as :class:`offers.OAuthError`."""
    if not is_json(request):
        return None
    try:
        return await json_body(request)
    except Invalid as exc:
        raise offers.OAuthError(Invalid, error_code, exc.detail) from exc


@router.get(
    "/.well-known/openid-credential-issuer/institutions/{slug}",
    response_model=CredentialIssuerMetadataOut,
)
@router.get(
    "/institutions/{slug}/.well-known/openid-credential-issuer",
    response_model=CredentialIssuerMetadataOut,
)
def issuer_metadata(ctx: ServicesDep, institution: PublicInstitution) -> JSONResponse:
    return JSONResponse(offers.issuer_metadata(ctx, institution), headers=PUBLIC)


@router.get(
    "/.well-known/oauth-authorization-server/institutions/{slug}",
    response_model=AuthorizationServerMetadataOut,
)
@router.get(
    "/institutions/{slug}/.well-known/oauth-authorization-server",
    response_model=AuthorizationServerMetadataOut,
)
def authorization_server_metadata(ctx: ServicesDep, institution: PublicInstitution) -> JSONResponse:
    return JSONResponse(offers.authorization_server_metadata(ctx, institution), headers=PUBLIC)


@router.get("/institutions/{slug}/credential-offers/{handle}", response_model=CredentialOfferOut)
def credential_offer(ctx: ServicesDep, institution: PublicInstitution, handle: str) -> JSONResponse:
    """The offer JSON behind ``credential_offer_uri`` (the handle is the secret)."""
    offer = offers.by_handle(ctx, institution, handle)
    delivery.mark_opened(ctx, offer.id)  # a cohort row's "geopend"
    return JSONResponse(
        offers.offer_json(ctx, institution, handle, offer),
        headers={**NO_STORE, "Access-Control-Allow-Origin": "*"},
    )


@router.get(
    "/institutions/{slug}/credential-offers/{handle}/qr.png",
    response_class=Response,
    responses=media_content("The offer as a QR code", "image/png", binary=True),
)
def offer_qr_png(ctx: ServicesDep, institution: PublicInstitution, handle: str) -> Response:
    image = offers.qr(ctx, institution, handle, "png")
    return Response(image, media_type="image/png", headers=NO_STORE)


@router.get(
    "/institutions/{slug}/credential-offers/{handle}/qr.svg",
    response_class=Response,
    responses=media_content("The offer as a QR code", "image/svg+xml"),
)
def offer_qr_svg(ctx: ServicesDep, institution: PublicInstitution, handle: str) -> Response:
    image = offers.qr(ctx, institution, handle, "svg")
    return Response(image, media_type="image/svg+xml", headers=NO_STORE)


@router.post(
    "/institutions/{slug}/token",
    dependencies=[Depends(per_client("token"))],
    response_model=TokenOut,
)
async def token(ctx: ServicesDep, institution: PublicInstitution, request: Request) -> JSONResponse:
    """Pre-authorised code (+ ``tx_code``) → access token; form-encoded as OAuth requires."""
    if media_type(request) != ("application", "x-www-form-urlencoded"):
        return _oauth_error(
            offers.OAuthError(
                Invalid, "invalid_request", "send application/x-www-form-urlencoded parameters"
            )
        )
    fields = await form_fields(request, max_files=0, max_fields=20)
    try:
        answer = await run_in_threadpool(oid4vci_flow.token, ctx, institution, fields)
    except offers.OAuthError as error:
        return _oauth_error(error)
    return JSONResponse(answer, headers=NO_STORE)


@router.post("/institutions/{slug}/nonce", response_model=NonceOut)
def nonce(ctx: ServicesDep, institution: PublicInstitution) -> JSONResponse:
    return JSONResponse(oid4vci_flow.nonce(ctx, institution), headers=NO_STORE)


@router.post("/institutions/{slug}/credential", response_model=CredentialOut)
async def credential(
    ctx: ServicesDep, institution: PublicInstitution, request: Request
) -> JSONResponse:
    """Access token + key proof → ``{"credentials": [{"credential": VC}]}``."""
    authorization = request.headers.get("authorization")
    try:
        body = await _json_body(request, "invalid_credential_request")
        answer = await run_in_threadpool(
            oid4vci_flow.credential, ctx, institution, authorization, body
        )
    except offers.OAuthError as error:
        return _oauth_error(error)
    return JSONResponse(answer, headers=NO_STORE)


@router.post("/institutions/{slug}/notification", status_code=204, response_class=Response)
async def notification(
    ctx: ServicesDep, institution: PublicInstitution, request: Request
) -> Response:
    """The wallet's word on the credential it received (OpenID4VCI 1.0 §11): 204."""
    authorization = request.headers.get("authorization")
    try:
        body = await _json_body(request, "invalid_notification_request")
        await run_in_threadpool(oid4vci_flow.notification, ctx, institution, authorization, body)
    except offers.OAuthError as error:
        return _oauth_error(error)
    return Response(status_code=204, headers=NO_STORE)
