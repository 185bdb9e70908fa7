"""Operator commands for the wallet: ``microcred wallet …``.

``add-route FILE`` publishes a route definition (JSON or YAML, the format of
``docs/examples/routes/``) to the catalogue learners can adopt from; ``routes`` lists the
catalogue and ``remove-route ID`` takes one out (learners who adopted it keep their copy).

``microcred`` imports this module for every command it runs, so everything beyond Typer and
the core is imported inside the commands: a problem in the service stack must never break
``microcred verify``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from credentials import load_route
from servicekit.cli import fail, open_database, refusals

if TYPE_CHECKING:
    from .config import Settings
    from .services.progress import RouteService

app = typer.Typer(help="Learner wallet administration.", no_args_is_help=True)

DatabaseOption = Annotated[str | None, typer.Option(help="database URL")]


def _settings(database_url: str | None, *, dev: bool = False) -> Settings:
    from .config import Settings

    return Settings(database_url=database_url or "", dev=dev)


@contextmanager
def _routes(database_url: str | None) -> Iterator[RouteService]:
    from .services.clock import system_clock
    from .services.progress import RouteService

    settings = _settings(database_url)
    with open_database("wallet", settings.database_url) as db:
        # publishing and listing routes reads no credentials: no store, no issuer list
        yield RouteService(db, None, None, clock=system_clock)  # type: ignore[arg-type]


@app.command("add-route")
def add_route(
    file: Annotated[Path, typer.Argument(help="route definition (.json, .yaml, .yml)")],
    database_url: DatabaseOption = None,
) -> None:
    """Publish (or replace) a route definition in the wallet's catalogue."""
    with refusals():
        route = load_route(file)  # unreadable or malformed: exit 2 with the reason
    with _routes(database_url) as routes:
        routes.publish(route.to_dict())
    typer.echo(f"published route {route.id} ({route.name})")


@app.command("routes")
def list_routes(database_url: DatabaseOption = None) -> None:
    """List the published route definitions."""
    with _routes(database_url) as routes:
        for route in routes.published():
            typer.echo(f"{route['id']}\t{route['name']}")


@app.command("remove-route")
def remove_route(
    route_id: Annotated[str, typer.Argument(help="the route's id")],
    database_url: DatabaseOption = None,
) -> None:
    """Take a route out of the catalogue."""
    with _routes(database_url) as routes:
        removed = routes.unpublish(route_id)
    if not removed:
        fail(f"no published route {route_id}", 1)
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
    from credentials import Keystore

    from .services.keys import HolderKeys

    settings = _settings(database_url, dev=dev)
    with open_database("wallet", settings.database_url, prog="microcred wallet") as db:
        keystore = Keystore.from_environment(data_dir=settings.data_dir, dev=settings.dev)
        report = HolderKeys(keystore).rewrap_all(db)
    typer.echo(json.dumps(report, indent=2))
