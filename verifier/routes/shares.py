"""``POST /shares/verify {"url": …}``: verify a learner's share link."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from credentials import MicrocredError

from ..deps import ServicesDep, rate_limited
from ..services.shares import KIND
from ..services.stack import stacks_of
from ..services.vcapi import parse_body
from ..services.verification import malformed
from ._reports import REPORT_RESPONSES, json_body, report_response

router = APIRouter(tags=["share links"])


@router.post(
    "/shares/verify",
    responses=REPORT_RESPONSES,
    openapi_extra=json_body("the share link", {"url": {"type": "string"}}),
    dependencies=[Depends(rate_limited("verify"))],
)
async def verify_share(request: Request, services: ServicesDep) -> JSONResponse:
    """Fetch the presentation behind a share link (safely) and verify it, domain = the URL."""
    raw = await request.body()
    try:
        body = parse_body(raw, max_bytes=services.settings.max_body)
    except MicrocredError as exc:
        return report_response(malformed(KIND, exc.code, exc.message))
    if not isinstance(body, dict):
        return report_response(malformed(KIND, "invalid_request", 'the body must be {"url": …}'))
    result = await run_in_threadpool(services.shares.verify, body.get("url"))
    if not result.credentials:
        return report_response(result)
    body = {**result.to_dict(), "stacks": stacks_of(result)}  # issue 17: award + its parts
    return JSONResponse(
        body, status_code=200 if result.verified else 400, headers={"Cache-Control": "no-store"}
    )
