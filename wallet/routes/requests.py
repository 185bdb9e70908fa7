"""Presentation requests: preview (what is asked, what would be shared), respond, decline."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from ..deps import LearnerDep, ServicesDep

router = APIRouter(prefix="/api", tags=["requests"])


class RequestRef(BaseModel):
    request: str = Field(max_length=32_768)


class Answer(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    request: str = Field(max_length=32_768)
    credential_ids: list[str] = Field(alias="credentialIds", max_length=50)
    consent: bool = False
    disclose: dict[str, list[str]] | None = Field(default=None, max_length=50)
    """Selective disclosure, credential id → what goes: field keys of an ecdsa-sd-2023
    credential (issue 18) or claim paths of an SD-JWT VC (issue 19); by default exactly what
    the request asks for."""


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
