"""``POST /admissions/evaluate``: a route rule over the verified credentials of an applicant."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from credentials import MicrocredError
from servicekit.problems import ProblemError

from ..deps import ServicesDep, rate_limited
from ..schemas import AdmissionOut
from ..services.vcapi import parse_body
from ._reports import json_body

router = APIRouter(tags=["admissions"])


@router.post(
    "/admissions/evaluate",
    response_model=AdmissionOut,
    openapi_extra=json_body(
        "a presentation (with options.challenge/domain) or a list of credentials, and a rule",
        {
            "verifiablePresentation": {"type": "object"},
            "credentials": {"type": "array", "items": {"type": "object"}},
            "options": {"type": "object"},
            "rule": {"type": "object"},
        },
    ),
    dependencies=[Depends(rate_limited("verify"))],
)
async def evaluate(request: Request, services: ServicesDep) -> JSONResponse:
    """Verify, then evaluate the rule over what verified; each requirement explained."""
    raw = await request.body()
    try:
        body = parse_body(raw, max_bytes=services.settings.max_body)
    except MicrocredError as exc:
        raise ProblemError(400, exc.code, exc.message) from None
    outcome = await run_in_threadpool(services.admissions.evaluate, body)
    return JSONResponse(outcome, headers={"Cache-Control": "no-store"})
