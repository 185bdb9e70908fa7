"""Data control: export everything as one JSON file, import it into a fresh account."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from servicekit.reading import json_body

from ..deps import LearnerDep, ServicesDep
from ..schemas import WalletExportOut

router = APIRouter(prefix="/api", tags=["data"])


@router.get("/export", response_model=WalletExportOut)
def export(learner: LearnerDep, services: ServicesDep) -> JSONResponse:
    bundle = services.portability.export(learner)
    name = f"microcred-wallet-{learner.username}.json"
    return JSONResponse(
        bundle,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/import", status_code=201)
async def restore(request: Request, learner: LearnerDep, services: ServicesDep) -> dict:
    bundle = await json_body(request, max_bytes=services.settings.max_import_body, want_object=True)
    return {"imported": services.portability.restore(learner, bundle)}
