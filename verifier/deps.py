"""FastAPI dependencies as ``Annotated`` aliases, so routes declare what they need in one word.

They are ``async def`` on purpose: FastAPI runs a plain ``def`` dependency in the thread
pool, and these are attribute look-ups and a rate-limit counter, so each would cost a
thread hand-off (a visible share of a verification under load) for microseconds of work.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request

from servicekit.problems import ProblemError
from servicekit.ratelimit import per_client
from servicekit.reading import request_bearer
from servicekit.tokens import same

from .services.container import Services


def services_of(request: Request) -> Services:
    return request.app.state.services


async def get_services(request: Request) -> Services:
    return services_of(request)


ServicesDep = Annotated[Services, Depends(get_services)]


def rate_limited(name: str) -> Callable[[Request], Awaitable[None]]:
    """servicekit's per-client limit ``name`` (429 + Retry-After) as an async dependency."""
    check = per_client(name)

    async def dependency(request: Request) -> None:
        check(request)

    return dependency


async def require_admin(request: Request) -> None:
    """Admin endpoints need ``Authorization: Bearer <admin_token>``; none configured = off."""
    configured = services_of(request).settings.admin_token
    if not configured:
        raise ProblemError(
            403,
            "admin_disabled",
            "admin endpoints are disabled: set MICROCRED_VERIFIER_ADMIN_TOKEN to enable them",
        )
    token = request_bearer(request)
    if token is None or not same(token, configured):
        raise ProblemError(
            401,
            "unauthorized",
            "this endpoint needs the admin token",
            headers={"WWW-Authenticate": "Bearer"},
        )


AdminDep = Annotated[None, Depends(require_admin)]
