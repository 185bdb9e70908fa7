"""FastAPI dependencies as ``Annotated`` aliases, so routes declare what they need in one word."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from servicekit.problems import ProblemError
from servicekit.tokens import same

from .services.container import Services


def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def require_admin(request: Request) -> None:
    """Admin endpoints need ``Authorization: Bearer <admin_token>``; none configured = off."""
    configured = get_services(request).settings.admin_token
    if not configured:
        raise ProblemError(
            403,
            "admin_disabled",
            "admin endpoints are disabled: set MICROCRED_VERIFIER_ADMIN_TOKEN to enable them",
        )
    token = bearer_token(request)
    if token is None or not same(token, configured):
        raise ProblemError(
            401,
            "unauthorized",
            "this endpoint needs the admin token",
            headers={"WWW-Authenticate": "Bearer"},
        )


AdminDep = Annotated[None, Depends(require_admin)]
