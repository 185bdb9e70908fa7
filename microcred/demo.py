"""``microcred demo``: the three services on one machine, seeded, in one command.

What it does, in order:

1. **migrate** the issuer, wallet and verifier databases (embedded SQLite files in the data
   directory, default ``./.microcred-demo``);
2. **seed** them through the services' own service functions, idempotently: two
   institutions (an mbo, ROC Noordkust, and an hbo, Hogeschool Rijnland) with their
   modules, a learning route across both published in the wallet, a learner account, and
   a trust registry file naming both institutions' DIDs for the verifier. What was created
   is recorded in ``demo.json`` in the data directory (the institutions' API tokens and the
   learner's password are shown only once by the services, so the demo keeps them to print
   them again on the next start); a restart reuses all of it and creates nothing twice;
3. **start** ``microcred serve`` for each service on ``localhost`` (8001, 8002, 8003) in
   dev mode, wait until each answers, and print the URLs and log-in details;
4. on **Ctrl-C** (or SIGTERM) stop all three and wait for them, so no server outlives the
   demo. If one of them dies, the others are stopped too.

Each service runs as its own process, as it would at three organisations; the demo only
starts them. The same ``prepare`` is what the browser tests use to seed their services.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from servicekit.cli import fail

from .demo_config import (
    DEFAULT_BASE_PORT,
    DEFAULT_DATA_DIR,
    READY_TIMEOUT,
    SERVICES,
    STOP_TIMEOUT,
    DemoConfig,
    DemoState,
    SeededInstitution,
    load_state,
    save_state,
)
from .demo_recognition import OWNER, seed_recognition
from .demo_world import INSTITUTIONS, ROUTE_ID


def migrate(config: DemoConfig) -> None:
    from servicekit.migrations import upgrade

    for service in SERVICES:
        upgrade(service, config.database_url(service))


def prepare(config: DemoConfig) -> DemoState:
    """Migrate and seed everything; safe to call on every start."""
    config.data_dir.mkdir(parents=True, exist_ok=True)
    migrate(config)
    state = load_state(config)
    seed_issuer(config, state)
    save_state(config, state)
    # issue 17: the hbo owns the route and awards a certificate for it (demo_recognition.py)
    seed_recognition(config.settings("issuer"), state.institutions, route_definition(config, state))
    write_trust_files(config, state)
    seed_wallet(config, state)
    save_state(config, state)
    return state


def new_password() -> str:
    """A password a person can type from the terminal, strong enough for the policy."""
    return "demo-" + secrets.token_urlsafe(9).replace("_", "x").replace("-", "y")


def route_definition(config: DemoConfig, state: DemoState) -> dict[str, Any]:
    """A learning route across both institutions: an mbo module, an hbo module, a choice."""
    from issuer.services import urls

    public = config.public_url("issuer")

    def module(slug: str, module_id: str, name: str) -> dict[str, Any]:
        return {
            "id": module_id,
            "name": name,
            "achievement_ids": [urls.module_url(public, slug, module_id)],
        }

    return {
        "id": ROUTE_ID,
        "name": "Doorstroomroute Data (mbo → hbo)",
        "description": "Van programmeren op het ROC naar data science op de hogeschool: "
        "samen minstens 13 ECTS, op EQF-niveau 4 of hoger.",
        "min_ects": 13,
        "min_eqf_level": 4,
        "accepted_issuers": [i.did for i in state.institutions.values()],
        "required_modules": [
            module("roc-noordkust", "basis-programmeren", "Basis programmeren in Python"),
            module("hs-rijnland", "data-wrangling", "Data Wrangling met Python"),
        ],
        "module_groups": [
            {
                "id": "verdieping",
                "name": "Verdieping",
                "choose": 1,
                "modules": [
                    module("hs-rijnland", "datavisualisatie", "Datavisualisatie"),
                    module("hs-rijnland", "toegepaste-statistiek", "Toegepaste statistiek"),
                ],
            }
        ],
    }


def seed_issuer(config: DemoConfig, state: DemoState) -> None:
    """Both institutions and their modules, through the issuer's own services."""
    from issuer.schemas import ModuleIn, validate
    from issuer.services import institutions, modules, tokens, urls
    from issuer.services.context import IssuerContext
    from servicekit.errors import ServiceError

    ctx = IssuerContext(config.settings("issuer"))
    try:
        for spec in INSTITUTIONS:
            slug = spec["slug"]
            try:
                with ctx.db.session() as session:
                    institution = institutions.by_slug(session, slug)
                token = state.institutions[slug].token if slug in state.institutions else ""
                if not token:
                    # the database outlived demo.json: give the demo a token of its own
                    with ctx.db.session() as session:
                        _, token = tokens.create(
                            session,
                            institution,
                            name="demo",
                            scopes=list(tokens.SCOPES),
                            actor="demo",
                            now=ctx.now(),
                        )
            except ServiceError:
                created = institutions.create(
                    ctx,
                    slug=slug,
                    name=spec["name"],
                    country_code="NL",
                    region=spec["region"],
                    identifiers=spec["identifiers"],
                    actor="demo",
                )
                institution, token = created.institution, created.token
            for module in spec["modules"]:
                try:
                    modules.get(ctx, institution, module["id"])
                except ServiceError:
                    modules.create(ctx, institution, validate(ModuleIn, module), actor="demo")
            state.institutions[slug] = SeededInstitution(
                slug=slug,
                name=spec["name"],
                did=urls.institution_did(ctx.settings.public_url, slug),
                token=token,
                modules=[m["id"] for m in spec["modules"]],
            )
    finally:
        ctx.close()


