"""Row 5 of the benchmark (issue 19): SD-JWT VC issue and verify, against @sd-jwt (Node).

Issue: the SD-JWT VC of a distinct microcredential each iteration (the claims mapped from
``bench.workload``'s OB 3.0 credentials by ``credentials.sdjwt.vc.claims_from_credential``,
learner and result selectively disclosable), ES256. Verify: a presentation with two
disclosures and a KB-JWT, checked in full (issuer signature, disclosures, vct, validity,
KB-JWT nonce/audience/freshness/sd_hash, Token Status List lookup; the issuer metadata and
the signed status list served from memory on both sides). The OpenWallet Foundation's
``@sd-jwt/sd-jwt-vc`` 0.19.0 does the same work timed inside Node (interop/sdjwt.mjs
``bench``), in alternating rounds like row 1.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from credentials.keys import Multikey
from credentials.sdjwt import core, jose, vc
from credentials.sdjwt.status import TokenStatusList, sign_status_list, status_reference

from . import workload

HARNESS = Path(__file__).resolve().parents[1] / "interop" / "sdjwt.mjs"
ISS = "https://issuer.example.nl/institutions/hbo"
STATUS_URI = f"{ISS}/status/1/token"
AUDIENCE = "redirect_uri:https://verifier.example/requests/1/response"
NONCE = "bench-nonce"


def _node(**request: Any) -> Any:
    done = subprocess.run(
        ["node", str(HARNESS)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=HARNESS.parent,
    )
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    if not answer["ok"]:
        raise RuntimeError(answer["error"])
    return answer["result"]


def rows(count: int = 500, rounds: int = 5) -> list[dict[str, Any]]:
    key = Multikey.generate("P-256")
    holder = Multikey.generate("P-256")
    vct = vc.vct_for(ISS)
    print(f"row 5: {count} SD-JWT VCs…", file=sys.stderr)
    claims = [
        {
            **vc.claims_from_credential(
                c, issuer_url=ISS, vct=vct, learner={"email": f"learner{i}@example.nl"}
            ),
            "cnf": {"jwk": jose.jwk_of(holder)},
            "status": status_reference(STATUS_URI, i),
        }
        for i, c in enumerate(workload.microcredentials(count, "did:web:issuer.example.nl"))
    ]
    statuses = TokenStatusList(size=max(count, 1024))
    status_jwt = sign_status_list(statuses, STATUS_URI, key, kid="key-1")
    documents = {
        vc.well_known_url(ISS): vc.issuer_metadata(ISS, [("key-1", key)]),
        STATUS_URI: status_jwt,
    }
    verifier = vc.SdJwtVcVerifier(
        keys=vc.IssuerKeys(fetch_json=documents.__getitem__),
        fetch_status=documents.__getitem__,
        known_vcts=[vct],
    )
    frame = vc.selective_frame(claims[0])
    size = -(-count // rounds)
    totals = {"issue": [0.0, 0, 0.0], "verify": [0.0, 0, 0.0]}
    for start in range(0, count, size):
        chunk = claims[start : start + size]
        started = time.perf_counter()
        issued = [
            vc.issue_sd_jwt_vc(
                {k: v for k, v in c.items() if k not in ("cnf", "status")},
                key,
                holder_jwk=c["cnf"]["jwk"],
                status=c["status"],
                kid="key-1",
            )
            for c in chunk
        ]
        totals["issue"][0] += time.perf_counter() - started
        theirs = _node(
            op="bench",
            what="issue",
            items=chunk,
            frame=frame,
            issuerJwk=jose.jwk_of(key, private=True),
        )
        totals["issue"][1] += theirs["n"]
        totals["issue"][2] += theirs["seconds"]
        shown = [
            core.present(
                core.SdJwt.parse(t),
                {"learner.email", "result.grade"},
                holder,
                audience=AUDIENCE,
                nonce=NONCE,
            )
            for t in issued
        ]
        started = time.perf_counter()
        for presentation in shown:
            report = verifier.verify(presentation, audience=AUDIENCE, nonce=NONCE)
            if not report.verified:
                raise RuntimeError(f"microcred did not verify its own SD-JWT VC: {report}")
        totals["verify"][0] += time.perf_counter() - started
        theirs = _node(
            op="bench",
            what="verify",
            items=shown,
            nonce=NONCE,
            issuerJwk=jose.jwk_of(key),
            statusListJwt=status_jwt,
        )
        totals["verify"][1] += theirs["n"]
        totals["verify"][2] += theirs["seconds"]
    out = []
    for name, (ours_s, theirs_n, theirs_s) in totals.items():
        ours_rate, theirs_rate = count / ours_s, theirs_n / theirs_s
        what = "issue (ES256)" if name == "issue" else "verify (ES256, KB-JWT, status)"
        out.append(
            {
                "row": 5,
                "name": f"SD-JWT VC {what}",
                "unit": "credentials/s",
                "microcred": {"per_second": round(ours_rate, 1), "ms": round(1000 / ours_rate, 3)},
                "reference": {
                    "per_second": round(theirs_rate, 1),
                    "ms": round(1000 / theirs_rate, 3),
                },
                "ratio": round(ours_rate / theirs_rate, 2),
                "target": "recorded (no target set in issue 19)",
                "met": None,
                "iterations": count,
                "rounds": rounds,
            }
        )
    return out


if __name__ == "__main__":
    from .run import table

    print(table(rows(int(sys.argv[1]) if len(sys.argv) > 1 else 500)))
