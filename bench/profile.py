"""cProfile of the sign and verify hot paths, with the canonicalisation fast path on or off.

    .venv/bin/python -m bench.profile            # after: credentials/_fastrdf.py in use
    .venv/bin/python -m bench.profile --before   # before: pyld for every document

"Before" forces ``credentials._fastrdf.canonicalize`` to decline, which is exactly the code
path microcred had before the fast path (pyld's JsonLdProcessor.normalize for every
document). The output goes into bench/README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time
from unittest import mock

from bench import workload
from credentials import _fastrdf
from credentials.keys import Multikey
from credentials.proofs import sign
from credentials.verify import Verifier


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("--before", action="store_true", help="fast path off (pyld only)")
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--lines", type=int, default=18)
    args = parser.parse_args(argv)

    key = Multikey.generate("Ed25519")
    credentials = workload.microcredentials(args.iterations + 20, key.controller)
    verifier = Verifier()
    patch = (
        mock.patch.object(_fastrdf, "canonicalize", return_value=None)
        if args.before
        else mock.patch.object(_fastrdf, "STATS", _fastrdf.STATS)  # a no-op stand-in
    )
    with patch:
        for credential in credentials[:20]:  # warm-up: contexts, memo tables, imports
            verifier.verify_credential(sign(credential, key), check_status=False)
        measured = credentials[20:]
        timings = {}
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        signed = [sign(c, key) for c in measured]
        profiler.disable()
        timings["sign"] = time.perf_counter() - started
        started = time.perf_counter()
        profiler.enable()
        for credential in signed:
            verifier.verify_credential(credential, check_status=False)
        profiler.disable()
        timings["verify"] = time.perf_counter() - started

    label = "before (pyld only)" if args.before else "after (fast path)"
    print(f"{label}: {args.iterations} distinct microcredentials, profiled")
    for op, seconds in timings.items():
        print(f"  {op}: {seconds / args.iterations * 1000:.2f} ms per credential (under cProfile)")
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime")
    stats.print_stats(args.lines)
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
