"""Credentials: list and filter, detail, receive by offer, import a file, delete."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from servicekit.problems import ProblemError
from servicekit.reading import bool_field, json_body

from ..deps import LearnerDep, ServicesDep
from ..services.store import CredentialFilter

router = APIRouter(prefix="/api/credentials", tags=["credentials"])


@router.get("")
def browse(
    learner: LearnerDep,
    services: ServicesDep,
    institution: Annotated[str | None, Query(max_length=200)] = None,
    module: Annotated[str | None, Query(max_length=300)] = None,
    level: Annotated[int | None, Query(ge=1, le=8)] = None,
    issued_from: Annotated[date | None, Query(alias="issuedFrom")] = None,
    issued_to: Annotated[date | None, Query(alias="issuedTo")] = None,
) -> list[dict[str, Any]]:
    filters = CredentialFilter(institution, module, level, issued_from, issued_to)
    return services.store.browse(learner.id, filters)


@router.post("/offers", status_code=201)
async def receive_offer(request: Request, learner: LearnerDep, services: ServicesDep) -> dict:
    data = await json_body(request, max_bytes=services.settings.max_body, want_object=True)
    tx_code = data.get("tx_code", data.get("txCode"))
    if tx_code is not None and not isinstance(tx_code, str):
        tx_code = str(tx_code) if isinstance(tx_code, int) else None
    if "offer" not in data:
        raise ProblemError(400, "invalid_offer", "offer is required")
    wanted = data.get("format")
    received = services.receive.receive_offer(
        learner,
        data["offer"],
        tx_code=tx_code,
        keep_unverified=bool_field(data, "keepUnverified"),
        format=wanted if isinstance(wanted, str) else None,
    )
    return {"credentials": received}


@router.post("/import", status_code=201)
async def import_credential(request: Request, learner: LearnerDep, services: ServicesDep) -> dict:
    data = await json_body(request, max_bytes=services.settings.max_body, want_object=True)
    if "url" in data and "credential" not in data:  # an Open Badges 2.0 assertion URL
        return services.receive.import_url(
            learner, data["url"], keep_unverified=bool_field(data, "keepUnverified")
        )
    if "credential" not in data:
        raise ProblemError(400, "not_a_credential", "credential (or url) is required")
    return services.receive.import_credential(
        learner, data["credential"], keep_unverified=bool_field(data, "keepUnverified")
    )


@router.get("/{credential_id}")
def detail(
    credential_id: str,
    learner: LearnerDep,
    services: ServicesDep,
    refresh: bool = False,
) -> dict[str, Any]:
    return services.store.detail(learner, credential_id, refresh=refresh)


@router.delete("/{credential_id}", status_code=204)
def remove(credential_id: str, learner: LearnerDep, services: ServicesDep) -> Response:
    services.store.delete(learner.id, credential_id)
    return Response(status_code=204)
