"""Compact JWS with Multikeys: just enough JOSE for OpenID4VCI key proofs.

OpenID4VCI's ``jwt`` proof type is what wallets in the field send, so the issuer must check
one and the wallet must make one. Only asymmetric algorithms bound to did:key Multikeys are
accepted (EdDSA for Ed25519, ES256 for P-256); ``alg: none`` and header-embedded private
keys are refused. Everything else about the claims is the caller's policy.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from .dids import DidResolver
from .errors import InvalidProof, MalformedInput, MicrocredError
from .keys import Multikey

ALGORITHMS = {"Ed25519": "EdDSA", "P-256": "ES256", "P-384": "ES384"}


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64d(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise MalformedInput(f"invalid base64url in JWT: {exc}", code="invalid_jwt") from None


def sign_jwt(header: dict[str, Any], claims: dict[str, Any], key: Multikey) -> str:
    header = {**header, "alg": ALGORITHMS[key.algorithm], "kid": header.get("kid", key.id)}
    signing_input = (
        _b64e(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + _b64e(json.dumps(claims, separators=(",", ":")).encode())
    )
    return signing_input + "." + _b64e(key.sign(signing_input.encode()))


def decode_unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    if not isinstance(token, str) or token.count(".") != 2:
        raise MalformedInput("not a compact JWS", code="invalid_jwt")
    header_b64, claims_b64, _ = token.split(".")
    try:
        header = json.loads(_b64d(header_b64))
        claims = json.loads(_b64d(claims_b64))
    except ValueError:
        raise MalformedInput("the JWT header or claims are not JSON", code="invalid_jwt") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise MalformedInput("the JWT header and claims must be objects", code="invalid_jwt")
    return header, claims


def verify_jwt(
    token: str, resolver: DidResolver, *, purpose: str = "authentication"
) -> tuple[dict[str, Any], dict[str, Any], Multikey]:
    """(header, claims, key) of a JWS signed by the DID key named in ``kid``."""
    header, claims = decode_unverified(token)
    if "jwk" in header and isinstance(header["jwk"], dict) and "d" in header["jwk"]:
        raise InvalidProof("the JWT header carries a private key")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid.startswith("did:"):
        raise InvalidProof("the JWT must name its key with a DID URL in kid")
    try:
        vm = resolver.verification_method(kid)
        key = Multikey.from_public_multibase(
            vm.get("publicKeyMultibase", ""), controller=kid.split("#")[0], id=kid
        )
        if not resolver.is_authorised(kid, purpose):
            raise InvalidProof(f"{kid} is not authorised for {purpose}")
    except InvalidProof:
        raise
    except MicrocredError as exc:
        raise InvalidProof(f"the JWT key cannot be resolved: {exc.message}") from None
    if header.get("alg") != ALGORITHMS[key.algorithm]:
        raise InvalidProof(f"alg {header.get('alg')!r} does not fit the {key.algorithm} key")
    signing_input, _, signature = token.rpartition(".")
    if not key.verify(_b64d(signature), signing_input.encode()):
        raise InvalidProof("the JWT signature does not verify")
    return header, claims, key
