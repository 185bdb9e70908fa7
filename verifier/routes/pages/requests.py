"""Presentation requests on a page: the employer asks, the learner's wallet answers by QR.

The request's result is read with its secret token, which the page keeps in a cookie
limited to that request's path; nothing verified is stored for the pages themselves. The
result page leads with the answer to the question asked (the rule, or the request), and
only then says whether the credentials themselves are genuine.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from servicekit.errors import ServiceError
from servicekit.problems import ProblemError
from servicekit.qr import qr_png_data_uri
from servicekit.ratelimit import per_client
from servicekit.web import CheckRow, PageError, ReportView, Translator, format_number, report_view

from ...services.container import Services
from ...services.requests import QR_MAX_CHARS, by_value_uri, request_uri_for
from . import cards as c
from .explain import rule_context
from .kit import form_dict, refusal_text, render, services_of, sub_router, web
from .rules import RuleError, rule_from_form

RESULT_COOKIE = "mc_verifier_result"
EXPIRY_CHOICES = (600, 3600, 86400)

router = sub_router()
_anonymous_request_limit = per_client("request")


@router.get("/check/request")
def request_form(request: Request) -> Response:
    t = web.translator(request)
    return render(
        request,
        "request_new.html",
        page_title=t("verifier.request.title"),
        form={},
        error=None,
        expiry_choices=EXPIRY_CHOICES,
    )


@router.post("/check/request")
async def create_request(request: Request) -> Response:
    """Create a presentation request through the service and go to its QR page."""
    t = web.translator(request)
    form = await form_dict(request)
    services = services_of(request)
    _anonymous_request_limit(request)  # the form is anonymous: same limit as the API
    ask = form.get("ask", "any")
    modules: list[str] = []
    rule: dict[str, Any] | None = None
    try:
        if ask in ("module", "route"):  # issue 17: a route certificate is asked by its name
            module = form.get("module" if ask == "module" else "route_name", "").strip()
            if not module:
                raise RuleError("verifier.request.module_missing")
            modules = [module]
        elif ask == "rule":
            rule = rule_from_form(form, t)
        try:
            expires_in = int(form.get("expires_in", "600"))
        except ValueError:
            expires_in = 600
        created = services.requests.create(
            purpose=form.get("purpose", "").strip()[:500] or t("verifier.request.purpose_default"),
            modules=modules or None,
            rule=rule,
            expires_in=expires_in if expires_in in EXPIRY_CHOICES else 600,
        )
    except RuleError as exc:
        error = t("verifier.rule.invalid", detail=t(exc.key, **exc.params))
        return _refuse(request, form, error)
    except (ProblemError, ServiceError) as exc:
        return _refuse(request, form, t("verifier.rule.invalid", detail=refusal_text(exc.code, t)))
    path = f"/check/request/{created.id}"
    response = web.redirect(request, path)
    web.set_cookie(
        request,
        response,
        RESULT_COOKIE,
        created.result_token,
        max_age=services.settings.max_request_ttl,
        path=path,
    )
    return response


def _refuse(request: Request, form: dict[str, str], error: str) -> Response:
    t = web.translator(request)
    return render(
        request,
        "request_new.html",
        page_title=t("verifier.request.title"),
        form=form,
        error=error,
        expiry_choices=EXPIRY_CHOICES,
        status_code=400,
    )


def _request_state(request: Request, request_id: str) -> dict[str, Any] | None:
    """The stored request as the service reports it to its creator; None without the token."""
    token = request.cookies.get(RESULT_COOKIE)
    if not token:
        return None
    try:
        state: dict[str, Any] = services_of(request).requests.result(request_id, token)
    except (ProblemError, ServiceError) as exc:
        if getattr(exc, "status", None) == 404 or getattr(exc, "kind", None) == "not_found":
            raise PageError(404, "verifier.error.request_gone") from None
        return None
    return state


def _qr_link(services: Services, request_id: str) -> str | None:
    """The link the wallet opens: the parameters by value, or by reference when too long."""
    try:
        parameters = services.requests.parameters(request_id)
    except (ProblemError, ServiceError):
        return None
    link = by_value_uri(parameters)
    if len(link) > QR_MAX_CHARS:
        link = "openid4vp://?" + urlencode(
            {
                # by reference the wallet gets the signed request object: the DID client id
                "client_id": services.identity.client_id,
                "request_uri": request_uri_for(
                    services.settings.public_url, request_id, parameters["state"]
                ),
            }
        )
    return link


@router.get("/check/request/{request_id}")
def request_page(request: Request, request_id: str) -> Response:
    t = web.translator(request)
    state = _request_state(request, request_id)
    if state is None:
        raise PageError(403, "verifier.request.no_token")
    if state["status"] in ("completed", "declined"):
        return web.redirect(request, f"/check/request/{request_id}/result")
    link = _qr_link(services_of(request), request_id) if state["status"] == "pending" else None
    return render(
        request,
        "request_wait.html",
        page_title=t("verifier.request.wait_title"),
        state=state,
        link=link,
        qr=qr_png_data_uri(link) if link else None,
        request_id=request_id,
    )


@router.get("/check/request/{request_id}/state")
def request_state(request: Request, request_id: str) -> Response:
    """What the page's poll.js asks every few seconds: answered yet, and where to go."""
    state = _request_state(request, request_id)
    headers = {"Cache-Control": "no-store"}
    if state is None:
        return JSONResponse({"done": False, "expired": True}, headers=headers)
    done = state["status"] in ("completed", "declined")
    body: dict[str, Any] = {"done": done, "expired": state["status"] == "expired"}
    if done:
        body["url"] = f"/check/request/{request_id}/result"
    return JSONResponse(body, headers=headers)


