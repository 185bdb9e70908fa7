"""The trust registry: public listing, and a reload for administrators."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from credentials import MalformedInput
from servicekit.problems import ProblemError

from ..deps import AdminDep, ServicesDep
from ..schemas import TrustRegistryOut, TrustRegistryReloadOut

router = APIRouter(tags=["trust registry"])


@router.get("/trust-registry", response_model=TrustRegistryOut)
async def list_registry(services: ServicesDep) -> JSONResponse:
    """The institutions this verifier recognises (public: it is what reports are based on)."""
    store = services.registry
    registry = await run_in_threadpool(store.current)
    listing = {k: v for k, v in registry.to_dict().items() if k != "source"}  # no server paths
    return JSONResponse({**listing, "last_error": store.last_error})


@router.post("/admin/trust-registry/reload", response_model=TrustRegistryReloadOut)
async def reload_registry(_: AdminDep, services: ServicesDep) -> JSONResponse:
    """Reload the registry file now; a broken file is refused and the old registry stays."""
    try:
        registry = await run_in_threadpool(services.registry.reload)
    except MalformedInput as exc:
        raise ProblemError(400, exc.code, exc.message) from None
    return JSONResponse(
        {
            "reloaded": True,
            "source": registry.source,
            "institutions": len(registry.institutions),
            "loaded_at": registry.to_dict()["loaded_at"],
        }
    )
