"""The proof suites beyond eddsa-rdfc-2022: Ed25519Signature2020, the JCS suites, P-384,
other verification method types, proof sets and chains, and proofs microcred recognises but
does not implement.

The W3C vc-di-eddsa vectors (tests/fixtures/vectors/README.md) are reproduced byte for byte;
everything else is a sign / verify / tamper round trip through the real code.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

import pytest

from credentials.cryptosuites import ED25519_2020, EDDSA_JCS_2022, jcs
from credentials.dids import DidResolver
from credentials.documents import DocumentLoader
from credentials.errors import MicrocredError
from credentials.keys import Multikey, public_jwk
from credentials.proofs import sign, verify_proofs
from credentials.report import Check
from tests.conftest import fixture_text, load_fixture

KEY = "vectors/eddsa-rdfc-2022/keyPair.json"
CREATED = "2023-02-24T23:36:38Z"
ED25519_2020_CONTEXT = "https://w3id.org/security/suites/ed25519-2020/v1"
VC1 = "https://www.w3.org/2018/credentials/v1"
DI_V2 = "https://w3id.org/security/data-integrity/v2"


def vector_text(name: str) -> str:
    return fixture_text(f"vectors/{name}").strip()


def verify(document: dict[str, Any], resolver: DidResolver | None = None) -> list[Check]:
    checks, _ = verify_proofs(
        document, resolver=resolver or DidResolver(), purpose="assertionMethod"
    )
    return checks


def failures(checks: list[Check]) -> list[str]:
    return [c.code for c in checks if c.outcome != "passed"]


def vc1_credential(issuer: str, *extra_contexts: str) -> dict[str, Any]:
    """A VCDM 1.1 credential as DCC and Learner Credential Wallet issuers shape them."""
    return {
        "@context": [VC1, *extra_contexts],
        "id": "urn:uuid:9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d",
        "type": ["VerifiableCredential"],
        "issuer": {"id": issuer},
        "issuanceDate": "2024-01-01T00:00:00Z",
        "expirationDate": "2034-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner"},
    }


# --- eddsa-jcs-2022 (W3C vector) ---------------------------------------------------------


def test_eddsa_jcs_2022_vector_canonical_forms_and_hashes() -> None:
    unsigned = load_fixture("vectors/eddsa-rdfc-2022/unsigned.json")
    config = load_fixture("vectors/eddsa-jcs-2022/proofConfigJCS.json")
    assert jcs(unsigned) == fixture_text("vectors/eddsa-jcs-2022/canonDocJCS.txt")
    assert jcs(config) == fixture_text("vectors/eddsa-jcs-2022/proofCanonJCS.txt")
    hash_data = EDDSA_JCS_2022.hash_data(unsigned, config, DocumentLoader())
    assert hash_data.hex() == vector_text("eddsa-jcs-2022/combinedHashJCS.txt")


def test_eddsa_jcs_2022_vector_reproduced_and_verifies() -> None:
    key = Multikey.from_dict(load_fixture(KEY))
    unsigned = load_fixture("vectors/eddsa-rdfc-2022/unsigned.json")
    secured = sign(unsigned, key, created=CREATED, cryptosuite="eddsa-jcs-2022", strict=False)
    assert secured["proof"]["proofValue"] == vector_text("eddsa-jcs-2022/sigBTC58JCS.txt")
    assert secured == load_fixture("vectors/eddsa-jcs-2022/signedJCS.json")
    assert failures(verify(load_fixture("vectors/eddsa-jcs-2022/signedJCS.json"))) == []


def test_jcs_signs_json_so_key_order_does_not_matter_but_values_do() -> None:
    signed = load_fixture("vectors/eddsa-jcs-2022/signedJCS.json")
    reordered = dict(reversed(list(signed.items())))
    assert failures(verify(reordered)) == []
    signed["name"] = "Forged Credential"
    assert failures(verify(signed)) == ["invalid_proof"]


def test_jcs_proof_context_must_prefix_the_document_context() -> None:
    signed = load_fixture("vectors/eddsa-jcs-2022/signedJCS.json")
    signed["proof"]["@context"] = ["https://www.w3.org/ns/credentials/examples/v2"]
    assert failures(verify(signed)) == ["proof_context_mismatch"]


# --- Ed25519Signature2020 (W3C vector, VCDM 1.1) -----------------------------------------


def test_ed25519_signature_2020_vector_hashes() -> None:
    signed = load_fixture("vectors/ed25519-signature-2020/signedEdSig.json")
    unsigned = {k: v for k, v in signed.items() if k != "proof"}
    config = load_fixture("vectors/ed25519-signature-2020/proofConfigEdSig.json")
    hash_data = ED25519_2020.hash_data(unsigned, config, DocumentLoader(), strict=False)
    assert hashlib.sha256(
        fixture_text("vectors/ed25519-signature-2020/canonDocEdSig.txt").encode()
    ).hexdigest() == vector_text("ed25519-signature-2020/docHashEdSig.txt")
    assert hash_data.hex() == vector_text("ed25519-signature-2020/combinedHashEdSig.txt")


def test_ed25519_signature_2020_vector_reproduced_and_verifies() -> None:
    key = Multikey.from_dict(load_fixture(KEY))
    signed = load_fixture("vectors/ed25519-signature-2020/signedEdSig.json")
    unsigned = {k: v for k, v in signed.items() if k != "proof"}
    secured = sign(unsigned, key, created=CREATED, cryptosuite="Ed25519Signature2020", strict=False)
    assert secured == signed
    assert failures(verify(signed)) == []
    signed["credentialSubject"]["alumniOf"] = "Evil University"
    assert failures(verify(signed)) == ["invalid_proof"]


def test_ed25519_signature_2020_needs_its_suite_context() -> None:
    signed = load_fixture("vectors/ed25519-signature-2020/signedEdSig.json")
    signed["@context"] = signed["@context"][:2]
    assert failures(verify(signed)) == ["proof_context_mismatch"]


def test_vc_1_1_credential_with_ed25519_signature_2020_on_did_key() -> None:
    key = Multikey.generate("Ed25519")
    credential = vc1_credential(key.controller, ED25519_2020_CONTEXT)
    secured = sign(credential, key, cryptosuite="Ed25519Signature2020")
    assert secured["proof"]["type"] == "Ed25519Signature2020"
    assert "cryptosuite" not in secured["proof"]
    checks, keys = verify_proofs(secured, resolver=DidResolver(), purpose="assertionMethod")
    assert failures(checks) == []
    assert [k.controller for k in keys] == [key.controller]
    secured["expirationDate"] = "2044-01-01T00:00:00Z"
    assert failures(verify(secured)) == ["invalid_proof"]


def test_vc_1_1_credential_with_status_list_2021_entry_signs_and_verifies() -> None:
    key = Multikey.generate("Ed25519")
    credential = vc1_credential(
        key.controller, ED25519_2020_CONTEXT, "https://w3id.org/vc/status-list/2021/v1"
    )
    credential["credentialStatus"] = {
        "id": "https://example.edu/status/1#94567",
        "type": "StatusList2021Entry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",
        "statusListCredential": "https://example.edu/status/1",
    }
    secured = sign(credential, key, cryptosuite="Ed25519Signature2020")
    assert failures(verify(secured)) == []


@pytest.mark.parametrize(
    "ob_context",
    [
        "https://purl.imsglobal.org/spec/ob/v3p0/context.json",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json",
    ],
)
def test_ob_3_0_x_credential_on_vc_1_1_with_2020_proof(ob_context: str) -> None:
    key = Multikey.generate("Ed25519")
    credential = vc1_credential(key.controller, ob_context, ED25519_2020_CONTEXT)
    credential["type"] = ["VerifiableCredential", "OpenBadgeCredential"]
    credential["issuer"].update(type=["Profile"], name="Example University")
    credential["name"] = "Teamwork Badge"
    credential["credentialSubject"] = {
        "type": ["AchievementSubject"],
        "achievement": {
            "id": "urn:uuid:ac254bd5-8fad-4bb1-9d29-efd938536926",
            "type": ["Achievement"],
            "name": "Teamwork",
            "description": "Works well in a team.",
            "criteria": {"narrative": "Team members are nominated for this badge."},
        },
    }
    secured = sign(credential, key, cryptosuite="Ed25519Signature2020")
    assert failures(verify(secured)) == []


# --- P-384 and the ECDSA suites ----------------------------------------------------------


def test_p384_multikey_round_trip() -> None:
    key = Multikey.generate("p384")
    assert key.public_key_multibase.startswith("z82")
    again = Multikey.from_dict(key.to_secret_dict())
    assert again.public_key_multibase == key.public_key_multibase
    assert again.secret_key_multibase.startswith("z")
    assert len(key.sign(b"data")) == 96


@pytest.mark.parametrize("suite", ["ecdsa-rdfc-2019", "ecdsa-jcs-2019"])
@pytest.mark.parametrize("curve", ["P-256", "P-384"])
def test_ecdsa_suites_sign_and_verify_on_both_curves(suite: str, curve: str) -> None:
    key = Multikey.generate(curve)
    document = load_fixture("vectors/eddsa-rdfc-2022/unsigned.json")
    secured = sign(document, key, cryptosuite=suite, strict=False)
    assert secured["proof"]["cryptosuite"] == suite
    assert failures(verify(secured)) == []
    tampered = copy.deepcopy(secured)
    tampered["credentialSubject"]["alumniOf"] = "Evil University"
    assert failures(verify(tampered)) == ["invalid_proof"]


def test_p384_hashes_with_sha384() -> None:
    """VC DI ECDSA: a P-384 key hashes proof options and document with SHA-384 (48 bytes
    each); a P-384 signature over SHA-256 hash data must not verify."""
    key = Multikey.generate("P-384")
    document = load_fixture("vectors/eddsa-rdfc-2022/unsigned.json")
    secured = sign(document, key, cryptosuite="ecdsa-rdfc-2019", strict=False)
    from credentials.cryptosuites import ECDSA_RDFC_2019
    from credentials.proofs import _proof_config

    unsecured = {k: v for k, v in secured.items() if k != "proof"}
    config = _proof_config(unsecured, secured["proof"], ECDSA_RDFC_2019)
    loader = DocumentLoader()
    sha384 = ECDSA_RDFC_2019.hash_data(unsecured, config, loader, algorithm="P-384")
    sha256 = ECDSA_RDFC_2019.hash_data(unsecured, config, loader, algorithm="P-256")
    assert len(sha384) == 96 and len(sha256) == 64
    proof_value = secured["proof"]["proofValue"]
    assert ECDSA_RDFC_2019.verify(sha384, proof_value, key)
    assert not ECDSA_RDFC_2019.verify(sha256, proof_value, key)


def test_suite_refuses_a_key_of_the_wrong_type() -> None:
    with pytest.raises(MicrocredError) as info:
        sign({"@context": []}, Multikey.generate("P-384"), cryptosuite="eddsa-jcs-2022")
    assert info.value.code == "wrong_key_type"


# --- verification method types in did:web documents --------------------------------------

DID = "did:web:university.example"


def _did_web(vm: dict[str, Any]) -> DidResolver:
    document = {
        "@context": ["https://www.w3.org/ns/did/v1", ED25519_2020_CONTEXT],
        "id": DID,
        "verificationMethod": [vm],
        "assertionMethod": [vm["id"]],
    }
    return DidResolver(overrides={DID: document})


def _vm(kind: str, key: Multikey) -> dict[str, Any]:
    vm: dict[str, Any] = {"id": "#key-1", "type": kind, "controller": DID}
    if kind.startswith("JsonWebKey"):
        vm["publicKeyJwk"] = public_jwk(key)
    else:
        vm["publicKeyMultibase"] = key.public_key_multibase
    return vm


@pytest.mark.parametrize(
    ("kind", "algorithm", "suite"),
    [
        ("Ed25519VerificationKey2020", "Ed25519", "Ed25519Signature2020"),
        ("Ed25519VerificationKey2020", "Ed25519", "eddsa-rdfc-2022"),
        ("Multikey", "Ed25519", "Ed25519Signature2020"),
        ("JsonWebKey2020", "Ed25519", "eddsa-rdfc-2022"),
        ("JsonWebKey2020", "P-256", "ecdsa-rdfc-2019"),
        ("JsonWebKey2020", "P-384", "ecdsa-rdfc-2019"),
        ("JsonWebKey", "P-256", "ecdsa-jcs-2019"),
        ("JsonWebKey", "Ed25519", "eddsa-jcs-2022"),
        ("Multikey", "P-384", "ecdsa-jcs-2019"),
    ],
)
def test_did_web_verification_method_types(kind: str, algorithm: str, suite: str) -> None:
    key = Multikey.generate(algorithm, controller=DID, id=f"{DID}#key-1")
    credential = vc1_credential(DID, ED25519_2020_CONTEXT, DI_V2)
    secured = sign(credential, key, cryptosuite=suite)
    checks, keys = verify_proofs(
        secured, resolver=_did_web(_vm(kind, key)), purpose="assertionMethod"
    )
    assert failures(checks) == []
    assert keys[0].controller == DID
    # the same document under someone else's key of the same type fails as a signature
    other = Multikey.generate(algorithm, controller=DID, id=f"{DID}#key-1")
    assert failures(verify(secured, _did_web(_vm(kind, other)))) == ["invalid_proof"]


def test_ed25519_verification_key_2020_without_multicodec_header() -> None:
    """Early Ed25519VerificationKey2020 documents carry the raw 32-byte key in base58btc."""
    from credentials import multibase
    from credentials.keys import serialization

    key = Multikey.generate("Ed25519", controller=DID, id=f"{DID}#key-1")
    raw = key.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    vm = {**_vm("Ed25519VerificationKey2020", key)}
    vm["publicKeyMultibase"] = multibase.encode_base58btc(raw)
    secured = sign(
        vc1_credential(DID, ED25519_2020_CONTEXT), key, cryptosuite="Ed25519Signature2020"
    )
    assert failures(verify(secured, _did_web(vm))) == []


@pytest.mark.parametrize(
    ("vm_patch", "code"),
    [
        ({"type": "EcdsaSecp256k1VerificationKey2019"}, "unsupported_vm_type"),
        (
            {"publicKeyJwk": {"kty": "EC", "crv": "secp256k1", "x": "AA", "y": "AA"}},
            "unsupported_key_type",
        ),
        ({"publicKeyJwk": {"kty": "OKP", "crv": "Ed25519", "x": "AA"}}, "invalid_key"),
        (
            {"publicKeyJwk": {"kty": "OKP", "crv": "Ed25519", "x": "A" * 43, "d": "A" * 43}},
            "invalid_key",
        ),
        ({"publicKeyJwk": "not a JWK"}, "invalid_key"),
    ],
)
def test_unusable_verification_methods_are_named(vm_patch: dict[str, Any], code: str) -> None:
    key = Multikey.generate("Ed25519", controller=DID, id=f"{DID}#key-1")
    vm = {**_vm("JsonWebKey2020", key), **vm_patch}
    secured = sign(vc1_credential(DID, DI_V2), key)
    checks = verify(secured, _did_web(vm))
    assert [c.code for c in checks if c.id == "verification_method"] == [code]
    assert "invalid_proof" not in failures(checks)


# --- proof sets and proof chains (W3C vectors) -------------------------------------------

CHAIN = "vectors/proof-set-chain"


def _chain_keys() -> dict[str, Multikey]:
    return {
        n: Multikey.from_dict(v) for n, v in load_fixture(f"{CHAIN}/multiKeyPairs.json").items()
    }


def test_proof_set_and_chain_vectors_reproduced() -> None:
    keys = _chain_keys()
    document = load_fixture(f"{CHAIN}/unsigned.json")
    steps = [
        ("keyPair1", "proofSetConfig1.json", "signedProofSet1.json"),
        ("keyPair2", "proofSetConfig2.json", "signedProofSet2.json"),
        ("keyPair3", "proofChainConfig1.json", "signedProofChain1.json"),
        ("keyPair4", "proofChainConfig2.json", "signedProofChain2.json"),
    ]
    for key_name, config_file, expected in steps:
        config = load_fixture(f"{CHAIN}/{config_file}")
        document = sign(
            document,
            keys[key_name],
            created=config["created"],
            proof_id=config.get("id"),
            previous_proof=config.get("previousProof"),
            strict=False,
        )
        assert document == load_fixture(f"{CHAIN}/{expected}"), expected


@pytest.mark.parametrize(
    ("signed", "count"), [("signedProofSet2.json", 2), ("signedProofChain2.json", 4)]
)
def test_proof_set_and_chain_vectors_verify(signed: str, count: int) -> None:
    checks, keys = verify_proofs(
        load_fixture(f"{CHAIN}/{signed}"), resolver=DidResolver(), purpose="assertionMethod"
    )
    assert failures(checks) == []
    assert len(keys) == count


def test_chained_proof_covers_the_proofs_it_names() -> None:
    """Changing an earlier proof breaks it and every proof chained onto it, nothing else."""
    signed = load_fixture(f"{CHAIN}/signedProofChain2.json")
    signed["proof"][0]["created"] = "2023-02-24T23:36:39Z"
    checks, keys = verify_proofs(signed, resolver=DidResolver(), purpose="assertionMethod")
    proof_codes = [c.code for c in checks if c.id == "proof"]
    # proof 1 changed; proof 3 chained on it; proof 4 chains on proof 3 only (unchanged)
    assert proof_codes == ["invalid_proof", "ok", "invalid_proof", "ok"]
    assert len(keys) == 2


def test_chained_proof_whose_previous_proof_is_gone_is_named() -> None:
    signed = load_fixture(f"{CHAIN}/signedProofChain2.json")
    del signed["proof"][2]
    checks = verify(signed)
    assert "previous_proof_missing" in failures(checks)
    assert "invalid_proof" not in failures(checks)


def test_sign_refuses_a_chain_onto_a_proof_that_is_not_there() -> None:
    keys = _chain_keys()
    document = load_fixture(f"{CHAIN}/signedProofSet1.json")
    with pytest.raises(MicrocredError) as info:
        sign(document, keys["keyPair3"], previous_proof="urn:uuid:nope", strict=False)
    assert info.value.code == "previous_proof_missing"


def test_two_proofs_of_different_suites_by_the_issuer_both_verify() -> None:
    """Ed25519Signature2020 + eddsa-rdfc-2022 on one VCDM 1.1 credential (a proof set), as
    issuers moving from the legacy suite to Data Integrity publish them."""
    key = Multikey.generate("Ed25519")
    credential = vc1_credential(key.controller, ED25519_2020_CONTEXT, DI_V2)
    once = sign(credential, key, cryptosuite="Ed25519Signature2020")
    twice = sign(once, key, cryptosuite="eddsa-rdfc-2022")
    assert [p["type"] for p in twice["proof"]] == ["Ed25519Signature2020", "DataIntegrityProof"]
    checks, keys = verify_proofs(twice, resolver=DidResolver(), purpose="assertionMethod")
    assert failures(checks) == []
    assert [k.controller for k in keys] == [key.controller, key.controller]


# --- recognised but unsupported proofs ---------------------------------------------------


@pytest.mark.parametrize(
    ("proof", "code"),
    [
        ({"type": "DataIntegrityProof", "cryptosuite": "bbs-2023"}, "unsupported_cryptosuite"),
        ({"type": "DataIntegrityProof", "cryptosuite": "made-up-2099"}, "unsupported_cryptosuite"),
        ({"type": "JwtProof2020", "jwt": "eyJhbGciOiJFUzI1NiJ9.e30.sig"}, "unsupported_proof_type"),
        (
            {"type": "RsaSignature2018", "jws": "eyJhbGciOiJQUzI1NiJ9..sig"},
            "unsupported_proof_type",
        ),
        (
            {"type": "Ed25519Signature2018", "jws": "eyJhbGciOiJFZERTQSJ9..sig"},
            "unsupported_proof_type",
        ),
        ({"type": "BbsBlsSignature2020"}, "unsupported_proof_type"),
        ({"type": ["DataIntegrityProof"]}, "unsupported_proof_type"),
    ],
)
def test_recognised_but_unsupported_proofs_are_not_called_invalid(
    proof: dict[str, Any], code: str
) -> None:
    document = load_fixture("vectors/eddsa-rdfc-2022/signedDataInt.json")
    document["proof"] = {
        **proof,
        "created": CREATED,
        "verificationMethod": document["proof"]["verificationMethod"],
        "proofPurpose": "assertionMethod",
        "proofValue": "u" + "A" * 80,
    }
    checks = verify(document)
    assert failures(checks) == [code]
    recognised = proof["cryptosuite"] if "cryptosuite" in proof else proof["type"]
    if recognised not in ("made-up-2099", ["DataIntegrityProof"]):
        assert "recognised, but not implemented" in checks[0].message


def test_proof_suite_names_for_the_report() -> None:
    from credentials.proofs import proof_suite_names

    assert proof_suite_names(load_fixture(f"{CHAIN}/signedProofSet2.json")) == [
        "eddsa-rdfc-2022",
        "eddsa-rdfc-2022",
    ]
    signed = load_fixture("vectors/ed25519-signature-2020/signedEdSig.json")
    assert proof_suite_names(signed) == ["Ed25519Signature2020"]
    assert proof_suite_names({"proof": [{"type": "JwtProof2020"}, "x", {}]}) == [
        "JwtProof2020",
        "unknown",
        "unknown",
    ]
    assert proof_suite_names({}) == [] and proof_suite_names("a JWT") == []


def test_p384_did_key_resolves_to_a_multikey_document() -> None:
    key = Multikey.generate("P-384")
    vm = DidResolver().verification_method(key.id)
    assert vm["type"] == "Multikey"
    assert vm["publicKeyMultibase"] == key.public_key_multibase
    assert Multikey.from_verification_method(vm).algorithm == "P-384"


def test_an_unsupported_proof_next_to_a_verified_one_is_set_aside() -> None:
    """As jsonld-signatures does: a proof set with a suite microcred lacks (bbs-2023) still
    verifies through the proof it can check; the other proof is a named warning."""
    key = Multikey.generate("Ed25519")
    secured = sign(vc1_credential(key.controller, DI_V2), key)
    bbs = {
        "type": "DataIntegrityProof",
        "cryptosuite": "bbs-2023",
        "created": CREATED,
        "verificationMethod": key.id,
        "proofPurpose": "assertionMethod",
        "proofValue": "u" + "A" * 80,
    }
    secured["proof"] = [secured["proof"], bbs]
    checks, keys = verify_proofs(secured, resolver=DidResolver(), purpose="assertionMethod")
    assert [(c.outcome, c.code) for c in checks if c.outcome != "passed"] == [
        ("warning", "unsupported_cryptosuite")
    ]
    assert len(keys) == 1
    # alone, or next to a proof that fails, it stays a failure
    secured["proof"][0]["proofValue"] = secured["proof"][0]["proofValue"][:-2] + "11"
    assert "unsupported_cryptosuite" in failures(verify(secured))
