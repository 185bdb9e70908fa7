"""What every ``microcred`` command line needs: one way to refuse, and one database preamble.

Exit codes are part of the ``microcred`` contract: 0 done, 1 done but not everything
succeeded (or not verified), 2 refused, always with a one-line reason on stderr and never a
traceback. :func:`fail` is the one way to refuse; :func:`refusals` turns what the service
layers raise when they refuse (a :class:`~servicekit.errors.ServiceError` kind, a core
``MicrocredError``, a schema that needs migrating) into that exit 2, so no command catches
HTTP exceptions or repeats the list; :func:`open_database` is the preamble of a command
that works on a service's database directly.

Only Typer and the core are imported at module level: ``microcred verify`` imports this
module, and nothing in a service stack may break it.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from credentials import MicrocredError

from .errors import ServiceError

if TYPE_CHECKING:
    from .db import Database

PROG = "microcred"


def fail(message: str, code: int = 2, *, prog: str = PROG) -> NoReturn:
    """Print ``<prog>: <message>`` on stderr and end the command with ``code``."""
    typer.echo(f"{prog}: {message}", err=True)
    raise typer.Exit(code)


def refusal_message(error: ServiceError) -> str:
    """A service's refusal in one line; a list of several ``errors`` is appended as JSON
    (one error is the detail already)."""
    errors = error.extra.get("errors")
    if errors and isinstance(errors, list) and len(errors) > 1:
        return f"{error.detail} {json.dumps(errors)}"
    return error.detail


@contextmanager
def refusals(prog: str = PROG) -> Iterator[None]:
    """Inside the block, a refusal from the layers below ends the command with exit 2."""
    from .migrations import SchemaOutOfDate

    try:
        yield
    except ServiceError as exc:
        fail(refusal_message(exc), prog=prog)
    except MicrocredError as exc:
        fail(exc.message, prog=prog)
    except SchemaOutOfDate as exc:
        fail(str(exc), prog=prog)


@contextmanager
def open_database(service: str, database_url: str, *, prog: str = PROG) -> Iterator[Database]:
    """The service's database at the latest schema (exit 2 with the command that migrates it
    otherwise), closed when the block ends; refusals inside the block are exit 2 too."""
    from .db import Database
    from .migrations import SchemaOutOfDate, ensure_current

    db = Database(database_url)
    try:
        try:
            ensure_current(service, database_url, db.engine)
        except SchemaOutOfDate as exc:
            fail(str(exc), prog=prog)
        with refusals(prog):
            yield db
    finally:
        db.dispose()


def actor() -> str:
    """``cli:<user>``: who ran the command, for audit events."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False))


__all__ = ["PROG", "actor", "fail", "open_database", "print_json", "refusal_message", "refusals"]
