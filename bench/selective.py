"""Bench rows for selective disclosure (issue 18): ecdsa-sd-2023 base sign, derive and
derived verify, microcred against Digital Bazaar's ecdsa-sd-2023-cryptosuite in one run.

Same method as row 1 (``bench.run``): distinct OB 3.0 microcredentials, a warm-up on both
sides, alternating rounds, each side's rate is its total count over its total time, the
reference timed inside Node by its ``bench`` op. The mandatory pointers are the issuer's
(``credentials.disclosure``); the derivation withholds the grade.

    .venv/bin/python -m bench.selective [--iterations 200]
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from bench import workload
from credentials import disclosure, ecdsa_sd
from credentials.documents import DocumentLoader
from credentials.keys import Multikey
from credentials.proofs import sign
from credentials.verify import Verifier

CREATED = "2025-07-01T09:00:00Z"
TARGET = 4.0
OPS = ("base sign", "derive", "derived verify")


def _rounds(items: list[Any], rounds: int) -> list[list[Any]]:
    size = -(-len(items) // rounds)
    return [items[i : i + size] for i in range(0, len(items), size)]


def rows_selective(count: int, warmup: int, rounds: int) -> list[dict[str, Any]]:
    from interop.reference import ReferenceImplementation

    key = Multikey.generate("P-256")
    credentials = workload.microcredentials(count + warmup, key.controller)
    mandatory = disclosure.mandatory_pointers(credentials[0])
    selective = disclosure.selective_pointers(credentials[0], {"name", "student_number"})
    loader = DocumentLoader()
    verifier = Verifier()
    secret = key.to_secret_dict()

    def ours_sign(c: dict[str, Any]) -> dict[str, Any]:
        return sign(
            c, key, created=CREATED, cryptosuite="ecdsa-sd-2023", mandatory_pointers=mandatory
        )

    def ours_derive(c: dict[str, Any]) -> dict[str, Any]:
        return ecdsa_sd.derive(c, selective, loader)

    def ours_verify(c: dict[str, Any]) -> None:
        report = verifier.verify_credential(c, check_status=False)
        if not report.verified:
            raise RuntimeError(f"microcred did not verify a derived credential: {report}")

    def timed(work: Any, items: list[Any]) -> tuple[float, list[Any]]:
        started = time.perf_counter()
        out = [work(i) for i in items]
        return time.perf_counter() - started, out

    totals = {op: [0.0, 0, 0.0] for op in OPS}
    warm, measured = credentials[:warmup], credentials[warmup:]
    with ReferenceImplementation() as ref:
        bases = [ours_sign(c) for c in warm]
        reveals = [ours_derive(c) for c in bases]
        for r in reveals:
            ours_verify(r)
        ref.bench("sdSign", warm, secret, created=CREATED, mandatory_pointers=mandatory)
        ref.bench("sdDerive", bases, selective_pointers=selective)
        ref.bench("verify", reveals)
        for number, chunk in enumerate(_rounds(measured, rounds), 1):
            s, bases = timed(ours_sign, chunk)
            n, t = ref.bench("sdSign", chunk, secret, created=CREATED, mandatory_pointers=mandatory)
            totals["base sign"] = [
                totals["base sign"][0] + s,
                totals["base sign"][1] + n,
                totals["base sign"][2] + t,
            ]
            s, reveals = timed(ours_derive, bases)
            n, t = ref.bench("sdDerive", bases, selective_pointers=selective)
            totals["derive"] = [
                totals["derive"][0] + s,
                totals["derive"][1] + n,
                totals["derive"][2] + t,
            ]
            s, _ = timed(ours_verify, reveals)
            n, t = ref.bench("verify", reveals)
            totals["derived verify"] = [
                totals["derived verify"][0] + s,
                totals["derived verify"][1] + n,
                totals["derived verify"][2] + t,
            ]
            print(f"  sd round {number}/{rounds}: {len(chunk)} credentials", file=sys.stderr)
    rows = []
    for op, (ours_s, theirs_n, theirs_s) in totals.items():
        ours_rate, theirs_rate = len(measured) / ours_s, theirs_n / theirs_s
        ratio = ours_rate / theirs_rate
        rows.append(
            {
                "row": "sd",
                "name": f"{op} (P-256, ecdsa-sd-2023)",
                "unit": "credentials/s",
                "microcred": {"per_second": round(ours_rate, 1), "ms": round(1000 / ours_rate, 3)},
                "reference": {
                    "per_second": round(theirs_rate, 1),
                    "ms": round(1000 / theirs_rate, 3),
                },
                "ratio": round(ratio, 2),
                "target": f">= {TARGET:g}x the reference",
                "met": ratio >= TARGET,
                "iterations": len(measured),
                "rounds": rounds,
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.selective")
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args(argv)
    from bench.run import table

    print(table(rows_selective(args.iterations, args.warmup, args.rounds)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
