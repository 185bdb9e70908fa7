"""``microcred issuer …``: the operator's commands, straight on the database.

These run the same services as the HTTP API (same checks, same audit events, actor
``cli:<user>``), so anything done here is indistinguishable in the log from the API except
for who did it. Exit codes follow the ``microcred`` contract: 0 done, 1 done with failed
rows (``issue-batch``, ``reissue``), 2 refused (with a one-line reason on stderr).
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from credentials.errors import MicrocredError
from servicekit.db import make_owner_only
from servicekit.errors import ServiceError
from servicekit.migrations import SchemaOutOfDate, ensure_current

from .config import Settings
from .services import batch, institutions, keys, reissue, tokens
from .services.context import IssuerContext

app = typer.Typer(
    help="Issuer administration: institutions, tokens, keys, cohort issuance.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
tokens_app = typer.Typer(help="API tokens of an institution.", no_args_is_help=True)
app.add_typer(tokens_app, name="tokens")

DatabaseUrl = Annotated[str | None, typer.Option(help="database URL (default: DATABASE_URL)")]
PublicUrl = Annotated[
    str | None, typer.Option(help="public base URL; determines the did:web identifiers")
]
Dev = Annotated[bool, typer.Option(help="dev mode: http/localhost, KEK file in the data dir")]
InstitutionSlug = Annotated[str, typer.Option("--institution", help="the institution's slug")]


def fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"microcred issuer: {message}", err=True)
    raise typer.Exit(code)


def actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False))


@contextmanager
def context(
    database_url: str | None, public_url: str | None, dev: bool, **extra: Any
) -> Iterator[IssuerContext]:
    """An ``IssuerContext`` for one command, with every refusal turned into exit 2."""
    values = {"database_url": database_url, "public_url": public_url, **extra}
    settings = Settings(**{k: v for k, v in values.items() if v not in (None, "")}, dev=dev)
    try:
        ensure_current("issuer", settings.database_url)
        ctx = IssuerContext(settings)
    except SchemaOutOfDate as exc:
        fail(str(exc))
    except MicrocredError as exc:
        fail(exc.message)
    try:
        yield ctx
    except ServiceError as exc:
        errors = exc.extra.get("errors")
        fail(f"{exc.detail}" + (f" {json.dumps(errors)}" if errors and len(errors) > 1 else ""))
    except MicrocredError as exc:
        fail(exc.message)
    finally:
        ctx.close()


def _institution(ctx: IssuerContext, slug: str) -> Any:
    with ctx.db.session() as session:
        return institutions.by_slug(session, slug)


@app.command("add-institution")
def add_institution(
    slug: Annotated[str, typer.Option(help="URL name, part of the did:web (never changes)")],
    name: Annotated[str, typer.Option(help="the awarding body's name")],
    country: Annotated[str, typer.Option(help="ISO 3166-1 alpha-2 code")] = "NL",
    region: Annotated[str | None, typer.Option(help="region (EU element 3)")] = None,
    url: Annotated[str | None, typer.Option(help="the institution's website")] = None,
    brin: Annotated[str | None, typer.Option(help="BRIN code (Dutch institutions)")] = None,
    key_type: Annotated[str, typer.Option(help="ed25519 or p256")] = "ed25519",
    database_url: DatabaseUrl = None,
    public_url: PublicUrl = None,
    dev: Dev = False,
) -> None:
    """Create an institution; print its did:web and its first API token (shown once)."""
    with context(database_url, public_url, dev) as ctx:
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


@tokens_app.command("list")
def tokens_list(
    institution: InstitutionSlug,
    database_url: DatabaseUrl = None,
    public_url: PublicUrl = None,
    dev: Dev = False,
) -> None:
    """List the institution's tokens (ids, names, scopes; never the tokens)."""
    with context(database_url, public_url, dev) as ctx:
        row = _institution(ctx, institution)
        with ctx.db.session() as session:
            print_json(tokens.listing(session, row))


@tokens_app.command("create")
def tokens_create(
    institution: InstitutionSlug,
    name: Annotated[str, typer.Option(help="what the token is for")],
    scope: Annotated[
        list[str] | None, typer.Option(help="issue, revoke, admin (repeat the option)")
    ] = None,
    database_url: DatabaseUrl = None,
    public_url: PublicUrl = None,
    dev: Dev = False,
) -> None:
    """Create a token; print it (shown only once)."""
    with context(database_url, public_url, dev) as ctx:
        row = _institution(ctx, institution)
        with ctx.db.session() as session:
            token_row, plain = tokens.create(
                session, row, name=name, scopes=scope or ["issue"], actor=actor(), now=ctx.now()
            )
            print_json({**tokens.public(token_row), "token": plain})


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: Annotated[str, typer.Argument(help="the token's id (tok_…)")],
    institution: InstitutionSlug,
    database_url: DatabaseUrl = None,
    public_url: PublicUrl = None,
    dev: Dev = False,
) -> None:
    """Revoke a token; requests with it get 401 from now on."""
    with context(database_url, public_url, dev) as ctx:
        row = _institution(ctx, institution)
        with ctx.db.session() as session:
            print_json(
                tokens.public(tokens.revoke(session, row, token_id, actor=actor(), now=ctx.now()))
            )


