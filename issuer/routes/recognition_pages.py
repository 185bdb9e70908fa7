"""The exam board's pages in the issuer console (issue 17): requests, a case with its
reports and the rule line by line, decisions that ask first, routes and trusted issuers.

Every action calls the same service the HTTP API calls (``services.recognition``), with
the console token as the actor in the audit log. Texts come from the catalogue
``issuer/messages/*.json`` (keys ``recognition.*``); what the engines say in English (the
rules engine's explanations, check messages) is not shown as a sentence: lines are built
from the rule's own names, codes and numbers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import yaml
from fastapi import Form, Request
from fastapi.responses import Response

from servicekit.errors import ServiceError
from servicekit.web import PageError, format_date, format_number, load_messages, report_view

from ..services import modules
from ..services.recognition import catalogue, decisions, recheck
from .pages._kit import Console, _ctx, _need, web
from .pages._kit import _render as _render_any

router = web.page_router()
MESSAGES = Path(__file__).resolve().parent.parent / "messages"
for _lang, _entries in load_messages(MESSAGES).items():
    for _key, _text in _entries.items():
        web.messages.setdefault(_lang, {}).setdefault(_key, _text)

CASE = "/console/recognition/cases/{case_id}"
DECISIONS = {"approve": "approved", "decline": "declined", "more": "more_requested"}


def _render(request: Request, principal: Any, template: str, **context: Any) -> Response:
    page: Response = _render_any(request, principal, template, **context)
    return page


def _error_key(code: str) -> str:
    key = f"recognition.error.{code}"
    return key if key in web.messages.get("nl", {}) else "recognition.error.generic"


def _fail(request: Request, back: str, exc: ServiceError) -> Response:
    return web.redirect(request, back, flash=("error", _error_key(exc.code)), code=exc.code)


@router.get("/console/recognition")
def overview(request: Request, principal: Console) -> Response:
    ctx = _ctx(request)
    t = web.translator(request)
    institution = principal.institution
    return _render(
        request,
        principal,
        "recognition_cases.html",
        page_title=t("recognition.title"),
        cases=decisions.listing(ctx, institution),
        routes=catalogue.listing(ctx, institution),
        issuers=catalogue.accepted_issuers(ctx, institution),
        catalogue_modules=modules.listing(ctx, institution),
        formatted_date=format_date,
    )


def _lines(detail: dict[str, Any], rule: dict[str, Any], t: Any) -> list[dict[str, Any]]:
    """The rule evaluation line by line, in the page's language."""
    evaluation = detail["evaluation"]
    titles = {
        v["credential_id"]: v.get("title") or v["credential_id"]
        for v in evaluation.get("credentials", [])
    }
    names: dict[str, str] = {}
    for module in rule.get("required_modules", []):
        names[f"module:{module['id']}"] = module.get("name") or module["id"]
    for group in rule.get("module_groups", []):
        names[f"group:{group['id']}"] = f"{group.get('name') or group['id']} ({group['choose']})"
    lines = []
    for explanation in evaluation.get("explanations", []):
        requirement = explanation["requirement"]
        if requirement == "min_ects":
            label = t(
                "recognition.case.min_ects",
                need=format_number(rule.get("min_ects")),
                have=format_number(evaluation.get("ects_total")),
            )
        elif requirement == "min_hours":
            label = t(
                "recognition.case.min_hours",
                need=format_number(rule.get("min_hours")),
                have=format_number(evaluation.get("hours_total")),
            )
        else:
            label = names.get(requirement) or names.get(f"module:{requirement}") or requirement
        by = [titles.get(c, c) for c in explanation.get("credential_ids", [])]
        lines.append({"label": label, "met": explanation["met"], "by": ", ".join(by)})
    return lines


@router.get(CASE)
def case_page(request: Request, principal: Console, case_id: str) -> Response:
    ctx = _ctx(request)
    t = web.translator(request)
    try:
        detail = decisions.detail(ctx, principal.institution, case_id)
    except ServiceError:
        raise PageError(404, "error.not_found") from None
    rule = detail["rule"]
    verdicts = {v["credential_id"]: v for v in detail["evaluation"].get("credentials", [])}
    credentials = [
        {**item, "view": report_view(item["report"], t), "verdict": verdicts.get(item["id"])}
        for item in detail["credentials"]
    ]
    return _render(
        request,
        principal,
        "recognition_case.html",
        page_title=t("recognition.case.title", name=detail["route"]["name"]),
        case=detail,
        credentials=credentials,
        lines=_lines(detail, rule, t),
        formatted_date=format_date,
    )


