"""SD-JWT VC interop with the OpenWallet Foundation's @sd-jwt libraries (npm, 0.19.0).

Both ways: microcred's SD-JWT VCs and presentations verify in @sd-jwt/sd-jwt-vc (signature,
disclosures, KB-JWT, status through @sd-jwt/jwt-status-list, our type metadata through its
schema); theirs verify in microcred's verifier; and the two status-list implementations read
each other's lists alike. Driven through interop/sdjwt.mjs, one Node process per call.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from credentials.keys import Multikey
from credentials.sdjwt import core, jose, vc
from credentials.sdjwt.status import (
    INVALID,
    SUSPENDED,
    TokenStatusList,
    read_status_list_token,
)
from tests.credentials.sdjwt_support import AUDIENCE, STATUS_URI, SdJwtIssuer
from tests.interop.conftest import _require_node

HARNESS = Path(__file__).resolve().parents[2] / "interop" / "sdjwt.mjs"

pytestmark = pytest.mark.interop


class HarnessError(Exception):
    pass


def node(op: str, **fields: Any) -> Any:
    proc = subprocess.run(
        ["node", str(HARNESS)],
        input=json.dumps({"op": op, **fields}),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=HARNESS.parent,
        check=False,
    )
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert lines, f"no answer from sdjwt.mjs: {proc.stderr[-2000:]}"
    answer = json.loads(lines[-1])
    if not answer["ok"]:
        raise HarnessError(answer["error"])
    return answer["result"]


@pytest.fixture(scope="module", autouse=True)
def _node_available() -> None:
    _require_node()


@pytest.fixture(params=["P-256", "Ed25519"])
def issuer(request: pytest.FixtureRequest) -> SdJwtIssuer:
    return SdJwtIssuer(algorithm=request.param)


def _private_jwk(key: Multikey) -> dict[str, str]:
    return jose.jwk_of(key, private=True)


# ---------------------------------------------------------------- ours, verified there


def test_microcred_presentation_verifies_in_sd_jwt_vc(issuer: SdJwtIssuer) -> None:
    holder = Multikey.generate("P-256")
    token, _ = issuer.issue(holder)
    presentation = core.present(
        core.SdJwt.parse(token),
        {"learner.email", "result.grade"},
        holder,
        audience=AUDIENCE,
        nonce="nonce-42",
    )
    result = node(
        "verify",
        sdjwt=presentation,
        issuerJwk=jose.jwk_of(issuer.key),
        nonce="nonce-42",
        statusListJwt=issuer.documents[STATUS_URI],
        typeMetadata=vc.type_metadata(issuer.vct),
    )
    payload = result["payload"]
    assert payload["learner"] == {"email": "jan.jansen@example.nl"}
    assert payload["result"] == {"grade": "8.5"}
    assert payload["vct"] == issuer.vct and payload["title"]
    assert result["kb"]["payload"]["aud"] == AUDIENCE
    assert result["kb"]["header"]["typ"] == "kb+jwt"
    assert result["typeMetadata"]["vct"] == issuer.vct


def test_a_revoked_microcred_credential_fails_there(issuer: SdJwtIssuer) -> None:
    holder = Multikey.generate("P-256")
    token, index = issuer.issue(holder)
    issuer.set_status(index, INVALID)
    presentation = core.present(
        core.SdJwt.parse(token), set(), holder, audience=AUDIENCE, nonce="n"
    )
    with pytest.raises(HarnessError, match="Status is not valid"):
        node(
            "verify",
            sdjwt=presentation,
            issuerJwk=jose.jwk_of(issuer.key),
            nonce="n",
            statusListJwt=issuer.documents[STATUS_URI],
        )


def test_a_disclosure_we_forge_is_refused_there_too(issuer: SdJwtIssuer) -> None:
    holder = Multikey.generate("P-256")
    token, _ = issuer.issue(holder)
    sd = core.select(core.SdJwt.parse(token), set())
    sd.disclosures.append(core.Disclosure.make("given_name", "Piet"))
    result_or_error: Any
    try:
        result_or_error = node(
            "verify",
            sdjwt=sd.serialize(),
            issuerJwk=jose.jwk_of(issuer.key),
            statusListJwt=issuer.documents[STATUS_URI],
        )
    except HarnessError as exc:
        result_or_error = str(exc)
    # the library either refuses it or, at the least, never shows the forged claim
    assert isinstance(result_or_error, str) or "given_name" not in json.dumps(
        result_or_error["payload"]
    )


# ---------------------------------------------------------------- theirs, verified here


def test_their_sd_jwt_vc_verifies_in_microcred(issuer: SdJwtIssuer) -> None:
    alg = "ES256" if issuer.algorithm == "P-256" else "EdDSA"
    holder = node("keys", alg="ES256")
    claims = {
        **issuer.claims(),
        "cnf": {"jwk": holder["publicJwk"]},
        "status": {"status_list": {"idx": 0, "uri": STATUS_URI}},
    }
    frame = vc.SELECTIVE  # the same DisclosureFrame shape as theirs
    issued = node(
        "issue", claims=claims, frame=frame, issuerJwk=_private_jwk(issuer.key), kid=issuer.kid
    )["sdjwt"]
    assert core.SdJwt.parse(issued).header["alg"] == alg
    presented = node(
        "present",
        sdjwt=issued,
        frame={"learner": {"given_name": True}},
        holderJwk=holder["privateJwk"],
        aud=AUDIENCE,
        nonce="their-nonce",
    )
    report = issuer.verifier().verify(
        presented["presentation"], audience=AUDIENCE, nonce="their-nonce"
    )
    assert report.verified, report.to_dict()
    assert report.summary["claims"]["learner"] == {"given_name": "Jan"}
    assert "email" not in json.dumps(report.summary["claims"])
    # and the tamper reasons hold for their presentations too
    wrong_aud = issuer.verifier().verify(
        presented["presentation"], audience="https://x.example", nonce="their-nonce"
    )
    assert wrong_aud.outcome_of("key_binding").code == "kb_audience"  # type: ignore[union-attr]
    replay = issuer.verifier().verify(presented["presentation"], audience=AUDIENCE, nonce="other")
    assert replay.outcome_of("key_binding").code == "kb_nonce"  # type: ignore[union-attr]


# ---------------------------------------------------------------- status lists agree


def test_status_lists_agree_both_ways(issuer: SdJwtIssuer) -> None:
    statuses = [0] * 64
    statuses[1], statuses[5], statuses[63] = INVALID, SUSPENDED, INVALID
    # ours, read there
    ours = TokenStatusList(bits=2, size=64)
    for i, value in enumerate(statuses):
        if value:
            ours.set(i, value)
    issuer.statuses = ours
    issuer.publish()
    read = node("readStatus", jwt=issuer.documents[STATUS_URI], indexes=list(range(64)))
    assert read["statuses"] == statuses
    # theirs, read (and signature-checked) here
    theirs = node(
        "statusList", statuses=statuses, bits=2, uri=STATUS_URI, issuerJwk=_private_jwk(issuer.key)
    )["jwt"]
    parsed = read_status_list_token(theirs, STATUS_URI, [issuer.key])
    assert [parsed.get(i) for i in range(64)] == statuses
