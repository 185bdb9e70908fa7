"""The start page and the two direct checks: a learner's share link, a pasted credential.

Both end on ``result.html`` through :func:`render_result`, which decides the headline with
``cards.headline`` so the verdict and its reason always come from the same credential.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import File, Form, Request, UploadFile
from fastapi.responses import Response

from credentials import MicrocredError, detect_format, is_ob2
from servicekit.web import format_date, report_view

from ...services.container import Services
from ...services.stack import stacks_of, withdrawn_parts
from ...services.vcapi import parse_body
from ...services.verification import VerificationResult, malformed
from . import cards as c
from .kit import render, services_of, sub_router, web

router = sub_router()


def render_result(
    request: Request,
    result: VerificationResult,
    *,
    share_url: str | None = None,
) -> Response:
    t = web.translator(request)
    overall = report_view(result.report, t)
    cards = c.cards_of(result, t)
    stacks = stacks_of(result)  # issue 17: an award and its parts (stack_tree.html)
    withdrawn = withdrawn_parts(result, stacks)  # revoked after the award: warned, not failed
    head = c.headline(overall, cards, presentation=result.is_presentation, gone=c.is_gone(result))
    if withdrawn and not any(x.outcome == "failed" for x in c.own_checks(overall, cards)):
        # only parts withdrawn after the award failed: the award's verdict leads, the tree
        # and the part's own card name what was withdrawn (docs/recognition.md)
        leading = [card for i, card in enumerate(cards) if i not in withdrawn]
        head = c.headline(None, leading, presentation=result.is_presentation)
    return render(
        request,
        "result.html",
        page_title=t("verifier.result.title"),
        head=head,
        overall=overall,
        own_checks=c.own_checks(overall, cards),
        cards=cards,
        is_presentation=result.is_presentation,
        stacks=stacks,
        pasted=share_url is None,
        share_url=share_url,
        checked_at=format_date(services_of(request).clock(), with_time=True),
        status_code=200,
    )


@router.get("/")
def start(request: Request) -> Response:
    t = web.translator(request)
    return render(
        request,
        "start.html",
        page_title=t("verifier.start.title"),
        share_url=request.query_params.get("share", ""),
    )


@router.post("/check/share")
def check_share(request: Request, url: Annotated[str, Form()] = "") -> Response:
    """Verify a learner's share link: the service fetches it safely and checks the domain."""
    result = services_of(request).shares.verify(url.strip())
    return render_result(request, result, share_url=url.strip())


@router.post("/check/credential")
def check_credential(
    request: Request,
    document: Annotated[str, Form()] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Verify a pasted or uploaded credential (or a presentation, without a challenge)."""
    services = services_of(request)
    raw = b""
    if file is not None and file.filename:
        raw = file.file.read(services.settings.max_body + 1)
    if not raw.strip():
        raw = document.encode("utf-8")
    if not raw.strip():
        t = web.translator(request)
        return render(
            request,
            "start.html",
            page_title=t("verifier.start.title"),
            share_url="",
            file_error=t("verifier.file.empty"),
            status_code=400,
        )
    text = raw[: services.settings.max_body].decode("utf-8", errors="replace").strip()
    try:
        # a signed Open Badges 2.0 assertion is a compact JWS, not JSON, nor is an SD-JWT VC
        # (issue 19): both go to the format handlers as text; a JWT-secured VC or another
        # unsupported format is named as that format, not refused as broken JSON
        detected = detect_format(text)
        as_text = is_ob2(text) or detected.family == "sdjwt" or not detected.supported
        parsed = text if as_text else parse_body(raw, max_bytes=services.settings.max_body)
    except MicrocredError as exc:
        return render_result(
            request, _recorded(services, malformed("credential", exc.code, exc.message))
        )
    if isinstance(parsed, dict) and is_presentation(parsed):
        result = services.vcapi.verify_presentation(parsed, {})
    else:
        result = services.verification.verify_credential(parsed)
    return render_result(request, result)


def _recorded(services: Services, result: VerificationResult) -> VerificationResult:
    services.verification.record(result)
    return result


def is_presentation(document: dict[str, Any]) -> bool:
    types = document.get("type") or []
    return "VerifiablePresentation" in (types if isinstance(types, list) else [types])
