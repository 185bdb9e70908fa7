"""What every verifier page module shares: the page toolkit, the menu and rendering.

The employer's pages are split by way in (``pages`` for pasting and share links,
``pages_requests`` for presentation requests, ``pages_admission`` for rules); they all
render through :func:`render` so the menu, the language and the CSRF cookie are the same on
each. Every word a page shows comes from ``verifier/messages/<lang>.json`` (plus the kit's
catalogue): no module here holds user-facing text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from servicekit.reading import form_fields
from servicekit.web import NavItem, Translator, Web, load_messages

from ...services.container import Services

HERE = Path(__file__).resolve().parent.parent.parent
MESSAGES = load_messages(HERE / "messages")

web = Web(
    "verifier",
    templates=HERE / "templates",
    messages=MESSAGES,
    settings_of=lambda request: request.app.state.services.settings,
)

NAV = [
    NavItem("verifier.nav.check", "/"),
    NavItem("verifier.nav.request", "/check/request"),
    NavItem("verifier.nav.admission", "/check/admission"),
]


def sub_router() -> APIRouter:
    """A router for one group of pages: HTML error pages and the CSRF check on every post,
    stated on the group itself so it holds however the group is included."""
    return APIRouter(
        include_in_schema=False,
        route_class=web.route_class(),
        dependencies=[Depends(web.csrf_protect)],
    )


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def render(request: Request, template: str, **context: Any) -> Response:
    return web.render(request, template, nav=NAV, **context)


async def form_dict(request: Request) -> dict[str, str]:
    """The posted form's text fields (servicekit's one form reader)."""
    return await form_fields(request)


def refusal_text(code: str, t: Translator) -> str:
    """A service's refusal in the reader's language, by its stable code.

    Engines speak English in ``detail`` (for logs and API clients); a page never shows it.
    A code without its own message gets the general one, which names the code so support
    can still look it up.
    """
    key = f"verifier.problem.{code}"
    return t(key) if t.has(key) else t("verifier.problem.other", code=code)
