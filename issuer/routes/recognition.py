"""Recognition over HTTP (issue 17): published routes, the OpenID4VP request for
recognition, the learner's case, and the exam board's API (the console has pages too)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from credentials import REQUEST_OBJECT_MEDIA_TYPE, MicrocredError, parse_direct_post
from servicekit.errors import Invalid
from servicekit.ratelimit import per_client

from ..deps import Admin, Ctx, Issuer, JsonBody, Member, PublicInstitution
from ..schemas import media_content
from ..services.recognition import catalogue, decisions, recheck, requests

router = APIRouter(tags=["recognition"])


# the answers' shapes for the OpenAPI document (docs/recognition.md has the prose)


class RecognitionStartOut(BaseModel):
    authorization_request: str
    request_uri: str
    case_uri: str
    expires_at: str


class DirectPostOut(BaseModel):
    redirect_uri: str | None = None


class CaseRouteOut(BaseModel):
    name: str | None
    kind: str
    institution: str


class LearnerCaseOut(BaseModel):
    state: str
    reason: str | None
    reason_code: str | None
    route: CaseRouteOut
    credential_offer_uri: str | None
    offer_uri: str | None
    updated: str | None


class BoardCaseOut(BaseModel):
    """The board's case (``decisions.detail``): summary, learner, reports, evaluation."""

    model_config = ConfigDict(extra="allow")
    id: str
    state: str


NO_STORE = {"Cache-Control": "no-store"}
BASE = "/institutions/{slug}"


# --------------------------------------------------------------------------- routes


@router.get(BASE + "/routes")
def list_routes(ctx: Ctx, institution: PublicInstitution) -> dict[str, Any]:
    """The routes and exemption rules the institution publishes (public)."""
    return {"routes": catalogue.listing(ctx, institution)}


@router.get(BASE + "/routes/{route}")
def get_route(ctx: Ctx, institution: PublicInstitution, route: str) -> dict[str, Any]:
    return catalogue.get(ctx, institution, route)


@router.post(BASE + "/routes", status_code=201)
def publish_route(ctx: Ctx, principal: Admin, body: JsonBody) -> dict[str, Any]:
    """Publish (or replace) a route: ``{slug, kind, rule, award_module, auto_award}``."""
    spec = catalogue.parse_spec(body)
    return catalogue.publish(ctx, principal.institution, spec, actor=principal.actor)


@router.delete(BASE + "/routes/{route}", status_code=204)
def archive_route(ctx: Ctx, principal: Admin, route: str) -> Response:
    catalogue.archive(ctx, principal.institution, route, actor=principal.actor)
    return Response(status_code=204)


@router.get(BASE + "/accepted-issuers")
def list_accepted(ctx: Ctx, principal: Member) -> dict[str, Any]:
    return {"issuers": catalogue.accepted_issuers(ctx, principal.institution)}


@router.post(BASE + "/accepted-issuers", status_code=201)
def add_accepted(ctx: Ctx, principal: Admin, body: JsonBody) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise Invalid("invalid_request", 'the body is {"did": …, "name": …}')
    return catalogue.add_issuer(
        ctx, principal.institution, body.get("did"), body.get("name"), actor=principal.actor
    )


@router.delete(BASE + "/accepted-issuers/{did}", status_code=204)
def remove_accepted(ctx: Ctx, principal: Admin, did: str) -> Response:
    catalogue.remove_issuer(ctx, principal.institution, did, actor=principal.actor)
    return Response(status_code=204)


# --------------------------------------------------------------------------- the learner's side


@router.post(
    BASE + "/routes/{route}/recognition",
    status_code=201,
    response_model=RecognitionStartOut,
    # anyone may ask, and each request is a row: limited per client (MICROCRED_RATE_REQUEST)
    dependencies=[Depends(per_client("request"))],
)
async def ask_recognition(
    ctx: Ctx, institution: PublicInstitution, route: str, request: Request
) -> JSONResponse:
    """Start a request for recognition: the OpenID4VP request and the learner's case URI."""
    started = await run_in_threadpool(requests.start, ctx, institution, route)
    return JSONResponse(started, status_code=201, headers=NO_STORE)


