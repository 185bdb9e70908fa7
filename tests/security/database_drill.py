"""The machinery of the "database unavailable for 5 s" drill (test_drill_database.py).

Outages (a cut TCP proxy for PostgreSQL, an exclusive lock for SQLite), the answers the
client threads collect, the per-service workloads, the service under test as a real HTTP
server, and the drive loop that keeps traffic going before, during and after the outage.
The test module holds what must hold (the assertions) and the data checks.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
from sqlalchemy.engine import make_url

from credentials.dids import DidResolver
from credentials.keys import Multikey
from credentials.keystore import Kek, Keystore
from credentials.verify import create_presentation
from servicekit.migrations import upgrade
from tests.issuer.support import module_spec
from tests.security.services import offline_fetcher
from tests.support.databases import backend, fresh_database
from tests.support.servers import free_port, live_server
from tests.support.tcpproxy import TcpProxy
from tests.wallet.fakes import credential_for

OUTAGE_SECONDS = 5.0
BEFORE_SECONDS = 1.5
RECOVERY_DEADLINE = 30.0
"""Seconds after the database is back within which the service must be healthy again."""
CLIENTS = 3
PAUSE = 0.05
"""Seconds each client waits between requests: steady traffic, not a flood of 503s."""
PASSWORD = "correct horse battery staple"
ADMIN = "drill-admin-" + "c" * 32
LEAKS = ("Traceback", "sqlalchemy", "psycopg", "sqlite3", "OperationalError", 'File "')


# --------------------------------------------------------------------------- outages


class Outage(Protocol):
    """Makes one database unavailable and available again; ``service_url`` is what the
    service is configured with."""

    service_url: str

    def begin(self) -> None: ...

    def end(self) -> None: ...

    def close(self) -> None: ...


class ProxyOutage:
    """PostgreSQL behind a TCP proxy that is cut and restored on the same port."""

    def __init__(self, real_url: str) -> None:
        url = make_url(real_url)
        self.proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
        self.proxy.start()
        self.service_url = url.set(host="127.0.0.1", port=self.proxy.port).render_as_string(
            hide_password=False
        )

    def begin(self) -> None:
        self.proxy.stop()

    def end(self) -> None:
        deadline = time.monotonic() + 5
        while True:  # the port is ours, but rebinding may race a TIME_WAIT cleanup
            try:
                self.proxy.start()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def close(self) -> None:
        self.proxy.stop()


class LockOutage:
    """SQLite held under an exclusive lock by a connection of the drill's own."""

    def __init__(self, url: str) -> None:
        self.service_url = url
        self.path = make_url(url).database or ""
        self._holder: sqlite3.Connection | None = None

    def begin(self) -> None:
        holder = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        self._holder = holder

    def end(self) -> None:
        if self._holder is not None:
            self._holder.execute("ROLLBACK")
            self._holder.close()
            self._holder = None

    def close(self) -> None:
        self.end()


# --------------------------------------------------------------------------- answers


@dataclass
class Answer:
    """One request of the drill and what came back (``status`` 0: no answer at all)."""

    operation: str
    started: float
    ended: float
    status: int
    body: str
    content_type: str
    retry_after: str | None
    key: str | None = None

    def phase(self, outage_start: float, outage_end: float) -> str:
        if self.ended < outage_start:
            return "before"
        if self.started > outage_end:
            return "after"
        return "outage"

    @property
    def unavailable(self) -> bool:
        return self.status == 503


def call(
    client: httpx.Client, operation: str, method: str, url: str, key: str | None = None, **kw: Any
) -> Answer:
    started = time.monotonic()
    try:
        response = client.request(method, url, **kw)
    except httpx.HTTPError as exc:
        return Answer(operation, started, time.monotonic(), 0, repr(exc), "", None, key)
    return Answer(
        operation,
        started,
        time.monotonic(),
        response.status_code,
        response.text,
        response.headers.get("content-type", ""),
        response.headers.get("retry-after"),
        key,
    )


# --------------------------------------------------------------------------- workloads


