"""Open Badges 2.0 signed assertions: the JWS signature itself (RS256 / ES256 with a PEM key).

Kept apart from the verification flow in ``credentials.ob2`` (which fetches the issuer's
key and decides what a failure means); ``sign_ob2`` makes test and demo assertions.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def _signature_valid(pem: str, alg: str, signature: bytes, data: bytes) -> bool:
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except (ValueError, TypeError):
        return False
    try:
        if alg == "RS256" and isinstance(key, rsa.RSAPublicKey):
            if key.key_size < 2048:
                return False
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
            return True
        if alg == "ES256" and isinstance(key, ec.EllipticCurvePublicKey):
            if not isinstance(key.curve, ec.SECP256R1) or len(signature) != 64:
                return False
            der = encode_dss_signature(
                int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            )
            key.verify(der, data, ec.ECDSA(hashes.SHA256()))
            return True
    except InvalidSignature:
        return False
    return False


def sign_ob2(assertion: Mapping[str, Any], private_key: Any, *, alg: str = "RS256") -> str:
    """A compact JWS over ``assertion`` (for tests and demos of signed OB 2.0 badges)."""
    header = {"alg": alg, "typ": "JWT"}

    def enc(data: Any) -> str:
        raw = json.dumps(data, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    signing_input = f"{enc(header)}.{enc(dict(assertion))}".encode()
    if alg == "RS256":
        signature = private_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    else:
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        r, s = decode_dss_signature(private_key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return signing_input.decode() + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
