"""Rows 3 and 4 of issue 8: the verifier service under load, and its memory over time.

    .venv/bin/python -m bench.verifier_load                 # both rows (~3-4 min)
    .venv/bin/python -m bench.verifier_load --duration 10 --memory-total 20000

What runs, all on loopback:

* a **static server** (a thread of this process) serving the issuer's did:web DID document
  and its signed Bitstring Status List credential, counting the requests per path — so
  the verifier really resolves the DID and fetches and verifies the list, and the counts
  show whether it cached them;
* the **verifier** as production runs it: ``microcred serve verifier --workers 2`` (uvicorn
  worker processes), a fresh migrated SQLite database (or PostgreSQL with ``--database``),
  a trust registry naming the issuer, ``--dev`` (the switch that lets the safe fetcher
  reach http and loopback, as the tests' live servers use) and ``MICROCRED_RATE_VERIFY=0``;
* the **load generator** in a separate process: ``wrk`` (installed with apt-get when
  missing and possible) with ``bench/wrk_verify.lua``, else ``bench.loadgen`` (Python),
  closed loop over ``--connections`` keep-alive connections, rotating over a pool of
  ``--pool`` distinct signed OB 3.0 microcredentials (``bench.workload``), each with a
  ``BitstringStatusListEntry`` at its own index, so no result cache could help.

Phases: requests until 10,000 verifications are done in total (warm-up; RSS of each
worker sampled), then ``--duration`` seconds measured (row 3), then requests until
``--memory-total`` (100,000) verifications are done in total (RSS sampled again: row 4).
Every answer must be 200 with ``"verified": true``; anything else is an error.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench import workload
from credentials.dids import DID_CONTEXT
from credentials.keys import MULTIKEY_CONTEXT, Multikey
from credentials.proofs import sign
from credentials.status_list import StatusList, status_entry, status_list_credential

ROOT = Path(__file__).resolve().parent.parent
LUA = Path(__file__).resolve().parent / "wrk_verify.lua"
THROUGHPUT_TARGET = 800.0
P99_TARGET_MS = 50.0
MEMORY_WITHIN = 0.10
# Concurrent keep-alive connections (closed loop): four requests in flight per worker keep
# both busy without a deep queue. Minutes apart on this machine: 16 connections gave
# 844/s with p99 58 ms (latency is mostly queueing), 8 gave 950/s with p99 25 ms.
CONNECTIONS = 8
CREATED = "2025-07-01T09:00:00Z"
LIST_PATH = "/status/revocation/1"
DID_PATH = "/institutions/hsr/did.json"


# --------------------------------------------------------------------------- static server


@dataclass
class StaticServer:
    """Serves fixed JSON documents on 127.0.0.1 and counts requests per path."""

    documents: dict[str, bytes] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    port: int = 0

    def start(self) -> None:
        outer = self
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with lock:
                    outer.hits[self.path] = outer.hits.get(self.path, 0) + 1
                body = outer.documents.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/vc+ld+json")
                # an hour, the verifier's cap: the whole bench runs within one freshness period
                self.send_header("Cache-Control", "max-age=3600")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._httpd.server_address[1]
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


# --------------------------------------------------------------------------- workload


def build_pool(count: int, static: StaticServer, workdir: Path) -> tuple[Path, Path, str]:
    """Sign ``count`` distinct microcredentials by a did:web issuer whose DID document and
    status list the static server publishes; returns the bodies file, a trust registry
    file and the issuer DID."""
    host = f"127.0.0.1%3A{static.port}"
    did = f"did:web:{host}:institutions:hsr"
    key = Multikey.generate("Ed25519", controller=did, id=f"{did}#key-1")
    static.documents[DID_PATH] = json.dumps(
        {
            "@context": [DID_CONTEXT, MULTIKEY_CONTEXT],
            "id": did,
            "verificationMethod": [key.to_public_dict()],
            "assertionMethod": [key.id],
            "authentication": [key.id],
        }
    ).encode()
    list_url = f"http://127.0.0.1:{static.port}{LIST_PATH}"
    now = datetime.now(UTC).replace(microsecond=0)
    bits = StatusList(max(131_072, count))
    bits.set(count + 1, 1)  # one revoked entry outside the pool: a list that is not all zeros
    list_credential = status_list_credential(
        list_url,
        did,
        "revocation",
        bits.encode(),
        valid_from=now - timedelta(days=1),
        valid_until=now + timedelta(days=7),
    )
    static.documents[LIST_PATH] = json.dumps(sign(list_credential, key, created=now)).encode()

    bodies = workdir / "bodies.jsonl"
    with bodies.open("w") as out:
        for index, credential in enumerate(workload.microcredentials(count, did)):
            credential["credentialStatus"] = status_entry(list_url, index, "revocation")
            signed = sign(credential, key, created=CREATED)
            out.write(json.dumps({"verifiableCredential": signed, "options": {}}) + "\n")
    registry = workdir / "trust-registry.json"
    registry.write_text(
        json.dumps(
            {
                "name": "bench registry",
                "institutions": [
                    {
                        "did": did,
                        "name": "Hogeschool Rijnland",
                        "country": "NL",
                        "accreditation": "NVAO",
                        "validFrom": "2019-09-01T00:00:00Z",
                    }
                ],
            }
        )
    )
    return bodies, registry, did


# --------------------------------------------------------------------------- the verifier


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid and b"resource_tracker" not in cmdline:
            out.append(int(entry.name))
    return sorted(out)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@contextmanager
def verifier_service(
    workdir: Path, registry: Path, database_url: str, workers: int
) -> Iterator[tuple[int, list[int]]]:
    """``microcred serve verifier --workers N`` on a fresh database; yields (port, worker
    pids) once it answers."""
    port = free_port()
    env = {
        **os.environ,
        "MICROCRED_RATE_VERIFY": "0",
        "MICROCRED_DATA_DIR": str(workdir / "data"),
        "PYTHONUNBUFFERED": "1",
    }
    for name in (
        "MICROCRED_PUBLIC_URL",
        "MICROCRED_PORT",
        "DATABASE_URL",
        "MICROCRED_STRICT_TRUST",
    ):
        env.pop(name, None)
    cli = [sys.executable, "-m", "microcred"]
    subprocess.run(
        [*cli, "migrate", "verifier", "--database-url", database_url],
        check=True,
        env=env,
        cwd=ROOT,
        capture_output=True,
    )
    log = (workdir / "verifier.log").open("w")
    process = subprocess.Popen(
        [
            *cli,
            "serve",
            "verifier",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--dev",
            "--database-url",
            database_url,
            "--trust-registry",
            str(registry),
        ],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        pids: list[int] = []
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    "the verifier did not start:\n" + (workdir / "verifier.log").read_text()
                )
            pids = _children(process.pid)
            if len(pids) >= workers and _healthy(port):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("the verifier did not answer within 90 s")
            time.sleep(0.2)
        yield port, pids
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def _healthy(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            return sock.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


# --------------------------------------------------------------------------- load generators


def find_wrk(install: bool) -> str | None:
    """``wrk`` on PATH, installing the Debian package when allowed and possible."""
    found = shutil.which("wrk")
    if found or not install or not shutil.which("apt-get"):
        return found
    print("  installing wrk (apt-get install -y wrk)…", file=sys.stderr)
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "check": False}
    if subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], **quiet).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], **quiet)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], **quiet)
    return shutil.which("wrk")


@dataclass
class LoadGenerator:
    port: int
    bodies: Path
    connections: int
    wrk: str | None
    workdir: Path
    reconnect: int = 50

    @property
    def name(self) -> str:
        return "wrk" if self.wrk else "bench.loadgen (Python)"

    def run(self, *, duration: float | None = None, requests: int | None = None) -> dict[str, Any]:
        """One closed-loop phase; the same result keys from either generator."""
        if self.wrk:
            return self._run_wrk(duration, requests)
        command = [
            sys.executable,
            "-m",
            "bench.loadgen",
            "--port",
            str(self.port),
            "--bodies",
            str(self.bodies),
            "--connections",
            str(self.connections),
            "--reconnect",
            str(self.reconnect),
        ]
        command += ["--duration", str(duration)] if duration else ["--requests", str(requests)]
        out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])

    def _run_wrk(self, duration: float | None, requests: int | None) -> dict[str, Any]:
        marker = self.workdir / f"quota-{time.monotonic_ns()}"
        seconds = int(duration) if duration else 3600
        command = [
            self.wrk or "wrk",
            "-t1",
            f"-c{self.connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(LUA),
            f"http://127.0.0.1:{self.port}",
            "--",
            str(self.bodies),
            str(requests or 0),
            str(marker),
            str(self.reconnect),
        ]
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        if requests:
            while process.poll() is None and not Path(f"{marker}.1").exists():
                time.sleep(0.05)
            if process.poll() is None:
                process.send_signal(signal.SIGINT)  # wrk reports on SIGINT
        stdout, stderr = process.communicate(timeout=seconds + 60)
        line = next((x for x in stdout.splitlines() if x.startswith("WRKJSON ")), None)
        if line is None:
            raise RuntimeError(f"wrk gave no result:\n{stdout}\n{stderr}")
        raw = json.loads(line.removeprefix("WRKJSON "))
        seconds_run = raw["duration_us"] / 1e6
        socket_errors = raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
        return {
            "requests": raw["responses"],
            "seconds": round(seconds_run, 3),
            "per_second": round(raw["responses"] / seconds_run, 1),
            "p50_ms": round(raw["p50_us"] / 1000, 2),
            "p95_ms": round(raw["p95_us"] / 1000, 2),
            "p99_ms": round(raw["p99_us"] / 1000, 2),
            "max_ms": round(raw["max_us"] / 1000, 2),
            "bad": raw["bad"],
            "bad_status": raw["bad_status"],
            "socket_errors": socket_errors,
            "first_bad": raw["first_bad"],
        }


# --------------------------------------------------------------------------- the rows


def measure(
    *,
    duration: float = 30.0,
    memory_first: int = 10_000,
    memory_total: int = 100_000,
    pool: int = 1000,
    connections: int = CONNECTIONS,
    workers: int = 2,
    database: str = "sqlite",
    use_wrk: bool = True,
    install_wrk: bool = True,
) -> list[dict[str, Any]]:
    """Rows 3 and 4 as ``bench.run`` rows."""
    static = StaticServer()
    static.start()
    workdir = Path(tempfile.mkdtemp(prefix="microcred-bench-verifier-"))
    try:
        print(f"rows 3-4: signing {pool} distinct microcredentials…", file=sys.stderr)
        bodies, registry, _ = build_pool(pool, static, workdir)
        database_url = (
            f"sqlite:///{workdir / 'verifier.db'}"
            if database == "sqlite"
            else _fresh_postgres(database)
        )
        wrk = find_wrk(install_wrk) if use_wrk else None
        with verifier_service(workdir, registry, database_url, workers) as (port, pids):
            load = LoadGenerator(port, bodies, connections, wrk, workdir)
            print(
                f"  verifier on :{port}, workers {pids}, load by {load.name}, "
                f"{connections} connections",
                file=sys.stderr,
            )
            done = 0
            warm = load.run(requests=memory_first)
            done += warm["requests"]
            rss_first = {pid: rss_kib(pid) for pid in pids}
            print(f"  {done} verifications; RSS {rss_first} KiB", file=sys.stderr)
            loadavg_before = Path("/proc/loadavg").read_text().split()[:3]
            cpu_before = sum(cpu_seconds(pid) for pid in pids)
            children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
            timed = load.run(duration=duration)
            children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = sum(cpu_seconds(pid) for pid in pids) - cpu_before
            loadgen_cpu = (children_after.ru_utime + children_after.ru_stime) - (
                children_before.ru_utime + children_before.ru_stime
            )
            timed["server_cpu_ms_per_verification"] = round(
                1000 * cpu / max(1, timed["requests"]), 3
            )
            timed["loadgen_cpu_ms_per_request"] = round(
                1000 * loadgen_cpu / max(1, timed["requests"]), 3
            )
            loadavg_after = Path("/proc/loadavg").read_text().split()[:3]
            done += timed["requests"]
            print(f"  measured: {_brief(timed)}", file=sys.stderr)
            rest = load.run(requests=max(0, memory_total - done)) if done < memory_total else None
            if rest is not None:
                done += rest["requests"]
            rss_last = {pid: rss_kib(pid) for pid in pids}
            print(f"  {done} verifications; RSS {rss_last} KiB", file=sys.stderr)
            fetches = dict(static.hits)
        return [
            _row_load(timed, warm, rest, fetches, workers, connections, load.name, database)
            | {"loadavg_during": {"before": loadavg_before, "after": loadavg_after}},
            _row_memory(rss_first, rss_last, memory_first, done),
        ]
    finally:
        static.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def _brief(result: dict[str, Any]) -> str:
    cpu = result.get("server_cpu_ms_per_verification")
    return (
        f"{result['per_second']:,.0f}/s, p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, "
        f"p99 {result['p99_ms']} ms, bad {result['bad']}, socket errors {result['socket_errors']}"
        + (f", server CPU {cpu} ms/verification" if cpu is not None else "")
    )


def _row_load(
    timed: dict[str, Any],
    warm: dict[str, Any],
    rest: dict[str, Any] | None,
    fetches: dict[str, int],
    workers: int,
    connections: int,
    generator: str,
    database: str,
) -> dict[str, Any]:
    errors = timed["bad"] + timed["socket_errors"]
    errors_all = sum(r["bad"] + r["socket_errors"] for r in (timed, warm, rest) if r)
    list_fetches = fetches.get(LIST_PATH, 0)
    met = (
        timed["per_second"] >= THROUGHPUT_TARGET
        and timed["p99_ms"] < P99_TARGET_MS
        and errors_all == 0
        and list_fetches <= workers
    )
    return {
        "row": 3,
        "name": "verifier under load",
        "unit": "verifications/s",
        "per_second": timed["per_second"],
        "seconds": timed["seconds"],
        "latency_ms": {k: timed[f"{k}_ms"] for k in ("p50", "p95", "p99", "max")},
        "server_cpu_ms_per_verification": timed["server_cpu_ms_per_verification"],
        "loadgen_cpu_ms_per_request": timed["loadgen_cpu_ms_per_request"],
        "errors": errors,
        "errors_all_phases": errors_all,
        "first_error": timed["first_bad"] or (warm["first_bad"] if warm else ""),
        "status_list_fetches": list_fetches,
        "did_document_fetches": fetches.get(DID_PATH, 0),
        "workers": workers,
        "connections": connections,
        "load_generator": generator,
        "database": database,
        "target": f">= {THROUGHPUT_TARGET:g}/s, p99 < {P99_TARGET_MS:g} ms, 0 errors",
        "met": met,
    }


def _row_memory(
    first: dict[int, int], last: dict[int, int], first_count: int, total: int
) -> dict[str, Any]:
    first_sum, last_sum = sum(first.values()), sum(last.values())
    growth = (last_sum - first_sum) / first_sum if first_sum else 0.0
    per_worker = {
        str(pid): round((last[pid] - first[pid]) / first[pid], 4) for pid in first if first[pid]
    }
    return {
        "row": 4,
        "name": "verifier memory",
        "unit": "MiB (workers' VmRSS summed)",
        "rss_mib": {
            f"after_{first_count}": round(first_sum / 1024, 1),
            f"after_{total}": round(last_sum / 1024, 1),
        },
        "rss_kib_per_worker": {"first": first, "last": last},
        "growth": round(growth, 4),
        "growth_per_worker": per_worker,
        "verifications": total,
        "target": f"within {MEMORY_WITHIN:.0%}",
        "met": abs(growth) <= MEMORY_WITHIN
        and max(map(abs, per_worker.values()), default=0) <= MEMORY_WITHIN,
    }


def _fresh_postgres(base: str) -> str:
    """A new database on the server named by ``base`` (a postgresql:// URL)."""
    import psycopg

    name = f"microcred_bench_verifier_{os.getpid()}"
    admin = base.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin.rsplit("/", 1)[0] + f"/{name}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.verifier_load", description=__doc__)
    parser.add_argument("--duration", type=float, default=30.0, help="measured seconds (row 3)")
    parser.add_argument("--memory-first", type=int, default=10_000)
    parser.add_argument("--memory-total", type=int, default=100_000)
    parser.add_argument("--pool", type=int, default=1000, help="distinct signed credentials")
    parser.add_argument("--connections", type=int, default=CONNECTIONS)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--database", default="sqlite", help="sqlite, or a postgresql:// server URL"
    )
    parser.add_argument("--python-loadgen", action="store_true", help="do not use wrk")
    args = parser.parse_args(argv)
    rows = measure(
        duration=args.duration,
        memory_first=args.memory_first,
        memory_total=args.memory_total,
        pool=args.pool,
        connections=args.connections,
        workers=args.workers,
        database=args.database,
        use_wrk=not args.python_loadgen,
    )
    from bench.run import table

    print(json.dumps(rows, indent=2))
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
