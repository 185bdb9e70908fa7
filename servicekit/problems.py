"""RFC 9457 problem details: the one way every service reports an error over HTTP.

Routes raise ``ProblemError`` (or let a core ``MicrocredError`` escape); the handlers here
turn those, FastAPI's validation errors and Starlette's HTTP exceptions into
``application/problem+json`` with a stable ``code``. An unexpected exception becomes a
generic 500 problem without internals, and is logged.

People meet some of these answers in a browser: a mistyped address (404), a bookmarked
form target (405, e.g. ``GET /login``), a share link that was withdrawn (410), a crash
(500). When the client prefers HTML (:func:`prefers_html`: ``text/html`` named in
``Accept`` above any JSON type, which is what browsers send and API clients do not) and
the app has error pages (:func:`install_error_pages`), those four statuses are answered
with a page in the site's language and design instead, on every path, API paths
included. Its text comes from the message catalogue by status, never from the error's
English detail. API clients (a JSON ``Accept``, or none) keep problem+json.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from credentials import MicrocredError

from .errors import ServiceError, http_status
from .headers import security_headers
from .negotiation import accept_weights, best_weight

log = logging.getLogger("microcred")
PROBLEM_JSON = "application/problem+json"

_TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    410: "Gone",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


class ProblemError(Exception):
    """An error a route answers with; ``code`` is stable and machine-readable."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.title = title or _TITLES.get(status, "Error")
        self.headers = headers or {}
        self.extra = extra


def problem_response(
    status: int,
    code: str,
    detail: str,
    *,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {
        "type": f"https://w3id.org/microcred/problems#{code}",
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ()) if part not in ("body",)]
        errors.append({"field": ".".join(location) or "body", "message": error.get("msg", "")})
    return errors


#: The statuses a browser gets as a page, and the catalogue key of each page's text.
HTML_ERROR_KEYS: dict[int, str] = {
    404: "error.not_found",
    405: "error.method_not_allowed",
    410: "error.gone",
    500: "error.internal",
}
_JSON_TYPES = ("application/json", "application/problem+json")


class ErrorPages(Protocol):
    """What renders an error page (the service's :class:`servicekit.web.Web`)."""

    def error_page(
        self,
        request: Request,
        status: int,
        key: str,
        *,
        headers: Mapping[str, str] | None = None,
        **params: Any,
    ) -> Response: ...


def install_error_pages(app: FastAPI, pages: ErrorPages) -> None:
    """Answer browsers with ``pages`` for the statuses in :data:`HTML_ERROR_KEYS`."""
    app.state.error_pages = pages


def prefers_html(request: Request) -> bool:
    """Whether the client asks for HTML before JSON: ``text/html`` is named in ``Accept``
    with a weight above zero and at least that of every JSON type named there.

    ``*/*`` counts for neither, so ``fetch()`` (``*/*``), curl (``*/*``) and clients
    sending no ``Accept`` get JSON; browsers navigating (``text/html,…,*/*;q=0.8``) get
    HTML.
    """
    weights = accept_weights(request.headers.get("accept"))
    html = weights.get("text/html", 0.0)
    return html > 0 and html >= best_weight(weights, _JSON_TYPES)


def error_answer(
    request: Request,
    status: int,
    code: str,
    detail: str,
    *,
    title: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> Response:
    """The answer to an error: a page for a browser where there is one, else a problem."""
    pages: ErrorPages | None = getattr(request.app.state, "error_pages", None)
    key = HTML_ERROR_KEYS.get(status)
    if pages is not None and key is not None and prefers_html(request):
        page_headers = {**security_headers(), **(headers or {})}
        try:
            return pages.error_page(request, status, key, headers=page_headers)
        except Exception:  # the page itself failed: the problem still says what happened
            log.exception("the %s error page failed on %s", status, request.url.path)
    return problem_response(
        status, code, detail, title=title, headers=dict(headers) if headers else None, **extra
    )


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> Response:
        return error_answer(
            request,
            exc.status,
            exc.code,
            exc.detail,
            title=exc.title,
            headers=exc.headers,
            **exc.extra,
        )

    @app.exception_handler(ServiceError)
    async def _service(request: Request, exc: ServiceError) -> Response:
        return error_answer(
            request, http_status(exc), exc.code, exc.detail, headers=exc.headers, **exc.extra
        )

    @app.exception_handler(MicrocredError)
    async def _core(request: Request, exc: MicrocredError) -> JSONResponse:
        return problem_response(400, exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        first = errors[0] if errors else {"field": "body", "message": "invalid"}
        return problem_response(
            422,
            "validation_error",
            f"{first['field']}: {first['message']}",
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}.get(
            exc.status_code, "http_error"
        )
        detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "")
        return error_answer(
            request, exc.status_code, code, detail, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_answer(request, 500, "internal_error", "an unexpected error occurred")