@app.command("rotate-key")
def rotate_key(
    institution: InstitutionSlug,
    key_type: Annotated[
        str | None, typer.Option(help="ed25519 or p256 (default: as before)")
    ] = None,
    compromised: Annotated[
        bool, typer.Option(help="the old key leaked: withdraw it from assertionMethod")
    ] = False,
    database_url: DatabaseUrl = None,
    public_url: PublicUrl = None,
    dev: Dev = False,
) -> None:
    """Give the institution a new signing key; print the keys (public facts only)."""
    with context(database_url, public_url, dev) as ctx:
        row = _institution(ctx, institution)
        print_json(
            keys.rotate_key(ctx, row, actor=actor(), key_type=key_type, compromised=compromised)
        )


@app.command("compromise-key")
def compromise_key(
    generation: Annotated[int, typer.Argument(help="the key's generation (N of #key-N)")],
    institution: InstitutionSlug,
    database_url: DatabaseUrl = None,
    public_url: PublicUrl = None,
    dev: Dev = False,
) -> None:
    """Withdraw an older key from assertionMethod: what it signed stops verifying."""
    with context(database_url, public_url, dev) as ctx:
        row = _institution(ctx, institution)
        print_json(keys.compromise(ctx, row, generation, actor=actor()))


@app.command("key-credentials")
def key_credentials(
    generation: Annotated[int, typer.Argument(help="the key's generation (N of #key-N)")],
    institution: InstitutionSlug,
    database_url: DatabaseUrl = None,
    public_url: PublicUrl = None,
    dev: Dev = False,
) -> None:
    """List what a key signed (id, module, issue date, status, replacement), as JSON
    lines, newest first; no learner data."""
    with context(database_url, public_url, dev) as ctx:
        row = _institution(ctx, institution)
        before = None
        while True:
            page = reissue.signed_by(ctx, row, generation, before=before, limit=500)
            for item in page["credentials"]:
                typer.echo(json.dumps(item, ensure_ascii=False))
            before = page["next"]
            if before is None:
                return


@app.command("reissue")
def reissue_credentials(
    generation: Annotated[int, typer.Argument(help="the compromised key's generation")],
    institution: InstitutionSlug,
    database_url: DatabaseUrl = None,
    public_url: PublicUrl = None,
    dev: Dev = False,
) -> None:
    """Re-issue what a compromised key signed, with the current key, and revoke the
    originals. Safe to run again (after a crash too): nothing is re-issued twice.

    The report lists each new replacement; for credentials a wallet collected, the new
    offer's link (and PIN) to send to the learner — shown only in this output.
    """
    with context(database_url, public_url, dev) as ctx:
        row = _institution(ctx, institution)
        report = reissue.reissue(ctx, row, generation, actor=actor())
        print_json(report.to_dict())
        if report.failures:
            raise typer.Exit(1)


@app.command("sweep-offers")
def sweep_offers(
    older_than: Annotated[
        float, typer.Option(help="seconds since redemption after which issuing is stuck")
    ] = 300.0,
    database_url: DatabaseUrl = None,
    public_url: PublicUrl = None,
    dev: Dev = False,
) -> None:
    """Put offers a crash left in 'issuing' back to 'redeemed' (also done at start-up)."""
    if older_than < 0:
        fail("--older-than must not be negative")
    from .services import offers

    with context(database_url, public_url, dev) as ctx:
        print_json({"swept": offers.sweep_stuck(ctx, older_than=older_than)})


@app.command("rewrap-keys")
def rewrap_keys(
    database_url: DatabaseUrl = None,
    public_url: PublicUrl = None,
    dev: Dev = False,
) -> None:
    """Re-wrap every signing key under the current KEK (the first in MICROCRED_KEK).

    For KEK rotation without downtime: set MICROCRED_KEK=new,old everywhere, run this,
    then drop the old KEK. Prints counts only; exit 2 if a key is wrapped under a KEK
    that is not configured.
    """
    with context(database_url, public_url, dev) as ctx:
        print_json(keys.rewrap_all(ctx).to_dict())


@app.command("issue-batch")
def issue_batch(
    institution: InstitutionSlug,
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
    database_url: DatabaseUrl = None,
    public_url: PublicUrl = None,
    dev: Dev = False,
) -> None:
    """Issue a module to every row of a CSV file, with a progress bar.

    Re-running the same file (or the same --key) issues nothing twice.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    try:
        data = file.read_bytes()
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    with context(database_url, public_url, dev, batch_workers=workers) as ctx:
        row = _institution(ctx, institution)
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
                row,
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


@app.command("recheck-awards")
def recheck_awards(
    institution: Annotated[
        str | None, typer.Option("--institution", help="only this institution's awards")
    ] = None,
    database_url: DatabaseUrl = None,
    public_url: PublicUrl = None,
    dev: Dev = False,
) -> None:
    """Re-check the status of the modules recognition awards rest on (issue 17).

    Prints the awards whose evidence was revoked or suspended since; each also becomes a
    notice in the console and an audit event. Exit 1 when there is any such award."""
    from .services.recognition import recheck

    with context(database_url, public_url, dev) as ctx:
        scope = _institution(ctx, institution) if institution else None
        notices = recheck.recheck(ctx, scope)
        print_json({"notices": notices})
        if notices:
            raise typer.Exit(1)
