"""Cohort issuance from a CSV upload (``text/csv`` body or a multipart ``file`` field)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from servicekit.problems import ProblemError
from servicekit.reading import media_type

from ..deps import IdempotencyKey, Issuer, ServicesDep
from ..services import batch

router = APIRouter(tags=["batches"])


@router.post("/institutions/{slug}/batches")
async def run_batch(
    ctx: ServicesDep,
    principal: Issuer,
    request: Request,
    key: IdempotencyKey,
    module_id: str | None = None,
    allow_duplicates: bool = False,
) -> dict[str, Any]:
    """Issue ``module_id`` to every row; the per-row report (see services/batch.py for the
    columns). ``Idempotency-Key`` names the batch: a re-run issues nothing twice. Rows that repeat
    an earlier (module, learner, result) come back ``duplicate`` unless
    ``allow_duplicates=true``."""
    main, sub = media_type(request)
    if (main, sub) == ("text", "csv"):
        data = await request.body()
    elif (main, sub) == ("multipart", "form-data"):
        form = await request.form(max_files=1, max_fields=10)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise ProblemError(400, "csv_missing", "the form needs a file field with the CSV")
        data = await upload.read()
        field = form.get("module_id")
        module_id = module_id or (field if isinstance(field, str) else None)
        field = form.get("idempotency_key")
        key = key or (field if isinstance(field, str) else None)
    else:
        raise ProblemError(
            415, "unsupported_media_type", "send the CSV as text/csv or multipart/form-data"
        )
    if not module_id:
        raise ProblemError(400, "module_id_missing", "say which module: ?module_id=…")
    return await run_in_threadpool(
        batch.run,
        ctx,
        principal.institution,
        module_id,
        data,
        actor=principal.actor,
        idempotency_key=key,
        allow_duplicates=allow_duplicates,
    )
