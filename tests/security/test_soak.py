"""Issue 9, the load soak (S-5 in docs/security.md): each service under concurrent load for
``MICROCRED_SOAK_SECONDS`` (default 60) on loopback.

Each service runs as ``microcred serve`` — a separate process, as an operator runs it — and
the test process drives it with worker threads (tests/support/loadgen.py) doing a realistic
mix of that service's traffic. Rate limits are switched off with ``MICROCRED_RATE_*=0`` for
the server under load (that they answer 429 is tested in test_service_abuse.py); the
wallet's log-in limit is not configurable, so log-ins are paced below it, as they are rare
in real traffic anyway.

What must hold:

* zero 5xx and zero requests without an answer;
* memory stable: the server's RSS after the run is within +25 % of its RSS after warm-up
  (read from ``/proc``), so nothing grows per request;
* the data is consistent afterwards — whatever the answers said was stored is stored,
  exactly once, and complete.

Each test prints one summary line (``soak <service> [<backend>]: …``) for docs/security.md;
run with ``-s`` (or ``-rA``) to see it. No assertion is on speed.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest

from credentials.dids import DidResolver
from credentials.keys import Multikey
from credentials.status_list import StatusList
from credentials.verify import Verifier, create_presentation
from tests.scale.support import (
    ServiceProcess,
    create_module,
    database,
    microcred,
    rows,
    scalar,
    serve,
    service_environment,
    set_up_issuer,
)
from tests.support.databases import backend, fresh_database
from tests.support.loadgen import LoadResult, Operation, run_load
from tests.wallet.fakes import credential_for

pytestmark = pytest.mark.soak

SECONDS = max(10.0, min(float(os.environ.get("MICROCRED_SOAK_SECONDS", "") or 60), 600))
"""Length of each soak; bounded so a typo cannot hold CI for hours."""
WARM_UP = min(10.0, SECONDS / 4)
"""Seconds of load after which the server's RSS is the reference (caches filled)."""
RSS_GROWTH = 1.25
WORKERS = 6
PASSWORD = "correct horse battery staple"
ADMIN = "soak-admin-" + "d" * 32
NO_RATE_LIMITS = {
    "MICROCRED_RATE_VERIFY": "0",
    "MICROCRED_RATE_SHARE": "0",
    "MICROCRED_RATE_TOKEN": "0",
}


