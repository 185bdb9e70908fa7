"""Admin endpoints for the verification log: read the (hash-only) entries, purge old ones."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ..deps import AdminDep, ServicesDep
from ..schemas import PurgeOut, VerificationLogOut
from ..services.clock import iso

router = APIRouter(prefix="/admin", tags=["admin"])


@router.get("/verification-log", response_model=VerificationLogOut)
async def verification_log(
    _: AdminDep, services: ServicesDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> JSONResponse:
    entries = await run_in_threadpool(services.log.entries, limit)
    return JSONResponse(
        {
            "keep_full_log": services.settings.keep_full_log,
            "retention_days": services.settings.log_retention_days,
            "entries": [
                {
                    "id": e.id,
                    "created_at": iso(e.created_at),
                    "kind": e.kind,
                    "verified": e.verified,
                    "issuer": e.issuer,
                    "credential_id_hash": e.credential_id_hash,
                    "failed_checks": [c for c in e.failed_checks.split(",") if c],
                    "document": e.document,
                }
                for e in entries
            ],
        }
    )


@router.post("/verification-log/purge", response_model=PurgeOut)
async def purge_log(_: AdminDep, services: ServicesDep) -> JSONResponse:
    """Apply the retention settings now (also done at start-up and by ``verifier purge-log``)."""
    result = await run_in_threadpool(services.purge)
    return JSONResponse({"purged": result.to_dict()})