def write_trust_files(config: DemoConfig, state: DemoState) -> None:
    """The verifier's trust registry and the wallet's known issuers: both institutions."""
    accreditation = {spec["slug"]: spec["accreditation"] for spec in INSTITUTIONS}
    registry = {
        "name": "microcred demo: erkende instellingen",
        "institutions": [
            {
                "did": institution.did,
                "name": institution.name,
                "country": "NL",
                "accreditation": accreditation.get(slug, []),
                "valid_from": "2020-01-01",
                "url": f"{config.public_url('issuer')}/institutions/{slug}",
            }
            for slug, institution in state.institutions.items()
        ],
    }
    config.registry_path.write_text(json.dumps(registry, indent=2, ensure_ascii=False) + "\n")
    known = {"issuers": [{"id": i.did, "name": i.name} for i in state.institutions.values()]}
    config.known_issuers_path.write_text(json.dumps(known, indent=2, ensure_ascii=False) + "\n")


def seed_wallet(config: DemoConfig, state: DemoState) -> None:
    """The published route and the learner (who follows it), through the wallet's services."""
    from servicekit.db import Database
    from servicekit.errors import ServiceError
    from wallet.services.accounts import SESSION
    from wallet.services.container import build_services

    settings = config.settings("wallet")
    db = Database(settings.database_url)
    try:
        services = build_services(settings, db)
        services.routes.publish(route_definition(config, state))
        state.route_id = ROUTE_ID
        if not state.learner_password:
            state.learner_password = new_password()
        try:
            learner = services.accounts.register(
                state.learner_username, state.learner_password, reveal_taken=True
            )
        except ServiceError as exc:
            if exc.code != "username_taken":
                raise
            token, _ = services.accounts.login(
                state.learner_username, state.learner_password, SESSION
            )
            known = services.accounts.authenticate(token, SESSION)
            services.accounts.logout(token)
            if known is None:  # pragma: no cover - login just succeeded
                raise DemoError("the demo learner cannot log in") from None
            learner = known
        if not any(r["routeId"] == ROUTE_ID for r in services.routes.list(learner)):
            services.routes.add(learner, published_id=ROUTE_ID)
    finally:
        db.dispose()


# --------------------------------------------------------------------------- processes


def port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def serve_command(config: DemoConfig, service: str) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "microcred",
        "serve",
        service,
        "--host",
        config.host,
        "--port",
        str(config.ports[service]),
        "--database-url",
        config.database_url(service),
        "--public-url",
        config.public_url(service),
        "--dev",
    ]
    if service == "verifier":
        command += ["--trust-registry", str(config.registry_path)]
    return command


def service_environment(config: DemoConfig) -> dict[str, str]:
    """The children find the key-encryption key and web secrets in the data directory."""
    env = dict(os.environ)
    for service in SERVICES:
        prefix = f"MICROCRED_{service.upper()}_"
        env[prefix + "DATA_DIR"] = str(config.data_dir)
        env[prefix + "DEV"] = "1"
        for name in ("DATABASE_URL", "PUBLIC_URL", "PORT"):
            env.pop(prefix + name, None)
    env["MICROCRED_WALLET_KNOWN_ISSUERS_FILE"] = str(config.known_issuers_path)
    env["MICROCRED_WALLET_URL"] = config.public_url("wallet")
    env["MICROCRED_WALLET_VERIFIER_URL"] = config.public_url("verifier")
    env["MICROCRED_ISSUER_STATUS_MAX_AGE"] = str(config.status_max_age)
    for old in ("DATABASE_URL", "MICROCRED_PUBLIC_URL", "MICROCRED_PORT", "MICROCRED_DATA_DIR"):
        env.pop(old, None)  # names from before MICROCRED_<SERVICE>_*: not for the demo
    env.pop("MICROCRED_DEV", None)
    return env


