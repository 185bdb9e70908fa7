"""Page routes: errors become HTML pages in the site's language, not problem JSON.

A page route raises :class:`PageError` (a catalogue key), a service error kind or a
``ProblemError``; :func:`page_route_class` turns each into the same error page, with the
same status, so no page route has to catch anything itself.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Protocol
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute

from ..errors import ServiceError, http_status
from ..problems import ErrorPages, ProblemError
from .i18n import Translator


class PageError(Exception):
    """An error a page answers with an HTML page; ``key`` is a message catalogue key."""

    def __init__(self, status: int, key: str, **params: Any) -> None:
        super().__init__(key)
        self.status = status
        self.key = key
        self.params = params


class LoginRequired(Exception):
    """Raised by a page dependency when the visitor must log in first (a redirect)."""

    def __init__(self, login_path: str, next_path: str = "") -> None:
        super().__init__(login_path)
        self.login_path = login_path
        self.next_path = next_path


class PageRenderer(ErrorPages, Protocol):
    """What page routing needs from the toolkit (the :class:`~servicekit.web.Web`)."""

    router: APIRouter

    def redirect(
        self,
        request: Request,
        url: str,
        *,
        flash: tuple[str, str] | None = None,
        **params: Any,
    ) -> RedirectResponse: ...

    async def csrf_protect(self, request: Request) -> None: ...

    def translator(self, request: Request) -> Translator: ...


def page_route_class(web: PageRenderer) -> type[APIRoute]:
    """An ``APIRoute`` whose errors become HTML pages (made by ``web``), not problem JSON."""

    class PageRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def page_handler(request: Request) -> Response:
                try:
                    return await handler(request)
                except PageError as exc:
                    return web.error_page(request, exc.status, exc.key, **exc.params)
                except ProblemError as exc:
                    # a service refused: its own words, on a page, same status
                    headers = {k: v for k, v in exc.headers.items() if k.lower() == "retry-after"}
                    return web.error_page(
                        request, exc.status, "error.problem", headers=headers, detail=exc.detail
                    )
                except ServiceError as exc:
                    headers = {k: v for k, v in exc.headers.items() if k.lower() == "retry-after"}
                    return web.error_page(
                        request,
                        http_status(exc),
                        "error.problem",
                        headers=headers,
                        detail=exc.detail,
                    )
                except LoginRequired as exc:
                    target = exc.login_path
                    if exc.next_path:
                        target += "?next=" + quote(exc.next_path, safe="/")
                    return web.redirect(request, target, flash=("info", "error.login_required"))
                except RequestValidationError as exc:
                    detail = validation_text(exc.errors(), web.translator(request))
                    return web.error_page(request, 400, "error.invalid_form", detail=detail)

            return page_handler

    return PageRoute


class RoutingMixin:
    """``route_class`` and ``page_router`` of the toolkit."""

    def route_class(self: PageRenderer) -> type[APIRoute]:
        """An ``APIRoute`` whose errors become HTML pages instead of problem JSON."""
        return page_route_class(self)

    def page_router(self: PageRenderer) -> APIRouter:
        """The router a service's pages are declared on: HTML errors, CSRF on every post,
        and the static files and language switch included."""
        router = APIRouter(
            include_in_schema=False,
            route_class=page_route_class(self),
            dependencies=[Depends(self.csrf_protect)],
        )
        router.include_router(self.router)
        return router


def validation_text(errors: Sequence[Any], t: Translator) -> str:
    """What is wrong with a form, field by field, in the reader's language.

    Pydantic's own messages are English and may quote a regular expression ("String should
    match pattern '^[^@\\s]…'"); a page says "E-mailadres heeft niet de juiste vorm" instead:
    the field's label (``field.<name>``, else its name) and the kind of problem
    (``validation.<type>``, else a general one).
    """
    parts = []
    for error in errors:
        found = error if isinstance(error, dict) else {}
        name = str((found.get("loc") or ("?",))[-1])
        label = t(f"field.{name}") if t.has(f"field.{name}") else name
        kind = str(found.get("type", ""))
        key = f"validation.{kind}" if t.has(f"validation.{kind}") else "validation.other"
        parts.append(t(key, field=label))
    return "; ".join(dict.fromkeys(parts))
