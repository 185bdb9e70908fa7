"""``microcred verifier …``: administration that needs no running server.

* ``purge-log`` applies the retention settings (log rows, old request results, challenges);
  run it from cron if the service is rarely restarted;
* ``check-registry FILE`` parses a trust registry file exactly as the service would, so a
  change can be checked before it is deployed (exit 2 and the reason when it is refused).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from servicekit.cli import fail, open_database, refusals

app = typer.Typer(help="Verifier administration.", no_args_is_help=True)


@app.command("purge-log")
def purge_log(
    database_url: Annotated[str | None, typer.Option(help="database URL")] = None,
    days: Annotated[
        int | None, typer.Option(help="keep this many days of log (default: the setting)")
    ] = None,
) -> None:
    """Delete verification-log rows and request results older than the retention period."""
    from .config import Settings
    from .services.clock import system_clock
    from .services.log import purge

    settings = Settings(database_url=database_url or "")
    retention = settings.log_retention_days if days is None else days
    if retention < 0:
        fail("--days must not be negative")
    with open_database("verifier", settings.database_url) as db:
        result = purge(
            db,
            now=system_clock(),
            log_retention_days=retention,
            result_retention_hours=settings.result_retention_hours,
        )
    typer.echo(
        f"purged {result.log_entries} log entries (older than {retention} days), "
        f"{result.requests} request results, {result.challenges} challenges"
    )


@app.command("check-registry")
def check_registry(
    file: Annotated[Path, typer.Argument(help="trust registry (.json, .yaml or .yml)")],
) -> None:
    """Parse a trust registry file and list its institutions."""
    from .services.trust import load_registry

    with refusals():
        registry = load_registry(file)
    typer.echo(f"{registry.name}: {len(registry.institutions)} institutions")
    for institution in registry.institutions.values():
        until = institution.to_dict()["valid_until"] or "-"
        typer.echo(f"  {institution.did}  {institution.describe()}  (until {until})")