@contextmanager
def running(config: DemoConfig, log_dir: Path | None = None) -> Iterator[dict[str, Any]]:
    """Start the three servers; stop them all when the block ends, however it ends."""
    processes: dict[str, subprocess.Popen[bytes]] = {}
    logs: list[Any] = []
    try:
        for service in SERVICES:
            output: Any = None
            if log_dir is not None:
                log_dir.mkdir(parents=True, exist_ok=True)
                # owner-only (issue 14 item 4): the logs carry request paths and errors
                flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
                fd = os.open(log_dir / f"{service}.log", flags, 0o600)
                output = os.fdopen(fd, "ab")
                logs.append(output)
            processes[service] = subprocess.Popen(
                serve_command(config, service),
                env=service_environment(config),
                stdout=output,
                stderr=subprocess.STDOUT if output is not None else None,
            )
        wait_until_ready(config, processes)
        yield processes
    finally:
        stop(processes)
        for handle in logs:
            handle.close()


def wait_until_ready(config: DemoConfig, processes: dict[str, subprocess.Popen[bytes]]) -> None:
    import httpx

    deadline = time.monotonic() + READY_TIMEOUT
    pending = set(processes)
    while pending:
        for service in sorted(pending):
            process = processes[service]
            if process.poll() is not None:
                raise DemoError(
                    f"the {service} stopped while starting (exit {process.returncode}); "
                    f"see {config.log_dir / (service + '.log')}"
                )
            url = f"http://{config.host}:{config.ports[service]}/healthz"
            try:
                if httpx.get(url, timeout=1.0).status_code == 200:
                    pending.discard(service)
            except httpx.HTTPError:
                pass
        if pending and time.monotonic() > deadline:
            raise DemoError(f"not ready after {READY_TIMEOUT:.0f} s: {', '.join(sorted(pending))}")
        if pending:
            time.sleep(0.2)


def stop(processes: dict[str, subprocess.Popen[bytes]]) -> None:
    """SIGTERM every server still running (uvicorn shuts down gracefully), then wait; a
    server that does not stop in time is killed, so nothing is left behind."""
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class DemoError(RuntimeError):
    pass


def describe(config: DemoConfig, state: DemoState) -> str:
    """What the demo prints: where to go and how to log in."""
    lines = [
        "",
        "microcred demo is running (Ctrl-C stops everything)",
        "",
        f"  Issuer console  {config.public_url('issuer')}/",
    ]
    for institution in state.institutions.values():
        lines.append(f"    {institution.name}")
        lines.append(f"      DID    {institution.did}")
        lines.append(f"      token  {institution.token}")
    lines += [
        "",
        f"  Recognition     {config.public_url('issuer')}/institutions/{OWNER}/routes/{ROUTE_ID}",
        "    exam board    the issuer console (Hogeschool Rijnland) → Erkenning",
        "",
        f"  Learner wallet  {config.public_url('wallet')}/",
        f"    user name  {state.learner_username}",
        f"    password   {state.learner_password}",
        "",
        f"  Verifier        {config.public_url('verifier')}/",
        f"    trust registry  {config.registry_path}",
        "",
        f"  Server logs     {config.log_dir}/",
        f"  Data directory  {config.data_dir} (delete it to start afresh)",
        "",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------- command


def demo(
    data_dir: Annotated[
        Path, typer.Option(help="where the demo keeps its databases and keys")
    ] = DEFAULT_DATA_DIR,
    port_base: Annotated[
        int, typer.Option(help="issuer port; the wallet and verifier take the next two")
    ] = DEFAULT_BASE_PORT,
) -> None:
    """Start issuer, wallet and verifier on localhost, seeded with a demo world."""
    config = DemoConfig(
        data_dir=data_dir,
        ports={service: port_base + index for index, service in enumerate(SERVICES)},
    )
    busy = [str(p) for p in config.ports.values() if not port_free(config.host, p)]
    if busy:
        fail(f"port {', '.join(busy)} is in use (is a demo already running?)")
    typer.echo(f"preparing the demo in {config.data_dir} …")
    try:
        state = prepare(config)
    except Exception as exc:
        fail(f"the demo could not be prepared: {exc}")

    def terminate(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, terminate)
    # also when started with SIGINT ignored (a parent that ignores it passes that on)
    previous_int = signal.signal(signal.SIGINT, terminate)
    try:
        with running(config, log_dir=config.log_dir) as processes:
            typer.echo(describe(config, state))
            while all(p.poll() is None for p in processes.values()):
                time.sleep(0.5)
            gone = {s: p.poll() for s, p in processes.items() if p.poll() is not None}
            if any(code not in (0, -signal.SIGINT, -signal.SIGTERM) for code in gone.values()):
                fail(f"the {', '.join(gone)} stopped unexpectedly; stopping the demo", 1)
            # a clean stop without our own interrupt: Ctrl-C reached the servers first (the
            # terminal signals the whole group) or someone stopped them; either way, stop
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        typer.echo("\nstopping the demo …")
    except DemoError as exc:
        fail(str(exc), 1)
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)
    typer.echo("stopped.")
