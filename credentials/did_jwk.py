"""did:jwk: a DID that *is* a public JWK (base64url of its JSON), resolved offline.

Why it is here: OpenID4VCI lets a wallet prove possession of a key with a bare ``jwk`` in
the key proof's JOSE header, without any DID. An ``ldp_vc`` credential still needs a URI
for ``credentialSubject.id``, and a verifier must later be able to check that the holder
who presents the credential controls that key. ``did:jwk:<base64url(JWK)>`` is that URI,
and anyone can resolve it without a network call (did:jwk method specification,
https://github.com/quartzjer/did-jwk/blob/main/spec.md).

The document follows the method specification: one ``JsonWebKey2020`` verification method
``#0`` carrying ``publicKeyJwk``, listed under every relationship a signing key may serve.
Only the key types the core can verify are accepted (``keys.public_key_from_jwk``:
Ed25519, P-256, P-384). A JWK that carries private members is refused: a DID built from
it would publish the secret.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from .errors import DidResolutionError, KeyFormatError, UnsupportedError
from .keys import Algorithm, Multikey, public_jwk, public_key_from_jwk

__all__ = [
    "did_jwk_document",
    "did_jwk_for",
    "jwk_of",
    "key_from_jwk",
    "key_from_method",
    "public_jwk",
]

PREFIX = "did:jwk:"
DID_CONTEXT = "https://www.w3.org/ns/did/v1"
JWS_2020_CONTEXT = "https://w3id.org/security/suites/jws-2020/v1"
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
_MAX_DID_LENGTH = 2048
_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _b64d(text: str) -> bytes:
    if not text or any(c not in _B64URL for c in text):
        raise KeyFormatError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raise KeyFormatError("not base64url") from None


def _parse(jwk: Any) -> tuple[Algorithm, Any]:
    """(algorithm, public key) of a JWK; any private member is refused (a did:jwk built
    from it would publish the secret), the key itself is read by ``keys``."""
    if isinstance(jwk, dict) and any(member in jwk for member in _PRIVATE_MEMBERS):
        raise KeyFormatError("the JWK carries private key material")
    return public_key_from_jwk(jwk)


def _did_for(algorithm: Algorithm, public_key: Any) -> str:
    # only the identifying members, sorted: RFC 7638's order, so one key gives one DID
    members = public_jwk(Multikey(algorithm, public_key, None, "", ""))
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True)
    return PREFIX + base64.urlsafe_b64encode(canonical.encode()).rstrip(b"=").decode()


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
