"""Compact JWS for SD-JWT, KB-JWT and status-list tokens, on ``joserfc``.

The SD-JWT drafts lean on JOSE in full (``typ`` values, ``x5c`` headers, JWK thumbprints),
so this package uses a maintained JOSE library instead of the project's minimal JWS helper
(``credentials/jose.py``, kept for OpenID4VCI proofs of DI credentials). Keys stay
microcred ``Multikey`` objects at the edges; they become joserfc keys only here.

Only asymmetric algorithms are accepted: ``ES256`` / ``ES384`` for P-256 / P-384 and
``EdDSA`` (and RFC 9864's ``Ed25519``) for Ed25519. ``none`` and MAC algorithms are refused,
so an attacker cannot pick a weaker algorithm in the header.
"""

from __future__ import annotations

import base64
import json
import warnings
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey

from ..errors import InvalidProof, KeyFormatError, MalformedInput
from ..jose import decode_unverified as decode
from ..keys import Multikey, public_jwk, public_key_from_jwk

ALGORITHMS: dict[str, str] = {"Ed25519": "EdDSA", "P-256": "ES256", "P-384": "ES384"}
ACCEPTED_ALGORITHMS = ("ES256", "ES384", "EdDSA", "Ed25519")
_CURVE_OF_ALG = {"ES256": "P-256", "ES384": "P-384", "EdDSA": "Ed25519", "Ed25519": "Ed25519"}


def _registry() -> jws.JWSRegistry:
    # x5c chains and SD-JWT payloads are larger than joserfc's defaults for plain JWTs
    registry = jws.JWSRegistry(algorithms=list(ACCEPTED_ALGORITHMS), strict_check_header=False)
    registry.max_header_length = 64 * 1024
    registry.max_payload_length = 1024 * 1024
    return registry


_REGISTRY = _registry()


def b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64d(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raise MalformedInput("invalid base64url", code="invalid_sd_jwt") from None


def jwk_of(key: Multikey, *, private: bool = False) -> dict[str, str]:
    """The JWK of a Multikey (with ``d`` when ``private`` and the key has a secret)."""
    out = dict(public_jwk(key))
    if private:
        if not key.has_secret:
            raise KeyFormatError("this key has no secret part to sign with")
        out["d"] = b64e(key.secret_bytes())
    return out


def key_from_jwk(jwk: Any) -> Multikey:
    """A public Multikey from a JWK (``cnf.jwk``, issuer metadata ``jwks``)."""
    algorithm, public = public_key_from_jwk(
        {k: v for k, v in jwk.items() if k != "d"} if isinstance(jwk, dict) else jwk
    )
    return Multikey(algorithm, public, None)


def _joserfc_key(jwk: dict[str, str]) -> ECKey | OKPKey:
    value: dict[str, str | list[str]] = dict(jwk)  # joserfc's type also admits key_ops lists
    if jwk.get("kty") == "OKP":
        return OKPKey.import_key(value)
    return ECKey.import_key(value)


def sign(header: dict[str, Any], payload: dict[str, Any], key: Multikey) -> str:
    """A compact JWS of ``payload`` with ``header`` (``alg`` set from the key)."""
    protected = {"alg": ALGORITHMS[key.algorithm], **header}
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    with warnings.catch_warnings():  # joserfc flags EdDSA as superseded by RFC 9864's names
        warnings.simplefilter("ignore")
        return jws.serialize_compact(
            protected, body, _joserfc_key(jwk_of(key, private=True)), registry=_REGISTRY
        )


def verify(token: str, key: Multikey) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, payload) when ``token`` is signed by ``key``; InvalidProof otherwise."""
    header, payload = decode(token)
    alg = header.get("alg")
    if alg not in ACCEPTED_ALGORITHMS:
        raise InvalidProof(f"JWS algorithm {alg!r} is not accepted", code="unsupported_alg")
    if _CURVE_OF_ALG[alg] != key.algorithm:
        raise InvalidProof(f"alg {alg} does not match the {key.algorithm} key", code="alg_key")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            jws.deserialize_compact(token, _joserfc_key(jwk_of(key)), registry=_REGISTRY)
    except (JoseError, ValueError) as exc:
        raise InvalidProof(f"the signature does not verify ({exc.__class__.__name__})") from None
    return header, payload
