"""Compact JWS with Multikeys: just enough JOSE for OpenID4VCI key proofs.

OpenID4VCI's ``jwt`` proof type is what wallets in the field send, so the issuer must check
one and the wallet must make one; OpenID4VP request objects (RFC 9101) are signed and
checked the same way. Only asymmetric algorithms are accepted (EdDSA for Ed25519, ES256 for
P-256), with the key named by a DID URL (``kid``) or, where the caller allows it, carried as
a public ``jwk``; ``alg: none`` and header-embedded private keys are refused. Everything
else about the claims is the caller's policy.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from .did_jwk import key_from_jwk, key_from_method
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
    """A compact JWS of ``claims`` signed by ``key``; ``alg`` follows the key, ``kid`` is
    the key's id unless the header names one or carries the key itself (``jwk``)."""
    header = {**header, "alg": ALGORITHMS[key.algorithm]}
    if "jwk" not in header:  # a key given by value needs no name
        header["kid"] = header.get("kid", key.id)
    signing_input = (
        _b64e(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + _b64e(json.dumps(claims, separators=(",", ":")).encode())
    )
    return signing_input + "." + _b64e(key.sign(signing_input.encode()))


def decode_unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims of a compact JWS *without* checking its signature (to find
    the key that will), or ``MalformedInput`` (``invalid_jwt``)."""
    if not isinstance(token, str) or token.count(".") != 2:
        raise MalformedInput("not a compact JWS", code="invalid_jwt")
    header_b64, claims_b64, _ = token.split(".")
    try:
        header = json.loads(_b64d(header_b64))
        claims = json.loads(_b64d(claims_b64))
    except (ValueError, RecursionError):
        raise MalformedInput("the JWT header or claims are not JSON", code="invalid_jwt") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise MalformedInput("the JWT header and claims must be objects", code="invalid_jwt")
    return header, claims


def verify_jwt(
    token: str,
    resolver: DidResolver,
    *,
    purpose: str = "authentication",
    allow_jwk: bool = False,
) -> tuple[dict[str, Any], dict[str, Any], Multikey]:
    """(header, claims, key) of a JWS signed by the DID key named in ``kid``.

    With ``allow_jwk`` the key may instead be a bare public JWK in the header (OpenID4VCI
    key proofs from wallets without a DID); the key returned is then controlled by its
    did:jwk, so callers get one URI for the holder either way.
    """
    header, claims = decode_unverified(token)
    jwk = header.get("jwk")
    if isinstance(jwk, dict) and any(m in jwk for m in ("d", "p", "q", "k")):
        raise InvalidProof("the JWT header carries a private key")
    if "x5c" in header:
        raise InvalidProof("x5c keys are not accepted; name the key with kid or jwk")
    kid = header.get("kid")
    if allow_jwk and jwk is not None:
        if isinstance(kid, str) and kid.startswith("did:"):
            raise InvalidProof("the JWT names its key twice (kid and jwk); send one")
        try:
            key = key_from_jwk(jwk)
        except MicrocredError as exc:
            raise InvalidProof(f"the JWT's jwk is not a usable public key: {exc.message}") from None
    else:
        key = resolve_jwt_key(kid, resolver, purpose)
    if header.get("alg") is None or header.get("alg") != ALGORITHMS.get(key.algorithm):
        raise InvalidProof(f"alg {header.get('alg')!r} does not fit the {key.algorithm} key")
    signing_input, _, signature = token.rpartition(".")
    if not key.verify(_b64d(signature), signing_input.encode()):
        raise InvalidProof("the JWT signature does not verify")
    return header, claims, key


def resolve_jwt_key(kid: Any, resolver: DidResolver, purpose: str) -> Multikey:
    """The key a DID URL names, if its controller authorises it for ``purpose``."""
    if not isinstance(kid, str) or not kid.startswith("did:"):
        raise InvalidProof("the JWT must name its key with a DID URL in kid")
    try:
        key = key_from_method(resolver.verification_method(kid), kid)
        if not resolver.is_authorised(kid, purpose):
            raise InvalidProof(f"{kid} is not authorised for {purpose}")
    except InvalidProof:
        raise
    except MicrocredError as exc:
        raise InvalidProof(f"the JWT key cannot be resolved: {exc.message}") from None
    return key
