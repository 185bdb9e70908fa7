"""One service's page toolkit: rendering, redirects, error pages and static files.

:class:`Web` assembles the concerns that live in their own modules (cookies, CSRF, sealing,
flash messages, page routing) into the one object a service's pages use. One Jinja2
environment with autoescape always on (also for templates built from strings) means every
value that comes from a credential is shown as text: a module called ``<script>`` is
displayed, never run. Nothing here marks text as safe.

The stylesheet and the few small scripts are served by each service itself (the CSP allows
``'self'`` only: no CDN, no inline script or style).
"""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined

from .csrf import CSRF_FIELD, CsrfMixin
from .flash import FlashMixin
from .formatting import format_date, format_number
from .i18n import (
    DEFAULT_LANGUAGE,
    KIT_DIR,
    KIT_MESSAGES,
    LANG_COOKIE,
    LANGUAGES,
    Messages,
    Translator,
    merge_messages,
)
from .routing import RoutingMixin
from .sealing import SealingMixin

KIT_TEMPLATES = KIT_DIR / "templates"
KIT_STATIC = KIT_DIR / "static"
_STATIC_TYPES = {".css", ".js", ".png", ".svg", ".ico", ".woff2"}


@dataclass(frozen=True)
class NavItem:
    key: str
    href: str


class Web(CsrfMixin, SealingMixin, FlashMixin, RoutingMixin):
    """One service's page toolkit; build one per service at import time of its pages.

    ``settings_of`` finds the service's settings for a request (for the data directory that
    holds the deployment secret, and whether cookies must be ``Secure``); the default reads
    ``request.app.state.settings``. ``session_cookie`` names the cookie that identifies a
    logged-in user (the CSRF token is bound to it).
    """

    def __init__(
        self,
        service: str,
        *,
        templates: Path | None = None,
        static: Path | None = None,
        messages: Messages | None = None,
        session_cookie: str | None = None,
        settings_of: Callable[[Request], Any] | None = None,
    ) -> None:
        self.service = service
        self.static_dir = static
        self.messages = merge_messages(KIT_MESSAGES, messages or {})
        self.session_cookie = session_cookie
        self.csrf_cookie = f"mc_{service}_csrf"
        self.flash_cookie = f"mc_{service}_flash"
        self._settings_of = settings_of or (lambda request: request.app.state.settings)
        self._secrets: dict[str, bytes] = {}
        loaders = [FileSystemLoader(str(templates))] if templates else []
        loaders.append(FileSystemLoader(str(KIT_TEMPLATES)))
        self.env = Environment(
            loader=ChoiceLoader(loaders),
            autoescape=True,  # everything, including templates made from strings
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["date"] = format_date
        self.env.filters["number"] = format_number
        self.env.globals["static"] = self.static_url
        self._static_versions: dict[str, str] = {}
        self.router = self._build_router()

    # -- language ---------------------------------------------------------------------------

    def language(self, request: Request) -> str:
        lang = request.cookies.get(LANG_COOKIE, "")
        return lang if lang in LANGUAGES else DEFAULT_LANGUAGE

    def translator(self, request: Request) -> Translator:
        return Translator(self.messages, self.language(request))

    def render(
        self,
        request: Request,
        template: str,
        *,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        **context: Any,
    ) -> HTMLResponse:
        """Render a page with the standard context; sets the CSRF cookie when it is new."""
        t = self.translator(request)
        token, new_token = self.csrf_token(request)
        flashes = self._take_flashes(request)
        full: dict[str, Any] = {
            "request": request,
            "t": t,
            "lang": t.lang,
            "other_lang": "en" if t.lang == "nl" else "nl",
            "csrf_field": CSRF_FIELD,
            "csrf_token": token,
            "flashes": flashes,
            "service": self.service,
            "current_path": _current_path(request),
            "nav": [],
            "user_label": None,
            "logout_path": None,
            "logout_key": "logout",
            "page_title": "",
            "app_name": t(f"{self.service}.app_name"),
        }
        full.update(context)
        full["active_nav"] = active_nav(full["nav"], request.url.path)
        body = self.env.get_template(template).render(full)
        response = HTMLResponse(body, status_code=status_code, headers=dict(headers or {}))
        response.headers["Cache-Control"] = "no-store"
        if new_token:
            self.set_cookie(request, response, self.csrf_cookie, token)
        if flashes:
            self.delete_cookie(request, response, self.flash_cookie)
        return response

    def redirect(
        self,
        request: Request,
        url: str,
        *,
        flash: tuple[str, str] | None = None,
        **params: Any,
    ) -> RedirectResponse:
        """303 See Other (the answer to a form post), optionally with a flash message."""
        response = RedirectResponse(url, status_code=303)
        if flash is not None:
            self.flash(request, response, flash[0], flash[1], **params)
        return response

    def error_page(
        self,
        request: Request,
        status: int,
        key: str,
        *,
        headers: Mapping[str, str] | None = None,
        **params: Any,
    ) -> HTMLResponse:
        t = self.translator(request)
        return self.render(
            request,
            "error.html",
            status_code=status,
            headers=headers,
            page_title=t("error.title"),
            message=t(key, **params),
            status=status,
        )

    # -- static files -----------------------------------------------------------------------

    def static_url(self, name: str) -> str:
        """``/static/<service>/<name>`` with a content hash, so caches never serve stale JS."""
        version = self._static_versions.get(name)
        if version is None:
            path = self._static_path(name)
            version = hashlib.sha256(path.read_bytes()).hexdigest()[:10] if path else "0"
            self._static_versions[name] = version
        return f"/static/{self.service}/{name}?v={version}"

    def _static_path(self, name: str) -> Path | None:
        if Path(name).suffix not in _STATIC_TYPES or "\\" in name:
            return None
        for base in (self.static_dir, KIT_STATIC):
            if base is None:
                continue
            candidate = (base / name).resolve()
            if candidate.is_relative_to(base.resolve()) and candidate.is_file():
                return candidate
        return None

    def _build_router(self) -> APIRouter:
        router = APIRouter(include_in_schema=False)

        @router.get(f"/static/{self.service}/{{name:path}}")
        def static(name: str) -> Response:
            path = self._static_path(name)
            if path is None:  # answered like every other 404 (a page for a browser)
                raise HTTPException(404, "no such static file")
            media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            if path.suffix == ".js":
                media_type = "text/javascript"
            return FileResponse(
                path,
                media_type=media_type,
                headers={"Cache-Control": "public, max-age=86400"},
            )

        @router.get("/lang/{code}")
        def switch_language(request: Request, code: str, next: str = "/") -> Response:
            """A plain link switches the language (a preference, so no CSRF concern)."""
            response = RedirectResponse(safe_next(next), status_code=303)
            if code in LANGUAGES:
                self.set_cookie(
                    request, response, LANG_COOKIE, code, max_age=365 * 86400, httponly=False
                )
            return response

        return router


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to go to after a form; anything else (other hosts, ``//x``) is refused."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ch in target for ch in "\r\n"):
        return default
    return target


def active_nav(nav: Sequence[NavItem], path: str) -> str | None:
    """The menu entry for ``path``: the longest ``href`` that is ``path`` or a parent of it."""
    best: str | None = None
    for item in nav:
        href = item.href.rstrip("/") or "/"
        inside = path == href or (href != "/" and path.startswith(href + "/"))
        if inside and (best is None or len(href) > len(best)):
            best = item.href
    return best


def _current_path(request: Request) -> str:
    path = request.url.path
    return f"{path}?{request.url.query}" if request.url.query else path
