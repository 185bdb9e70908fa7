"""Presentation requests (OpenID4VP-shaped): create, serve to the wallet, receive, report.

``GET /requests/{id}`` serves the authorization request parameters as JSON; a wallet that
asks for ``application/oauth-authz-req+jwt`` gets them as an unsigned request object
(``alg: none``), the only form a ``redirect_uri:`` client can offer (OpenID4VP §5.9);
whether wallets accept that is unconfirmed, so the QR carries the parameters by value.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from credentials.errors import MicrocredError
from credentials.model import parse_json
from servicekit.problems import ProblemError

from ..deps import ServicesDep, bearer_token
from ..models import PresentationRequestCreate

router = APIRouter(prefix="/requests", tags=["presentation requests"])

REQUEST_OBJECT_TYPE = "application/oauth-authz-req+jwt"
SSE_POLL_SECONDS = 0.5
SSE_KEEPALIVE_SECONDS = 15.0
NO_STORE = {"Cache-Control": "no-store"}


@router.post("", status_code=201)
async def create_request(body: PresentationRequestCreate, services: ServicesDep) -> JSONResponse:
    """Create a request; the answer holds the QR, the links and the secret result token."""
    created = await run_in_threadpool(
        lambda: services.requests.create(
            purpose=body.purpose,
            credential_types=body.credential_types,
            modules=body.modules,
            rule=body.rule,
            expires_in=body.expires_in,
            client_name=body.client_name,
        )
    )
    return JSONResponse(
        created.to_dict(),
        status_code=201,
        headers={**NO_STORE, "Location": created.request_uri},
    )


@router.get("/{request_id}")
async def get_request(request_id: str, request: Request, services: ServicesDep) -> Response:
    """The authorization request parameters, for the wallet (``request_uri``)."""
    parameters = await run_in_threadpool(services.requests.parameters, request_id)
    if REQUEST_OBJECT_TYPE in request.headers.get("accept", ""):
        return Response(
            unsigned_request_object(parameters), media_type=REQUEST_OBJECT_TYPE, headers=NO_STORE
        )
    return JSONResponse(parameters, headers=NO_STORE)


def unsigned_request_object(parameters: dict[str, Any]) -> str:
    header = {"alg": "none", "typ": "oauth-authz-req+jwt"}
    payload = {**parameters, "aud": "https://self-issued.me/v2"}
    return f"{_b64(header)}.{_b64(payload)}."


def _b64(value: dict[str, Any]) -> str:
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@router.post(
    "/{request_id}/response",
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
        if content_type == "application/json":
            body = parse_json(raw, max_bytes=max_bytes)
            if not isinstance(body, dict):
                raise ValueError("a JSON answer must be an object")
            items = [(k, v if isinstance(v, str) else json.dumps(v)) for k, v in body.items()]
        else:
            items = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
    except (MicrocredError, ValueError, UnicodeDecodeError) as exc:
        raise ProblemError(
            400, "invalid_request", f"the answer cannot be read: {exc}", error="invalid_request"
        ) from None
    fields: dict[str, str] = {}
    for key, value in items:
        if key in fields:
            raise ProblemError(
                400, "invalid_request", f"the field {key} is given twice", error="invalid_request"
            )
        fields[key] = value
    return fields


def _result_token(request: Request) -> str | None:
    return bearer_token(request) or request.query_params.get("token")


@router.get("/{request_id}/result")
async def get_result(request_id: str, request: Request, services: ServicesDep) -> JSONResponse:
    """The result for the employer's page (needs the result token: it names the learner)."""
    result = await run_in_threadpool(services.requests.result, request_id, _result_token(request))
    return JSONResponse(result, headers=NO_STORE)


@router.get("/{request_id}/events")
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
            except ProblemError as exc:
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
