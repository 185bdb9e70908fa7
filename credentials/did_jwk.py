"""did:jwk: a DID that *is* a public JWK (base64url of its JSON), resolved offline.

Why it is here: OpenID4VCI lets a wallet prove possession of a key with a bare ``jwk`` in
the key proof's JOSE header, without any DID. An ``ldp_vc`` credential still needs a URI
for ``credentialSubject.id``, and a verifier must later be able to check that the holder
who presents the credential controls that key. ``did:jwk:<base64url(JWK)>`` is that URI,
and anyone can resolve it without a network call (did:jwk method specification,
https://github.com/quartzjer/did-jwk/blob/main/spec.md).

The document follows the method specification: one ``JsonWebKey2020`` verification method
``#0`` carrying ``publicKeyJwk``, listed under every relationship a signing key may serve.
Only the key types the core can verify are accepted: Ed25519 (``OKP``/``Ed25519``) and
P-256 (``EC``/``P-256``). A JWK that carries private members is refused: a DID built from
it would publish the secret.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from .errors import DidResolutionError, KeyFormatError, UnsupportedError
from .keys import Algorithm, Multikey

PREFIX = "did:jwk:"
DID_CONTEXT = "https://www.w3.org/ns/did/v1"
JWS_2020_CONTEXT = "https://w3id.org/security/suites/jws-2020/v1"
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
_MAX_DID_LENGTH = 2048
_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64d(text: str) -> bytes:
    if not text or any(c not in _B64URL for c in text):
        raise KeyFormatError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raise KeyFormatError("not base64url") from None


def _members(algorithm: str, public_key: Any) -> dict[str, str]:
    if algorithm == "Ed25519":
        raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"crv": "Ed25519", "kty": "OKP", "x": _b64e(raw)}
    numbers = public_key.public_numbers()
    return {
        "crv": "P-256",
        "kty": "EC",
        "x": _b64e(numbers.x.to_bytes(32, "big")),
        "y": _b64e(numbers.y.to_bytes(32, "big")),
    }


def public_jwk(key: Multikey) -> dict[str, str]:
    """The public JWK of a key, with only the members that identify it (RFC 7638 order)."""
    return _members(key.algorithm, key.public_key)


def _parse(jwk: Any) -> tuple[Algorithm, Any]:
    """(algorithm, public key) of a JWK; private members and other key types are refused."""
    if not isinstance(jwk, dict):
        raise KeyFormatError("a JWK must be a JSON object")
    if any(member in jwk for member in _PRIVATE_MEMBERS):
        raise KeyFormatError("the JWK carries private key material")
    kty, crv = jwk.get("kty"), jwk.get("crv")
    try:
        if kty == "OKP" and crv == "Ed25519":
            x = _b64d(str(jwk.get("x", "")))
            if len(x) != 32:
                raise KeyFormatError("an Ed25519 JWK's x must be 32 bytes")
            return "Ed25519", ed25519.Ed25519PublicKey.from_public_bytes(x)
        if kty == "EC" and crv == "P-256":
            x, y = _b64d(str(jwk.get("x", ""))), _b64d(str(jwk.get("y", "")))
            if len(x) != 32 or len(y) != 32:
                raise KeyFormatError("a P-256 JWK's x and y must be 32 bytes each")
            numbers = ec.EllipticCurvePublicNumbers(
                int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1()
            )
            return "P-256", numbers.public_key()
    except ValueError as exc:  # a point that is not on the curve
        raise KeyFormatError(f"invalid JWK: {exc}") from None
    raise UnsupportedError(
        f"unsupported JWK (kty {kty!r}, crv {crv!r}): only Ed25519 and P-256 keys",
        code="unsupported_key_type",
    )


def _did_for(algorithm: str, public_key: Any) -> str:
    canonical = json.dumps(_members(algorithm, public_key), separators=(",", ":"), sort_keys=True)
    return PREFIX + _b64e(canonical.encode())


def key_from_jwk(jwk: Any, *, controller: str = "", id: str = "") -> Multikey:
    """A public ``Multikey`` from a JWK, by default controlled by its did:jwk (``#0``)."""
    algorithm, public = _parse(jwk)
    controller = controller or _did_for(algorithm, public)
    return Multikey(algorithm, public, None, controller, id or f"{controller}#0")


def did_jwk_for(jwk: dict[str, Any]) -> str:
    """The did:jwk naming a public JWK: base64url of its compact JSON.

    Only the identifying members are encoded, in RFC 7638 order, so one key always gives
    one DID whatever ``kid``/``alg``/``use`` decorations a wallet put on its JWK.
    """
    return _did_for(*_parse(jwk))


def jwk_of(did: str) -> dict[str, Any]:
    """The JWK a did:jwk encodes (refusing DIDs that carry private material)."""
    did = did.split("#", 1)[0]
    if not did.startswith(PREFIX) or len(did) > _MAX_DID_LENGTH:
        raise DidResolutionError(f"invalid did:jwk {did[:80]!r}")
    try:
        jwk = json.loads(_b64d(did.removeprefix(PREFIX)))
        _parse(jwk)
    except (KeyFormatError, UnsupportedError, ValueError) as exc:
        raise DidResolutionError(f"invalid did:jwk: {exc}") from None
    return jwk


def did_jwk_document(did: str) -> dict[str, Any]:
    """The DID document of a did:jwk (method spec §Read), with its ``#0`` key."""
    did = did.split("#", 1)[0]
    jwk = jwk_of(did)
    vm_id = f"{did}#0"
    document: dict[str, Any] = {
        "@context": [DID_CONTEXT, JWS_2020_CONTEXT],
        "id": did,
        "verificationMethod": [
            {"id": vm_id, "type": "JsonWebKey2020", "controller": did, "publicKeyJwk": jwk}
        ],
    }
    use = jwk.get("use")
    if use != "enc":
        for relationship in (
            "assertionMethod",
            "authentication",
            "capabilityInvocation",
            "capabilityDelegation",
        ):
            document[relationship] = [vm_id]
    if use != "sig":
        document["keyAgreement"] = [vm_id]
    return document


def key_from_method(method: dict[str, Any], vm_id: str) -> Multikey:
    """The public key of a verification method given as Multikey or as a JWK."""
    controller = str(method.get("controller") or vm_id.split("#", 1)[0])
    if "publicKeyJwk" in method:
        return key_from_jwk(method["publicKeyJwk"], controller=controller, id=vm_id)
    return Multikey.from_public_multibase(
        str(method.get("publicKeyMultibase", "")), controller=controller, id=vm_id
    )
