"""ecdsa-sd-2023: the W3C vectors byte for byte, round trips, tampering and bad input."""

from __future__ import annotations

import base64
import copy
import hashlib
from typing import Any

import cbor2
import pytest

from credentials import ecdsa_sd as sd
from credentials.canonical import canonicalize
from credentials.dids import DidResolver
from credentials.documents import DocumentLoader
from credentials.keys import Multikey
from credentials.proofs import sign, verify_proofs
from tests.conftest import fixture_text, load_fixture

CITIZENSHIP = "https://w3id.org/citizenship/v4rc1"
LOADER = DocumentLoader(
    extra_contexts={CITIZENSHIP: load_fixture("contexts/citizenship-v4rc1.jsonld")}
)
KEYS = load_fixture("vectors/ecdsa-sd-2023/SDKeyMaterial.json")
HMAC_KEY = bytes.fromhex(KEYS["hmacKeyString"])
ISSUER = Multikey.from_dict(KEYS["baseKeyPair"])
PROOF_KEY = Multikey.from_dict(KEYS["proofKeyPair"])
SELECTIVE = ["/validFrom", "/validUntil", "/credentialSubject/birthCountry"]
CASES = ["employ", "prc"]


def vec(case: str, name: str) -> Any:
    return load_fixture(f"vectors/ecdsa-sd-2023/{case}/{name}")


def unsecured(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "proof"}


def config_of(document: dict[str, Any]) -> dict[str, Any]:
    proof = {k: v for k, v in document["proof"].items() if k != "proofValue"}
    return {**proof, "@context": document["@context"]}


def verify(document: dict[str, Any]) -> tuple[list[Any], list[Multikey]]:
    return verify_proofs(document, resolver=DidResolver(), purpose="assertionMethod", loader=LOADER)


def proof_outcome(document: dict[str, Any]) -> tuple[str, str]:
    checks, _ = verify(document)
    last = [c for c in checks if c.id == "proof"][-1]
    return last.outcome, last.code or ""


def proof_message(document: dict[str, Any]) -> str:
    """Every failure is the one code ``invalid_proof``; the message names the reason."""
    checks, _ = verify(document)
    last = [c for c in checks if c.id == "proof"][-1]
    assert (last.outcome, last.code) == ("failed", "invalid_proof")
    return last.message


# --- the W3C vectors ---------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_base_transformation_reproduces_the_vectors(case: str) -> None:
    signed = vec(case, "addSignedSDBase.json")
    pointers = [p["pointer"] for p in vec(case, "addPointerValues.json")]
    groups = sd.canonicalize_and_group(unsecured(signed), HMAC_KEY, {"mandatory": pointers}, LOADER)
    assert groups.nquads == vec(case, "addBaseDocHMACCanon.json")
    transform = vec(case, "addBaseTransform.json")
    assert transform["mandatoryPointers"] == pointers
    assert groups.matching["mandatory"] == [i for i, _ in transform["mandatory"]["value"]]
    mandatory_set = set(groups.matching["mandatory"])
    non_mandatory = [q for i, q in enumerate(groups.nquads) if i not in mandatory_set]
    assert non_mandatory == [q for _, q in transform["nonMandatory"]["value"]]
    # the hashes and the canonical proof configuration
    config = vec(case, "addProofConfig.json")
    assert canonicalize(config, LOADER, strict=False) == fixture_text(
        f"vectors/ecdsa-sd-2023/{case}/addProofConfigCanon.txt"
    )
    hashes = vec(case, "addHashData.json")
    assert sd.proof_hash(config, LOADER).hex() == hashes["proofHash"]
    mandatory = "".join(groups.nquads[i] for i in groups.matching["mandatory"])
    assert hashlib.sha256(mandatory.encode()).hexdigest() == hashes["mandatoryHash"]


@pytest.mark.parametrize("case", CASES)
def test_base_proof_value_serialisation_is_byte_exact(case: str) -> None:
    signed = vec(case, "addSignedSDBase.json")
    raw = vec(case, "addRawBaseSignatureInfo.json")
    value = signed["proof"]["proofValue"]
    base = sd.parse_base(value)
    assert base.base_signature.hex() == raw["baseSignature"]
    assert base.public_key == sd.ephemeral_public_bytes(PROOF_KEY)
    assert base.hmac_key == HMAC_KEY
    assert [s.hex() for s in base.signatures] == raw["signatures"]
    assert sd.serialize_base(base) == value
    assert value.startswith("u2V0A")  # multibase 'u' + header 0xd9 0x5d 0x00


