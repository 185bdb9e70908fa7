"""Admission and exemption on a page: a rule over an applicant's share link or credentials.

A share link is verified by the share service and handed to ``evaluate_results``; pasted
JSON goes through ``AdmissionService.evaluate`` exactly as the API's body would. The result
page leads with the rule's answer ("Voldoet niet aan de regel: 8 van 10 ECTS").
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import File, Request, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from credentials import MicrocredError
from servicekit.errors import ServiceError
from servicekit.problems import ProblemError

from ...services.admissions import evaluate_results, parse_route
from ...services.vcapi import parse_body
from .check import is_presentation
from .explain import rule_context
from .kit import form_dict, refusal_text, render, services_of, sub_router, web
from .requests import rule_answer
from .rules import RuleError, rule_from_form

router = sub_router()


@router.get("/check/admission")
def admission_form(request: Request) -> Response:
    t = web.translator(request)
    return render(
        request,
        "admission.html",
        page_title=t("verifier.admission.title"),
        form={},
        error=None,
    )


@router.post("/check/admission")
async def admission_evaluate(
    request: Request, file: Annotated[UploadFile | None, File()] = None
) -> Response:
    """Evaluate a rule over an applicant's share link or pasted credentials."""
    t = web.translator(request)
    form = await form_dict(request)
    services = services_of(request)

    def refuse(message: str) -> Response:
        return render(
            request,
            "admission.html",
            page_title=t("verifier.admission.title"),
            form=form,
            error=message,
            status_code=400,
        )

    try:
        rule = rule_from_form(form, t)
        route = parse_route(rule)
    except RuleError as exc:
        return refuse(t("verifier.rule.invalid", detail=t(exc.key, **exc.params)))
    except (ProblemError, ServiceError) as exc:
        return refuse(t("verifier.rule.invalid", detail=refusal_text(exc.code, t)))
    share = form.get("share_url", "").strip()
    raw = form.get("evidence_json", "").strip().encode()
    if file is not None and file.filename:
        raw = (await file.read(services.settings.max_body + 1)) or raw
    if share:
        result = await run_in_threadpool(services.shares.verify, share)
        outcome = evaluate_results(route, [result], now=services.clock()).to_dict()
        outcome["holder_proven"] = bool(result.counted_credentials())
    elif raw:
        try:
            evidence = parse_body(raw, max_bytes=services.settings.max_body)
        except MicrocredError as exc:
            return refuse(refusal_text(exc.code, t))
        body: dict[str, Any]
        if isinstance(evidence, dict) and is_presentation(evidence):
            body = {"verifiablePresentation": evidence, "rule": rule}
        else:
            body = {"credentials": evidence, "rule": rule}
        try:
            outcome = await run_in_threadpool(services.admissions.evaluate, body)
        except (ProblemError, ServiceError) as exc:
            return refuse(refusal_text(exc.code, t))
    else:
        return refuse(t("verifier.admission.no_evidence"))
    return render(
        request,
        "admission_result.html",
        page_title=t("verifier.admission.result_title"),
        outcome=outcome,
        answer=rule_answer(outcome, t),
        share_url=share or None,
        **rule_context(outcome, t),
    )
