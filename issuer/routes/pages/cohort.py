"""Cohorts from a CSV file, run in a thread of this process so the page can show progress."""

from __future__ import annotations

import csv
import io
import secrets
import time
from dataclasses import dataclass, field
from functools import partial
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from servicekit.background import BackgroundJobs
from servicekit.web import (
    PageError,
    Translator,
)

from ...deps import Principal
from ...models import Institution
from ...services import (
    batch,
    delivery,
    modules,
)
from ...services.context import IssuerContext
from . import deliveries
from ._kit import (
    SAMPLE_CSV,
    Console,
    Failure,
    _ctx,
    _need,
    _render,
    refusal,
    router,
    web,
)


@dataclass
class BatchJob:
    """A cohort batch running in a thread of this process, as the progress page sees it."""

    id: str
    institution_id: str
    module_id: str
    done: int = 0
    total: int = 0
    result: dict[str, Any] | None = None
    error: str | None = None
    started: float = field(default_factory=time.monotonic)

    @property
    def finished(self) -> bool:
        return self.result is not None or self.error is not None


def _batch_jobs(request: Request) -> BackgroundJobs[BatchJob]:
    """This app's running and recent batches (``app.state``: not shared by two apps)."""
    jobs: BackgroundJobs[BatchJob] = request.app.state.batch_jobs
    return jobs


def _run_job(
    ctx: IssuerContext, institution: Institution, job: BatchJob, data: bytes, actor: str
) -> None:
    def progress(done: int, total: int) -> None:
        job.done, job.total = done, total

    try:
        job.result = batch.run(
            ctx, institution, job.module_id, data, actor=actor, progress=progress
        )
        job.done = job.total = job.result.get("total", job.total)
    except Failure as exc:
        job.error = getattr(exc, "code", "") or "other"
    except Exception:  # shown to the registrar; the batch leaves nothing half-done
        job.error = "unexpected"


def batch_page_with(request: Request, principal: Principal, **context: Any) -> Response:
    t = web.translator(request)
    context.setdefault("error", None)
    context.setdefault("row_errors", [])
    context.setdefault("module_id", request.query_params.get("module", ""))
    context.setdefault("how", "mail")
    return _render(
        request,
        principal,
        "batch.html",
        page_title=t("issuer.batch.title"),
        modules=modules.listing(_ctx(request), principal.institution),
        sample=SAMPLE_CSV,
        cohorts=delivery.recent(_ctx(request), principal.institution),
        **context,
    )


@router.get("/console/batch")
def batch_form(request: Request, principal: Console) -> Response:
    return batch_page_with(request, principal)


@router.post("/console/batch")
def batch_start(
    request: Request,
    principal: Console,
    module_id: Annotated[str, Form()] = "",
    file: Annotated[UploadFile | None, File()] = None,
    how: Annotated[str, Form()] = "mail",
    pin: Annotated[str, Form()] = "",
) -> Response:
    """Offers mailed to each learner (the default), or every row signed at once in the
    background (unbound files to download) with a progress page."""
    _need(principal, "issue")
    ctx = _ctx(request)
    t = web.translator(request)
    data = file.file.read(ctx.settings.max_csv_bytes + 1) if file is not None else b""
    if not data.strip():
        return batch_page_with(
            request, principal, error=t("issuer.batch.no_file"), module_id=module_id,
            how=how, status_code=400,
        )  # fmt: skip
    if how != "direct":
        return deliveries.start(request, principal, module_id, data, pin=bool(pin))
    try:
        issuance_module = modules.get(ctx, principal.institution, module_id)
    except Failure as exc:
        return batch_page_with(
            request, principal, error=t("issuer.batch.failed", detail=refusal(t, exc)),
            module_id=module_id, status_code=400,
        )  # fmt: skip
    job = BatchJob(
        id=secrets.token_urlsafe(12),
        institution_id=principal.institution.id,
        module_id=issuance_module["id"],
    )
    _batch_jobs(request).start(
        job.id, job, partial(_run_job, ctx, principal.institution, job, data, principal.actor)
    )
    return web.redirect(request, f"/console/batch/{job.id}")


def _job(request: Request, principal: Principal, job_id: str) -> BatchJob:
    job = _batch_jobs(request).get(job_id)
    if job is None or job.institution_id != principal.institution.id:
        raise PageError(404, "issuer.batch.gone")
    return job


@router.get("/console/batch/{job_id}")
def batch_page(request: Request, principal: Console, job_id: str) -> Response:
    t = web.translator(request)
    job = _job(request, principal, job_id)
    return _render(
        request,
        principal,
        "batch_job.html",
        page_title=t("issuer.batch.title"),
        job=job,
        rows=_report_rows(t, job.result) if job.result else [],
    )


def _report_rows(t: Translator, result: dict[str, Any]) -> list[dict[str, Any]]:
    """The batch report's rows, each problem in the registrar's language (by its code)."""
    rows = []
    for row in result.get("rows", []):
        error = row.get("error") or {}
        message = ""
        if error:
            problem = {**error, "row": row.get("row"), "code": error.get("reason", error["code"])}
            (message,) = deliveries.row_problems(t, [problem])
        href = None
        if row.get("credential_id"):
            href = "/console/credential?id=" + quote(row["credential_id"], safe="")
        rows.append({**row, "href": href, "message": message})
    return rows


@router.get("/console/batch/{job_id}/state")
def batch_state(request: Request, principal: Console, job_id: str) -> Response:
    job = _job(request, principal, job_id)
    body: dict[str, Any] = {"done": job.finished, "progress": job.done, "total": job.total}
    if job.finished:
        body["url"] = f"/console/batch/{job.id}"
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@router.get("/console/batch-example.csv")
def batch_example(request: Request, principal: Console) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for line in csv.reader(io.StringIO(SAMPLE_CSV)):
        writer.writerow(line)
    return Response(
        buffer.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="cohort-example.csv"'},
    )
