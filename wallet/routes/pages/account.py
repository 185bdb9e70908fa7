"""Start page, log in, sign up and log out: the pages a learner meets before the wallet."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, Request
from fastapi.responses import Response

from servicekit.ratelimit import client_key
from servicekit.web import safe_next

from ...deps import SESSION_COOKIE
from ...services.accounts import SESSION
from ._kit import (
    Refusal,
    current_learner,
    login_limit,
    problem_text,
    render,
    router,
    services_of,
    web,
)


@router.get("/")
def start(request: Request, next: str = "") -> Response:
    if current_learner(request) is not None:
        return web.redirect(request, safe_next(next, "/credentials"))
    t = web.translator(request)
    return render(request, None, "start.html", page_title=t("wallet.start.title"), next=next)


def _login_response(
    request: Request, learner_name: str, token: str, next: str, key: str
) -> Response:
    response = web.redirect(
        request, safe_next(next, "/credentials"), flash=("success", key), name=learner_name
    )
    web.set_cookie(
        request,
        response,
        SESSION_COOKIE,
        token,
        max_age=services_of(request).settings.session_ttl,
    )
    return response


@router.post("/login", dependencies=[Depends(login_limit)])
def login(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    services = services_of(request)
    t = web.translator(request)
    try:
        token, _ = services.accounts.login(username, password, SESSION, client_key(request))
    except Refusal:
        return render(
            request,
            None,
            "start.html",
            page_title=t("wallet.start.title"),
            next=next,
            login_error=t("wallet.login.failed"),
            username=username,
            status_code=401,
        )
    learner = services.accounts.authenticate(token, SESSION)
    assert learner is not None
    return _login_response(request, learner.username, token, next, "wallet.login.ok")


@router.post("/signup", dependencies=[Depends(login_limit)])
def signup(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    services = services_of(request)
    t = web.translator(request)
    try:
        learner = services.accounts.register(username, password)
    except Refusal as exc:
        return render(
            request,
            None,
            "start.html",
            page_title=t("wallet.start.title"),
            next=next,
            signup_error=problem_text(t, exc),
            new_username=username,
            status_code=400,
        )
    # Not logged in here: whether the name was free must not show (H-9e). The learner logs
    # in with the name just chosen; a taken name fails there like a wrong password.
    return render(
        request,
        None,
        "start.html",
        page_title=t("wallet.start.title"),
        next=next,
        signup_done=t("wallet.signup.ok", name=learner.username),
        username=learner.username,
    )


@router.post("/logout")
def logout(request: Request) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        services_of(request).accounts.logout(token)
    response = web.redirect(request, "/", flash=("info", "wallet.logout.ok"))
    web.delete_cookie(request, response, SESSION_COOKIE)
    return response
