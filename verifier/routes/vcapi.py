"""VC-API: ``POST /credentials/verify``, ``POST /presentations/verify``, ``POST /challenges``.

Bodies are read raw (and parsed with the core's limits) so that malformed input still gets
the report shape with a failed ``structure`` check, as the VC-API clients expect a report.
Verification does CPU work and outbound fetches, so it runs in the thread pool.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ..deps import ServicesDep, rate_limited
from ..services.clock import iso
from ._reports import REPORT_RESPONSES, json_body, report_response

router = APIRouter(tags=["VC-API"])


@router.post(
    "/credentials/verify",
    responses=REPORT_RESPONSES,
    openapi_extra=json_body(
        "a verifiable credential and options",
        {"verifiableCredential": {"type": "object"}, "options": {"type": "object"}},
    ),
    dependencies=[Depends(rate_limited("verify"))],
)
async def verify_credential(request: Request, services: ServicesDep) -> JSONResponse:
    """Verify a credential: every check reported; 200 when verified, else 400."""
    raw = await request.body()
    result = await run_in_threadpool(services.vcapi.verify_credential_body, raw)
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
    dependencies=[Depends(rate_limited("verify"))],
)
async def verify_presentation(request: Request, services: ServicesDep) -> JSONResponse:
    """Verify a presentation and each credential in it; a challenge issued by
    ``POST /challenges`` is accepted once."""
    raw = await request.body()
    result = await run_in_threadpool(services.vcapi.verify_presentation_body, raw)
    return report_response(result)


@router.post("/challenges")
async def create_challenge(services: ServicesDep) -> JSONResponse:
    """A fresh single-use challenge for a holder to sign into a presentation."""
    challenge, expires = await run_in_threadpool(services.challenges.issue)
    return JSONResponse(
        {"challenge": challenge, "expires": iso(expires)},
        headers={"Cache-Control": "no-store"},
    )
