"""Learning routes: the published catalogue, the learner's routes and their progress."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from servicekit.problems import ProblemError
from servicekit.reading import json_body

from ..deps import LearnerDep, ServicesDep

router = APIRouter(prefix="/api/routes", tags=["routes"])


@router.get("/published")
def published(learner: LearnerDep, services: ServicesDep) -> list[dict[str, Any]]:
    return services.routes.published()


@router.get("")
def my_routes(learner: LearnerDep, services: ServicesDep) -> list[dict[str, Any]]:
    return services.routes.list(learner)


@router.post("", status_code=201)
async def add_route(request: Request, learner: LearnerDep, services: ServicesDep) -> dict:
    """Body: ``{"published": "<route id>"}`` or ``{"route": {...definition...}}``."""
    data = await json_body(request, max_bytes=services.settings.max_body, want_object=True)
    published_id = data.get("published")
    if published_id is not None and not isinstance(published_id, str):
        raise ProblemError(400, "invalid_route", "published must be a route id")
    return services.routes.add(learner, definition=data.get("route"), published_id=published_id)


@router.get("/{route_id}")
def progress(route_id: str, learner: LearnerDep, services: ServicesDep) -> dict[str, Any]:
    return services.routes.progress(learner, route_id)


@router.delete("/{route_id}", status_code=204)
def remove(route_id: str, learner: LearnerDep, services: ServicesDep) -> Response:
    services.routes.remove(learner, route_id)
    return Response(status_code=204)
