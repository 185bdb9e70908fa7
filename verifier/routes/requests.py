"""Presentation requests (OpenID4VP-shaped): create, serve to the wallet, receive, report.

``GET /requests/{id}`` (the ``request_uri``) serves a signed request object by default
(RFC 9101: ``application/oauth-authz-req+jwt``, ``typ`` ``oauth-authz-req+jwt``, signed by
the verifier's did:web key, ``client_id`` = ``decentralized_identifier:<did>``), which is
what wallets of other vendors expect behind ``request_uri`` (OpenID4VP §5.10). Clients
that explicitly prefer ``application/json`` (older microcred wallets, scripts) get the
parameters as JSON under the ``redirect_uri:`` client id, as before.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from credentials import MicrocredError, openid4vp
from servicekit.errors import ServiceError
from servicekit.negotiation import accept_weights, best_weight
from servicekit.problems import ProblemError
from servicekit.ratelimit import per_client
from servicekit.reading import request_bearer

from ..deps import ServicesDep
from ..schemas import (
    PresentationRequestCreate,
    PresentationRequestOut,
    RequestResultOut,
    WalletAnswerOut,
)

router = APIRouter(prefix="/requests", tags=["presentation requests"])

REQUEST_OBJECT_TYPE = "application/oauth-authz-req+jwt"
SSE_POLL_SECONDS = 0.5
SSE_KEEPALIVE_SECONDS = 15.0
NO_STORE = {"Cache-Control": "no-store"}
_anonymous_limit = per_client("request")


@router.post("", status_code=201, response_model=PresentationRequestOut)
async def create_request(
    body: PresentationRequestCreate, request: Request, services: ServicesDep
) -> JSONResponse:
    """Create a request; the answer holds the QR, the links and the secret result token.

    A registered requester (``Authorization: Bearer <requester key>``, see
    ``Settings.requester_keys``) creates requests under its registered name; anyone else
    is rate-limited per client (``MICROCRED_RATE_REQUEST``) and asks as this verifier.
    """
    requester = services.settings.requester_for(request_bearer(request))
    if requester is None:
        _anonymous_limit(request)
    created = await run_in_threadpool(
        lambda: services.requests.create(
            purpose=body.purpose,
            credential_types=body.credential_types,
            modules=body.modules,
            rule=body.rule,
            expires_in=body.expires_in,
            client_name=body.client_name,
            requester=requester,
            formats=body.formats,
            vct_values=body.vct_values,
        )
    )
    return JSONResponse(
        created.to_dict(),
        status_code=201,
        headers={**NO_STORE, "Location": created.request_uri},
    )


@router.get(
    "/{request_id}",
    responses={
        200: {
            "description": "the signed request object, or JSON when asked for",
            "content": {
                REQUEST_OBJECT_TYPE: {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "object"}},
            },
        }
    },
)
async def get_request(request_id: str, request: Request, services: ServicesDep) -> Response:
    """The authorization request for the wallet (``request_uri``): a signed JWT, or JSON.

    Served only with the ``key`` the ``request_uri`` carries (404 otherwise)."""
    await run_in_threadpool(
        services.requests.check_key, request_id, request.query_params.get("key")
    )
    if wants_json(request.headers.get("accept", "")):
        parameters = await run_in_threadpool(services.requests.parameters, request_id)
        return JSONResponse(parameters, headers=NO_STORE)
    token = await run_in_threadpool(services.requests.request_object, request_id)
    return Response(token, media_type=REQUEST_OBJECT_TYPE, headers=NO_STORE)


def wants_json(accept: str) -> bool:
    """True when the client ranks ``application/json`` above the request-object types.

    A missing header, ``*/*`` or a tie goes to the JWT: JSON is served only when asked
    for explicitly (``Accept: application/json``).
    """
    weights = accept_weights(accept)
    jwt_q = best_weight(weights, (REQUEST_OBJECT_TYPE, "application/jwt"))
    wildcard = best_weight(weights, ("*/*", "application/*"))
    return weights.get("application/json", 0.0) > max(jwt_q, wildcard)


@router.post(
    "/{request_id}/response",
    response_model=WalletAnswerOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "vp_token": {"type": "string"},
                            "state": {"type": "string"},
                            "error": {"type": "string"},
                            "error_description": {"type": "string"},
                        },
                    }
                }
            },
        }
    },
)
async def receive_response(
    request_id: str, request: Request, services: ServicesDep
) -> JSONResponse:
    """The wallet's ``direct_post`` answer (``vp_token`` + ``state``, or ``error``)."""
    fields = await _fields(request, services.settings.max_body)
    answer = await run_in_threadpool(services.requests.respond, request_id, fields)
    return JSONResponse(answer, headers=NO_STORE)


async def _fields(request: Request, max_bytes: int) -> dict[str, str]:
    """Form fields (the OpenID4VP encoding), or a JSON object for convenience.

    The body is read first, outside any error handling, so the body-size limit still
    answers 413; only the parsing of what was read is turned into a 400.
    """
    raw = await request.body()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        return openid4vp.parse_direct_post(raw, content_type, max_bytes=max_bytes)
    except MicrocredError as exc:
        raise ProblemError(400, exc.code, exc.message, error="invalid_request") from None


def _result_token(request: Request) -> str | None:
    return request_bearer(request) or request.query_params.get("token")


@router.get("/{request_id}/result", response_model=RequestResultOut)
async def get_result(request_id: str, request: Request, services: ServicesDep) -> JSONResponse:
    """The result for the employer's page (needs the result token: it names the learner)."""
    result = await run_in_threadpool(services.requests.result, request_id, _result_token(request))
    return JSONResponse(result, headers=NO_STORE)


@router.get(
    "/{request_id}/events",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "Server-sent events: status, then result or error",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        }
    },
)
async def result_events(
    request_id: str, request: Request, services: ServicesDep
) -> StreamingResponse:
    """Server-sent events: ``status`` while pending, then one ``result`` (or ``timeout``).

    The token may come as ``?token=`` because EventSource cannot set headers; it is an
    opaque random value, not credential data.
    """
    token = _result_token(request)
    await run_in_threadpool(services.requests.result, request_id, token)  # 401/404 up front
    timeout = services.settings.sse_timeout

    async def stream() -> AsyncIterator[str]:
        yield "retry: 2000\n\n"
        deadline = time.monotonic() + timeout
        last_sent = time.monotonic()
        reported: tuple[str, int] | None = None
        while True:
            try:
                payload = await run_in_threadpool(services.requests.result, request_id, token)
            except ServiceError as exc:
                yield _event("error", {"code": exc.code, "detail": exc.detail})
                return
            if payload["status"] != "pending":
                yield _event("result", payload)
                return
            seen = (payload["status"], payload["rejected_attempts"])
            if seen != reported:
                reported, last_sent = seen, time.monotonic()
                yield _event(
                    "status",
                    {"status": "pending", "rejected_attempts": payload["rejected_attempts"]},
                )
            elif time.monotonic() - last_sent > SSE_KEEPALIVE_SECONDS:
                last_sent = time.monotonic()
                yield ": keep-alive\n\n"
            if time.monotonic() > deadline:
                yield _event("timeout", {"status": "pending"})
                return
            if await request.is_disconnected():
                return
            await asyncio.sleep(SSE_POLL_SECONDS)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={**NO_STORE, "X-Accel-Buffering": "no"},
    )


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"