@router.get("/check/request/{request_id}/result")
def request_result(request: Request, request_id: str) -> Response:
    t = web.translator(request)
    state = _request_state(request, request_id)
    if state is None:
        raise PageError(403, "verifier.request.no_token")
    if state["status"] not in ("completed", "declined"):
        return web.redirect(request, f"/check/request/{request_id}")
    outcome = state.get("result") or {}
    cards: list[c.CredentialCard] = []
    views: list[ReportView] = []
    own: tuple[CheckRow, ...] = ()
    for presentation in outcome.get("presentations", []):
        view = report_view(presentation, t)
        views.append(view)
        subs = presentation.get("credentials", [])
        these = [c.card(dict(s.get("summary") or {}), report_view(s, t), t) for s in subs]
        cards.extend(these)
        own += c.own_checks(view, these)
    rule = outcome.get("rule")
    if state["status"] == "declined":
        head = c.Headline("declined", None)
    else:
        head = _head(views, cards, own)
        if rule:
            head = c.answered(head, met=bool(rule.get("satisfied")), text=rule_answer(rule, t))
        elif head.state != "withdrawn":
            met = bool(outcome.get("matches_request"))
            head = c.answered(
                head,
                met=met,
                text=t("verifier.request.answer_met" if met else "verifier.request.answer_not_met"),
            )
    return render(
        request,
        "request_result.html",
        page_title=t("verifier.result.title"),
        head=head,
        state=state,
        outcome=outcome,
        cards=cards,
        own_checks=own,
        rule=rule,
        rule_lines=rule_context(rule, t) if rule else {},
        asked=query_lines(outcome, state, t),
        stacks=outcome.get("stacks") or [],  # issue 17 (stack_tree.html)
    )


def query_lines(
    outcome: dict[str, Any], state: dict[str, Any], t: Translator
) -> list[tuple[str, bool]]:
    """What was asked, one line per query, said from the request itself (the stored
    ``message`` is the engine's English, for API clients)."""
    asked = state.get("request") or {}
    modules = list(asked.get("modules") or [])
    rule = asked.get("rule") or {}
    lines = []
    for query in outcome.get("queries", []):
        query_id = str(query.get("id", ""))
        base, sd_jwt = query_id.removesuffix("_sd_jwt"), query_id.endswith("_sd_jwt")
        number = base.removeprefix("module_")
        if base.startswith("module_") and number.isdigit() and 0 < int(number) <= len(modules):
            text = t("verifier.request.query_module", module=modules[int(number) - 1])
        elif base == "route":
            name = rule.get("name") if isinstance(rule, dict) else None
            text = t("verifier.request.query_rule", rule=name or t("verifier.rule.name_default"))
        else:
            text = t("verifier.request.query_any")
        if sd_jwt:
            text = t("verifier.request.query_sd_jwt", query=text)
        lines.append((text, bool(query.get("matched"))))
    return lines


def _head(
    views: list[ReportView], cards: list[c.CredentialCard], own: tuple[Any, ...]
) -> c.Headline:
    if not views:
        return c.Headline("failed")
    if any(check.outcome == "failed" for check in own) or not cards:
        failing = [v for v in views if any(x.outcome == "failed" for x in c.own_checks(v))]
        view = failing[0] if failing else views[0]
        return c.Headline(view.state, c.first_reason(c.own_checks(view)))
    return c.headline(None, cards, presentation=False)


def rule_answer(rule: dict[str, Any], t: Translator) -> str:
    """ "Voldoet niet aan de regel: 8 van 10 ECTS" — the rule's answer with its numbers."""
    satisfied = bool(rule.get("satisfied"))
    route = rule.get("route") or {}
    total = format_number(rule.get("ects_total") or 0) or "0"
    needed = route.get("min_ects")
    key = "verifier.rule.answer_met" if satisfied else "verifier.rule.answer_not_met"
    if needed:
        return t(key + "_ects", done=total, total=format_number(needed))
    return t(key)
