"""The common FastAPI application shell: problem details, body limits, security headers.

Every service builds its app with ``create_app`` so that hardening is not something one
service remembers and another forgets.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from .db import is_unavailable
from .headers import CSP as CSP
from .headers import security_headers
from .problems import install_problem_handlers, problem_response
from .serving import install_access_log_redaction

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

DEFAULT_MAX_BODY = 1024 * 1024


class BodyLimitMiddleware:
    """Refuse request bodies over a limit with 413, without reading them whole.

    ``limits`` maps a path prefix to its own limit (e.g. CSV uploads); the longest matching
    prefix wins.
    """

    def __init__(
        self, app: Any, default: int = DEFAULT_MAX_BODY, limits: dict[str, int] | None = None
    ):
        self.app = app
        self.default = default
        self.limits = sorted((limits or {}).items(), key=lambda kv: -len(kv[0]))

    def limit_for(self, path: str) -> int:
        for prefix, limit in self.limits:
            if path.startswith(prefix):
                return limit
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._reject(scope, receive, send, limit)
            return
        received = 0
        rejected = False

        async def limited_receive() -> Message:
            nonlocal received, rejected
            if rejected:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # answer now; the app sees a disconnect and its own answer is dropped
                    rejected = True
                    await self._reject(scope, receive, send, limit)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not rejected:
                await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not rejected:
                raise

    @staticmethod
    async def _reject(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = problem_response(
            413, "body_too_large", f"the request body is larger than {limit} bytes"
        )
        await response(scope, receive, send)


class SecurityHeadersMiddleware:
    """Add the security headers to every HTTP answer that does not set its own.

    A plain ASGI middleware that edits the ``http.response.start`` message: Starlette's
    ``@app.middleware("http")`` (``BaseHTTPMiddleware``) did the same through a task group
    and a memory stream per request, which was a visible share of a verification's cost.
    """

    def __init__(self, app: Any, hsts: bool = False) -> None:
        self.app = app
        self.headers = [
            (name.encode("latin-1"), value.encode("latin-1"))
            for name, value in security_headers(hsts=hsts).items()
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = list(message.get("headers") or [])
                names = {name.lower() for name, _ in present}
                present.extend(h for h in self.headers if h[0] not in names)
                message["headers"] = present
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(
    title: str,
    *,
    max_body: int = DEFAULT_MAX_BODY,
    body_limits: dict[str, int] | None = None,
    hsts: bool = False,
) -> FastAPI:
    app = FastAPI(title=title, version="0.1.0")
    install_problem_handlers(app)
    install_access_log_redaction()

    @app.exception_handler(SQLAlchemyError)
    async def _database(request: Request, exc: SQLAlchemyError) -> JSONResponse:
        if is_unavailable(exc):
            return problem_response(
                503,
                "database_unavailable",
                "the database is not reachable right now; try again shortly",
                headers={"Retry-After": "5"},
            )
        raise exc

    app.add_middleware(SecurityHeadersMiddleware, hsts=hsts)
    app.add_middleware(BodyLimitMiddleware, default=max_body, limits=body_limits)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
