"""The interop harness on its own: the Node reference implementation must
reproduce the published spec vectors before its verdicts on our credentials
mean anything."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from interop.reference import (
    ReferenceImplementation,
    ReferenceImplementationError,
    ReferenceProcessError,
)
from tests.conftest import fixture_text, load_fixture

pytestmark = pytest.mark.interop

DID_CONTEXT = "https://www.w3.org/ns/did/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"
CITIZENSHIP = "https://w3id.org/citizenship/v4rc1"
OB_ISSUER = "https://example.edu/issuers/565049"
OB_PUBLIC_KEY = "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"


def vector(name: str) -> Any:
    return load_fixture(f"vectors/{name}")


def w3c_key() -> dict[str, Any]:
    """The vc-di-eddsa key pair as a Multikey (upstream calls the secret
    `privateKeyMultibase`)."""
    pair = vector("eddsa-rdfc-2022/keyPair.json")
    did = f"did:key:{pair['publicKeyMultibase']}"
    return {
        "id": f"{did}#{pair['publicKeyMultibase']}",
        "type": "Multikey",
        "controller": did,
        "publicKeyMultibase": pair["publicKeyMultibase"],
        "secretKeyMultibase": pair["privateKeyMultibase"],
    }


def controller_document(controller: str, key: dict[str, Any]) -> dict[str, Any]:
    """Controller/DID document listing `key` for assertion and authentication.

    did/v1 must come first: jsonld-signatures otherwise frames the document
    with https://w3id.org/security/v2, which is not a shipped context.
    """
    method = {
        "id": key["id"],
        "type": "Multikey",
        "controller": controller,
        "publicKeyMultibase": key["publicKeyMultibase"],
    }
    return {
        "@context": [DID_CONTEXT, MULTIKEY_CONTEXT],
        "id": controller,
        "verificationMethod": [method],
        "assertionMethod": [key["id"]],
        "authentication": [key["id"]],
    }


def credential_for(issuer: str) -> dict[str, Any]:
    return {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://www.w3.org/ns/credentials/examples/v2",
        ],
        "id": "urn:uuid:0b1c8a3e-6f0e-4a4b-9d55-3c1f7e0a1b2c",
        "type": ["VerifiableCredential", "ExampleDegreeCredential"],
        "issuer": issuer,
        "validFrom": "2024-01-01T00:00:00Z",
        "credentialSubject": {
            "id": "did:example:learner",
            "degree": {"type": "ExampleBachelorDegree", "name": "Bachelor of Examples"},
        },
    }


# ----------------------------------------------------------- canonicalisation


W3C = "eddsa-rdfc-2022"
CANONIZE_CASES = [
    (f"{W3C}/unsigned.json", f"{W3C}/canonDocDataInt.txt"),
    (f"{W3C}/proofConfigDataInt.json", f"{W3C}/proofCanonDataInt.txt"),
    (f"{W3C}/employ/employmentAuth.json", f"{W3C}/employ/canonDocDataInt.txt"),
    ("obv3p0/credential-unsigned.json", "obv3p0/document-canon.txt"),
]


@pytest.mark.parametrize(("document", "expected"), CANONIZE_CASES)
def test_canonize_matches_vector(
    reference: ReferenceImplementation, document: str, expected: str
) -> None:
    # the employ vector (blank nodes) needs a context we keep only as a fixture
    extra = {CITIZENSHIP: load_fixture("contexts/citizenship-v4rc1.jsonld")}
    canonical = reference.canonize(vector(document), documents=extra)
    assert canonical == fixture_text(f"vectors/{expected}")


def test_canonize_is_safe_mode_and_offline(reference: ReferenceImplementation) -> None:
    # credentials/v2 has no @vocab (examples/v2 has): an undefined term must
    # raise in safe mode, not vanish from what gets signed
    document = vector("eddsa-rdfc-2022/unsigned.json")
    document["@context"] = ["https://www.w3.org/ns/credentials/v2"]
    document["type"] = ["VerifiableCredential"]
    document["credentialSubject"] = {"id": "did:example:abcdefgh"}
    document["undefinedTerm"] = "dropped silently unless safe mode"
    with pytest.raises(ReferenceImplementationError, match=r"invalid property.*undefinedTerm"):
        reference.canonize(document)
    assert "undefinedTerm" not in reference.canonize(document, safe=False)

    unknown = vector("eddsa-rdfc-2022/unsigned.json")
    unknown["@context"].append("https://evil.example/ctx")
    with pytest.raises(ReferenceImplementationError, match=r"refused to load \"https://evil"):
        reference.canonize(unknown)


# ------------------------------------------------------------- credentials


def test_w3c_signed_vector_verifies(reference: ReferenceImplementation) -> None:
    signed = vector("eddsa-rdfc-2022/signedDataInt.json")
    assert reference.verify(signed, check_issuer=False) == (True, None)
    # vc.js also demands issuer == key controller; the vector (https issuer,
    # did:key proof) is a cryptosuite vector and does not meet that
    verified, error = reference.verify(signed)
    assert not verified
    assert "issuer must match the verification method controller" in (error or "")


def test_w3c_tampered_vector_fails(reference: ReferenceImplementation) -> None:
    tampered = vector("eddsa-rdfc-2022/signedDataInt.json")
    tampered["credentialSubject"]["alumniOf"] = "The School of Forgeries"
    verified, error = reference.verify(tampered, check_issuer=False)
    assert not verified
    assert "Invalid signature" in (error or "")


def test_sign_reproduces_w3c_vector(reference: ReferenceImplementation) -> None:
    signed = reference.sign(
        vector("eddsa-rdfc-2022/unsigned.json"), w3c_key(), created="2023-02-24T23:36:38Z"
    )
    assert signed == vector("eddsa-rdfc-2022/signedDataInt.json")


@pytest.mark.parametrize(
    ("key_type", "prefix", "cryptosuite"),
    [("ed25519", "z6Mk", "eddsa-rdfc-2022"), ("p256", "zDna", "ecdsa-rdfc-2019")],
)
def test_fresh_key_round_trip(
    reference: ReferenceImplementation, key_type: str, prefix: str, cryptosuite: str
) -> None:
    key = reference.generate_key(key_type)  # type: ignore[arg-type]
    assert key["publicKeyMultibase"].startswith(prefix)
    assert key["secretKeyMultibase"].startswith("z")
    assert key["controller"] == f"did:key:{key['publicKeyMultibase']}"

    signed = reference.sign(credential_for(key["controller"]), key)
    assert signed["proof"]["cryptosuite"] == cryptosuite
    assert signed["proof"]["proofPurpose"] == "assertionMethod"
    assert signed["proof"]["verificationMethod"] == key["id"]
    assert "issuanceDate" not in signed  # vc 7.x adds it to VCDM 1.1 only
    assert reference.verify(signed) == (True, None)

    tampered = copy.deepcopy(signed)
    tampered["validFrom"] = "2023-01-01T00:00:00Z"
    assert reference.verify(tampered)[0] is False


def test_open_badges_vector_verifies(reference: ReferenceImplementation) -> None:
    signed = vector("obv3p0/credential-signed.json")
    key = {"id": f"{OB_ISSUER}#{OB_PUBLIC_KEY}", "publicKeyMultibase": OB_PUBLIC_KEY}
    documents = {OB_ISSUER: controller_document(OB_ISSUER, key)}
    assert reference.verify(signed, documents=documents) == (True, None)

    verified, error = reference.verify(signed)  # https key URL, nothing supplied
    assert not verified
    assert OB_ISSUER in (error or "")


# ----------------------------------------------------------- presentations


def test_presentation_round_trip(reference: ReferenceImplementation) -> None:
    issuer_key = reference.generate_key("ed25519")
    holder_key = reference.generate_key("p256")
    credential = reference.sign(credential_for(issuer_key["controller"]), issuer_key)

    vp = reference.present(
        holder_key, credentials=[credential], challenge="nonce-123", domain="verifier.example"
    )
    assert vp["holder"] == holder_key["controller"]
    assert vp["proof"]["proofPurpose"] == "authentication"
    assert vp["proof"]["challenge"] == "nonce-123"
    assert reference.verify_presentation(vp, challenge="nonce-123", domain="verifier.example") == (
        True,
        None,
    )

    verified, error = reference.verify_presentation(
        vp, challenge="other-nonce", domain="verifier.example"
    )
    assert not verified
    assert "challenge" in (error or "")

    forged = copy.deepcopy(vp)
    forged["verifiableCredential"][0]["credentialSubject"]["id"] = "did:example:mallory"
    verified, error = reference.verify_presentation(
        forged, challenge="nonce-123", domain="verifier.example"
    )
    assert not verified
    assert "credential 0" in (error or "")


# ------------------------------------------------------------------ did:web


@pytest.fixture
def did_web_server() -> Iterator[tuple[str, dict[str, Any]]]:
    """A loopback HTTP server answering every GET with `documents[path]`."""
    documents: dict[str, Any] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = documents.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("content-type", "application/did+json")
            self.end_headers()
            if body is not None:
                self.wfile.write(json.dumps(body).encode())

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1%3A{server.server_address[1]}", documents
    finally:
        server.shutdown()
        server.server_close()


def test_did_web_issuer_on_loopback(
    reference: ReferenceImplementation, did_web_server: tuple[str, dict[str, Any]]
) -> None:
    host, documents = did_web_server
    did = f"did:web:{host}:issuers:faculty"
    key = reference.generate_key("p256", controller=did)
    assert key["id"] == f"{did}#{key['publicKeyMultibase']}"
    documents["/issuers/faculty/did.json"] = controller_document(did, key)

    signed = reference.sign(credential_for(did), key)
    assert reference.verify(signed) == (True, None)

    del documents["/issuers/faculty/did.json"]
    verified, error = reference.verify(signed)
    assert not verified
    assert "HTTP 404" in (error or "")


# ------------------------------------------------------------------- bench


def test_bench_sign_and_verify(reference: ReferenceImplementation) -> None:
    key = reference.generate_key("ed25519")
    unsigned = [credential_for(key["controller"]) for _ in range(5)]
    count, seconds = reference.bench("sign", unsigned, key)
    assert count == 5 and seconds > 0

    signed = [reference.sign(c, key) for c in unsigned]
    count, seconds = reference.bench("verify", signed)
    assert count == 5 and seconds > 0

    signed[3]["credentialSubject"]["id"] = "did:example:mallory"
    with pytest.raises(ReferenceImplementationError, match="credential 3 did not verify"):
        reference.bench("verify", signed)


# --------------------------------------------------------------- lifecycle


@pytest.mark.usefixtures("reference")  # only for its skip-if-unavailable
def test_dead_process_raises_then_restarts() -> None:
    with ReferenceImplementation() as ref:
        assert ref.info()["packages"]["@digitalbazaar/vc"] == "7.3.0"
        process = ref._proc
        assert process is not None
        process.kill()
        process.wait()
        with pytest.raises(ReferenceProcessError, match="exit code"):
            ref.info()
        assert ref.info()["node"].startswith("v")  # a fresh process
