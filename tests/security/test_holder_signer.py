"""Issue 14, item 2: the key that signed a presentation is always compared with its holder.

The attack: a presentation signed with an attacker's key, declaring learner A as holder and
embedding A's genuine credential. Verified without a challenge or domain it used to come
back ``verified: true`` (the signer was only compared when the purpose check passed).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from credentials.keys import Multikey
from credentials.proofs import sign
from credentials.verify import Verifier

V2 = "https://www.w3.org/ns/credentials/v2"
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _credential(issuer: Multikey, learner: Multikey) -> dict:
    return sign(
        {
            "@context": [V2, "https://www.w3.org/ns/credentials/examples/v2"],
            "id": "urn:uuid:0b7e3c52-3f0e-4a8e-9a0b-6f1f0a6c2d11",
            "type": ["VerifiableCredential", "ExampleModuleCredential"],
            "issuer": issuer.controller,
            "validFrom": "2026-01-01T00:00:00Z",
            "credentialSubject": {"id": learner.controller, "module": "Algebra"},
        },
        issuer,
        created="2026-01-01T00:00:00Z",
    )


def _forged(credential: dict, holder: str, attacker: Multikey, **binding: str) -> dict:
    """A presentation naming ``holder`` but signed by ``attacker``."""
    return sign(
        {
            "@context": [V2],
            "type": ["VerifiablePresentation"],
            "holder": holder,
            "verifiableCredential": [credential],
        },
        attacker,
        purpose="authentication",
        created=NOW,
        strict=False,
        **binding,
    )


@pytest.mark.parametrize(
    ("binding", "given"),
    [
        ({}, {}),  # the verifier page, /presentations/verify, `microcred verify`
        ({"challenge": "c"}, {"challenge": "other"}),  # the purpose check fails too
        ({"challenge": "c", "domain": "d"}, {"challenge": "c", "domain": "d"}),
    ],
    ids=["no-challenge", "wrong-challenge", "right-challenge"],
)
def test_a_presentation_signed_by_someone_else_than_its_holder_fails(
    binding: dict, given: dict
) -> None:
    issuer, learner, attacker = Multikey.generate(), Multikey.generate(), Multikey.generate()
    vp = _forged(_credential(issuer, learner), learner.controller, attacker, **binding)
    report, _ = Verifier().verify_presentation(vp, now=NOW, **given)
    assert not report.verified
    holder = report.outcome_of("holder")
    assert holder is not None and (holder.outcome, holder.code) == ("failed", "holder_mismatch")
    assert attacker.controller in holder.message


def test_the_genuine_holder_without_a_challenge_still_verifies_with_a_warning() -> None:
    issuer, learner = Multikey.generate(), Multikey.generate()
    vp = _forged(_credential(issuer, learner), learner.controller, learner)
    report, _ = Verifier().verify_presentation(vp, now=NOW)
    assert report.verified, report.to_dict()
    assert report.outcome_of("holder").outcome == "passed"
    assert report.outcome_of("proof_purpose").code == "no_challenge_checked"
    assert report.outcome_of("credential[0].holder_binding").outcome == "passed"


def test_microcred_verify_refuses_the_forged_presentation_without_a_challenge() -> None:
    """The same attack through the CLI (``microcred verify``), which passes no challenge."""
    import json
    import subprocess
    import sys

    issuer, learner, attacker = Multikey.generate(), Multikey.generate(), Multikey.generate()
    forged = _forged(_credential(issuer, learner), learner.controller, attacker)
    done = subprocess.run(
        [sys.executable, "-m", "microcred", "verify", "--no-status"],
        input=json.dumps(forged),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "holder_mismatch" in done.stdout