@dataclass
class Workload:
    """What the clients do against one service and how its data is checked afterwards.

    ``operations`` are callables ``(client) -> list[Answer]``; ``success`` maps an
    operation to the statuses that mean it worked; ``degrades`` names the operations that
    must answer 503 while the database is away (on both backends).
    """

    base_url: str
    operations: list[Callable[[httpx.Client], list[Answer]]]
    success: dict[str, set[int]]
    degrades: set[str]
    reads: set[str]
    state: dict[str, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def issuer_workload(base_url: str, token: str) -> Workload:
    headers = {"Authorization": f"Bearer {token}"}
    workload = Workload(
        base_url,
        [],
        success={"issue": {201, 200}, "get": {200}, "did": {200}, "status_list": {200}},
        degrades={"issue"},
        reads={"get", "did", "status_list"},
    )
    workload.state.update(keys=[], issued=[], headers=headers)

    def issue(client: httpx.Client) -> list[Answer]:
        key = f"drill-{uuid.uuid4()}"
        with workload.lock:
            workload.state["keys"].append(key)
        body = {
            "module_id": "data-wrangling",
            "learner": {"email": f"{key}@example.nl"},
            "result": {"grade": "8"},
        }
        answer = call(
            client,
            "issue",
            "POST",
            "/institutions/hsr/issuances",
            key=key,
            json=body,
            headers={**headers, "Idempotency-Key": key},
        )
        if answer.status in (200, 201):
            credential = json.loads(answer.body)["verifiableCredential"]
            with workload.lock:
                workload.state["issued"].append(credential)
        return [answer]

    def read(client: httpx.Client) -> list[Answer]:
        with workload.lock:
            issued = list(workload.state["issued"][-5:])
        answers = [call(client, "did", "GET", "/institutions/hsr/did.json")]
        if issued:
            credential = issued[0]
            answers.append(
                call(
                    client,
                    "get",
                    "GET",
                    f"/institutions/hsr/credentials/{credential['id']}",
                    headers=headers,
                )
            )
            entries = credential.get("credentialStatus") or []
            entry = entries[0] if isinstance(entries, list) and entries else None
            if entry:
                answers.append(call(client, "status_list", "GET", entry["statusListCredential"]))
        return answers

    workload.operations = [issue, read]
    return workload


def wallet_workload(base_url: str, token: str, holder_did: str) -> Workload:
    headers = {"Authorization": f"Bearer {token}"}
    issuer_key = Multikey.generate()
    workload = Workload(
        base_url,
        [],
        success={"import": {201}, "list": {200}, "me": {200}},
        degrades={"import"},
        reads={"list", "me"},
    )
    workload.state.update(credentials={}, stored=[], headers=headers)

    def store(client: httpx.Client) -> list[Answer]:
        credential = credential_for(issuer_key, holder_did)
        with workload.lock:
            workload.state["credentials"][credential["id"]] = credential
        answer = call(
            client,
            "import",
            "POST",
            "/api/credentials/import",
            key=credential["id"],
            json={"credential": credential},
            headers=headers,
        )
        if answer.status == 201:
            with workload.lock:
                workload.state["stored"].append(credential["id"])
        return [answer]

    def read(client: httpx.Client) -> list[Answer]:
        return [
            call(client, "list", "GET", "/api/credentials", headers=headers),
            call(client, "me", "GET", "/api/learners/me", headers=headers),
        ]

    workload.operations = [store, read]
    return workload


def verifier_workload(base_url: str) -> Workload:
    issuer_key, holder_key = Multikey.generate(), Multikey.generate()
    credential = credential_for(issuer_key, holder_key.controller)
    workload = Workload(
        base_url,
        [],
        success={"challenge": {200}, "present": {200}, "verify": {200}},
        # verifying a credential alone needs no database (its log line is best effort);
        # challenges are database state
        degrades={"challenge"},
        reads={"verify"},
    )
    # ``unsure``: presentations sent whose answer was not 200; the database may still have
    # used their challenge (a commit that reached the server while the answer was lost)
    workload.state.update(consumed=[], unsure=[], verified=0, presented=0)

    def present(client: httpx.Client) -> list[Answer]:
        issued = call(client, "challenge", "POST", "/challenges")
        if issued.status != 200:
            return [issued]
        challenge = json.loads(issued.body)["challenge"]
        presentation = create_presentation(
            [credential], holder_key, challenge=challenge, domain="https://drill.example"
        )
        body = {
            "verifiablePresentation": presentation,
            "options": {"challenge": challenge, "domain": "https://drill.example"},
        }
        answer = call(client, "present", "POST", "/presentations/verify", json=body)
        with workload.lock:
            workload.state["consumed" if answer.status == 200 else "unsure"].append(challenge)
        return [issued, answer]

    def verify(client: httpx.Client) -> list[Answer]:
        return [
            call(
                client,
                "verify",
                "POST",
                "/credentials/verify",
                json={"verifiableCredential": credential},
            )
        ]

    workload.operations = [present, verify]
    return workload


# --------------------------------------------------------------------------- services


@dataclass
class Running:
    base_url: str
    workload: Workload
    database_url: str
    """The real database (not through the proxy), for the drill's own checks."""


@contextlib.contextmanager
def running_service(
    service: str, tmp_path: Path, real_url: str, service_url: str
) -> Iterator[Running]:
    """``service`` migrated on ``real_url``, served over HTTP on ``service_url``."""
    upgrade(service, real_url)
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    data_dir = tmp_path / service
    data_dir.mkdir(exist_ok=True)
    if service == "issuer":
        from issuer.config import Settings as IssuerSettings
        from issuer.main import create_app as issuer_app
        from issuer.services import institutions

        keystore = Keystore([Kek.from_secret(secrets.token_bytes(32))])
        settings = IssuerSettings(
            database_url=service_url,
            public_url=public,
            port=port,
            dev=True,
            data_dir=data_dir,
            batch_workers=0,
            admin_token=ADMIN,
        )
        app = issuer_app(
            settings, keystore=keystore, holder_resolver=DidResolver(offline_fetcher())
        )
        created = institutions.create(app.state.issuer, slug="hsr", name="Hogeschool Rijnland")
        with live_server(app, port=port) as base_url:
            response = httpx.post(
                base_url + "/institutions/hsr/modules",
                json=module_spec(),
                headers={"Authorization": f"Bearer {created.token}"},
                timeout=60,
            )
            assert response.status_code == 201, response.text
            yield Running(base_url, issuer_workload(base_url, created.token), real_url)
    elif service == "wallet":
        from wallet.config import Settings as WalletSettings
        from wallet.main import create_app as wallet_app

        settings = WalletSettings(
            database_url=service_url,
            public_url=public,
            data_dir=data_dir,
            password_time_cost=1,
            password_memory_kib=8192,
        )
        keystore = Keystore([Kek.from_secret(secrets.token_bytes(32))])
        app = wallet_app(settings, keystore=keystore, fetcher=offline_fetcher())
        with live_server(app, port=port) as base_url:
            account = {"username": "jan", "password": PASSWORD}
            created = httpx.post(base_url + "/api/learners", json=account, timeout=30)
            assert created.status_code == 201, created.text
            session = httpx.post(base_url + "/api/session", json=account, timeout=30)
            assert session.status_code == 200, session.text
            workload = wallet_workload(base_url, session.json()["token"], created.json()["did"])
            yield Running(base_url, workload, real_url)
    else:
        from verifier.config import Settings as VerifierSettings
        from verifier.main import create_app as verifier_app

        settings = VerifierSettings(
            database_url=service_url, public_url=public, data_dir=data_dir, admin_token=ADMIN
        )
        app = verifier_app(settings, fetcher=offline_fetcher())
        with live_server(app, port=port) as base_url:
            yield Running(base_url, verifier_workload(base_url), real_url)


@contextlib.contextmanager
def outage_for(tmp_path: Path) -> Iterator[tuple[str, Outage]]:
    """A fresh database of the selected backend and the way to make it unavailable."""
    with fresh_database(tmp_path, name="drill") as real_url:
        postgresql = backend() == "postgresql"
        outage: Outage = ProxyOutage(real_url) if postgresql else LockOutage(real_url)
        try:
            yield real_url, outage
        finally:
            outage.close()


# --------------------------------------------------------------------------- the drill


@dataclass
class Timeline:
    answers: list[Answer]
    outage_start: float
    outage_end: float
    recovered_after: float
    """Seconds from the database's return to the first run of all-successful operations."""

    def by_phase(self, phase: str) -> list[Answer]:
        return [a for a in self.answers if a.phase(self.outage_start, self.outage_end) == phase]


def drive(running: Running, outage: Outage) -> Timeline:
    """Keep the clients busy before, during and after a 5 s outage; return every answer."""
    workload = running.workload
    answers: list[Answer] = []
    answers_lock = threading.Lock()
    stop = threading.Event()

    def client_loop(offset: int) -> None:
        with httpx.Client(base_url=running.base_url, timeout=30) as client:
            turn = offset
            while not stop.is_set():
                operation = workload.operations[turn % len(workload.operations)]
                turn += 1
                produced = operation(client)
                with answers_lock:
                    answers.extend(produced)
                time.sleep(PAUSE)

    threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    try:
        # steady traffic first: at least BEFORE_SECONDS, and until the clients have had a
        # few answers (a loaded CI machine can take longer than that for the first ones)
        started = time.monotonic()
        while time.monotonic() - started < RECOVERY_DEADLINE:
            with answers_lock:
                warmed = len(answers) >= 2 * CLIENTS
            if warmed and time.monotonic() - started >= BEFORE_SECONDS:
                break
            time.sleep(0.05)
        outage_start = time.monotonic()
        outage.begin()
        time.sleep(OUTAGE_SECONDS)
        outage.end()
        outage_end = time.monotonic()
        recovered_after = _wait_for_recovery(answers, answers_lock, workload, outage_end)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    return Timeline(list(answers), outage_start, outage_end, recovered_after)


def _wait_for_recovery(
    answers: list[Answer], lock: threading.Lock, workload: Workload, since: float
) -> float:
    """Until every operation kind has succeeded 3 times in a row after ``since``."""
    deadline = since + RECOVERY_DEADLINE
    while time.monotonic() < deadline:
        with lock:
            after = [a for a in answers if a.started > since]
        streaks: dict[str, int] = {}
        for answer in after:
            ok = answer.status in workload.success[answer.operation]
            streaks[answer.operation] = streaks.get(answer.operation, 0) + 1 if ok else 0
        if all(streaks.get(op, 0) >= 3 for op in workload.success):
            return time.monotonic() - since
        time.sleep(0.1)
    return float("inf")


def histogram(timeline: Timeline) -> str:
    """``phase operation: {status: count}`` lines, to show what the drill saw."""
    counts: dict[tuple[str, str], dict[int, int]] = {}
    for answer in timeline.answers:
        phase = answer.phase(timeline.outage_start, timeline.outage_end)
        slot = counts.setdefault((phase, answer.operation), {})
        slot[answer.status] = slot.get(answer.status, 0) + 1
    order = {"before": 0, "outage": 1, "after": 2}
    return "\n".join(
        f"  {phase:7} {operation:12} {dict(sorted(statuses.items()))}"
        for (phase, operation), statuses in sorted(counts.items(), key=lambda i: order[i[0][0]])
    )


def problems_in(answers: list[Answer]) -> list[str]:
    """Every answer that is neither a success-shaped answer nor a clean 503 problem."""
    found = []
    for answer in answers:
        where = f"{answer.operation} → {answer.status}"
        if answer.status == 0:
            found.append(f"{where}: no answer ({answer.body[:200]})")
        elif answer.status >= 500 and answer.status != 503:
            found.append(f"{where}: {answer.body[:300]}")
        if any(leak in answer.body for leak in LEAKS):
            found.append(f"{where}: internals in the answer: {answer.body[:300]}")
        if answer.status == 503:
            try:
                body = json.loads(answer.body)
            except ValueError:
                found.append(f"{where}: not JSON: {answer.body[:200]}")
                continue
            if not answer.content_type.startswith("application/problem+json"):
                found.append(f"{where}: content type {answer.content_type}")
            if body.get("code") != "database_unavailable" or body.get("status") != 503:
                found.append(f"{where}: problem {body}")
            if not {"type", "title", "detail"} <= body.keys():
                found.append(f"{where}: not an RFC 9457 problem: {body}")
            if not (answer.retry_after or "").isdigit():
                found.append(f"{where}: no Retry-After")
    return found
