"""Service commands on the ``microcred`` app: serve, migrate, and each service's admin group.

Each service package offers ``config.Settings`` (a ``ServiceSettings``), ``main.create_app``
and optionally ``cli.app`` (a Typer group); this module only wires them to the command line.
"""

from __future__ import annotations

import importlib
from enum import StrEnum
from typing import Annotated

import typer

from credentials.errors import MicrocredError
from servicekit.settings import ServiceSettings
from verifier.config import Settings as VerifierSettings

from .cli import app, fail

SERVICES = ("issuer", "wallet", "verifier")


class Service(StrEnum):
    issuer = "issuer"
    wallet = "wallet"
    verifier = "verifier"


def settings_for(service: str, **values: object) -> ServiceSettings:
    config = importlib.import_module(f"{service}.config")
    clean = {k: v for k, v in values.items() if v not in (None, "")}
    return config.Settings(**clean)


@app.command("migrate")
def migrate(
    service: Service,
    database_url: Annotated[str | None, typer.Option(help="database URL")] = None,
) -> None:
    """Apply the service's database migrations."""
    from servicekit.migrations import upgrade

    settings = settings_for(service.value, database_url=database_url)
    try:
        upgrade(service.value, settings.database_url)
    except Exception as exc:
        fail(f"migration failed: {exc}")
    typer.echo(f"{service.value}: database at the latest schema")


@app.command("serve")
def serve(
    service: Service,
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int | None, typer.Option()] = None,
    database_url: Annotated[str | None, typer.Option()] = None,
    public_url: Annotated[str | None, typer.Option()] = None,
    dev: Annotated[bool, typer.Option(help="allow http and localhost")] = False,
    trust_registry: Annotated[
        str | None, typer.Option(help="verifier: trust registry file")
    ] = None,
    workers: Annotated[int, typer.Option(help="uvicorn worker processes")] = 1,
    trusted_proxies: Annotated[
        str | None,
        typer.Option(help="comma-separated proxy addresses whose X-Forwarded-For is believed"),
    ] = None,
) -> None:
    """Run a service under uvicorn."""
    import os

    import uvicorn

    from servicekit.serving import TRUSTED_PROXIES_ENV, uvicorn_options

    if trusted_proxies is not None:
        os.environ[TRUSTED_PROXIES_ENV] = trusted_proxies  # worker processes inherit it

    from servicekit.migrations import SchemaOutOfDate, ensure_current

    extra = {"trust_registry": trust_registry} if service is Service.verifier else {}
    settings = settings_for(
        service.value,
        host=host,
        port=port,
        database_url=database_url,
        public_url=public_url,
        dev=dev or None,
        **extra,
    )
    problem = settings.production_problem()
    if problem is not None:
        fail(problem)
    try:
        ensure_current(service.value, settings.database_url)
    except SchemaOutOfDate as exc:
        fail(str(exc))
    main = importlib.import_module(f"{service.value}.main")
    try:
        application = main.create_app(settings)
    except MicrocredError as exc:
        fail(exc.message)
    if workers > 1:
        os.environ.update(settings_environment(settings))
        uvicorn.run(
            f"{service.value}.main:app_from_environment",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=workers,
            log_level="warning",
            **uvicorn_options(),
        )
        return
    uvicorn.run(
        application,
        host=settings.host,
        port=settings.port,
        log_level="info",
        **uvicorn_options(),
    )


def settings_environment(settings: ServiceSettings) -> dict[str, str]:
    """Environment that lets worker processes rebuild the same settings."""
    env = {
        "DATABASE_URL": settings.database_url,
        "MICROCRED_PUBLIC_URL": settings.public_url,
        "MICROCRED_PORT": str(settings.port),
        "MICROCRED_DATA_DIR": str(settings.data_dir),
    }
    if settings.dev:
        env["MICROCRED_DEV"] = "1"
    registry = getattr(settings, "trust_registry", None)
    if registry:
        env["MICROCRED_TRUST_REGISTRY"] = str(registry)
    if getattr(settings, "strict_trust", False):
        env["MICROCRED_STRICT_TRUST"] = "1"
    if isinstance(settings, VerifierSettings):
        env["MICROCRED_VERIFIER_POLICIES"] = settings.policies
        env["MICROCRED_VERIFIER_PAGE_POLICIES"] = settings.page_policies
    return env


for _service in SERVICES:
    try:
        _module = importlib.import_module(f"{_service}.cli")
    except ModuleNotFoundError as exc:
        if exc.name != f"{_service}.cli":
            raise
        continue
    app.add_typer(_module.app, name=_service)

from . import demo as _demo  # noqa: E402, F401  (registers ``microcred demo``)
