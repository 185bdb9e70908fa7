"""The module catalogue: CRUD for admins; the achievement id itself is public."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ..deps import Admin, JsonBody, Member, PublicInstitution, ServicesDep
from ..schemas import ModuleIn, validate
from ..services import modules

router = APIRouter(tags=["modules"])


@router.post("/institutions/{slug}/modules", status_code=201)
def create_module(ctx: ServicesDep, principal: Admin, body: JsonBody) -> dict[str, Any]:
    spec = validate(ModuleIn, body)
    return modules.create(ctx, principal.institution, spec, actor=principal.actor)


@router.get("/institutions/{slug}/modules")
def list_modules(ctx: ServicesDep, principal: Member, archived: bool = False) -> dict[str, Any]:
    return {"modules": modules.listing(ctx, principal.institution, include_archived=archived)}


@router.get("/institutions/{slug}/modules/{module_id}")
def get_module(ctx: ServicesDep, institution: PublicInstitution, module_id: str) -> dict[str, Any]:
    """The achievement id dereferenced: the module as credentials state it (public)."""
    return {
        **modules.get(ctx, institution, module_id),
        **modules.achievement(ctx, institution, module_id),
    }


@router.put("/institutions/{slug}/modules/{module_id}")
def replace_module(
    ctx: ServicesDep, principal: Admin, module_id: str, body: JsonBody
) -> dict[str, Any]:
    spec = validate(ModuleIn, body)
    return modules.replace(ctx, principal.institution, module_id, spec, actor=principal.actor)


@router.delete("/institutions/{slug}/modules/{module_id}")
def archive_module(ctx: ServicesDep, principal: Admin, module_id: str) -> dict[str, Any]:
    """Archive (modules are never deleted: issued credentials name them)."""
    return modules.archive(ctx, principal.institution, module_id, actor=principal.actor)
