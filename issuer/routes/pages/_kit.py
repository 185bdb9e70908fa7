"""What every console page shares: the page toolkit, the router, the log-in check.

The catalogue (``issuer/messages``) holds every word the pages show; route modules
hold none, so a translator edits JSON and a test can compare the languages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request

from credentials import read_microcredential
from servicekit.errors import ServiceError
from servicekit.problems import ProblemError
from servicekit.web import (
    LoginRequired,
    NavItem,
    PageError,
    Translator,
    Web,
    load_messages,
)

from ...deps import Principal
from ...models import ApiToken, Institution
from ...services import (
    institutions,
    records,
    tokens,
)
from ...services.context import IssuerContext

HERE = Path(__file__).resolve().parent.parent.parent
SESSION_COOKIE = "mc_issuer_session"
OFFER_COOKIE = "mc_issuer_offer"
SESSION_SECONDS = 8 * 3600
WALLET_URL_ENV = "MICROCRED_WALLET_URL"
PAGE_SIZE = 25
SAMPLE_CSV = "email,student_number,grade,awarded_date\nanna@example.nl,500123,8,2026-06-30\n"


Failure = (ProblemError, ServiceError)
"""What a service raises when it refuses: the old HTTP-shaped error or the new kinds."""


def failure_status(exc: ProblemError | ServiceError) -> int:
    """The HTTP status a refusal maps to, whichever of the two shapes it has."""
    if isinstance(exc, ProblemError):
        return exc.status
    from servicekit.errors import http_status

    return http_status(exc)


web = Web(
    "issuer",
    templates=HERE / "templates",
    messages=load_messages(HERE / "messages"),
    session_cookie=SESSION_COOKIE,
    settings_of=lambda request: request.app.state.issuer.settings,
)
router = web.page_router()

NAV = [
    NavItem("issuer.nav.home", "/console"),
    NavItem("issuer.nav.modules", "/console/modules"),
    NavItem("issuer.nav.issue", "/console/issue"),
    NavItem("issuer.nav.batch", "/console/batch"),
    NavItem("issuer.nav.credentials", "/console/credentials"),
    NavItem("recognition.nav", "/console/recognition"),  # issue 17 (recognition_pages.py)
]


# --------------------------------------------------------------------------- session


def _ctx(request: Request) -> IssuerContext:
    return request.app.state.issuer


def _principal(request: Request) -> Principal | None:
    """The logged-in token, checked against the token table on every request."""
    sealed = web.unseal(request, "console", request.cookies.get(SESSION_COOKIE))
    if not sealed or "|" not in sealed:
        return None
    slug, _, rest = sealed.partition("|")
    token, _, parent_id = rest.partition("|")
    ctx = _ctx(request)
    with ctx.db.session() as session:
        row = tokens.authenticate(session, token)
        if row is None:
            return None
        if parent_id:
            # the session ends with the token that opened it
            parent = session.get(ApiToken, parent_id)
            if parent is None or parent.revoked_at is not None:
                return None
        try:
            institution = institutions.by_slug(session, slug)
        except Failure:
            return None
    if row.institution_id != institution.id:
        return None
    return Principal(row.id, institution, frozenset(row.scopes.split()))


def require_login(request: Request) -> Principal:
    principal = _principal(request)
    if principal is None:
        raise LoginRequired("/", request.url.path)
    return principal


Console = Annotated[Principal, Depends(require_login)]


def _need(principal: Principal, scope: str) -> None:
    if scope not in principal.scopes:
        raise PageError(403, "issuer.scope_missing", scope=scope)


def _render(request: Request, principal: Principal | None, template: str, **context: Any) -> Any:
    return web.render(
        request,
        template,
        nav=NAV if principal else [],
        user_label=principal.institution.name if principal else None,
        logout_path="/logout" if principal else None,
        institution=principal.institution if principal else None,
        scopes=principal.scopes if principal else frozenset(),
        **context,
    )


def _title_of(document: dict[str, Any] | None) -> str | None:
    if not isinstance(document, dict):
        return None
    return read_microcredential(document).title


def _listed(ctx: IssuerContext, institution: Institution, items: list[dict[str, Any]]) -> list:
    """Issued-credential summaries with the module title read from each document.

    The listing service does not name the module, so each listed credential is read back
    with ``records.get`` (a page shows at most ``PAGE_SIZE`` of them).
    """
    out = []
    for item in items:
        try:
            full = records.get(ctx, institution, item["credentialId"])
            title = _title_of(full.get("verifiableCredential"))
        except Failure:
            title = None
        out.append({**item, "title": title})
    return out


def field_label(t: Translator, field: str) -> str:
    """A form field's name as the registrar knows it (``learner.email`` → "E-mailadres")."""
    key = "issuer.field." + field.replace("[", ".").replace("]", "")
    return t(key) if t.has(key) else field


def field_problem(t: Translator, field: str) -> str:
    """What is wrong with one field, as specific as the catalogue knows it."""
    key = "issuer.invalid." + field.replace("[", ".").replace("]", "")
    return t(key) if t.has(key) else t("issuer.error.invalid_value")


def refusal(t: Translator, exc: ProblemError | ServiceError) -> str:
    """A service's refusal in the page's language: the engines give codes, never text."""
    code = getattr(exc, "code", "") or ""
    errors = (getattr(exc, "extra", None) or {}).get("errors") or []
    if code == "validation_error" and errors:
        return "; ".join(
            t(
                "issuer.error.field",
                field=field_label(t, str(e.get("field", ""))),
                problem=field_problem(t, str(e.get("field", ""))),
            )
            for e in errors
        )
    key = f"issuer.error.{code}"
    return t(key) if t.has(key) else t("issuer.error.other", code=code)


def client_status(exc: ProblemError | ServiceError) -> int:
    """A form the registrar can correct answers 4xx, even when the service said 5xx."""
    status = failure_status(exc)
    return status if status < 500 else 400
