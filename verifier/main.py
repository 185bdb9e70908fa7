"""The verifier app factory.

``create_app(settings)`` refuses to build an app on a database whose schema is not at the
latest migration (``SchemaOutOfDate`` names the command that fixes it) and on a trust
registry file that does not parse — both are start-up configuration errors that must not
surface later as odd verification results. ``clock``, ``fetcher`` and ``keystore`` are for
tests (without a keystore, the KEK comes from the environment when the verifier first signs).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from credentials import Keystore, SafeFetcher
from servicekit.app import create_app as create_service_app
from servicekit.background import AppExecutor
from servicekit.db import Database
from servicekit.migrations import ensure_current
from servicekit.problems import install_error_pages

from .config import Settings
from .routes import ROUTERS, pages
from .services.clock import Clock
from .services.container import Services, build_services

log = logging.getLogger("microcred.verifier")
SERVICE = "verifier"
VERIFY_THREADS = 16
"""Verification holds the GIL most of the time; more threads than this only queue, but a
few spare ones keep a slow status-list or DID fetch from stalling the others."""


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    fetcher: SafeFetcher | None = None,
    keystore: Keystore | None = None,
) -> FastAPI:
    settings = settings or Settings()
    db = Database(settings.database_url)
    try:
        ensure_current(SERVICE, settings.database_url, db.engine)
        services = build_services(settings, db, clock=clock, fetcher=fetcher, keystore=keystore)
    except BaseException:
        db.dispose()
        raise
    app = create_service_app(
        "microcred verifier", max_body=settings.max_body, hsts=settings.is_https
    )
    app.state.services = services
    app.state.verify_pool = AppExecutor(VERIFY_THREADS, "microcred-verify")
    for router in ROUTERS:
        app.include_router(router)
    app.include_router(pages.router)  # the employer's pages (servicekit.web)
    install_error_pages(app, pages.web)  # browsers get 404/405/410/500 as pages
    app.router.lifespan_context = _lifespan
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    services: Services = app.state.services
    try:
        purged = await run_in_threadpool(services.purge)
        log.info("retention applied at start-up: %s", purged.to_dict())
    except Exception as exc:  # a purge failure must not keep verification down
        log.warning("retention purge at start-up failed: %s", exc)
    try:
        yield
    finally:
        # answer what is being verified, then stop the pool's threads (started on first use)
        pool: AppExecutor = app.state.verify_pool
        await run_in_threadpool(pool.shutdown)
        # the log is written behind the answers: write what is queued before going
        await run_in_threadpool(services.log.close)
        services.db.dispose()


def app_from_environment() -> FastAPI:
    """For ``uvicorn --factory`` worker processes: settings from the environment only."""
    return create_app(Settings())
