"""Issue 7, drill 1: two issuer processes on one PostgreSQL database, behind one public URL.

A registrar's systems talk to a load balancer, which spreads requests over the instances;
nothing ties a credential to the instance that issued it. So the drill sends issuances to
both processes alternately from a thread pool, and as soon as a credential exists, a
second pool revokes every other one *at the other process* — issuance and revocation run
at the same time, the status-list index allocation (a random index claimed against the
(list, index) primary key) and the bit flips (a compare-and-set on the bitstring row) race
each other across processes.

What must hold afterwards, and why each check is there:

* every credential got a distinct (list, index): the only thing making the revocation of
  one learner's credential not revoke another's;
* the list served by *either* process shows exactly the revoked indexes: a lost update
  (one process writing back a bitstring read before the other's flip) would unrevoke a
  credential silently, and a stale per-process cache would hide a revocation;
* while the drill runs, a watcher reads the list from alternating processes and checks
  that every revocation already acknowledged is in it ("visible at once" across
  instances, not only eventually);
* the database holds exactly what the API acknowledged: nothing lost, nothing extra.
"""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from credentials.dids import DidResolver
from credentials.proofs import verify_proofs
from credentials.status_list import StatusList
from tests.scale.support import (
    IssuerDeployment,
    ServiceProcess,
    create_module,
    database,
    requires_postgresql,
    rows,
    scalar,
    serve,
    set_up_issuer,
)
from tests.support.databases import fresh_database

PUBLIC_URL = "https://credentials.scale.test"
"""The load balancer's name: the same for both processes, and neither listens on it."""
CREDENTIALS = 2_000
REVOKED = 1_000
ISSUING_THREADS = 6
REVOKING_THREADS = 4
WATCH_EVERY = 0.5
"""Seconds between the watcher's status-list reads."""
REQUEST_TIMEOUT = 60.0
DRILL_TIMEOUT = 240.0
"""The whole drill must finish in this time; a hang fails instead of blocking the run."""


@dataclass
class Issued:
    number: int
    credential_id: str
    list_id: str
    index: int
    issued_by: str


@dataclass
class Ledger:
    """What the API acknowledged, shared by the pools and the watcher."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    issued: dict[int, Issued] = field(default_factory=dict)
    revoked: dict[int, str] = field(default_factory=dict)
    """number → the process that acknowledged the revocation."""
    errors: list[str] = field(default_factory=list)
    watched: int = 0

    def revoked_slots(self) -> set[tuple[str, int]]:
        with self.lock:
            return {(self.issued[n].list_id, self.issued[n].index) for n in self.revoked}


def _slot(credential: dict[str, Any]) -> tuple[str, int]:
    """(list id, index) from the credential's two status entries, which must agree."""
    entries = credential["credentialStatus"]
    assert {e["statusPurpose"] for e in entries} == {"revocation", "suspension"}
    slots = {(e["statusListCredential"].split("/")[-2], int(e["statusListIndex"])) for e in entries}
    assert len(slots) == 1, f"revocation and suspension entries differ: {entries}"
    return slots.pop()


def _served_bits(client: httpx.Client, deployment: IssuerDeployment, list_id: str) -> set[int]:
    response = client.get(deployment.path(f"/status/{list_id}/revocation"))
    assert response.status_code == 200, response.text
    subject = response.json()["credentialSubject"]
    return set(StatusList.decode(subject["encodedList"]).set_indexes())


@pytest.mark.slow
@requires_postgresql
def test_two_issuer_processes_issue_and_revoke_concurrently_and_lose_nothing(
    tmp_path: Path,
) -> None:
    with fresh_database(tmp_path, "scale_issuers") as url:
        deployment = set_up_issuer(url, PUBLIC_URL, tmp_path / "data")
        with (
            serve(
                "issuer", name="issuer-a", database_url=url, public_url=PUBLIC_URL,
                env=deployment.env, log_dir=tmp_path,
            ) as first,
            serve(
                "issuer", name="issuer-b", database_url=url, public_url=PUBLIC_URL,
                env=deployment.env, log_dir=tmp_path,
            ) as second,
        ):  # fmt: skip
            create_module(first.base_url, deployment)
            ledger, timings = _drill(deployment, [first, second])
            _check_served_lists(deployment, [first, second], ledger)
        _check_database(url, ledger)
    print(
        f"\n2 issuer processes on PostgreSQL: {CREDENTIALS} issued in {timings['issue']:.1f} s "
        f"({CREDENTIALS / timings['issue']:.0f}/s), {REVOKED} revoked concurrently, all done in "
        f"{timings['total']:.1f} s ({(CREDENTIALS + REVOKED) / timings['total']:.0f} "
        f"requests/s); {timings['overlapping']:.0f} revocations done while issuance was still "
        f"running; {ledger.watched} status-list reads during the drill"
    )


