"""The issuer app factory: ``create_app(settings)`` and ``app_from_environment()``.

The app refuses to start on a database that is not at the latest migration (and says which
command fixes it), and without a key-encryption key: both would otherwise surface as
errors in the middle of an issuance.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from credentials import DidResolver, Keystore
from servicekit.app import BodyLimitMiddleware
from servicekit.app import create_app as create_service_app
from servicekit.background import BackgroundJobs
from servicekit.migrations import ensure_current
from servicekit.problems import install_error_pages

from .config import Settings
from .routes import ROUTERS, pages
from .services import oid4vci_flow
from .services.clock import Clock
from .services.context import IssuerContext

BATCH_JOB_KEEP_SECONDS = 3600
"""How long a finished console batch stays on its progress page."""
BATCH_SHUTDOWN_SECONDS = 30.0
"""How long a stopping server waits for console batches still running."""

UPLOAD_PATH = re.compile(r"^(/institutions/[^/]+/batches|/console/batch)/?$")
"""The CSV uploads (API and console): the only bodies allowed ``max_csv_bytes``."""


class _BodyLimits:
    """JSON bodies get ``max_body``; only the CSV uploads may be larger.

    servicekit's limits go by path prefix, and the API upload's path has the institution
    slug in the middle, so this dispatches on a pattern and reuses servicekit's middleware.
    """

    def __init__(self, app: Any, default: int) -> None:
        self.app = app
        self.limited = BodyLimitMiddleware(app, default=default)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and UPLOAD_PATH.match(scope["path"]):
            await self.app(scope, receive, send)
        else:
            await self.limited(scope, receive, send)


def create_app(
    settings: Settings | None = None,
    *,
    keystore: Keystore | None = None,
    clock: Clock | None = None,
    holder_resolver: DidResolver | None = None,
) -> FastAPI:
    """The issuer app; ``keystore``, ``clock`` and ``holder_resolver`` are for tests."""
    settings = settings or Settings()
    ensure_current("issuer", settings.database_url)
    ctx = IssuerContext(settings, keystore=keystore, clock=clock, holder_resolver=holder_resolver)
    app = create_service_app(
        "microcred issuer",
        max_body=settings.max_body,
        body_limits={"/institutions/": settings.max_csv_bytes, "/console/": settings.max_csv_bytes},
        hsts=settings.is_https,
    )
    app.add_middleware(_BodyLimits, default=settings.max_body)
    app.state.services = ctx
    app.state.issuer = ctx  # the older name, still read by the console pages and tests
    batch_jobs: BackgroundJobs[Any] = BackgroundJobs("batch", keep_seconds=BATCH_JOB_KEEP_SECONDS)
    app.state.batch_jobs = batch_jobs

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # offers a crashed process left in ``issuing`` (older than any live request)
        oid4vci_flow.sweep_stuck(ctx)
        batch_jobs.reopen()
        try:
            yield
        finally:
            # console batches sign in ctx's worker pool: let them finish before it closes
            await run_in_threadpool(batch_jobs.shutdown, BATCH_SHUTDOWN_SECONDS)
            ctx.close()

    app.router.lifespan_context = lifespan
    for router in ROUTERS:
        app.include_router(router)
    app.include_router(pages.router)  # the console pages (servicekit.web)
    install_error_pages(app, pages.web)  # browsers get 404/405/410/500 as pages
    return app


def app_from_environment() -> FastAPI:
    """For ``uvicorn --factory`` worker processes: settings from the environment only."""
    return create_app(Settings())