@pytest.mark.parametrize("case", CASES)
def test_our_base_proof_signs_exactly_the_vector_statements(case: str) -> None:
    """ECDSA signatures are randomised: the vector's cannot be re-made, but with the
    vector's keys ours cover the same statements and verify, and the vector's verify."""
    signed = vec(case, "addSignedSDBase.json")
    pointers = [p["pointer"] for p in vec(case, "addPointerValues.json")]
    value = sd.create_base_proof_value(
        unsecured(signed),
        vec(case, "addProofConfig.json"),
        ISSUER,
        pointers,
        LOADER,
        hmac_key=HMAC_KEY,
        proof_key=PROOF_KEY,
    )
    ours, theirs = sd.parse_base(value), sd.parse_base(signed["proof"]["proofValue"])
    assert (ours.public_key, ours.hmac_key, ours.mandatory_pointers) == (
        theirs.public_key,
        theirs.hmac_key,
        theirs.mandatory_pointers,
    )
    assert len(ours.signatures) == len(theirs.signatures)
    assert proof_outcome(signed) == ("passed", "ok")
    assert proof_outcome({**signed, "proof": {**signed["proof"], "proofValue": value}}) == (
        "passed",
        "ok",
    )


@pytest.mark.parametrize("case", CASES)
def test_derived_proof_reproduces_the_vector_byte_for_byte(case: str) -> None:
    reveal = sd.derive(vec(case, "addSignedSDBase.json"), SELECTIVE, LOADER)
    expected = vec(case, "derivedRevealDocument.json")
    assert reveal["proof"]["proofValue"] == expected["proof"]["proofValue"]
    assert reveal == expected
    assert list(reveal) == list(expected)  # same key order: same JSON bytes
    derived = sd.parse_derived(expected["proof"]["proofValue"])
    disclosure = vec(case, "derivedDisclosureData.json")
    assert derived.label_map == dict(disclosure["labelMap"]["value"])
    assert derived.mandatory_indexes == disclosure["mandatoryIndexes"]
    assert [s.hex() for s in derived.signatures] == disclosure["signatures"]


@pytest.mark.parametrize("case", CASES)
def test_the_vector_reveal_document_verifies(case: str) -> None:
    checks, keys = verify(vec(case, "derivedRevealDocument.json"))
    assert [c.outcome for c in checks] == ["passed", "passed", "passed"]
    assert keys[0].public_key_multibase == KEYS["baseKeyPair"]["publicKeyMultibase"]
    nquads = vec(case, "verifyNQuads.json")
    document = vec(case, "derivedRevealDocument.json")
    derived = sd.parse_derived(document["proof"]["proofValue"])
    text = canonicalize(unsecured(document), LOADER, strict=False)
    relabelled = sorted(sd.relabel(q, derived.label_map) for q in text.splitlines(True))
    assert relabelled == nquads


# --- round trip through proofs.sign / verify_proofs -----------------------------------------


def base_credential(**changes: Any) -> dict[str, Any]:
    document = unsecured(vec("employ", "addSignedSDBase.json"))
    document["credentialSubject"] = {**document["credentialSubject"], **changes}
    return sign(
        document,
        ISSUER,
        cryptosuite="ecdsa-sd-2023",
        mandatory_pointers=["/issuer", "/validFrom"],
        loader=LOADER,
        strict=False,
    )


def test_sign_derive_verify_round_trip_hides_what_was_not_chosen() -> None:
    base = base_credential()
    assert proof_outcome(base) == ("passed", "ok")
    reveal = sd.derive(base, ["/credentialSubject/birthCountry"], LOADER)
    assert reveal["credentialSubject"] == {
        "type": ["Person", "EmployablePerson"],
        "birthCountry": "Bahamas",
    }
    assert "validFrom" in reveal and "validUntil" not in reveal
    assert b"SMITH" not in repr(reveal).encode()
    assert proof_outcome(reveal) == ("passed", "ok")
    # nothing selective at all: only the mandatory part travels
    assert proof_outcome(sd.derive(base, [], LOADER)) == ("passed", "ok")


# --- tampering: each fails with its reason ------------------------------------------------------


def test_an_altered_disclosed_value_fails_naming_the_statement() -> None:
    reveal = sd.derive(base_credential(), ["/credentialSubject/birthCountry"], LOADER)
    reveal["credentialSubject"]["birthCountry"] = "Nederland"
    assert "Nederland" in proof_message(reveal)