def _drill(
    deployment: IssuerDeployment, processes: list[ServiceProcess]
) -> tuple[Ledger, dict[str, float]]:
    ledger = Ledger()
    to_revoke = set(random.Random(7).sample(range(CREDENTIALS), REVOKED))
    # Idle connections are dropped long before uvicorn's 5 s keep-alive timeout: reusing
    # one the server is closing at that moment is a client-side race, not the drill's.
    limits = httpx.Limits(
        max_connections=ISSUING_THREADS + REVOKING_THREADS + 2, keepalive_expiry=1.0
    )
    clients = [
        httpx.Client(
            base_url=p.base_url, headers=deployment.headers, timeout=REQUEST_TIMEOUT, limits=limits
        )
        for p in processes
    ]
    revoking = ThreadPoolExecutor(REVOKING_THREADS, thread_name_prefix="revoke")
    issuing = ThreadPoolExecutor(ISSUING_THREADS, thread_name_prefix="issue")
    revocations: list[Future[None]] = []
    done = threading.Event()

    def revoke(number: int, at: int) -> None:
        issued = ledger.issued[number]
        response = clients[at].post(
            deployment.path("/credentials/status"),
            json={
                "credentialId": issued.credential_id,
                "credentialStatus": [{"type": "BitstringStatusListEntry", "status": "revoked"}],
                "reason": "scale drill",
            },
        )
        if response.status_code != 200 or response.json().get("status") != "revoked":
            with ledger.lock:
                ledger.errors.append(f"revoke #{number} at {processes[at].name}: {response.text}")
            return
        with ledger.lock:
            ledger.revoked[number] = processes[at].name

    def issue(number: int) -> None:
        at = number % 2  # the load balancer's round robin
        response = clients[at].post(
            deployment.path("/issuances"),
            json={
                "module_id": "data-wrangling",
                "learner": {"student_number": f"S{number:06d}"},
                "result": {"grade": "8", "awarded_date": "2026-06-30"},
            },
        )
        if response.status_code != 201:
            with ledger.lock:
                ledger.errors.append(f"issue #{number} at {processes[at].name}: {response.text}")
            return
        credential = response.json()["verifiableCredential"]
        list_id, index = _slot(credential)
        with ledger.lock:
            ledger.issued[number] = Issued(
                number, credential["id"], list_id, index, processes[at].name
            )
            if number in to_revoke:  # revoke it right away, through the *other* process
                revocations.append(revoking.submit(revoke, number, 1 - at))

    def watch() -> None:
        """Acknowledged revocations must be in the list whichever process serves it."""
        turn = 0
        while not done.wait(WATCH_EVERY):
            expected = ledger.revoked_slots()
            with ledger.lock:
                lists = {i.list_id for i in ledger.issued.values()}
            for list_id in sorted(lists):
                try:
                    served = _served_bits(clients[turn % 2], deployment, list_id)
                except (AssertionError, httpx.HTTPError) as exc:
                    with ledger.lock:
                        ledger.errors.append(f"watcher: {exc}")
                    return
                missing = {i for lid, i in expected if lid == list_id} - served
                if missing:
                    with ledger.lock:
                        ledger.errors.append(
                            f"{processes[turn % 2].name} served list {list_id} without "
                            f"acknowledged revocations at {sorted(missing)[:10]}"
                        )
                    return
                turn += 1
                with ledger.lock:
                    ledger.watched += 1

    watcher = threading.Thread(target=watch, name="watcher", daemon=True)
    started = time.perf_counter()
    deadline = time.monotonic() + DRILL_TIMEOUT
    try:
        watcher.start()
        issuances = [issuing.submit(issue, n) for n in range(CREDENTIALS)]
        for future in issuances:
            future.result(timeout=max(1.0, deadline - time.monotonic()))
        issued_in = time.perf_counter() - started
        with ledger.lock:
            overlapping = len(ledger.revoked)
        with ledger.lock:
            pending = list(revocations)
        for future in pending:
            future.result(timeout=max(1.0, deadline - time.monotonic()))
        total = time.perf_counter() - started
    finally:
        done.set()
        issuing.shutdown(wait=False, cancel_futures=True)
        revoking.shutdown(wait=False, cancel_futures=True)
        watcher.join(timeout=REQUEST_TIMEOUT)
        for client in clients:
            client.close()
    assert not ledger.errors, "\n".join(ledger.errors[:20])
    assert len(ledger.issued) == CREDENTIALS
    assert set(ledger.revoked) == to_revoke
    by_process = {p.name: 0 for p in processes}
    for issued in ledger.issued.values():
        by_process[issued.issued_by] += 1
    assert set(by_process.values()) == {CREDENTIALS // 2}, by_process
    crossed = sum(1 for n, at in ledger.revoked.items() if at != ledger.issued[n].issued_by)
    assert crossed == REVOKED, "every revocation went to the process that did not issue it"
    slots = {(i.list_id, i.index) for i in ledger.issued.values()}
    assert len(slots) == CREDENTIALS, (
        f"{CREDENTIALS - len(slots)} status slots were handed out twice"
    )
    assert overlapping, "no revocation ran while credentials were still being issued"
    return ledger, {"issue": issued_in, "total": total, "overlapping": overlapping}


def _check_served_lists(
    deployment: IssuerDeployment, processes: list[ServiceProcess], ledger: Ledger
) -> None:
    """Each process serves, for every list, exactly the revoked bits, signed by the
    institution; no suspension bit is set (nobody was suspended)."""
    revoked = ledger.revoked_slots()
    lists = {i.list_id for i in ledger.issued.values()}
    did_document = httpx.get(
        processes[0].base_url + deployment.path("/did.json"), timeout=REQUEST_TIMEOUT
    ).json()
    resolver = DidResolver(overrides={did_document["id"]: did_document})
    for process in processes:
        with httpx.Client(base_url=process.base_url, timeout=REQUEST_TIMEOUT) as client:
            for list_id in lists:
                expected = {index for lid, index in revoked if lid == list_id}
                served = _served_bits(client, deployment, list_id)
                assert served == expected, (
                    f"{process.name}, list {list_id}: missing revocations "
                    f"{sorted(expected - served)[:10]}, revoked by mistake "
                    f"{sorted(served - expected)[:10]}"
                )
                for purpose in ("revocation", "suspension"):
                    response = client.get(deployment.path(f"/status/{list_id}/{purpose}"))
                    document = response.json()
                    if purpose == "suspension":
                        bits = StatusList.decode(document["credentialSubject"]["encodedList"])
                        assert bits.set_indexes() == [], f"{process.name}: suspension bits set"
                    checks, keys = verify_proofs(
                        document, resolver=resolver, purpose="assertionMethod"
                    )
                    assert keys and all(c.outcome != "failed" for c in checks), [
                        c.to_dict() for c in checks
                    ]


def _check_database(url: str, ledger: Ledger) -> None:
    """The database holds what was acknowledged, and its bitstrings agree."""
    revoked_ids = {ledger.issued[n].credential_id for n in ledger.revoked}
    with database(url) as engine:
        assert scalar(engine, "SELECT count(*) FROM issued_credentials") == CREDENTIALS
        assert scalar(engine, "SELECT count(*) FROM status_slots") == CREDENTIALS
        matched = scalar(
            engine,
            "SELECT count(*) FROM issued_credentials c JOIN status_slots s"
            " ON s.list_id = c.status_list_id AND s.status_index = c.status_index"
            " AND s.credential_id = c.credential_id",
        )
        assert matched == CREDENTIALS, "a credential row and its status slot disagree"
        in_db = {
            r.credential_id
            for r in rows(
                engine, "SELECT credential_id FROM issued_credentials WHERE revoked_at IS NOT NULL"
            )
        }
        assert in_db == revoked_ids
        issued_ids = {i.credential_id for i in ledger.issued.values()}
        stored = {
            r.credential_id for r in rows(engine, "SELECT credential_id FROM issued_credentials")
        }
        assert stored == issued_ids
        for row in rows(
            engine,
            "SELECT list_id, purpose, encoded_list FROM status_bitstrings",
        ):
            bits = set(StatusList.decode(row.encoded_list).set_indexes())
            expected = (
                {i for lid, i in ledger.revoked_slots() if lid == row.list_id}
                if row.purpose == "revocation"
                else set()
            )
            assert bits == expected, f"stored {row.purpose} bits of {row.list_id} differ"
        actions = dict(
            rows(engine, "SELECT action, count(*) FROM audit_events GROUP BY action")  # type: ignore[arg-type]
        )
        assert actions.get("credential.issue") == CREDENTIALS
        assert actions.get("credential.revoke") == REVOKED
