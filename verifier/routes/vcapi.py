"""VC-API: ``POST /credentials/verify``, ``POST /presentations/verify``, ``POST /challenges``.

Bodies are read raw (and parsed with the core's limits) so that malformed input still gets
the report shape with a failed ``structure`` check, as the VC-API clients expect a report.
Verification does CPU work and outbound fetches, so it runs in a thread pool of its own.

The two verify routes are the hot path under load (bench row 3), so they take the
per-client limit and the services inline rather than as FastAPI dependencies, and hand
work to their pool with asyncio's ``run_in_executor`` rather than anyio's thread
machinery: together about a fifth of the request overhead, for the same behaviour.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from servicekit.ratelimit import per_client

from ..deps import ServicesDep, services_of
from ..schemas import ChallengeOut
from ..services.clock import iso
from ._reports import REPORT_RESPONSES, json_body, report_response

router = APIRouter(tags=["VC-API"])

T = TypeVar("T")
_verify_limit = per_client("verify")


async def _in_pool(
    request: Request, work: Callable[[bytes, str | None], T], raw: bytes, content_type: str | None
) -> T:
    pool = request.app.state.verify_pool.get()  # the app's own (see verifier/main.py)
    return await asyncio.get_running_loop().run_in_executor(pool, work, raw, content_type)


@router.post(
    "/credentials/verify",
    responses=REPORT_RESPONSES,
    openapi_extra=json_body(
        "a verifiable credential and options",
        {"verifiableCredential": {"type": "object"}, "options": {"type": "object"}},
    ),
)
async def verify_credential(request: Request) -> JSONResponse:
    """Verify a credential: every check reported; 200 when verified, else 400 (an
    unsupported format, e.g. a JWT-secured VC, with the code ``unsupported_format``)."""
    _verify_limit(request)
    raw = await request.body()
    result = await _in_pool(
        request,
        services_of(request).vcapi.verify_credential_body,
        raw,
        request.headers.get("content-type"),
    )
    return report_response(result)


@router.post(
    "/presentations/verify",
    responses=REPORT_RESPONSES,
    openapi_extra=json_body(
        "a verifiable presentation and options (challenge, domain)",
        {
            "verifiablePresentation": {"type": "object"},
            "options": {
                "type": "object",
                "properties": {"challenge": {"type": "string"}, "domain": {"type": "string"}},
            },
        },
    ),
)
async def verify_presentation(request: Request) -> JSONResponse:
    """Verify a presentation and each credential in it; a challenge issued by
    ``POST /challenges`` is accepted once."""
    _verify_limit(request)
    raw = await request.body()
    result = await _in_pool(
        request,
        services_of(request).vcapi.verify_presentation_body,
        raw,
        request.headers.get("content-type"),
    )
    return report_response(result)


@router.post("/challenges", response_model=ChallengeOut)
async def create_challenge(services: ServicesDep) -> JSONResponse:
    """A fresh single-use challenge for a holder to sign into a presentation."""
    challenge, expires = await run_in_threadpool(services.challenges.issue)
    return JSONResponse(
        {"challenge": challenge, "expires": iso(expires)},
        headers={"Cache-Control": "no-store"},
    )