@dataclass
class Shared:
    """State the operations of one soak share across worker threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    items: dict[str, list[Any]] = field(default_factory=dict)

    def add(self, kind: str, value: Any) -> None:
        with self.lock:
            self.items.setdefault(kind, []).append(value)

    def pick(self, kind: str, rng: random.Random) -> Any | None:
        with self.lock:
            values = self.items.get(kind) or []
            return rng.choice(values) if values else None

    def all(self, kind: str) -> list[Any]:
        with self.lock:
            return list(self.items.get(kind, []))


def summary(service: str, result: LoadResult, warm: int, end: int) -> str:
    line = (
        f"soak {service} [{backend()}]: {result.requests} requests in {result.seconds:.0f} s "
        f"({result.throughput:.1f}/s), 5xx: {result.server_errors}, "
        f"no answer: {result.no_answer}, RSS after warm-up {warm / 1024:.1f} MiB, "
        f"at end {end / 1024:.1f} MiB ({(end / warm - 1) * 100:+.1f} %)"
    )
    return line + "\n  " + result.table()


def check_run(service: str, result: LoadResult) -> None:
    """The common assertions: no 5xx, no lost request, RSS within the bound."""
    samples = [rss for when, rss in result.rss_samples if WARM_UP <= when <= WARM_UP + 5]
    warm = int(statistics.median(samples)) if samples else result.rss_at(WARM_UP)
    end = result.rss_samples[-1][1]  # after the load stopped: no request in flight
    print("\n" + summary(service, result, warm, end))
    assert result.server_errors == 0, result.table()
    assert result.no_answer == 0, result.table()
    assert result.unexpected == [], result.unexpected[:5]
    assert end <= warm * RSS_GROWTH, f"RSS grew from {warm} KiB to {end} KiB"


def settled(read: Callable[[], int], expected: int, seconds: float = 30.0) -> int:
    """``read()`` once it equals ``expected``, or its last value after ``seconds``."""
    deadline = time.monotonic() + seconds
    value = read()
    while value != expected and time.monotonic() < deadline:
        time.sleep(0.2)
        value = read()
    return value


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@pytest.fixture
def soak_dir(tmp_path: Path) -> Path:
    return tmp_path


# --------------------------------------------------------------------------- issuer


def test_issuer_soak(soak_dir: Path) -> None:
    """Registrars issue, the world reads status lists and the DID document."""
    with fresh_database(soak_dir, "soak_issuer") as url:
        deployment = set_up_issuer(url, "https://credentials.soak.test", soak_dir / "issuer")
        env = {**deployment.env, **NO_RATE_LIMITS}
        with serve(
            "issuer",
            name="issuer",
            database_url=url,
            public_url=deployment.public_url,
            env=env,
            log_dir=soak_dir,
        ) as child:
            create_module(child.base_url, deployment)
            shared = Shared()
            headers = deployment.headers
            slug = deployment.slug

            def issue(client: httpx.Client, rng: random.Random) -> list[tuple[str, int]]:
                key = str(uuid.uuid4())
                body = {
                    "module_id": "data-wrangling",
                    "learner": {"email": f"s{key[:8]}@example.nl", "student_number": key[:8]},
                    "result": {"grade": rng.choice(["6", "7,5", "8", "9"])},
                }
                response = client.post(
                    f"/institutions/{slug}/issuances",
                    json=body,
                    headers={**headers, "Idempotency-Key": key},
                )
                if response.status_code == 201:
                    shared.add("issued", response.json()["verifiableCredential"])
                return [("issue", response.status_code)]

            def status_list(client: httpx.Client, rng: random.Random) -> list[tuple[str, int]]:
                credential = shared.pick("issued", rng)
                if credential is None:
                    return did_document(client, rng)
                entry = rng.choice(credential["credentialStatus"])
                response = client.get(path_of(entry["statusListCredential"]))
                return [("status_list", response.status_code)]

            def did_document(client: httpx.Client, rng: random.Random) -> list[tuple[str, int]]:
                return [("did", client.get(f"/institutions/{slug}/did.json").status_code)]

            def read_back(client: httpx.Client, rng: random.Random) -> list[tuple[str, int]]:
                credential = shared.pick("issued", rng)
                if credential is None:
                    return did_document(client, rng)
                response = client.get(
                    f"/institutions/{slug}/credentials/{quote(credential['id'], safe='')}",
                    headers=headers,
                )
                return [("get", response.status_code)]

            mix: list[tuple[int, Operation]] = [
                (3, issue),
                (3, status_list),
                (2, did_document),
                (2, read_back),
            ]
            result = run_load(
                child.base_url, mix, seconds=SECONDS, workers=WORKERS, server_pid=child.process.pid
            )
            check_run("issuer", result)
            _issuer_consistent(child, deployment.path(""), headers, shared, result, url)


def _issuer_consistent(
    child: ServiceProcess,
    prefix: str,
    headers: dict[str, str],
    shared: Shared,
    result: LoadResult,
    url: str,
) -> None:
    """Every 201 is one complete credential: stored, retrievable, verifying, not revoked,
    on its own status index."""
    issued = shared.all("issued")
    assert len(issued) == result.count("issue", 201) > 0
    with database(url) as engine:
        assert scalar(engine, "SELECT count(*) FROM issued_credentials") == len(issued)
        assert (
            scalar(
                engine,
                "SELECT count(*) FROM issued_credentials c WHERE NOT EXISTS (SELECT 1 FROM"
                " status_slots s WHERE s.list_id = c.status_list_id AND"
                " s.status_index = c.status_index AND s.credential_id = c.credential_id)",
            )
            == 0
        ), "half-issued credentials"
        assert (
            scalar(
                engine,
                "SELECT count(*) FROM status_slots s WHERE NOT EXISTS (SELECT 1 FROM"
                " issued_credentials c WHERE c.credential_id = s.credential_id)",
            )
            == 0
        ), "leaked status slots"
        slots = rows(engine, "SELECT status_list_id, status_index FROM issued_credentials")
    assert len(set(slots)) == len(slots), "two credentials share a status index"
    entries = {
        (entry["statusPurpose"], entry["statusListCredential"], entry["statusListIndex"])
        for credential in issued
        for entry in credential["credentialStatus"]
    }
    assert len(entries) == 2 * len(issued), "status entries repeat across credentials"

    with httpx.Client(base_url=child.base_url, timeout=60) as client:
        did = client.get(f"{prefix}/did.json")
        assert did.status_code == 200
        document = did.json()
        verifier = Verifier(resolver=DidResolver(overrides={document["id"]: document}))
        lists: dict[str, Any] = {}
        for credential in issued:
            response = client.get(
                f"{prefix}/credentials/{quote(credential['id'], safe='')}", headers=headers
            )
            assert response.status_code == 200, response.text
            for entry in credential["credentialStatus"]:
                list_url = entry["statusListCredential"]
                if list_url not in lists:
                    lists[list_url] = client.get(path_of(list_url)).json()
                bits = StatusList.decode(lists[list_url]["credentialSubject"]["encodedList"])
                assert bits.get(int(entry["statusListIndex"])) == 0
        # every credential verifies (signature, issuer binding, validity); status above
        for credential in issued:
            report = verifier.verify_credential(credential, check_status=False)
            assert report.verified, report.to_dict()
        for document in lists.values():
            assert verifier.verify_credential(document, check_status=False).verified


# --------------------------------------------------------------------------- wallet


def test_wallet_soak(soak_dir: Path) -> None:
    """Learners log in, receive, list and share credentials; employers open share links."""
    with fresh_database(soak_dir, "soak_wallet") as url:
        env = {**service_environment(soak_dir / "wallet"), **NO_RATE_LIMITS}
        microcred("migrate", "wallet", "--database-url", url, env=env)
        with serve(
            "wallet",
            name="wallet",
            database_url=url,
            public_url="https://wallet.soak.test",
            env=env,
            log_dir=soak_dir,
        ) as child:
            learners = []
            with httpx.Client(base_url=child.base_url, timeout=60) as client:
                for name in ("anna", "bram", "chloe"):
                    account = {"username": name, "password": PASSWORD}
                    created = client.post("/api/learners", json=account)
                    assert created.status_code == 201, created.text
                    session = client.post("/api/session", json=account)
                    assert session.status_code == 200, session.text
                    learners.append(
                        {
                            "name": name,
                            "did": created.json()["did"],
                            "headers": {"Authorization": f"Bearer {session.json()['token']}"},
                        }
                    )
            issuer_key = Multikey.generate()
            shared = Shared()

            def receive(client: httpx.Client, rng: random.Random) -> list[tuple[str, int]]:
                learner = rng.choice(learners)
                credential = credential_for(issuer_key, learner["did"])
                response = client.post(
                    "/api/credentials/import",
                    json={"credential": credential},
                    headers=learner["headers"],
                )
                if response.status_code == 201:
                    shared.add(f"stored:{learner['name']}", response.json()["id"])
                return [("receive", response.status_code)]

            def browse(client: httpx.Client, rng: random.Random) -> list[tuple[str, int]]:
                learner = rng.choice(learners)
                answers = [
                    ("list", client.get("/api/credentials", headers=learner["headers"]).status_code)
                ]
                stored = shared.pick(f"stored:{learner['name']}", rng)
                if stored is not None:
                    detail = client.get(
                        f"/api/credentials/{quote(stored, safe='')}", headers=learner["headers"]
                    )
                    answers.append(("detail", detail.status_code))
                return answers

            def share(client: httpx.Client, rng: random.Random) -> list[tuple[str, int]]:
                learner = rng.choice(learners)
                stored = shared.pick(f"stored:{learner['name']}", rng)
                if stored is None:
                    return receive(client, rng)
                response = client.post(
                    "/api/shares",
                    json={"credentialIds": [stored], "expiresIn": 3600},
                    headers=learner["headers"],
                )
                if response.status_code == 201:
                    shared.add("share", path_of(response.json()["url"]))
                return [("share", response.status_code)]

            def open_link(client: httpx.Client, rng: random.Random) -> list[tuple[str, int]]:
                link = shared.pick("share", rng)
                if link is None:
                    return share(client, rng)
                response = client.get(link, headers={"Accept": "application/json"})
                if response.status_code == 200:
                    assert response.json()["type"] == ["VerifiablePresentation"]
                return [("open", response.status_code)]

            def log_in(client: httpx.Client, rng: random.Random) -> list[tuple[str, int]]:
                learner = rng.choice(learners)
                account = {"username": learner["name"], "password": PASSWORD}
                return [("login", client.post("/api/session", json=account).status_code)]

            mix: list[tuple[int, Operation]] = [
                (2, receive),
                (4, browse),
                (1, share),
                (3, open_link),
            ]
            # 20 log-ins a minute per client address is the wallet's limit: stay below it
            result = run_load(
                child.base_url,
                mix,
                seconds=SECONDS,
                workers=WORKERS,
                server_pid=child.process.pid,
                paced=[(6.0, log_in)],
            )
            check_run("wallet", result)
            _wallet_consistent(child, learners, shared, result, url)


def _wallet_consistent(
    child: ServiceProcess,
    learners: list[dict[str, Any]],
    shared: Shared,
    result: LoadResult,
    url: str,
) -> None:
    """Each learner holds exactly what was received; every share and view is recorded."""
    assert result.count("login", 429) == 0 and result.count("login", 200) > 0
    total = 0
    with httpx.Client(base_url=child.base_url, timeout=60) as client:
        for learner in learners:
            stored = shared.all(f"stored:{learner['name']}")
            listed = client.get("/api/credentials", headers=learner["headers"])
            assert listed.status_code == 200
            assert sorted(c["id"] for c in listed.json()) == sorted(stored)
            total += len(stored)
    assert total == result.count("receive", 201) > 0
    with database(url) as engine:
        assert scalar(engine, "SELECT count(*) FROM credentials") == total
        assert scalar(engine, "SELECT count(*) FROM shares") == result.count("share", 201)
        assert scalar(engine, "SELECT count(*) FROM share_accesses") == result.count("open", 200)


# --------------------------------------------------------------------------- verifier


def test_verifier_soak(soak_dir: Path) -> None:
    """Employers verify credentials and challenge-bound presentations."""
    with fresh_database(soak_dir, "soak_verifier") as url:
        env = {
            **service_environment(soak_dir / "verifier"),
            **NO_RATE_LIMITS,
            "MICROCRED_VERIFIER_ADMIN_TOKEN": ADMIN,
        }
        microcred("migrate", "verifier", "--database-url", url, env=env)
        with serve(
            "verifier",
            name="verifier",
            database_url=url,
            public_url="https://verifier.soak.test",
            env=env,
            log_dir=soak_dir,
        ) as child:
            issuer_key = Multikey.generate()
            holders = [Multikey.generate() for _ in range(4)]
            pool = [
                (holder, credential_for(issuer_key, holder.controller))
                for holder in holders
                for _ in range(5)
            ]
            shared = Shared()

            def verify(client: httpx.Client, rng: random.Random) -> list[tuple[str, int]]:
                _, credential = rng.choice(pool)
                response = client.post(
                    "/credentials/verify", json={"verifiableCredential": credential}
                )
                if response.status_code == 200:
                    assert response.json()["verified"] is True
                return [("verify", response.status_code)]

            def present(client: httpx.Client, rng: random.Random) -> list[tuple[str, int]]:
                holder, credential = rng.choice(pool)
                issued = client.post("/challenges")
                if issued.status_code != 200:
                    return [("challenge", issued.status_code)]
                challenge = issued.json()["challenge"]
                domain = "https://verifier.soak.test"
                presentation = create_presentation(
                    [credential], holder, challenge=challenge, domain=domain
                )
                body = {
                    "verifiablePresentation": presentation,
                    "options": {"challenge": challenge, "domain": domain},
                }
                response = client.post("/presentations/verify", json=body)
                if response.status_code == 200:
                    shared.add("presented", json.dumps(body))
                return [("challenge", issued.status_code), ("present", response.status_code)]

            def replay(client: httpx.Client, rng: random.Random) -> list[tuple[str, int]]:
                body = shared.pick("presented", rng)
                if body is None:
                    return verify(client, rng)
                response = client.post(
                    "/presentations/verify",
                    content=body,
                    headers={"Content-Type": "application/json"},
                )
                codes = [c["code"] for c in response.json().get("checks", [])]
                assert response.status_code == 400 and "challenge_replayed" in codes
                return [("replay", response.status_code)]

            mix: list[tuple[int, Operation]] = [(5, verify), (4, present), (1, replay)]
            result = run_load(
                child.base_url, mix, seconds=SECONDS, workers=WORKERS, server_pid=child.process.pid
            )
            check_run("verifier", result)
            presented = result.count("present", 200)
            answered = result.count("verify", 200, 400) + presented + result.count("replay", 400)
            with database(url) as engine:
                # the log may be written behind the answers (a writer thread): wait for it
                logged = settled(
                    lambda: scalar(engine, "SELECT count(*) FROM verification_log"), answered
                )
                assert logged == answered
                assert (
                    scalar(engine, "SELECT count(*) FROM challenges WHERE used_at IS NOT NULL")
                    == presented
                )
                assert scalar(engine, "SELECT count(*) FROM challenges") == result.count(
                    "challenge", 200
                )
            assert presented == len(shared.all("presented")) > 0