@router.post(CASE + "/decide")
def decide(
    request: Request,
    principal: Console,
    case_id: str,
    decision: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    confirmed: Annotated[str, Form()] = "",
) -> Response:
    """First post: the confirmation page stating the consequence; second: the decision."""
    _need(principal, "issue")
    if decision not in DECISIONS:
        raise PageError(400, "error.invalid_form", detail="decision")
    ctx = _ctx(request)
    back = CASE.format(case_id=case_id)
    institution, actor = principal.institution, principal.actor
    if decision != "approve" and not reason.strip():
        return web.redirect(
            request, back, flash=("error", "recognition.error.reason_required"), code=""
        )
    if confirmed != "yes":
        try:
            detail = decisions.detail(ctx, institution, case_id)
        except ServiceError:
            raise PageError(404, "error.not_found") from None
        t = web.translator(request)
        return _render(
            request,
            principal,
            "recognition_confirm.html",
            page_title=t("recognition.confirm.title"),
            message=t(f"recognition.confirm.{decision}", name=detail["route"]["name"]),
            action=back + "/decide",
            fields={"decision": decision, "reason": reason, "confirmed": "yes"},
            cancel=back,
            danger=decision == "decline",
        )
    try:
        if decision == "approve":
            decisions.approve(ctx, institution, case_id, actor=actor, reason=reason or None)
        elif decision == "decline":
            decisions.decline(ctx, institution, case_id, actor=actor, reason=reason)
        else:
            decisions.ask_more(ctx, institution, case_id, actor=actor, reason=reason)
    except ServiceError as exc:
        return _fail(request, back, exc)
    return web.redirect(request, back, flash=("success", f"recognition.done.{DECISIONS[decision]}"))


@router.post("/console/recognition/routes")
def publish(
    request: Request,
    principal: Console,
    slug: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "route",
    award_module: Annotated[str, Form()] = "",
    rule: Annotated[str, Form()] = "",
    auto_award: Annotated[str, Form()] = "",
) -> Response:
    _need(principal, "admin")
    back = "/console/recognition"
    try:
        parsed = yaml.safe_load(rule) if rule.strip() else None
    except yaml.YAMLError:
        parsed = None
    body: dict[str, Any] = {"kind": kind, "rule": parsed, "award_module": award_module}
    body["auto_award"] = auto_award == "on"
    if slug.strip():
        body["slug"] = slug.strip()
    try:
        spec = catalogue.parse_spec(json.loads(json.dumps(body, default=str)))
        published = catalogue.publish(
            _ctx(request), principal.institution, spec, actor=principal.actor
        )
    except ServiceError as exc:
        return _fail(request, back, exc)
    return web.redirect(
        request, back, flash=("success", "recognition.routes.published"), name=published["name"]
    )


@router.post("/console/recognition/issuers")
def add_issuer(
    request: Request,
    principal: Console,
    did: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
) -> Response:
    _need(principal, "admin")
    back = "/console/recognition"
    try:
        added = catalogue.add_issuer(
            _ctx(request), principal.institution, did, name, actor=principal.actor
        )
    except ServiceError as exc:
        return _fail(request, back, exc)
    return web.redirect(
        request, back, flash=("success", "recognition.issuers.added"), name=added["name"]
    )


@router.post("/console/recognition/issuers/remove")
def remove_issuer(
    request: Request,
    principal: Console,
    did: Annotated[str, Form()] = "",
    confirmed: Annotated[str, Form()] = "",
) -> Response:
    _need(principal, "admin")
    back = "/console/recognition"
    if confirmed != "yes":
        t = web.translator(request)
        return _render(
            request,
            principal,
            "recognition_confirm.html",
            page_title=t("recognition.confirm.title"),
            message=t("recognition.confirm.remove_issuer", did=did),
            action="/console/recognition/issuers/remove",
            fields={"did": did, "confirmed": "yes"},
            cancel=back,
            danger=True,
        )
    try:
        catalogue.remove_issuer(_ctx(request), principal.institution, did, actor=principal.actor)
    except ServiceError as exc:
        return _fail(request, back, exc)
    return web.redirect(request, back, flash=("success", "recognition.issuers.removed"))


@router.post("/console/recognition/recheck")
def recheck_awards(request: Request, principal: Console) -> Response:
    """Re-check the evidence of the awards now (also: ``microcred issuer recheck-awards``)."""
    _need(principal, "issue")
    notices = recheck.recheck(_ctx(request), principal.institution)
    key = "recognition.recheck.done.one" if len(notices) == 1 else "recognition.recheck.done.other"
    return web.redirect(request, "/console/recognition", flash=("info", key), count=len(notices))
