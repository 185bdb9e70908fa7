"""Both ways with the independent reference implementation (Digital Bazaar, from npm):
microcred-signed microcredentials verify there, theirs verify here, tampering fails in both."""

from __future__ import annotations

import copy
from dataclasses import replace

import pytest

from credentials.keys import Multikey
from credentials.microcredential import Learner
from credentials.proofs import sign
from credentials.verify import Verifier, create_presentation
from interop.reference import ReferenceImplementation
from microcred.samples import HBO, sample_credential

pytestmark = pytest.mark.interop


def microcredential(issuer: Multikey, holder: Multikey) -> dict:
    return sample_credential(
        issuer=replace(HBO, id=issuer.controller),
        learner=Learner(did=holder.controller, identity="jan@example.nl", salt="00ff00ff00ff00ff"),
    )


def tamper(credential: dict) -> dict:
    forged = copy.deepcopy(credential)
    forged["credentialSubject"]["achievement"]["name"] = "Advanced Brain Surgery"
    return forged


@pytest.mark.parametrize("key_type", ["ed25519", "p256"])
def test_microcred_signed_verifies_in_reference(
    reference: ReferenceImplementation, key_type: str
) -> None:
    issuer, holder = Multikey.generate(key_type), Multikey.generate()
    signed = sign(microcredential(issuer, holder), issuer)
    assert reference.verify(signed) == (True, None)
    ok, error = reference.verify(tamper(signed))
    assert not ok and error


@pytest.mark.parametrize("key_type", ["ed25519", "p256"])
def test_reference_signed_verifies_in_microcred(
    reference: ReferenceImplementation, key_type: str
) -> None:
    key = reference.generate_key(key_type)
    issuer = Multikey.from_dict(key)
    signed = reference.sign(microcredential(issuer, Multikey.generate()), key)
    report = Verifier().verify_credential(signed, check_status=False)
    assert report.verified, report.to_dict()
    tampered = Verifier().verify_credential(tamper(signed), check_status=False)
    assert not tampered.verified
    assert tampered.outcome_of("proof").code == "invalid_proof"


def test_presentations_both_ways(reference: ReferenceImplementation) -> None:
    issuer, holder = Multikey.generate(), Multikey.generate()
    credential = sign(microcredential(issuer, holder), issuer)
    ours = create_presentation(
        [credential], holder, challenge="n-123", domain="https://verifier.example"
    )
    assert reference.verify_presentation(
        ours, challenge="n-123", domain="https://verifier.example"
    ) == (True, None)
    assert not reference.verify_presentation(
        ours, challenge="n-999", domain="https://verifier.example"
    )[0]
    holder_key = holder.to_secret_dict()
    theirs = reference.present(
        holder_key, credentials=[credential], challenge="n-456", domain="https://v.example"
    )
    report, _ = Verifier().verify_presentation(
        theirs, challenge="n-456", domain="https://v.example", check_status=False
    )
    assert report.verified, report.to_dict()


def test_canonical_forms_agree_on_a_full_microcredential(
    reference: ReferenceImplementation,
) -> None:
    from credentials.canonical import canonicalize

    credential = microcredential(Multikey.generate(), Multikey.generate())
    assert canonicalize(credential) == reference.canonize(credential)
