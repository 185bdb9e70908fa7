"""Presentation requests: preview (what is asked, what would be shared), respond, decline."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ..deps import LearnerDep, ServicesDep
from ..schemas import Answer, RequestRef

router = APIRouter(prefix="/api", tags=["requests"])


@router.post("/requests/preview")
def preview(body: RequestRef, learner: LearnerDep, services: ServicesDep) -> dict[str, Any]:
    return services.requests.preview(learner, body.request)


@router.post("/requests/respond")
def respond(body: Answer, learner: LearnerDep, services: ServicesDep) -> dict[str, Any]:
    return services.requests.respond(
        learner, body.request, body.credential_ids, body.consent, body.disclose
    )


@router.post("/requests/decline")
def decline(body: RequestRef, learner: LearnerDep, services: ServicesDep) -> dict[str, Any]:
    return services.requests.decline(learner, body.request)


@router.get("/disclosures")
def disclosures(learner: LearnerDep, services: ServicesDep) -> list[dict[str, Any]]:
    return services.requests.disclosures(learner)


@router.get("/disclosures/{disclosure_id}")
def disclosure(disclosure_id: str, learner: LearnerDep, services: ServicesDep) -> dict[str, Any]:
    return services.requests.disclosure(learner, disclosure_id)
