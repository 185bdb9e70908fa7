"""Operator commands for the wallet: ``microcred wallet …``.

``add-route FILE`` publishes a route definition (JSON or YAML, the format of
``docs/examples/routes/``) to the catalogue learners can adopt from; ``routes`` lists the
catalogue and ``remove-route ID`` takes one out (learners who adopted it keep their copy).

``microcred`` imports this module for every command it runs, so everything beyond Typer and
the core is imported inside the commands: a problem in the service stack must never break
``microcred verify``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from credentials import MicrocredError, load_route

if TYPE_CHECKING:
    from .services.progress import RouteService

app = typer.Typer(help="Learner wallet administration.", no_args_is_help=True)

DatabaseOption = Annotated[str | None, typer.Option(help="database URL")]


def _routes(database_url: str | None) -> RouteService:
    from servicekit.db import Database
    from servicekit.migrations import SchemaOutOfDate, ensure_current

    from .config import Settings
    from .services.clock import system_clock
    from .services.progress import RouteService

    settings = Settings(database_url=database_url or "")
    db = Database(settings.database_url)
    try:
        ensure_current("wallet", settings.database_url, db.engine)
    except SchemaOutOfDate as exc:
        typer.echo(f"microcred: {exc}", err=True)
        raise typer.Exit(2) from None
    return RouteService(db, None, None, clock=system_clock)  # type: ignore[arg-type]


@app.command("add-route")
def add_route(
    file: Annotated[Path, typer.Argument(help="route definition (.json, .yaml, .yml)")],
    database_url: DatabaseOption = None,
) -> None:
    """Publish (or replace) a route definition in the wallet's catalogue."""
    try:
        route = load_route(file)
    except OSError as exc:
        typer.echo(f"microcred: cannot read {file}: {exc.strerror}", err=True)
        raise typer.Exit(2) from None
    except MicrocredError as exc:
        typer.echo(f"microcred: {exc.message}", err=True)
        raise typer.Exit(2) from None
    _routes(database_url).publish(route.to_dict())
    typer.echo(f"published route {route.id} ({route.name})")


@app.command("routes")
def list_routes(database_url: DatabaseOption = None) -> None:
    """List the published route definitions."""
    for route in _routes(database_url).published():
        typer.echo(f"{route['id']}\t{route['name']}")


@app.command("remove-route")
def remove_route(
    route_id: Annotated[str, typer.Argument(help="the route's id")],
    database_url: DatabaseOption = None,
) -> None:
    """Take a route out of the catalogue."""
    if not _routes(database_url).unpublish(route_id):
        typer.echo(f"microcred: no published route {route_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"removed route {route_id}")


@app.command("rewrap-keys")
def rewrap_keys(
    database_url: DatabaseOption = None,
    dev: Annotated[bool, typer.Option(help="dev mode: KEK file in the data dir")] = False,
) -> None:
    """Re-wrap holder keys and share tokens under the current KEK (first in MICROCRED_KEK).

    For KEK rotation without downtime: MICROCRED_KEK=new,old everywhere, run this, then
    drop the old KEK. Prints counts only; exit 2 if a secret is under an unknown KEK.
    """
    import json

    from credentials import Keystore
    from servicekit.db import Database
    from servicekit.migrations import SchemaOutOfDate, ensure_current

    from .config import Settings
    from .services.keys import HolderKeys

    settings = Settings(database_url=database_url or "", dev=dev)
    db = Database(settings.database_url)
    try:
        ensure_current("wallet", settings.database_url, db.engine)
        keystore = Keystore.from_environment(data_dir=settings.data_dir, dev=settings.dev)
        report = HolderKeys(keystore).rewrap_all(db)
    except SchemaOutOfDate as exc:
        typer.echo(f"microcred: {exc}", err=True)
        raise typer.Exit(2) from None
    except MicrocredError as exc:
        typer.echo(f"microcred wallet: {exc.message}", err=True)
        raise typer.Exit(2) from None
    finally:
        db.dispose()
    typer.echo(json.dumps(report, indent=2))
