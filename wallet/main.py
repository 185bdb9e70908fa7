"""The wallet app factory.

``create_app(settings)`` refuses to start on a database whose schema is not at the latest
migration (``SchemaOutOfDate`` names the command that fixes it), builds the services once
and mounts the thin routes. ``app_from_environment`` is the factory uvicorn workers use.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from credentials import Keystore, SafeFetcher
from servicekit.app import create_app as create_service_app
from servicekit.db import Database
from servicekit.migrations import ensure_current
from servicekit.problems import install_error_pages
from servicekit.ratelimit import RateLimiter

from .config import Settings
from .routes import ROUTERS, pages, recognition_pages
from .services.clock import Clock
from .services.container import build_services


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
        ensure_current("wallet", settings.database_url, db.engine)
    except Exception:
        db.dispose()
        raise

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        db.dispose()

    app = create_service_app(
        "microcred wallet",
        max_body=settings.max_body,
        body_limits={"/api/import": settings.max_import_body},
        hsts=settings.is_https,
    )
    app.router.lifespan_context = lifespan
    app.state.services = build_services(
        settings, db, clock=clock, fetcher=fetcher, keystore=keystore
    )
    app.state.login_limiter = RateLimiter()
    for router in ROUTERS:
        app.include_router(router)
    app.include_router(pages.router)  # the learner's pages (servicekit.web)
    app.include_router(recognition_pages.router)  # issue 17: asking for recognition
    install_error_pages(app, pages.web)  # browsers get 404/405/410/500 as pages
    return app


def app_from_environment() -> FastAPI:
    """For ``uvicorn --factory`` workers: settings from ``MICROCRED_*`` variables only."""
    return create_app(Settings())
