"""``microcred issuer …``: the operator's commands, straight on the database.

These run the same services as the HTTP API (same checks, same audit events, actor
``cli:<user>``), so anything done here is indistinguishable in the log from the API except
for who did it. Exit codes follow the ``microcred`` contract: 0 done, 1 done with failed
rows (``issue-batch``, ``reissue``), 2 refused (with a one-line reason on stderr).

Every command works on the issuer's database through an :class:`IssuerContext`; the
:func:`command` decorator gives each the same ``--database-url``, ``--public-url`` and
``--dev`` options (and ``--institution`` where it acts for one), opens the context, and
turns every refusal into exit 2, so the commands themselves hold only what they do.
"""

from __future__ import annotations

import functools
import inspect
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer

from servicekit import cli
from servicekit.cli import actor, print_json
from servicekit.db import make_owner_only
from servicekit.migrations import ensure_current

from .config import Settings
from .models import Institution
from .services import batch, institutions, keys, reissue, tokens
from .services.context import IssuerContext

PROG = "microcred issuer"

app = typer.Typer(
    help="Issuer administration: institutions, tokens, keys, cohort issuance.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
tokens_app = typer.Typer(help="API tokens of an institution.", no_args_is_help=True)
app.add_typer(tokens_app, name="tokens")

DatabaseUrl = Annotated[
    str | None, typer.Option(help="database URL (default: MICROCRED_ISSUER_DATABASE_URL)")
]
PublicUrl = Annotated[
    str | None, typer.Option(help="public base URL; determines the did:web identifiers")
]
Dev = Annotated[bool, typer.Option(help="dev mode: http/localhost, KEK file in the data dir")]
InstitutionSlug = Annotated[str, typer.Option("--institution", help="the institution's slug")]

_KEYWORD = inspect.Parameter.KEYWORD_ONLY
_COMMON = (
    inspect.Parameter("database_url", _KEYWORD, default=None, annotation=DatabaseUrl),
    inspect.Parameter("public_url", _KEYWORD, default=None, annotation=PublicUrl),
    inspect.Parameter("dev", _KEYWORD, default=False, annotation=Dev),
)
_INSTITUTION = inspect.Parameter("institution", _KEYWORD, annotation=InstitutionSlug)
F = TypeVar("F", bound=Callable[..., None])


def fail(message: str, code: int = 2) -> NoReturn:
    cli.fail(message, code, prog=PROG)


@contextmanager
def context(
    database_url: str | None, public_url: str | None, dev: bool, **extra: Any
) -> Iterator[IssuerContext]:
    """An ``IssuerContext`` for one command, with every refusal turned into exit 2."""
    values = {"database_url": database_url, "public_url": public_url, **extra}
    settings = Settings(**{k: v for k, v in values.items() if v not in (None, "")}, dev=dev)
    with cli.refusals(PROG):
        ensure_current("issuer", settings.database_url)
        ctx = IssuerContext(settings)
    try:
        with cli.refusals(PROG):
            yield ctx
    finally:
        ctx.close()


def command(
    group: typer.Typer,
    name: str,
    *,
    institution: bool = False,
    settings: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> Callable[[F], F]:
    """Register ``function(ctx, …)`` as command ``name`` of ``group``.

    The command gets the database options (and ``--institution``, whose row is passed on as
    ``institution``) in addition to the function's own parameters; ``settings`` picks
    extra settings from the command's arguments (``--workers`` → ``batch_workers``).
    """

    def decorate(function: F) -> F:
        own = list(inspect.signature(function, eval_str=True).parameters.values())[1:]
        if institution:
            own = [p for p in own if p.name != "institution"]
        added = [*_COMMON, *([_INSTITUTION] if institution else [])]

        @functools.wraps(function)
        def run(**arguments: Any) -> None:
            options = {p.name: arguments.pop(p.name) for p in _COMMON}
            extra = settings(arguments) if settings else {}
            with context(**options, **extra) as ctx:
                if institution:
                    arguments["institution"] = _institution(ctx, arguments["institution"])
                function(ctx, **arguments)

        parameters = [*own, *added]
        # typer reads the parameters from __signature__, which functions do not declare
        run.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in parameters}
        group.command(name)(run)
        return function

    return decorate


def _institution(ctx: IssuerContext, slug: str) -> Institution:
    with ctx.db.session() as session:
        row: Institution = institutions.by_slug(session, slug)
        return row


@command(app, "add-institution")
def add_institution(
    ctx: IssuerContext,
    slug: Annotated[str, typer.Option(help="URL name, part of the did:web (never changes)")],
    name: Annotated[str, typer.Option(help="the awarding body's name")],
    country: Annotated[str, typer.Option(help="ISO 3166-1 alpha-2 code")] = "NL",
    region: Annotated[str | None, typer.Option(help="region (EU element 3)")] = None,
    url: Annotated[str | None, typer.Option(help="the institution's website")] = None,
    brin: Annotated[str | None, typer.Option(help="BRIN code (Dutch institutions)")] = None,
    key_type: Annotated[str, typer.Option(help="ed25519 or p256")] = "ed25519",
) -> None:
    """Create an institution; print its did:web and its first API token (shown once)."""
    created = institutions.create(
        ctx,
        slug=slug,
        name=name,
        country_code=country,
        region=region,
        url=url,
        identifiers={"BRIN": brin} if brin else {},
        key_type=key_type,
        actor=actor(),
    )
    print_json({"did": created.did, "token": created.token})


@command(tokens_app, "list", institution=True)
def tokens_list(ctx: IssuerContext, institution: Institution) -> None:
    """List the institution's tokens (ids, names, scopes; never the tokens)."""
    with ctx.db.session() as session:
        print_json(tokens.listing(session, institution))


@command(tokens_app, "create", institution=True)
def tokens_create(
    ctx: IssuerContext,
    institution: Institution,
    name: Annotated[str, typer.Option(help="what the token is for")],
    scope: Annotated[
        list[str] | None, typer.Option(help="issue, revoke, admin (repeat the option)")
    ] = None,
) -> None:
    """Create a token; print it (shown only once)."""
    with ctx.db.session() as session:
        token_row, plain = tokens.create(
            session, institution, name=name, scopes=scope or ["issue"], actor=actor(),
            now=ctx.now(),
        )  # fmt: skip
        print_json({**tokens.public(token_row), "token": plain})


@command(tokens_app, "revoke", institution=True)
def tokens_revoke(
    ctx: IssuerContext,
    token_id: Annotated[str, typer.Argument(help="the token's id (tok_…)")],
    institution: Institution,
) -> None:
    """Revoke a token; requests with it get 401 from now on."""
    with ctx.db.session() as session:
        revoked = tokens.revoke(session, institution, token_id, actor=actor(), now=ctx.now())
        print_json(tokens.public(revoked))


@command(app, "rotate-key", institution=True)
def rotate_key(
    ctx: IssuerContext,
    institution: Institution,
    key_type: Annotated[
        str | None, typer.Option(help="ed25519 or p256 (default: as before)")
    ] = None,
    compromised: Annotated[
        bool, typer.Option(help="the old key leaked: withdraw it from assertionMethod")
    ] = False,
) -> None:
    """Give the institution a new signing key; print the keys (public facts only)."""
    print_json(
        keys.rotate_key(ctx, institution, actor=actor(), key_type=key_type, compromised=compromised)
    )


@command(app, "compromise-key", institution=True)
def compromise_key(
    ctx: IssuerContext,
    generation: Annotated[int, typer.Argument(help="the key's generation (N of #key-N)")],
    institution: Institution,
) -> None:
    """Withdraw an older key from assertionMethod: what it signed stops verifying."""
    print_json(keys.compromise(ctx, institution, generation, actor=actor()))


@command(app, "key-credentials", institution=True)
def key_credentials(
    ctx: IssuerContext,
    generation: Annotated[int, typer.Argument(help="the key's generation (N of #key-N)")],
    institution: Institution,
) -> None:
    """List what a key signed (id, module, issue date, status, replacement), as JSON
    lines, newest first; no learner data."""
    before = None
    while True:
        page = reissue.signed_by(ctx, institution, generation, before=before, limit=500)
        for item in page["credentials"]:
            typer.echo(json.dumps(item, ensure_ascii=False))
        before = page["next"]
        if before is None:
            return


@command(app, "reissue", institution=True)
def reissue_credentials(
    ctx: IssuerContext,
    generation: Annotated[int, typer.Argument(help="the compromised key's generation")],
    institution: Institution,
) -> None:
    """Re-issue what a compromised key signed, with the current key, and revoke the
    originals. Safe to run again (after a crash too): nothing is re-issued twice.

    The report lists each new replacement; for credentials a wallet collected, the new
    offer's link (and PIN) to send to the learner — shown only in this output.
    """
    report = reissue.reissue(ctx, institution, generation, actor=actor())
    print_json(report.to_dict())
    if report.failures:
        raise typer.Exit(1)


@command(app, "sweep-offers")
def sweep_offers(
    ctx: IssuerContext,
    older_than: Annotated[
        float, typer.Option(help="seconds since redemption after which issuing is stuck")
    ] = 300.0,
) -> None:
    """Put offers a crash left in 'issuing' back to 'redeemed' (also done at start-up)."""
    if older_than < 0:
        fail("--older-than must not be negative")
    from .services import oid4vci_flow

    print_json({"swept": oid4vci_flow.sweep_stuck(ctx, older_than=older_than)})


@command(app, "rewrap-keys")
def rewrap_keys(ctx: IssuerContext) -> None:
    """Re-wrap every signing key under the current KEK (the first in MICROCRED_KEK).

    For KEK rotation without downtime: set MICROCRED_KEK=new,old everywhere, run this,
    then drop the old KEK. Prints counts only; exit 2 if a key is wrapped under a KEK
    that is not configured.
    """
    print_json(keys.rewrap_all(ctx).to_dict())


@command(
    app, "issue-batch", institution=True,
    settings=lambda arguments: {"batch_workers": arguments["workers"]},
)  # fmt: skip
def issue_batch(
    ctx: IssuerContext,
    institution: Institution,
    module: Annotated[str, typer.Option("--module", help="the module's id")],
    file: Annotated[Path, typer.Argument(help="CSV file (see docs/issuer.md for the columns)")],
    key: Annotated[
        str | None, typer.Option(help="idempotency key (default: the file's SHA-256)")
    ] = None,
    report: Annotated[Path | None, typer.Option(help="write the per-row report here")] = None,
    workers: Annotated[int, typer.Option(help="signing processes (-1: one per CPU)")] = -1,
    allow_duplicates: Annotated[
        bool, typer.Option(help="issue rows that repeat an earlier (module, learner, result)")
    ] = False,
) -> None:
    """Issue a module to every row of a CSV file, with a progress bar.

    Re-running the same file (or the same --key) issues nothing twice.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    try:
        data = file.read_bytes()
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    columns = (
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, transient=True, disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task("issuing", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        result = batch.run(
            ctx,
            institution,
            module,
            data,
            actor=actor(),
            idempotency_key=key,
            progress=progress,
            allow_duplicates=allow_duplicates,
        )
    rows = result.pop("rows")
    if report is not None:
        make_owner_only(report)  # the report names learners (issue 14 item 4)
        report.write_text(json.dumps({**result, "rows": rows}, indent=2, ensure_ascii=False))
    problems = [r for r in rows if r["status"] in ("failed", "conflict", "duplicate")]
    print_json({**result, "problems": problems[:50]})
    if problems:
        raise typer.Exit(1)


@command(app, "recheck-awards")
def recheck_awards(
    ctx: IssuerContext,
    institution: Annotated[
        str | None, typer.Option("--institution", help="only this institution's awards")
    ] = None,
) -> None:
    """Re-check the status of the modules recognition awards rest on (issue 17).

    Prints the awards whose evidence was revoked or suspended since; each also becomes a
    notice in the console and an audit event. Exit 1 when there is any such award."""
    from .services.recognition import recheck

    scope = _institution(ctx, institution) if institution else None
    notices = recheck.recheck(ctx, scope)
    print_json({"notices": notices})
    if notices:
        raise typer.Exit(1)
