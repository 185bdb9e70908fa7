"""My data: export (optionally with the encrypted key backup), import, delete the account."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import File, Form, Request, UploadFile
from fastapi.responses import Response

from ...deps import SESSION_COOKIE
from ...models import Learner
from ._kit import (
    LearnerPage,
    Refusal,
    problem_status,
    problem_text,
    render,
    router,
    services_of,
    web,
)


def _data_page(request: Request, learner: Learner, **context: Any) -> Response:
    t = web.translator(request)
    context.setdefault("error", None)
    return render(request, learner, "data.html", page_title=t("wallet.data.title"), **context)


@router.get("/data")
def data_page(request: Request, learner: LearnerPage) -> Response:
    return _data_page(request, learner)


def _download(learner: Learner, bundle: dict[str, Any], suffix: str = "") -> Response:
    return Response(
        json.dumps(bundle, indent=2, ensure_ascii=False),
        media_type="application/json",
        headers={
            "Content-Disposition": (
                f'attachment; filename="wallet-{quote(learner.username)}{suffix}.json"'
            ),
            "Cache-Control": "no-store",
        },
    )


@router.get("/data/export.json")
def data_export(request: Request, learner: LearnerPage) -> Response:
    return _download(learner, services_of(request).portability.export(learner))


@router.post("/data/export")
def data_export_with_key(
    request: Request,
    learner: LearnerPage,
    passphrase: Annotated[str, Form()] = "",
    passphrase_again: Annotated[str, Form()] = "",
) -> Response:
    """The export with the holder key, encrypted under the learner's passphrase."""
    t = web.translator(request)
    if passphrase != passphrase_again:
        return _data_page(
            request, learner, export_error=t("wallet.data.passphrase_mismatch"), status_code=400
        )
    try:
        bundle = services_of(request).portability.export(learner, passphrase=passphrase)
    except Refusal as exc:
        return _data_page(
            request, learner, export_error=problem_text(t, exc), status_code=problem_status(exc)
        )
    return _download(learner, bundle, "-met-sleutel" if t.lang == "nl" else "-with-key")


@router.post("/data/import")
def data_import(
    request: Request,
    learner: LearnerPage,
    file: Annotated[UploadFile | None, File()] = None,
    passphrase: Annotated[str, Form()] = "",
) -> Response:
    services = services_of(request)
    t = web.translator(request)
    raw = file.file.read(services.settings.max_import_body + 1) if file is not None else b""
    try:
        bundle = json.loads(raw or b"null")
    except ValueError:
        return _data_page(request, learner, error=t("wallet.error.invalid_export"), status_code=400)
    try:
        counts = services.portability.restore(learner, bundle, passphrase=passphrase or None)
    except Refusal as exc:
        return _data_page(
            request, learner, error=problem_text(t, exc), status_code=problem_status(exc)
        )
    if counts.get("keysMissing"):
        return web.redirect(
            request,
            "/credentials",
            flash=("warning", "wallet.data.imported_without_key"),
            credentials=counts.get("credentials", 0),
        )
    return web.redirect(
        request,
        "/credentials",
        flash=("success", "wallet.data.imported"),
        credentials=counts.get("credentials", 0),
    )


@router.post("/data/delete")
def data_delete(
    request: Request, learner: LearnerPage, confirm: Annotated[str, Form()] = ""
) -> Response:
    t = web.translator(request)
    if confirm.strip().lower() != learner.username:
        return _data_page(request, learner, error=t("wallet.data.delete_mismatch"), status_code=400)
    services_of(request).portability.delete_account(learner)
    response = web.redirect(request, "/", flash=("info", "wallet.data.deleted"))
    web.delete_cookie(request, response, SESSION_COOKIE)
    return response
