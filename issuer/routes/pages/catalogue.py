"""The overview and the module catalogue."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import File, Request, UploadFile
from fastapi.responses import Response

from credentials import PARTICIPATION_FORMS, SUPERVISION
from servicekit.errors import ServiceError
from servicekit.problems import ProblemError
from servicekit.reading import form_fields
from servicekit.web import (
    PageError,
    Translator,
)

from ...deps import Principal
from ...schemas import ModuleIn, validate
from ...services import (
    module_images,
    modules,
    records,
    urls,
)
from ._kit import (
    Console,
    Failure,
    _ctx,
    _listed,
    _need,
    _render,
    client_status,
    failure_status,
    field_problem,
    refusal,
    router,
    web,
)


@router.get("/console")
def home(request: Request, principal: Console) -> Response:
    ctx = _ctx(request)
    institution = principal.institution
    listing = records.listing(ctx, institution, limit=5)
    return _render(
        request,
        principal,
        "home.html",
        page_title=institution.name,
        did=urls.institution_did(ctx.settings.public_url, institution.slug),
        modules=modules.listing(ctx, institution),
        recent=_listed(ctx, institution, listing["credentials"]),
    )


# --------------------------------------------------------------------------- modules


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _module_body(form: dict[str, str]) -> dict[str, Any]:
    """The API's module body from the form (empty fields left out, so the API's own
    defaults and messages apply)."""
    body: dict[str, Any] = {
        "name": form.get("name", ""),
        "description": form.get("description", ""),
        "learning_outcomes": _lines(form.get("learning_outcomes", "")),
        "assessment_type": form.get("assessment_type", ""),
        "participation_form": form.get("participation_form", ""),
        "quality_assurance": {"name": form.get("qa_name", ""), "url": form.get("qa_url", "")},
        "prerequisites": _lines(form.get("prerequisites", "")),
    }
    for key, kind in (("ects", float), ("hours", int), ("eqf_level", int), ("nlqf_level", int)):
        raw = form.get(key, "").strip().replace(",", ".")
        if raw:
            try:
                body[key] = kind(float(raw)) if kind is int else kind(raw)
            except ValueError:
                body[key] = raw  # the API names the field
    for key in ("language", "supervision", "proof_suite"):
        if form.get(key, "").strip():
            body[key] = form[key].strip()
    if form.get("identity_check"):
        body["identity_check"] = True
    grading = {
        name: form.get(field_name, "").strip()
        for name, field_name in (
            ("value_min", "grade_min"),
            ("value_max", "grade_max"),
            ("required_value", "grade_pass"),
        )
        if form.get(field_name, "").strip()
    }
    if grading:
        body["grading"] = grading
    return body


def _field_errors(t: Translator, exc: ProblemError | ServiceError) -> dict[str, str]:
    """Per field, a sentence in the registrar's language (the API's own text is English)."""
    errors = exc.extra.get("errors") or [{"field": "", "message": ""}]
    return {str(e.get("field", "")): field_problem(t, str(e.get("field", ""))) for e in errors}


def _modules_page(request: Request, principal: Principal, **context: Any) -> Response:
    ctx = _ctx(request)
    t = web.translator(request)
    context.setdefault("form", {})
    context.setdefault("errors", {})
    listed = modules.listing(ctx, principal.institution)
    return _render(
        request,
        principal,
        "modules.html",
        page_title=t("issuer.modules.title"),
        modules=modules.listing(ctx, principal.institution),
        images=module_images.paths_for(ctx, principal.institution, [m["id"] for m in listed]),
        participation_forms=PARTICIPATION_FORMS,
        supervision_values=SUPERVISION,
        **context,
    )


@router.get("/console/modules")
def module_list(request: Request, principal: Console) -> Response:
    return _modules_page(request, principal)


@router.post("/console/modules")
async def module_create(request: Request, principal: Console) -> Response:
    _need(principal, "admin")
    form = await form_fields(request)
    ctx = _ctx(request)
    try:
        spec = validate(ModuleIn, _module_body(form))
        created = modules.create(ctx, principal.institution, spec, actor=principal.actor)
    except Failure as exc:
        t = web.translator(request)
        return _modules_page(
            request,
            principal,
            form=form,
            errors=_field_errors(t, exc),
            error=t("issuer.modules.invalid"),
            status_code=422,
        )
    return web.redirect(
        request,
        "/console/modules",
        flash=("success", "issuer.modules.created"),
        name=created["name"],
    )


@router.get("/console/modules/{module_id}/archive")
def module_archive_confirm(request: Request, principal: Console, module_id: str) -> Response:
    """Asks first: an archived module can no longer be issued."""
    _need(principal, "admin")
    t = web.translator(request)
    try:
        module = modules.get(_ctx(request), principal.institution, module_id)
    except Failure:
        raise PageError(404, "error.not_found") from None
    return _render(
        request,
        principal,
        "confirm.html",
        page_title=t("issuer.confirm.archive.title"),
        consequence=t("issuer.confirm.archive.consequence", name=module["name"]),
        action=f"/console/modules/{quote(module_id, safe='')}/archive",
        fields={},
        reason=None,
        confirm_label=t("issuer.confirm.archive.button"),
        back="/console/modules",
    )


@router.post("/console/modules/{module_id}/image")
def module_image(
    request: Request,
    principal: Console,
    module_id: str,
    image: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """The badge image: checked by content and re-encoded by the service."""
    _need(principal, "admin")
    ctx = _ctx(request)
    data = image.file.read(module_images.MAX_BYTES + 1) if image is not None else b""
    try:
        module_images.store(ctx, principal.institution, module_id, data, actor=principal.actor)
    except Failure as exc:
        t = web.translator(request)
        return _modules_page(
            request,
            principal,
            image_error=t("issuer.module.image_refused", detail=refusal(t, exc)),
            status_code=client_status(exc),
        )
    return web.redirect(request, "/console/modules", flash=("success", "issuer.module.image_saved"))


@router.post("/console/modules/{module_id}/archive")
def module_archive(request: Request, principal: Console, module_id: str) -> Response:
    _need(principal, "admin")
    try:
        archived = modules.archive(
            _ctx(request), principal.institution, module_id, actor=principal.actor
        )
    except Failure as exc:
        raise PageError(failure_status(exc), "error.not_found") from None
    return web.redirect(
        request,
        "/console/modules",
        flash=("info", "issuer.modules.archived"),
        name=archived["name"],
    )
