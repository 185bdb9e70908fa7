"""The W3C vc-di-eddsa and 1EdTech Open Badges test vectors, reproduced exactly."""

from __future__ import annotations

import hashlib

import pytest

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

W3C = [
    ("eddsa-rdfc-2022/unsigned.json", "eddsa-rdfc-2022", "eddsa-rdfc-2022/signedDataInt.json"),
    (
        "eddsa-rdfc-2022/employ/employmentAuth.json",
        "eddsa-rdfc-2022/employ",
        "eddsa-rdfc-2022/employ/signedDataInt.json",
    ),
]


def vector(name: str) -> str:
    return fixture_text(f"vectors/{name}")


@pytest.mark.parametrize(("unsigned", "folder", "signed"), W3C)
def test_w3c_vector_canonical_forms_and_hashes(unsigned: str, folder: str, signed: str) -> None:
    document = load_fixture(f"vectors/{unsigned}")
    config = load_fixture(f"vectors/{folder}/proofConfigDataInt.json")
    canon_doc = canonicalize(document, LOADER, strict=False)
    canon_proof = canonicalize(config, LOADER, strict=False)
    assert canon_doc == vector(f"{folder}/canonDocDataInt.txt")
    assert canon_proof == vector(f"{folder}/proofCanonDataInt.txt")
    doc_hash = hashlib.sha256(canon_doc.encode()).hexdigest()
    proof_hash = hashlib.sha256(canon_proof.encode()).hexdigest()
    assert doc_hash == vector(f"{folder}/docHashDataInt.txt").strip()
    assert proof_hash == vector(f"{folder}/proofHashDataInt.txt").strip()
    assert proof_hash + doc_hash == vector(f"{folder}/combinedHashDataInt.txt").strip()


@pytest.mark.parametrize(("unsigned", "folder", "signed"), W3C)
def test_w3c_vector_proof_value_reproduced(unsigned: str, folder: str, signed: str) -> None:
    key = Multikey.from_dict(load_fixture("vectors/eddsa-rdfc-2022/keyPair.json"))
    document = load_fixture(f"vectors/{unsigned}")
    config = load_fixture(f"vectors/{folder}/proofConfigDataInt.json")
    secured = sign(document, key, created=config["created"], loader=LOADER, strict=False)
    assert secured["proof"]["proofValue"] == vector(f"{folder}/sigBTC58DataInt.txt").strip()
    assert secured == load_fixture(f"vectors/{signed}")


@pytest.mark.parametrize(("unsigned", "folder", "signed"), W3C)
def test_w3c_signed_vector_verifies(unsigned: str, folder: str, signed: str) -> None:
    checks, keys = verify_proofs(
        load_fixture(f"vectors/{signed}"),
        resolver=DidResolver(),
        purpose="assertionMethod",
        loader=LOADER,
    )
    assert [c.outcome for c in checks] == ["passed", "passed", "passed"]
    assert keys[0].public_key_multibase == "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"


def _ob_resolver() -> DidResolver:
    info = load_fixture("vectors/obv3p0/vector.json")["keyPair"]
    controller = info["controller"]
    vm = {
        "id": info["verificationMethod"],
        "type": "Multikey",
        "controller": controller,
        "publicKeyMultibase": info["publicKeyMultibase"],
    }
    document = {"id": controller, "verificationMethod": [vm], "assertionMethod": [vm["id"]]}
    return DidResolver(overrides={controller: document})


def test_open_badges_vector_canonical_forms() -> None:
    unsigned = load_fixture("vectors/obv3p0/credential-unsigned.json")
    options = load_fixture("vectors/obv3p0/proof-options.json")
    assert canonicalize(unsigned, strict=False) == vector("obv3p0/document-canon.txt")
    config = {**options, "@context": unsigned["@context"]}
    assert canonicalize(config, strict=False) == vector("obv3p0/proof-canon.txt")


def test_open_badges_vector_signature_reproduced_and_verifies() -> None:
    info = load_fixture("vectors/obv3p0/vector.json")
    key = Multikey.from_dict(
        {
            "secretKeyMultibase": info["keyPair"]["secretKeyMultibase"],
            "controller": info["keyPair"]["controller"],
            "id": info["keyPair"]["verificationMethod"],
        }
    )
    unsigned = load_fixture("vectors/obv3p0/credential-unsigned.json")
    secured = sign(unsigned, key, created="2010-01-01T19:23:24Z", strict=False)
    assert secured["proof"]["proofValue"] == info["expected"]["proofValue"]
    signed = load_fixture("vectors/obv3p0/credential-signed.json")
    checks, _ = verify_proofs(signed, resolver=_ob_resolver(), purpose="assertionMethod")
    assert all(c.outcome == "passed" for c in checks), checks


def test_tampered_vector_fails_as_invalid_proof() -> None:
    signed = load_fixture("vectors/eddsa-rdfc-2022/signedDataInt.json")
    signed["credentialSubject"]["alumniOf"] = "Evil University"
    checks, keys = verify_proofs(signed, resolver=DidResolver(), purpose="assertionMethod")
    assert checks[-1].code == "invalid_proof"
    assert keys == []
