"""What every wallet page module shares: the toolkit, the session, rendering, refusals.

Route modules hold no user-facing text: every word comes from the catalogues in
``wallet/messages/`` through the translator, and a service's refusal is shown by its stable
``code`` (``problem_text``), never by its English ``detail``, so a Dutch page stays Dutch.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute

from servicekit.errors import ServiceError, http_status
from servicekit.problems import ProblemError
from servicekit.web import LoginRequired, NavItem, PageError, Translator, Web, load_messages

from ...deps import SESSION_COOKIE
from ...models import Learner
from ...services.accounts import SESSION
from ...services.container import Services

WALLET_DIR = Path(__file__).resolve().parents[2]
MESSAGES = load_messages(WALLET_DIR / "messages")

#: What the pages catch from a service: the legacy problem and the new service kinds.
Refusal = (ProblemError, ServiceError)


class WalletWeb(Web):
    """servicekit's page toolkit, with one difference: a service's refusal that reaches the
    page route unhandled becomes an error page in the page's language, chosen by its code
    (``problem_key``), instead of showing the service's English ``detail``."""

    def route_class(self) -> type[APIRoute]:
        page_route = super().route_class()

        class Translating(APIRoute):
            def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
                handler = super().get_route_handler()

                async def translated(request: Request) -> Response:
                    try:
                        return await handler(request)
                    except Refusal as exc:
                        key, params = problem_key(exc)
                        raise PageError(problem_status(exc), key, **params) from None

                return translated

        # page_route is a class made at run time (the kit's factory): mypy cannot use a
        # variable as a base class
        class WalletPageRoute(page_route, Translating):  # type: ignore[valid-type,misc]
            """The kit's page route around the translating one (MRO: kit, then this)."""

        return WalletPageRoute

    def page_router(self) -> APIRouter:
        """The kit's page router, declaring the wallet's pages with ``route_class``."""
        router = super().page_router()
        router.route_class = self.route_class()
        return router


web = WalletWeb(
    "wallet",
    templates=WALLET_DIR / "templates",
    static=WALLET_DIR / "static",
    messages=MESSAGES,
    session_cookie=SESSION_COOKIE,
    settings_of=lambda request: request.app.state.services.settings,
)
router = web.page_router()

NAV = [
    NavItem("wallet.nav.credentials", "/credentials"),
    NavItem("wallet.nav.receive", "/receive"),
    NavItem("wallet.nav.routes", "/routes"),
    NavItem("wallet.nav.shares", "/shares"),
    NavItem("wallet.nav.present", "/present"),
    NavItem("recognition.nav", "/recognition"),  # issue 17 (recognition_pages.py)
    NavItem("wallet.nav.data", "/data"),
]


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def current_learner(request: Request) -> Learner | None:
    token = request.cookies.get(SESSION_COOKIE)
    return services_of(request).accounts.authenticate(token, SESSION) if token else None


def path_with_query(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def require_learner(request: Request) -> Learner:
    learner = current_learner(request)
    if learner is None:
        raise LoginRequired("/", path_with_query(request))
    return learner


LearnerPage = Annotated[Learner, Depends(require_learner)]


def render(request: Request, learner: Learner | None, template: str, **context: Any) -> Response:
    return web.render(
        request,
        template,
        nav=NAV if learner else [],
        user_label=learner.username if learner else None,
        logout_path="/logout" if learner else None,
        learner=learner,
        **context,
    )


def confirm_page(
    request: Request,
    learner: Learner,
    what: str,
    *,
    subject: str,
    consequences: list[str],
    action: str,
    cancel: str,
) -> Response:
    """The step before a destructive action: its title and button come from
    ``wallet.confirm.<what>.title`` / ``.submit``, the consequences are listed."""
    t = web.translator(request)
    title = t(f"wallet.confirm.{what}.title")
    return render(
        request,
        learner,
        "confirm.html",
        page_title=title,
        heading=title,
        subject=subject,
        consequences=consequences,
        action=action,
        submit=t(f"wallet.confirm.{what}.submit"),
        cancel=cancel,
    )


# --------------------------------------------------------------------------- refusals


def problem_status(exc: ProblemError | ServiceError, *, gateway: bool = False) -> int:
    """The page's status for a refusal; ``gateway`` turns a 5xx into 502 (another party
    failed, which a page should not present as the wallet's own crash)."""
    status = exc.status if isinstance(exc, ProblemError) else http_status(exc)
    return 502 if gateway and status >= 500 else status


def problem_key(exc: ProblemError | ServiceError) -> tuple[str, dict[str, Any]]:
    """The catalogue key (and its parameters) for a refusal: by its code, and ``reason``
    when the service gives one; an unknown code gets a general sentence naming the code,
    never the service's English detail."""
    code = exc.code
    reason = exc.extra.get("reason")
    params = {k: v for k, v in exc.extra.items() if isinstance(v, str | int | float)}
    for key in (f"wallet.error.{code}.{reason}", f"wallet.error.{code}"):
        if key in MESSAGES.get("nl", {}):
            return key, params
    if code.endswith("_not_found"):
        return "wallet.error.not_found", {}
    return "wallet.error.other", {"code": code}


def problem_text(t: Translator, exc: ProblemError | ServiceError) -> str:
    """A refusal in the page's language (see ``problem_key``)."""
    key, params = problem_key(exc)
    return t(key, **params)


def card_state(item: dict[str, Any]) -> str:
    """The badge of a stored credential: what the learner must know first."""
    status = item.get("status")
    if status in ("revoked", "suspended"):
        return str(status)
    if not item.get("verified"):
        return "unverified"
    if status in ("unknown", "invalid"):
        return "unknown"
    return "verified"


def login_limit(request: Request) -> None:
    """The API's log-in rate limit, applied to the page forms as well."""
    from ..accounts import _login_limit as api_login_limit

    api_login_limit(request)


__all__ = [
    "MESSAGES",
    "NAV",
    "LearnerPage",
    "Refusal",
    "card_state",
    "current_learner",
    "login_limit",
    "problem_key",
    "problem_status",
    "problem_text",
    "render",
    "require_learner",
    "router",
    "services_of",
    "web",
]
