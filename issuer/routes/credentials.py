"""VC-API issue and status, module issuance, and the registrar's view of issued credentials."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from servicekit.problems import ProblemError

from ..deps import IdempotencyKey, Issuer, JsonBody, Member, Revoker, ServicesDep
from ..schemas import (
    IssuedCredentialOut,
    IssueModuleIn,
    StatusActionIn,
    StatusChangeIn,
    validate,
)
from ..services import issuance, records, status_lists

router = APIRouter(tags=["credentials"])


def _issued(result: issuance.Issued) -> JSONResponse:
    # 201 for a new credential, 200 when an Idempotency-Key replays an earlier one
    return JSONResponse(
        {"verifiableCredential": result.credential},
        status_code=200 if result.replayed else 201,
        headers={"Idempotent-Replayed": "true"} if result.replayed else None,
    )


@router.post(
    "/institutions/{slug}/credentials/issue", status_code=201, response_model=IssuedCredentialOut
)
def issue(ctx: ServicesDep, principal: Issuer, body: JsonBody, key: IdempotencyKey) -> JSONResponse:
    """VC-API: sign ``{"credential", "options"}`` as this institution, with status entries."""
    result = issuance.issue_vc_api(
        ctx, principal.institution, body, actor=principal.actor, idempotency_key=key
    )
    return _issued(result)


@router.post("/institutions/{slug}/issuances", status_code=201, response_model=IssuedCredentialOut)
def issue_module(
    ctx: ServicesDep, principal: Issuer, body: JsonBody, key: IdempotencyKey
) -> JSONResponse:
    """Issue a module to a learner (e-mail/student number and/or DID) with a result."""
    request = validate(IssueModuleIn, body)
    result = issuance.issue_module(
        ctx,
        principal.institution,
        request,
        actor=principal.actor,
        idempotency_key=key,
        raw_body=body,
    )
    return _issued(result)


@router.post("/institutions/{slug}/credentials/status")
def update_status(ctx: ServicesDep, principal: Revoker, body: JsonBody) -> dict[str, Any]:
    """VC-API: revoke, suspend or reactivate (revocation is permanent: 409 to undo)."""
    change = validate(StatusChangeIn, body)
    return status_lists.change(
        ctx,
        principal.institution,
        change.credentialId,
        change.targets(),
        actor=principal.actor,
        reason=change.reason,
    )


@router.get("/institutions/{slug}/credentials")
def list_credentials(
    ctx: ServicesDep,
    principal: Member,
    learner: str | None = None,
    module: str | None = None,
    before: int | None = Query(default=None, ge=1, le=2**31 - 1),  # a 500 when unbounded
    limit: int = Query(default=100, ge=1, le=1000),
) -> dict[str, Any]:
    return records.listing(
        ctx, principal.institution, learner=learner, module=module, before=before, limit=limit
    )


@router.get("/institutions/{slug}/credentials/{credential_id:path}")
def get_credential(ctx: ServicesDep, principal: Member, credential_id: str) -> dict[str, Any]:
    return records.get(ctx, principal.institution, credential_id)


_ACTIONS = {"revoke": "revoked", "suspend": "suspended", "unsuspend": "active"}


@router.post("/institutions/{slug}/credentials/{credential_id}/{action}")
def status_action(
    ctx: ServicesDep, principal: Revoker, credential_id: str, action: str, body: JsonBody
) -> dict[str, Any]:
    """The UI-facing form of a status change: …/revoke, …/suspend, …/unsuspend."""
    if action not in _ACTIONS:
        raise ProblemError(404, "not_found", f"unknown action {action!r}")
    spec = validate(StatusActionIn, body)
    return status_lists.change(
        ctx,
        principal.institution,
        credential_id,
        [_ACTIONS[action]],
        actor=principal.actor,
        reason=spec.reason,
    )