def test_a_disclosed_value_moved_to_another_credential_fails() -> None:
    alice = sd.derive(base_credential(givenName="ALICE"), ["/credentialSubject/givenName"], LOADER)
    bob = sd.derive(base_credential(givenName="BOB"), ["/credentialSubject/givenName"], LOADER)
    bob["credentialSubject"]["givenName"] = alice["credentialSubject"]["givenName"]
    assert "does not match its signature" in proof_message(bob)
    # and Alice's whole proof on Bob's revealed statements does not verify either
    moved = {**unsecured(bob), "proof": alice["proof"]}
    moved["credentialSubject"]["givenName"] = "BOB"
    assert proof_outcome(moved)[0] == "failed"


def test_a_removed_mandatory_field_fails_naming_the_base_signature() -> None:
    reveal = sd.derive(base_credential(), ["/credentialSubject/birthCountry"], LOADER)
    del reveal["validFrom"]
    # the mandatory statement is gone: the statement count no longer matches the proof
    assert "statements" in proof_message(reveal)


def test_a_changed_mandatory_field_fails_naming_the_base_signature() -> None:
    reveal = sd.derive(base_credential(), [], LOADER)
    reveal["validFrom"] = "2020-01-01T00:00:00Z"
    assert "base signature" in proof_message(reveal)


# --- bad input: a code, never an exception --------------------------------------------------


@pytest.mark.parametrize(
    ("pointers", "code"),
    [
        (["/credentialSubject/nothingHere"], "sd_pointer_not_found"),
        (["/credentialSubject/type/7"], "sd_pointer_not_found"),
        (["/validFrom", "/validFrom"], "sd_pointer_duplicate"),
        (["credentialSubject"], "sd_pointer_malformed"),
        (["/a~2b"], "sd_pointer_malformed"),
        ([""], "sd_pointer_malformed"),
        ([7], "sd_pointer_malformed"),
        ([f"/x{i}" for i in range(sd.MAX_POINTERS + 1)], "sd_too_many_pointers"),
    ],
)
def test_bad_selective_pointers_fail_with_a_code(pointers: list[Any], code: str) -> None:
    with pytest.raises(sd.SdError) as caught:
        sd.derive(base_credential(), pointers, LOADER)
    assert caught.value.code == code


def _with_value(document: dict[str, Any], value: str) -> dict[str, Any]:
    return {**document, "proof": {**document["proof"], "proofValue": value}}


def _u(data: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("zNotBase64url", "sd_proof_value_malformed"),
        (_u(b"\xd9\x5d\x01" + b"\xff\xff"), "sd_proof_value_cbor"),
        (_u(b"\xd9\x5d\x01" + cbor2.dumps([1, 2, 3])), "sd_proof_value_cbor"),
        (_u(b"\xd9\x5d\x01" + cbor2.dumps([b"x", b"y", [], {}, []])), "sd_proof_value_cbor"),
        (_u(b"\xd9\x5d\x07" + cbor2.dumps([])), "sd_proof_value_header"),
        (_u(b"\xd9\x5d\x00" + cbor2.dumps("nope")), "sd_proof_value_cbor"),
    ],
)
def test_a_proof_value_that_is_not_the_expected_cbor_fails_with_a_code(
    value: str, code: str
) -> None:
    parse = sd.parse_base if value.startswith(_u(sd.BASE_HEADER)) else sd.parse_derived
    with pytest.raises(sd.SdError) as caught:
        parse(value)
    assert caught.value.code == code
    # the verifier is opaque about it: one code, and not a word about the encoding
    reveal = vec("employ", "derivedRevealDocument.json")
    message = proof_message(_with_value(reveal, value))
    assert "CBOR" not in message and "base64" not in message


def test_a_byte_appended_to_the_proof_value_is_refused() -> None:
    """cbor2 ignores trailing bytes; the proof value must not have two encodings."""
    reveal = vec("employ", "derivedRevealDocument.json")
    value = reveal["proof"]["proofValue"]
    longer = _u(base64.urlsafe_b64decode(value[1:] + "=" * (-len(value[1:]) % 4)) + b"\0")
    with pytest.raises(sd.SdError) as caught:
        sd.parse_derived(longer)
    assert caught.value.code == "sd_proof_value_cbor"
    proof_message(_with_value(reveal, longer))


