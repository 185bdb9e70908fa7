"""Accounts: register, log in (a bearer token), log out, delete the account."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from servicekit.ratelimit import RateLimiter, client_key, limit

from ..deps import LearnerDep, ServicesDep, presented_token
from ..schemas import Credentials
from ..services.clock import iso

router = APIRouter(prefix="/api", tags=["accounts"])


def _login_limit(request: Request) -> None:
    per_minute = request.app.state.services.settings.login_attempts_per_minute
    limiter: RateLimiter = request.app.state.login_limiter  # the app's own (wallet/main.py)
    limit(limiter, "login", per_minute)(request)


@router.post("/learners", status_code=201, dependencies=[Depends(_login_limit)])
def register(body: Credentials, services: ServicesDep) -> dict:
    learner = services.accounts.register(body.username, body.password)
    return {
        "id": learner.id,
        "username": learner.username,
        "did": learner.did,
        "createdAt": iso(learner.created_at),
    }


@router.get("/learners/me")
def me(learner: LearnerDep) -> dict:
    return {
        "id": learner.id,
        "username": learner.username,
        "did": learner.did,
        "createdAt": iso(learner.created_at),
    }


@router.delete("/learners/me", status_code=204)
def delete_me(learner: LearnerDep, services: ServicesDep) -> Response:
    services.portability.delete_account(learner)
    return Response(status_code=204)


@router.post("/session", dependencies=[Depends(_login_limit)])
def login(body: Credentials, request: Request, services: ServicesDep, response: Response) -> dict:
    token, expires = services.accounts.login(
        body.username, body.password, client=client_key(request)
    )
    response.headers["Cache-Control"] = "no-store"
    return {"token": token, "tokenType": "Bearer", "expiresAt": iso(expires)}


@router.delete("/session", status_code=204)
def logout(request: Request, learner: LearnerDep, services: ServicesDep) -> Response:
    presented = presented_token(request)
    if presented is not None:
        services.accounts.logout(presented[0])
    return Response(status_code=204)
