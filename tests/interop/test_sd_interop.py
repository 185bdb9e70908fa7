"""ecdsa-sd-2023 both ways with Digital Bazaar's @digitalbazaar/ecdsa-sd-2023-cryptosuite:
microcred's base → their derivation → our verification; their base → our derivation →
their verification; tampering fails on both sides."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import pytest

from credentials import ecdsa_sd
from credentials.documents import DocumentLoader
from credentials.keys import Multikey
from credentials.microcredential import Learner
from credentials.proofs import sign
from credentials.verify import Verifier
from interop.reference import ReferenceImplementation
from microcred.samples import HBO, sample_credential

pytestmark = pytest.mark.interop

MANDATORY = ["/issuer", "/validFrom", "/credentialSubject/achievement"]
WITHOUT_GRADE = ["/credentialSubject/id"]
LOADER = DocumentLoader()


def microcredential(issuer: Multikey) -> dict[str, Any]:
    return sample_credential(
        issuer=replace(HBO, id=issuer.controller),
        learner=Learner(
            did=Multikey.generate().controller, identity="jan@example.nl", salt="00ff00ff"
        ),
    )


def proof_check(document: dict[str, Any]) -> tuple[str, str]:
    report = Verifier().verify_credential(document, check_status=False)
    check = report.outcome_of("proof")
    return check.outcome, check.code or ""


def test_microcred_base_derived_by_the_reference_verifies_in_microcred(
    reference: ReferenceImplementation,
) -> None:
    issuer = Multikey.generate("p256")
    base = sign(
        microcredential(issuer), issuer, cryptosuite="ecdsa-sd-2023", mandatory_pointers=MANDATORY
    )
    reveal = reference.sd_derive(base, WITHOUT_GRADE)
    assert "result" not in reveal["credentialSubject"]
    assert "8.5" not in str(reveal)
    assert proof_check(reveal) == ("passed", "ok")
    report = Verifier().verify_credential(reveal, check_status=False)
    assert report.outcome_of("proof").outcome == "passed", report.to_dict()
    forged = copy.deepcopy(reveal)
    forged["credentialSubject"]["achievement"]["name"] = "Advanced Brain Surgery"
    assert proof_check(forged) == ("failed", "invalid_proof")


def test_reference_base_derived_by_microcred_verifies_in_the_reference(
    reference: ReferenceImplementation,
) -> None:
    key = reference.generate_key("p256")
    issuer = Multikey.from_dict(key)
    base = reference.sd_sign(microcredential(issuer), key, MANDATORY)
    assert proof_check(base) == ("passed", "ok")  # the holder checks every statement
    reveal = ecdsa_sd.derive(base, WITHOUT_GRADE, LOADER)
    assert "result" not in reveal["credentialSubject"]
    assert reference.verify(reveal) == (True, None)
    assert proof_check(reveal) == ("passed", "ok")
    forged = copy.deepcopy(reveal)
    forged["credentialSubject"]["id"] = Multikey.generate().controller
    ok, error = reference.verify(forged)
    assert not ok and error


def test_the_reference_verifies_microcred_derived_proofs(
    reference: ReferenceImplementation,
) -> None:
    issuer = Multikey.generate("p256")
    base = sign(
        microcredential(issuer), issuer, cryptosuite="ecdsa-sd-2023", mandatory_pointers=MANDATORY
    )
    for selective in ([], WITHOUT_GRADE, ["/credentialSubject/result", "/name"]):
        reveal = ecdsa_sd.derive(base, selective, LOADER)
        assert reference.verify(reveal) == (True, None), selective
    reveal = ecdsa_sd.derive(base, ["/credentialSubject/result"], LOADER)
    reveal["credentialSubject"]["result"][0]["value"] = "10"
    ok, error = reference.verify(reveal)
    assert not ok and error


def test_the_same_derivation_gives_the_same_bytes_on_both_sides(
    reference: ReferenceImplementation,
) -> None:
    """Derivation is deterministic: from one base, both implementations must produce the
    same reveal document and proof value."""
    key = reference.generate_key("p256")
    base = reference.sd_sign(microcredential(Multikey.from_dict(key)), key, MANDATORY)
    ours = ecdsa_sd.derive(base, WITHOUT_GRADE, LOADER)
    theirs = reference.sd_derive(base, WITHOUT_GRADE)
    assert ours["proof"]["proofValue"] == theirs["proof"]["proofValue"]
    assert ours == theirs
