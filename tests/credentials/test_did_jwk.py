"""did:jwk: the DID of a bare public key, resolved offline (OpenID4VCI jwk holder binding)."""

from __future__ import annotations

import base64
import json

import pytest

from credentials.did_jwk import did_jwk_document, did_jwk_for, jwk_of, key_from_jwk, public_jwk
from credentials.dids import DidResolver
from credentials.errors import DidResolutionError, KeyFormatError, UnsupportedError
from credentials.jose import sign_jwt, verify_jwt
from credentials.keys import Multikey

# the P-256 example of the did:jwk method specification
# (https://github.com/quartzjer/did-jwk/blob/main/spec.md#p-256)
SPEC_P256 = (
    "did:jwk:eyJjcnYiOiJQLTI1NiIsImt0eSI6IkVDIiwieCI6ImFjYklRaXVNczNpOF91c3pFakoydHBUdFJNNEVVM3l6"
    "OTFQSDZDZEgyVjAiLCJ5IjoiX0tjeUxqOXZXTXB0bm1LdG00NkdxRHo4d2Y3NEk1TEtncmwyR3pIM25TRSJ9"
)


def _did_of(jwk: dict[str, object]) -> str:
    raw = json.dumps(jwk, separators=(",", ":")).encode()
    return "did:jwk:" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_the_specifications_p256_example_resolves_to_its_key() -> None:
    document = DidResolver().resolve(SPEC_P256)
    assert document["id"] == SPEC_P256
    (method,) = document["verificationMethod"]
    assert method["id"] == f"{SPEC_P256}#0" and method["type"] == "JsonWebKey2020"
    assert method["controller"] == SPEC_P256
    assert method["publicKeyJwk"]["crv"] == "P-256"
    for relationship in ("assertionMethod", "authentication", "capabilityInvocation"):
        assert document[relationship] == [f"{SPEC_P256}#0"]
    assert did_jwk_for(jwk_of(SPEC_P256)) == SPEC_P256  # one key, one DID


@pytest.mark.parametrize("algorithm", ["ed25519", "p256"])
def test_a_jws_with_a_did_jwk_kid_verifies(algorithm: str) -> None:
    key = Multikey.generate(algorithm)
    did = did_jwk_for(public_jwk(key))
    signer = Multikey(key.algorithm, key.public_key, key.private_key, did, f"{did}#0")
    token = sign_jwt({"typ": "JWT"}, {"x": 1}, signer)
    _, claims, found = verify_jwt(token, DidResolver())
    assert claims == {"x": 1} and found.controller == did


def test_decorations_do_not_change_the_did_and_use_limits_the_relationships() -> None:
    key = Multikey.generate()
    plain = did_jwk_for(public_jwk(key))
    assert did_jwk_for({**public_jwk(key), "kid": "k1", "alg": "EdDSA", "use": "sig"}) == plain
    signing = did_jwk_document(_did_of({**public_jwk(key), "use": "sig"}))
    assert "keyAgreement" not in signing and signing["authentication"]
    encryption = did_jwk_document(_did_of({**public_jwk(key), "use": "enc"}))
    assert "authentication" not in encryption and encryption["keyAgreement"]


@pytest.mark.parametrize(
    "did",
    [
        "did:jwk:",
        "did:jwk:not base64!",
        "did:jwk:" + base64.urlsafe_b64encode(b"[1,2]").decode(),
        "did:jwk:" + base64.urlsafe_b64encode(b"not json").decode(),
        _did_of({"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}),  # too short
        _did_of({"kty": "RSA", "n": "AQAB", "e": "AQAB"}),  # unsupported
        _did_of({"kty": "OKP", "crv": "Ed25519", "x": "A" * 43, "d": "A" * 43}),  # private
        _did_of({"kty": "EC", "crv": "P-256", "x": "A" * 43, "y": "A" * 43}),  # not on curve
        "did:jwk:" + "A" * 5000,
    ],
)
def test_bad_did_jwks_are_resolution_errors(did: str) -> None:
    with pytest.raises(DidResolutionError):
        DidResolver().resolve(did)


def test_a_jwk_with_private_members_is_refused() -> None:
    key = Multikey.generate()
    with pytest.raises(KeyFormatError):
        key_from_jwk({**public_jwk(key), "d": "secret"})
    with pytest.raises(UnsupportedError):
        key_from_jwk({"kty": "EC", "crv": "P-521", "x": "AA", "y": "AA"})
