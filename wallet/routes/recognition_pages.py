"""Recognition in the learner's pages (issue 17): "Aanvragen".

One hub page (``/recognition``): follow an institution's route by its address, see which
routes are complete, ask the institution ("Erkenning aanvragen bij …"), and follow each
request's state and reason. Asking opens the wallet's ordinary consent screen
(``/present``) with the institution's presentation request, so the learner sees exactly
what goes before anything is sent. An approved request's credential is collected when the
learner next looks (``RecognitionService``).

Two small hooks show recognition where the learner already is: a route's page offers the
request (``recognition_route_hook.html``), and a route or exemption credential's page lists
its parts with a share of the award together with them (``recognition_parts.html``); both
templates call the globals registered here. Service refusals reach the pages as codes and
are shown in the page's language (``recognition.error.<code>``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Form, Request
from fastapi.responses import JSONResponse, Response

from servicekit.errors import ServiceError, http_status
from servicekit.web import Translator, format_number, load_messages

from ..models import Learner
from ..services.container import Services
from .pages._kit import LearnerPage, web
from .pages._kit import render as _render

HERE = Path(__file__).resolve().parent.parent
router = web.page_router()

# The wallet's catalogue files (wallet/messages/*.json): read here too until the pages load
# them themselves; a key defined twice has one value, so this is harmless afterwards.
for _lang, _entries in load_messages(HERE / "messages").items():
    web.messages.setdefault(_lang, {}).update(_entries)


def _services(request: Request) -> Services:
    return request.app.state.services


def _error(t: Translator, exc: ServiceError) -> str:
    """The refusal in the page's language, by its code; the generic line otherwise."""
    key = f"recognition.error.{exc.code}"
    return t(key) if key in web.messages.get(t.lang, {}) else t("recognition.error.other")


def _status(exc: ServiceError) -> int:
    """The page's status for a refusal: the service's own, a failing party as 502."""
    status = http_status(exc)
    return status if status < 500 else 502


def _state_text(t: Translator, case: dict[str, Any]) -> str:
    return t(f"recognition.state.{case['state']}")


# -- template globals (the hooks in route.html and credential.html) -------------------------


def _route_hook(request: Request, learner: Learner | None, route_id: str) -> dict[str, Any] | None:
    if learner is None:
        return None
    try:
        return _services(request).recognition.route(learner, route_id)
    except ServiceError:
        return None  # not an institution's route


def _parts_hook(
    request: Request, learner: Learner | None, credential_id: str
) -> dict[str, Any] | None:
    if learner is None:
        return None
    try:
        return _services(request).recognition.parts(learner, credential_id)
    except ServiceError:
        return None


web.env.globals["recognition_route"] = _route_hook
web.env.globals["recognition_parts"] = _parts_hook


# -- the hub --------------------------------------------------------------------------------


def _hub(
    request: Request,
    learner: Learner,
    *,
    error: str | None = None,
    url: str = "",
    status_code: int = 200,
) -> Response:
    services = _services(request)
    t = web.translator(request)
    cases = services.recognition.cases(learner)  # first: refreshed states decide the routes'
    routes = services.recognition.list_routes(learner)
    for route in routes:
        required = route.get("ectsRequired")
        done = format_number(route.get("ectsTotal") or 0)
        route["progress_text"] = (
            t("progress.ects", done=done, total=format_number(required)) if required else None
        )
    for case in cases:
        case["state_text"] = _state_text(t, case)
        case["note"] = None
        if case.get("unreachable"):
            case["note"] = t("recognition.case.unreachable")
        elif case.get("collectError"):
            case["note"] = t("recognition.case.collect_failed")
    return _render(
        request,
        learner,
        "recognition_hub.html",
        page_title=t("recognition.title"),
        routes=routes,
        cases=cases,
        error=error,
        url=url,
        status_code=status_code,
    )


@router.get("/recognition")
def hub(request: Request, learner: LearnerPage) -> Response:
    return _hub(request, learner)


@router.post("/recognition/routes")
def adopt(request: Request, learner: LearnerPage, url: Annotated[str, Form()] = "") -> Response:
    t = web.translator(request)
    try:
        route = _services(request).recognition.adopt(learner, url)
    except ServiceError as exc:
        return _hub(request, learner, error=_error(t, exc), url=url, status_code=_status(exc))
    return web.redirect(
        request, "/recognition", flash=("success", "recognition.adopted"), name=route["name"]
    )


@router.post("/recognition/routes/{route_id}/request")
def ask(request: Request, learner: LearnerPage, route_id: str) -> Response:
    """Open the case, then the consent screen with the institution's request."""
    t = web.translator(request)
    try:
        case = _services(request).recognition.ask(learner, route_id)
    except ServiceError as exc:
        return _hub(request, learner, error=_error(t, exc), status_code=_status(exc))
    return web.redirect(
        request, "/present?request_uri=" + quote(case["authorizationRequest"], safe="")
    )


@router.get("/recognition/cases/{case_id}")
def case_page(request: Request, learner: LearnerPage, case_id: str) -> Response:
    t = web.translator(request)
    case = _services(request).recognition.case(learner, case_id)
    case["state_text"] = _state_text(t, case)
    return _render(
        request,
        learner,
        "recognition_case.html",
        page_title=t("recognition.case.title"),
        case=case,
        consent_link=(
            "/present?request_uri=" + quote(case["authorizationRequest"], safe="")
            if case.get("authorizationRequest")
            else None
        ),
    )


@router.get("/recognition/cases/{case_id}/state")
def case_state(request: Request, learner: LearnerPage, case_id: str, shown: str = "") -> Response:
    """What the case page's poll.js asks: has the institution moved since the page showed
    ``shown``? (Asks the institution, so the page polls slowly and for ten minutes at most.)"""
    case = _services(request).recognition.case(learner, case_id)
    moved = case["state"] != shown or bool(case.get("credentialId"))
    body: dict[str, Any] = {"done": moved}
    if moved:
        body["url"] = f"/recognition/cases/{case_id}"
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@router.post("/recognition/cases/{case_id}/collect")
def collect(request: Request, learner: LearnerPage, case_id: str) -> Response:
    try:
        _services(request).recognition.collect(learner, case_id)
    except ServiceError:
        return web.redirect(
            request, f"/recognition/cases/{case_id}", flash=("error", "recognition.collect_failed")
        )
    return web.redirect(
        request, f"/recognition/cases/{case_id}", flash=("success", "recognition.collected")
    )


__all__ = ["router"]
