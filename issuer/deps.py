"""FastAPI dependencies as ``Annotated`` aliases: the services, the caller, the body.

The issuer's service container is the :class:`IssuerContext` on ``app.state.services``
(the shape the wallet and the verifier share); routes ask for it as ``ServicesDep``.

Authentication order is fixed so that answers leak nothing and mean one thing each:
no or unknown token → 401; unknown institution → 404; a token of another institution →
403; a token without the scope the route needs → 403 ``insufficient_scope``.

Request bodies are read by :func:`json_body`, not by FastAPI's implicit JSON parsing, so
that a wrong media type is 415, malformed JSON (or a duplicate key) is 400, and the size
and depth limits of ``credentials.model.parse_json`` apply to every body.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from servicekit.problems import ProblemError
from servicekit.reading import json_body as read_json
from servicekit.reading import request_bearer
from servicekit.tokens import same

from .models import Institution
from .services import institutions, tokens
from .services.context import IssuerContext


def get_services(request: Request) -> IssuerContext:
    return request.app.state.services


ServicesDep = Annotated[IssuerContext, Depends(get_services)]

#: Older names of the same dependency, kept while code written against them lands.
get_context = get_services
Ctx = ServicesDep


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: a token of ``institution`` with ``scopes``."""

    token_id: str
    institution: Institution
    scopes: frozenset[str]

    @property
    def actor(self) -> str:
        return f"token:{self.token_id}"


def _unauthorized(detail: str) -> ProblemError:
    return ProblemError(401, "unauthorized", detail, headers={"WWW-Authenticate": "Bearer"})


def authenticated(ctx: ServicesDep, request: Request, slug: str) -> Principal:
    presented = request_bearer(request)
    if presented is None:
        raise _unauthorized("an API token is required (Authorization: Bearer …)")
    with ctx.db.session() as session:
        token = tokens.authenticate(session, presented)
        if token is None:
            raise _unauthorized("the API token is unknown or revoked")
        institution = institutions.by_slug(session, slug)
    if token.institution_id != institution.id:
        raise ProblemError(403, "wrong_institution", "this token belongs to another institution")
    return Principal(token.id, institution, frozenset(token.scopes.split()))


def require(scope: str) -> Any:
    def dependency(principal: Annotated[Principal, Depends(authenticated)]) -> Principal:
        if scope not in principal.scopes:
            raise ProblemError(
                403, "insufficient_scope", f"this token lacks the {scope!r} scope", scope=scope
            )
        return principal

    dependency.__name__ = f"require_{scope}"
    return Depends(dependency)


Member = Annotated[Principal, Depends(authenticated)]
Issuer = Annotated[Principal, require("issue")]
Revoker = Annotated[Principal, require("revoke")]
Admin = Annotated[Principal, require("admin")]


def public_institution(ctx: ServicesDep, slug: str) -> Institution:
    with ctx.db.session() as session:
        return institutions.by_slug(session, slug)


PublicInstitution = Annotated[Institution, Depends(public_institution)]


def service_admin(ctx: ServicesDep, request: Request) -> str:
    """The deployment's operator (``settings.admin_token``), for ``/admin`` routes."""
    configured = ctx.settings.admin_token
    presented = request_bearer(request)
    if not configured:
        raise ProblemError(404, "not_found", "the admin API is disabled")
    if presented is None or not same(presented, configured):
        raise _unauthorized("the admin token is missing or wrong")
    return "admin"


ServiceAdmin = Annotated[str, Depends(service_admin)]


async def json_body(request: Request) -> Any:
    """The request body as JSON: 415 when it is not declared JSON, 400 when it is not."""
    return await read_json(request, require_json_type=True)


JsonBody = Annotated[Any, Depends(json_body)]


def idempotency_key(request: Request) -> str | None:
    return request.headers.get("idempotency-key")


IdempotencyKey = Annotated[str | None, Depends(idempotency_key)]
