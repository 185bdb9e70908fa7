"""Log-in and log-out: the page session is a console token of its own, sealed in a cookie."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import Response
from sqlmodel import col, select

from servicekit.web import (
    safe_next,
)

from ...models import ApiToken, Institution
from ...services import (
    tokens,
)
from ...services.clock import aware
from ...services.context import IssuerContext
from ._kit import (
    SESSION_COOKIE,
    SESSION_SECONDS,
    _ctx,
    _principal,
    _render,
    router,
    web,
)


@router.get("/")
def start(request: Request, next: str = "") -> Response:
    """The start page: the log-in form, or the console when logged in already."""
    if _principal(request) is not None:
        return web.redirect(request, safe_next(next, "/console"))
    t = web.translator(request)
    return _render(request, None, "login.html", page_title=t("issuer.login.title"), next=next)


@router.post("/login")
def login(
    request: Request, token: Annotated[str, Form()] = "", next: Annotated[str, Form()] = ""
) -> Response:
    ctx = _ctx(request)
    token = token.strip()
    with ctx.db.session() as session:
        row = tokens.authenticate(session, token)
        institution = session.get(Institution, row.institution_id) if row else None
    if row is None or institution is None:
        t = web.translator(request)
        return _render(
            request,
            None,
            "login.html",
            page_title=t("issuer.login.title"),
            next=next,
            error=t("issuer.login.failed"),
            status_code=401,
        )
    response = web.redirect(
        request,
        safe_next(next, "/console"),
        flash=("success", "issuer.login.ok"),
        name=institution.name,
    )
    session_token = _open_console_session(ctx, institution, row)
    sealed = web.seal(
        request, "console", f"{institution.slug}|{session_token}|{row.id}", SESSION_SECONDS
    )
    web.set_cookie(request, response, SESSION_COOKIE, sealed, max_age=SESSION_SECONDS)
    return response


CONSOLE_SESSION = "console session"


def _open_console_session(ctx: IssuerContext, institution: Institution, parent: Any) -> str:
    """A token of its own for this console session, so that log-out can end it server-side.

    Issue 14 item 10: the cookie used to carry the API token itself, so a copy of the cookie
    kept working after log-out. Now log-out revokes the session token; sessions nobody
    logged out of are revoked at a later log-in once older than the cookie's lifetime.
    """
    now = ctx.now()
    with ctx.db.session() as session:
        stale = session.exec(
            select(ApiToken).where(
                ApiToken.institution_id == institution.id,
                ApiToken.name == CONSOLE_SESSION,
                col(ApiToken.revoked_at).is_(None),
            )
        ).all()
        for old in stale:
            created = aware(old.created_at) or now
            if (now - created).total_seconds() > SESSION_SECONDS:
                old.revoked_at = now
                session.add(old)
        _, plain = tokens.create(
            session,
            institution,
            name=CONSOLE_SESSION,
            scopes=parent.scopes,
            actor=f"console:{parent.id}",
            now=now,
        )
    return plain


@router.post("/logout")
def logout(request: Request) -> Response:
    response = web.redirect(request, "/", flash=("info", "issuer.logout.ok"))
    sealed = web.unseal(request, "console", request.cookies.get(SESSION_COOKIE))
    if sealed and sealed.count("|") == 2:
        _, token, _ = sealed.split("|")
        ctx = _ctx(request)
        with ctx.db.session() as session:
            row = tokens.authenticate(session, token)
            if row is not None and row.name == CONSOLE_SESSION:
                row.revoked_at = ctx.now()
                session.add(row)
    web.delete_cookie(request, response, SESSION_COOKIE)
    return response
