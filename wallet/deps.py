"""FastAPI dependencies as ``Annotated`` aliases: routes declare what they need in one word.

The current learner comes from ``Authorization: Bearer <token>`` (API clients) or from the
``microcred_wallet_session`` cookie (the pages). A cookie is sent by the browser on its
own, so a state-changing request authenticated only by the cookie must also come from the
wallet's own pages: its ``Origin`` (or, failing that, ``Referer``) must be the wallet's
public origin — the CSRF defence, on top of ``SameSite=Lax``.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request

from servicekit.problems import ProblemError
from servicekit.reading import request_bearer

from .models import Learner
from .services.accounts import API, SESSION
from .services.container import Services

SESSION_COOKIE = "microcred_wallet_session"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


def presented_token(request: Request) -> tuple[str, str] | None:
    """(token, kind) the request authenticates with, if any."""
    token = request_bearer(request)
    if token:
        return token, API
    cookie = request.cookies.get(SESSION_COOKIE)
    return (cookie, SESSION) if cookie else None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _same_origin(request: Request, public_url: str) -> bool:
    source = request.headers.get("origin") or request.headers.get("referer") or ""
    return bool(source) and _origin(source) == _origin(public_url)


def current_learner(request: Request) -> Learner:
    services = get_services(request)
    presented = presented_token(request)
    learner = services.accounts.authenticate(*presented) if presented else None
    if learner is None:
        raise ProblemError(
            401,
            "unauthorized",
            "log in first: send Authorization: Bearer <token> from POST /api/session",
            headers={"WWW-Authenticate": "Bearer"},
        )
    assert presented is not None
    cross_site = not _same_origin(request, services.settings.public_url)
    if presented[1] == SESSION and request.method not in _SAFE and cross_site:
        raise ProblemError(
            403, "cross_site_request", "this request did not come from the wallet's pages"
        )
    return learner


LearnerDep = Annotated[Learner, Depends(current_learner)]
