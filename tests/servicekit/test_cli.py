"""The command lines' shared plumbing: every refusal is one line on stderr and exit 2, and
every command is registered explicitly (issue 15, builds 2 and 5)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from credentials.errors import MalformedInput
from servicekit import errors
from servicekit.cli import fail, open_database, refusals
from servicekit.problems import ProblemError

runner = CliRunner()


def _app(raised: BaseException) -> typer.Typer:
    app = typer.Typer()

    @app.command()
    def run() -> None:
        with refusals("microcred test"):
            raise raised

    return app


@pytest.mark.parametrize(
    "raised",
    [
        errors.NotFound("unknown_institution", "there is no institution 'x'"),
        errors.Conflict("exists", "there is no institution 'x'"),
        errors.Gone("offer_used", "there is no institution 'x'"),
        errors.Invalid("bad", "there is no institution 'x'"),
        errors.Busy("busy", "there is no institution 'x'"),
        MalformedInput("there is no institution 'x'"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_every_refusal_is_exit_2_with_one_line(raised: BaseException) -> None:
    result = runner.invoke(_app(raised), [])
    assert result.exit_code == 2
    assert result.stderr == "microcred test: there is no institution 'x'\n"


def test_several_errors_are_listed() -> None:
    many = [{"field": "a", "message": "x"}, {"field": "b", "message": "y"}]
    result = runner.invoke(_app(errors.Invalid("bad", "2 problems", errors=many)), [])
    assert result.exit_code == 2 and '2 problems [{"field": "a"' in result.stderr


def test_http_exceptions_are_not_the_command_lines_business() -> None:
    """Services raise ServiceError kinds; an HTTP exception reaching a CLI is a bug."""
    result = runner.invoke(_app(ProblemError(404, "x", "y")), [])
    assert result.exit_code == 1 and isinstance(result.exception, ProblemError)


def test_fail_is_noreturn_with_its_code() -> None:
    app = typer.Typer()

    @app.command()
    def run() -> None:
        fail("not verified", 1)

    result = runner.invoke(app, [])
    assert (result.exit_code, result.stderr) == (1, "microcred: not verified\n")


def test_a_database_that_needs_migrating_is_exit_2_naming_the_command(tmp_path: Path) -> None:
    app = typer.Typer()

    @app.command()
    def run() -> None:
        with open_database("verifier", f"sqlite:///{tmp_path}/empty.db"):
            raise AssertionError("never reached")

    result = runner.invoke(app, [])
    assert result.exit_code == 2 and "microcred migrate verifier" in result.stderr


def test_the_microcred_command_has_every_command_without_importing_anything_else() -> None:
    """``microcred.cli`` alone registers everything (no import side effects elsewhere)."""
    script = (
        "import microcred.cli as c, typer.main as t\n"
        "group = t.get_command(c.app)\n"
        "print(' '.join(sorted(group.commands)))\n"
    )
    names = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    assert names == sorted(
        ["demo", "issuer", "keys", "migrate", "serve", "sign", "verifier", "verify", "wallet"]
    )


def test_registering_twice_adds_nothing() -> None:
    from microcred.cli import app
    from microcred.commands import register

    before = (len(app.registered_commands), len(app.registered_groups))
    register(app)
    assert (len(app.registered_commands), len(app.registered_groups)) == before