@router.get(
    BASE + "/recognition/requests/{case_id}",
    response_class=Response,
    responses=media_content("the signed request object", REQUEST_OBJECT_MEDIA_TYPE),
)
async def get_request_object(
    ctx: Ctx, institution: PublicInstitution, case_id: str, request: Request
) -> Response:
    """The signed request object behind ``request_uri`` (needs its ``key``)."""
    token = await run_in_threadpool(
        requests.request_object, ctx, institution, case_id, request.query_params.get("key")
    )
    return Response(token, media_type=REQUEST_OBJECT_MEDIA_TYPE, headers=NO_STORE)


@router.post(BASE + "/recognition/requests/{case_id}/response", response_model=DirectPostOut)
async def post_response(
    ctx: Ctx, institution: PublicInstitution, case_id: str, request: Request
) -> JSONResponse:
    """The wallet's ``direct_post`` (``vp_token`` + ``state``, or ``error``)."""
    raw = await request.body()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        fields = parse_direct_post(raw, content_type, max_bytes=ctx.settings.max_body)
    except MicrocredError as exc:
        raise Invalid(exc.code, exc.message, error="invalid_request") from None
    answer = await run_in_threadpool(requests.answer, ctx, institution, case_id, fields)
    return JSONResponse(answer, headers=NO_STORE)


@router.get(
    BASE + "/recognition/cases/{token}",
    response_model=LearnerCaseOut,
    responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}},
)
def get_case(ctx: Ctx, institution: PublicInstitution, token: str, request: Request) -> Response:
    """The learner's view of the case (the unguessable token is the key): JSON for the
    wallet, a page for a browser the wallet sent here (``redirect_uri``)."""
    case = decisions.for_learner(ctx, institution, token)
    accept = request.headers.get("accept", "")
    if "text/html" in accept and "application/json" not in accept:
        from .pages._kit import web  # the console's page toolkit (templates, catalogue)

        t = web.translator(request)
        return web.render(
            request,
            "recognition_status.html",
            page_title=t("recognition.status.title", name=case["route"]["name"]),
            case=case,
        )
    return JSONResponse(case, headers=NO_STORE)


# --------------------------------------------------------------------------- the exam board


@router.get(BASE + "/recognition/cases")
def board_cases(ctx: Ctx, principal: Member, state: str | None = None) -> dict[str, Any]:
    states = tuple(state.split(",")) if state else None
    return {"cases": decisions.listing(ctx, principal.institution, states=states)}


@router.get(BASE + "/recognition/board/{case_id}", response_model=BoardCaseOut)
def board_case(ctx: Ctx, principal: Member, case_id: str) -> JSONResponse:
    return JSONResponse(decisions.detail(ctx, principal.institution, case_id), headers=NO_STORE)


@router.post(BASE + "/recognition/board/{case_id}/decision")
def board_decision(ctx: Ctx, principal: Issuer, case_id: str, body: JsonBody) -> dict[str, Any]:
    """``{"decision": "approve"|"decline"|"more", "reason": …}`` (a reason is required to
    decline or ask for more)."""
    if not isinstance(body, dict):
        raise Invalid("invalid_request", 'the body is {"decision": …, "reason": …}')
    decision, reason = body.get("decision"), body.get("reason")
    institution, actor = principal.institution, principal.actor
    if decision == "approve":
        decisions.approve(ctx, institution, case_id, actor=actor, reason=reason)
    elif decision == "decline":
        decisions.decline(ctx, institution, case_id, actor=actor, reason=reason)
    elif decision == "more":
        decisions.ask_more(ctx, institution, case_id, actor=actor, reason=reason)
    else:
        raise Invalid("invalid_decision", "decision is approve, decline or more", field="decision")
    return decisions.detail(ctx, institution, case_id)


@router.post(BASE + "/recognition/recheck")
def recheck_awards(ctx: Ctx, principal: Issuer) -> dict[str, Any]:
    """Re-check the status of the evidence of this institution's awards."""
    return {"notices": recheck.recheck(ctx, principal.institution)}