def test_mandatory_indexes_pointing_at_nothing_fail_with_a_code() -> None:
    reveal = vec("employ", "derivedRevealDocument.json")
    derived = sd.parse_derived(reveal["proof"]["proofValue"])
    derived.mandatory_indexes = [0, 4, 99, 5]
    proof_message(_with_value(reveal, sd.serialize_derived(derived)))


def test_a_label_map_missing_a_blank_node_fails_with_a_code() -> None:
    reveal = vec("employ", "derivedRevealDocument.json")
    derived = sd.parse_derived(reveal["proof"]["proofValue"])
    derived.label_map.pop("c14n1")
    proof_message(_with_value(reveal, sd.serialize_derived(derived)))


def test_a_base_proof_with_too_many_mandatory_pointers_is_refused() -> None:
    base = copy.deepcopy(vec("employ", "addSignedSDBase.json"))
    parsed = sd.parse_base(base["proof"]["proofValue"])
    parsed.mandatory_pointers = [f"/p{i}" for i in range(sd.MAX_POINTERS + 1)]
    with pytest.raises(sd.SdError) as caught:
        sd.derive(_with_value(base, sd.serialize_base(parsed)), [], LOADER)
    assert caught.value.code == "sd_too_many_pointers"


def test_an_ed25519_key_cannot_make_an_sd_proof() -> None:
    with pytest.raises(Exception) as caught:
        sign(
            unsecured(vec("employ", "addSignedSDBase.json")),
            Multikey.generate("Ed25519"),
            cryptosuite="ecdsa-sd-2023",
            loader=LOADER,
            strict=False,
        )
    assert getattr(caught.value, "code", "") == "wrong_key_type"


def test_the_quick_nquads_reader_reads_what_pyld_reads() -> None:
    from pyld.nquads import parse_nquads

    quads = list(vec("employ", "addBaseDocHMACCanon.json"))
    quads += [
        '_:b0 <https://schema.org/name> "say \\"hi\\"\\n\\\\ok"@nl-NL .\n',
        '<urn:x> <https://schema.org/p> "7"^^<http://www.w3.org/2001/XMLSchema#integer> _:g .\n',
        "<urn:x> <https://schema.org/q> <urn:y> <urn:graph> .\n",
    ]
    assert sd._dataset(quads) == parse_nquads("".join(quads))


def test_the_verifier_report_names_what_the_learner_withheld() -> None:
    from dataclasses import replace

    from credentials.disclosure import mandatory_pointers, selective_pointers
    from credentials.microcredential import Learner
    from credentials.verify import Verifier
    from microcred.samples import HBO, sample_credential

    issuer = Multikey.generate("P-256")
    unsigned = sample_credential(
        issuer=replace(HBO, id=issuer.controller),
        learner=Learner(did=Multikey.generate().controller, identity="a@b.nl", salt="00ff00ff"),
    )
    base = sign(
        unsigned,
        issuer,
        cryptosuite="ecdsa-sd-2023",
        mandatory_pointers=mandatory_pointers(unsigned),
    )
    assert (
        Verifier().verify_credential(base, check_status=False).outcome_of("selective_disclosure")
        is None
    )  # nothing withheld in the base credential
    reveal = sd.derive(base, selective_pointers(unsigned, set()), DocumentLoader())
    report = Verifier().verify_credential(reveal, check_status=False)
    assert report.verified, report.to_dict()
    check = report.outcome_of("selective_disclosure")
    assert check is not None and check.code == "fields_withheld"
    assert "cijfer (grade)" in check.message


def test_a_document_the_quick_skolemisation_gets_wrong_takes_the_spec_route() -> None:
    """An ``@json`` literal holding an object: naming that object would change the literal,
    the canonical forms then differ, and the expand–skolemise–compact route is taken."""
    document = {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            {"settings": {"@id": "https://example.org/settings", "@type": "@json"}},
        ],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "credentialSubject": {"settings": {"a": 1, "b": [True]}},
    }
    quick = sd._skolemize_compact(document, [0])
    assert "id" in quick["credentialSubject"]["settings"]  # the quick guess is wrong here
    groups = sd.canonicalize_and_group(
        document, HMAC_KEY, {"mandatory": ["/credentialSubject/settings"]}, LOADER
    )
    canonical = canonicalize(document, LOADER, strict=False)
    assert len(groups.nquads) == len(canonical.splitlines())
    assert any('{\\"a\\":1,\\"b\\":[true]}' in q for q in groups.nquads)
    assert len(groups.matching["mandatory"]) >= 2
