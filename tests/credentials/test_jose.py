"""JWT key proofs as OpenID4VCI uses them."""

from __future__ import annotations

import pytest

from credentials.dids import DidResolver
from credentials.errors import InvalidProof, MalformedInput
from credentials.jose import sign_jwt, verify_jwt
from credentials.keys import Multikey


@pytest.mark.parametrize("algorithm", ["ed25519", "p256", "p384"])
def test_round_trip(algorithm: str) -> None:
    key = Multikey.generate(algorithm)
    token = sign_jwt({"typ": "openid4vci-proof+jwt"}, {"aud": "https://i.example", "iat": 1}, key)
    header, claims, signer = verify_jwt(token, DidResolver())
    assert header["typ"] == "openid4vci-proof+jwt"
    assert claims["aud"] == "https://i.example"
    assert signer.controller == key.controller


def test_tampered_claims_fail() -> None:
    key = Multikey.generate()
    token = sign_jwt({}, {"nonce": "a"}, key)
    head, _, sig = token.split(".")
    other = sign_jwt({}, {"nonce": "b"}, key).split(".")[1]
    with pytest.raises(InvalidProof):
        verify_jwt(f"{head}.{other}.{sig}", DidResolver())


def test_alg_none_and_garbage_are_refused() -> None:
    key = Multikey.generate()
    token = sign_jwt({}, {}, key)
    import base64
    import json

    none_header = (
        base64.urlsafe_b64encode(json.dumps({"alg": "none", "kid": key.id}).encode())
        .rstrip(b"=")
        .decode()
    )
    with pytest.raises(InvalidProof):
        verify_jwt(none_header + "." + token.split(".")[1] + ".", DidResolver())
    with pytest.raises(MalformedInput):
        verify_jwt("not-a-jwt", DidResolver())
