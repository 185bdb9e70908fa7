"""Recognition (issue 17), the learner's API: institution routes, requests for recognition
and their cases, and the parts an award stands on. Answering the institution's presentation
request is the ordinary ``/api/requests/preview`` and ``/api/requests/respond``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from ..deps import LearnerDep, ServicesDep

router = APIRouter(prefix="/api/recognition", tags=["recognition"])


class RouteRef(BaseModel):
    url: str = Field(max_length=2048)


@router.get("/routes")
def routes(learner: LearnerDep, services: ServicesDep) -> list[dict[str, Any]]:
    return services.recognition.list_routes(learner)


@router.post("/routes", status_code=201)
async def adopt(body: RouteRef, learner: LearnerDep, services: ServicesDep) -> dict[str, Any]:
    """Follow the route an institution publishes at ``url``."""
    return await run_in_threadpool(services.recognition.adopt, learner, body.url)


@router.get("/routes/{route_id}")
def route(route_id: str, learner: LearnerDep, services: ServicesDep) -> dict[str, Any]:
    return services.recognition.route(learner, route_id)


@router.post("/routes/{route_id}/request", status_code=201)
async def ask(route_id: str, learner: LearnerDep, services: ServicesDep) -> dict[str, Any]:
    """Open a case; answer its ``authorizationRequest`` through /api/requests next."""
    return await run_in_threadpool(services.recognition.ask, learner, route_id)


@router.get("/cases")
async def cases(learner: LearnerDep, services: ServicesDep) -> list[dict[str, Any]]:
    return await run_in_threadpool(services.recognition.cases, learner)


@router.get("/cases/{case_id}")
async def case(case_id: str, learner: LearnerDep, services: ServicesDep) -> dict[str, Any]:
    return await run_in_threadpool(services.recognition.case, learner, case_id)


@router.post("/cases/{case_id}/collect")
async def collect(case_id: str, learner: LearnerDep, services: ServicesDep) -> dict[str, Any]:
    return await run_in_threadpool(services.recognition.collect, learner, case_id)


@router.get("/credentials/{credential_id}/parts")
def parts(credential_id: str, learner: LearnerDep, services: ServicesDep) -> dict[str, Any]:
    """What a route or exemption credential stands on, matched with what the wallet holds
    (``parts: []`` for a credential that references nothing)."""
    found = services.recognition.parts(learner, credential_id)
    return found or {"modules": 0, "institutions": 0, "parts": [], "shareable": []}
