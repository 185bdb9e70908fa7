"""Answering a verifier's request (OpenID4VP) after a consent screen.

The consent screen says who asks — the identity the request proves (a request object signed
by the verifier's DID, whose name comes from the verifier's registry of requesters), or
else only the host the answer goes to, with any self-given name marked as unchecked — and
what is asked in words built from the structured query and, when the verifier sends its
admission rule, from that rule ("minimaal 10 ECTS op EQF ≥ 4"), never the query's English.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from servicekit.web import Translator, format_number

from ...models import Learner
from ._kit import (
    LearnerPage,
    Refusal,
    card_state,
    problem_status,
    problem_text,
    render,
    router,
    services_of,
    web,
)
from .sharing import disclose_form

#: Names verifier software gives itself when nobody verified a requester: not a "who".
SOFTWARE_NAMES = frozenset({"microcred verifier", "verifier"})
_ACHIEVEMENT_PATHS = {
    ("credentialSubject", "achievement", "name"): "name",
    ("credentialSubject", "achievement", "id"): "id",
}


def describe_query(query: dict[str, Any], t: Translator) -> str:
    """What one DCQL query asks, from its structured fields."""
    modules = [
        str(v)
        for claim in query.get("claims") or []
        if tuple(claim.get("path") or ()) in _ACHIEVEMENT_PATHS
        for v in claim.get("values") or []
    ]
    base = "wallet.ask.sd_jwt" if query.get("format") == "dc+sd-jwt" else "wallet.ask.credential"
    text = t(f"{base}.many" if query.get("multiple") else base)
    if modules:
        text += " " + t("wallet.ask.module", module=", ".join(modules))
    return text


def describe_rule(rule: dict[str, Any], t: Translator) -> list[str]:
    """The admission rule as the learner should read it, one line per condition."""
    lines = []
    ects, level = rule.get("min_ects"), rule.get("min_eqf_level")
    if ects and level:
        lines.append(t("wallet.rule.ects_at_level", ects=format_number(ects), level=level))
    elif ects:
        lines.append(t("wallet.rule.ects", ects=format_number(ects)))
    elif level:
        lines.append(t("wallet.rule.level", level=level))
    if rule.get("min_hours"):
        lines.append(t("wallet.rule.hours", hours=format_number(rule["min_hours"])))
    for module in rule.get("required_modules") or []:
        lines.append(t("wallet.rule.module", name=module.get("name") or module.get("id")))
    for group in rule.get("module_groups") or []:
        names = ", ".join(m.get("name") or m.get("id") for m in group.get("modules") or [])
        lines.append(
            t("wallet.rule.group", n=group.get("choose"), name=group.get("name"), names=names)
        )
    if rule.get("max_age_years"):
        lines.append(
            t.plural("wallet.rule.max_age", int(rule["max_age_years"]),
                     years=format_number(rule["max_age_years"]))
        )  # fmt: skip
    if rule.get("accepted_issuers"):
        lines.append(t("wallet.rule.issuers"))
    return lines


def who_asks(verifier: dict[str, Any], t: Translator) -> dict[str, Any]:
    """Who the learner answers: a checked identity, or the host and an unchecked name."""
    name = verifier.get("name")
    if isinstance(name, str) and name.strip().lower() in SOFTWARE_NAMES:
        name = None
    identity = verifier.get("identity")
    return {
        "name": name or verifier.get("host") or t("wallet.consent.unknown_verifier"),
        "verified": bool(identity),
        "identity": identity,
        "host": verifier.get("host"),
        "named": bool(name),
    }


@router.get("/present")
def present(request: Request, learner: LearnerPage, request_uri: str = "") -> Response:
    """Paste a verifier's request; with ``?request_uri=`` show the consent screen."""
    t = web.translator(request)
    value = request_uri.strip() or request.query_params.get("request", "").strip()
    if not value:
        return render(request, learner, "present.html", page_title=t("wallet.present.title"))
    try:
        preview = services_of(request).requests.preview(learner, value)
    except Refusal as exc:
        return render(
            request,
            learner,
            "present.html",
            page_title=t("wallet.present.title"),
            value=value,
            error=problem_text(t, exc),
            status_code=problem_status(exc, gateway=True),
        )
    return _consent(request, learner, value, preview)


def _consent(
    request: Request,
    learner: Learner,
    value: str,
    preview: dict[str, Any],
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    t = web.translator(request)
    for query in preview["queries"]:
        query["asks_text"] = describe_query(query, t)
        for match in query["matches"]:
            match["state"] = card_state(match)
    verifier = preview.get("verifier") or {}
    rule = preview.get("rule")
    return render(
        request,
        learner,
        "consent.html",
        page_title=t("wallet.consent.title"),
        value=value,
        preview=preview,
        verifier=verifier,
        who=who_asks(verifier, t),
        rule_lines=describe_rule(rule, t) if isinstance(rule, dict) else [],
        keys_missing=services_of(request).portability.keys_missing(learner),
        error=error,
        status_code=status_code,
    )


def _disclose(form: Any) -> dict[str, list[str]]:
    """The ticked SD-JWT VC claims: ``disclose`` values ``<wallet id>|<path>``; every SD-JWT
    VC on the page is named in ``sdjwt``, so one with nothing ticked sends no disclosure."""
    out: dict[str, list[str]] = {v: [] for v in form.getlist("sdjwt") if isinstance(v, str) and v}
    for value in form.getlist("disclose"):
        if isinstance(value, str) and "|" in value:
            row_id, path = value.split("|", 1)
            out.setdefault(row_id, []).append(path)
    return out


@router.post("/present/respond")
async def present_respond(request: Request, learner: LearnerPage) -> Response:
    services = services_of(request)
    t = web.translator(request)
    form = await request.form()
    value = str(form.get("request") or "")
    if form.get("decision") == "decline":
        services.requests.decline(learner, value)
        return web.redirect(request, "/shares", flash=("info", "wallet.consent.declined"))
    picked = [v for v in form.getlist("credential") if isinstance(v, str) and v]
    consent = form.get("consent") == "yes"
    if not consent or not picked:
        preview = services.requests.preview(learner, value)
        return _consent(
            request, learner, value, preview, error=t("wallet.consent.need"), status_code=400
        )
    try:
        # ecdsa-sd-2023 fields (issue 18) and SD-JWT VC claims (issue 19), per credential
        disclose = {**(disclose_form(form, picked) or {}), **_disclose(form)}
        sent = services.requests.respond(learner, value, picked, consent, disclose or None)
    except Refusal as exc:
        preview = services.requests.preview(learner, value)
        return _consent(
            request,
            learner,
            value,
            preview,
            error=problem_text(t, exc),
            status_code=problem_status(exc, gateway=True),
        )
    who = who_asks(sent.get("verifier") or {}, t)
    case = services.recognition.case_for_request(learner, value)  # issue 17: back to the case
    after = f"/recognition/cases/{case}" if case else "/shares"
    return web.redirect(request, after, flash=("success", "wallet.consent.sent"), name=who["name"])
