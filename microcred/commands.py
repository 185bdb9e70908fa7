"""Service commands on the ``microcred`` app: serve, migrate, demo, and each service's
admin group.

Each service package offers ``config.Settings`` (a ``ServiceSettings``), ``main.create_app``
and ``cli.app`` (a Typer group). :func:`register` adds them all to the app, by name, with
plain imports: nothing is registered as a side effect of importing a module, so the
architecture test sees every edge. Only the services' ``cli`` modules are imported here;
they import their service stacks inside their commands, so ``microcred verify`` never
depends on a service starting.
"""

from __future__ import annotations

import importlib
from enum import StrEnum
from typing import Annotated, Any

import typer

from credentials import MicrocredError
from issuer import cli as issuer_cli
from issuer.config import Settings as IssuerSettings
from servicekit.cli import fail
from servicekit.settings import ServiceSettings
from verifier import cli as verifier_cli
from verifier.config import Settings as VerifierSettings
from wallet import cli as wallet_cli
from wallet.config import Settings as WalletSettings

from . import demo

SERVICES = ("issuer", "wallet", "verifier")
SETTINGS: dict[str, type[ServiceSettings]] = {
    "issuer": IssuerSettings,
    "wallet": WalletSettings,
    "verifier": VerifierSettings,
}
ADMIN_GROUPS: dict[str, typer.Typer] = {
    "issuer": issuer_cli.app,
    "wallet": wallet_cli.app,
    "verifier": verifier_cli.app,
}


class Service(StrEnum):
    issuer = "issuer"
    wallet = "wallet"
    verifier = "verifier"


def settings_for(service: str, **values: object) -> ServiceSettings:
    clean: dict[str, Any] = {k: v for k, v in values.items() if v not in (None, "")}
    return SETTINGS[service](**clean)


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
    return settings.environment()


def register(app: typer.Typer) -> None:
    """Add the service commands to ``app`` (the ``microcred`` root); once per app."""
    if any(command.name == "serve" for command in app.registered_commands):
        return
    app.command("migrate")(migrate)
    app.command("serve")(serve)
    app.command("demo")(demo.demo)
    for name, group in ADMIN_GROUPS.items():
        app.add_typer(group, name=name)
