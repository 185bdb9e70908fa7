"""A small closed-loop HTTP/1.1 load generator, for when ``wrk`` is not available.

    python -m bench.loadgen --port 8003 --bodies FILE --connections 16 --duration 30
    python -m bench.loadgen --port 8003 --bodies FILE --connections 16 --requests 10000

It runs in its own process (the server's CPU must not be shared with it through the GIL),
keeps ``--connections`` keep-alive connections busy, each sending the next pre-built
``POST /credentials/verify`` from the pool as soon as its previous answer is in, and prints
one JSON line: completed requests, seconds, latency percentiles, and the answers that were
not ``200`` with ``"verified":true`` (``bad``). Requests are built once, and answers are
parsed only as far as the status line, ``Content-Length`` and a substring search, so that
the generator stays cheap next to the server on a 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from typing import Any

PATH = "/credentials/verify"
VERIFIED = b'"verified":true'


def build_requests(bodies: list[bytes], host: str, port: int) -> list[bytes]:
    """Whole HTTP/1.1 requests, built once so that sending costs one write."""
    out = []
    for body in bodies:
        head = (
            f"POST {PATH} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            "Content-Type: application/json\r\nAccept: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode("ascii")
        out.append(head + body)
    return out


class Stats:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.bad = 0
        self.bad_status = 0
        self.socket_errors = 0
        self.first_bad = ""

    def summary(self, seconds: float) -> dict[str, Any]:
        ordered = sorted(self.latencies)

        def pct(p: float) -> float:
            if not ordered:
                return 0.0
            return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

        return {
            "requests": len(ordered),
            "seconds": round(seconds, 3),
            "per_second": round(len(ordered) / seconds, 1) if seconds else 0.0,
            "p50_ms": round(pct(50), 2),
            "p95_ms": round(pct(95), 2),
            "p99_ms": round(pct(99), 2),
            "max_ms": round(ordered[-1] * 1000, 2) if ordered else 0.0,
            "bad": self.bad,
            "bad_status": self.bad_status,
            "socket_errors": self.socket_errors,
            "first_bad": self.first_bad,
        }


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
            break
    body = await reader.readexactly(length) if length else b""
    return status, body


async def _connection(
    host: str,
    port: int,
    requests: list[bytes],
    start: int,
    stats: Stats,
    should_stop: Any,
    reconnect: int,
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    index = start
    try:
        while not should_stop():
            request = requests[index % len(requests)]
            index += 1
            if reconnect and (index - start) % reconnect == 0:
                # renew the connection now and then, as clients and proxies do (with
                # workers sharing one socket, connections opened at once all land on one)
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
            sent = time.perf_counter()
            writer.write(request)
            try:
                status, body = await _read_response(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                stats.socket_errors += 1
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                continue
            stats.latencies.append(time.perf_counter() - sent)
            if status != 200 or VERIFIED not in body[:64]:
                stats.bad += 1
                stats.bad_status += status != 200
                if not stats.first_bad:
                    stats.first_bad = f"{status} {body[:300].decode('utf-8', 'replace')}"
    finally:
        writer.close()


async def run(
    host: str,
    port: int,
    bodies: list[bytes],
    *,
    connections: int,
    duration: float | None = None,
    requests: int | None = None,
    reconnect: int = 50,
) -> dict[str, Any]:
    """Closed-loop load until ``duration`` seconds pass or ``requests`` answers are in."""
    prepared = build_requests(bodies, host, port)
    stats = Stats()
    started = time.perf_counter()

    def should_stop() -> bool:
        if requests is not None and len(stats.latencies) >= requests:
            return True
        return duration is not None and time.perf_counter() - started >= duration

    step = max(1, len(prepared) // connections)
    await asyncio.gather(
        *(
            _connection(host, port, prepared, i * step, stats, should_stop, reconnect)
            for i in range(connections)
        )
    )
    return stats.summary(time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.loadgen", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--bodies", type=Path, required=True, help="one JSON body per line")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=float, help="seconds")
    parser.add_argument("--requests", type=int, help="stop after this many answers")
    parser.add_argument(
        "--reconnect", type=int, default=50, help="renew a connection after N requests (0: never)"
    )
    args = parser.parse_args(argv)
    if args.duration is None and args.requests is None:
        parser.error("give --duration or --requests")
    bodies = [line for line in args.bodies.read_bytes().splitlines() if line.strip()]
    result = asyncio.run(
        run(
            args.host,
            args.port,
            bodies,
            connections=args.connections,
            duration=args.duration,
            requests=args.requests,
            reconnect=args.reconnect,
        )
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
