"""Multikey key pairs (Ed25519, P-256, P-384) as the Data Integrity specs describe them.

A ``Multikey`` knows its algorithm, its verification-method ``id`` and ``controller`` and
can sign and verify raw bytes. Signatures are raw (Ed25519: 64 bytes; P-256 / P-384: IEEE
P1363 ``r || s``, 64 / 96 bytes) because that is what ``proofValue`` carries. ECDSA hashes
with the curve's own SHA-2 (SHA-256 for P-256, SHA-384 for P-384), as ES256 / ES384 and the
VC DI ECDSA suites do.

Keys arrive in more shapes than Multikey: DID documents in circulation publish
``Ed25519VerificationKey2020`` (publicKeyMultibase), ``Ed25519VerificationKey2018``
(publicKeyBase58) and ``JsonWebKey2020`` / ``JsonWebKey`` (publicKeyJwk).
:meth:`Multikey.from_verification_method` turns each into the same ``Multikey``, so a proof
suite never needs to know which one the controller chose.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from . import multibase
from .errors import KeyFormatError, UnsupportedError

Algorithm = Literal["Ed25519", "P-256", "P-384"]
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"

# per ECDSA curve: cryptography curve, scalar/coordinate size, hash, multicodec prefixes
_EC: dict[str, tuple[Any, int, Any, bytes, bytes]] = {
    "P-256": (ec.SECP256R1, 32, hashes.SHA256, multibase.P256_PUB, multibase.P256_PRIV),
    "P-384": (ec.SECP384R1, 48, hashes.SHA384, multibase.P384_PUB, multibase.P384_PRIV),
}
#: Verification method types whose key material microcred can read.
VERIFICATION_METHOD_TYPES = (
    "Multikey",
    "Ed25519VerificationKey2020",
    "Ed25519VerificationKey2018",
    "JsonWebKey2020",
    "JsonWebKey",
)


def _public_multibase(algorithm: Algorithm, public_key: Any) -> str:
    if algorithm == "Ed25519":
        raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return multibase.encode_base58btc(multibase.ED25519_PUB + raw)
    raw = public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
    )
    return multibase.encode_base58btc(_EC[algorithm][3] + raw)


def decode_public_key(public_key_multibase: str) -> tuple[Algorithm, Any]:
    """(algorithm, cryptography public key) from a ``publicKeyMultibase`` value."""
    data = multibase.decode(public_key_multibase)
    try:
        if data.startswith(multibase.ED25519_PUB) and len(data) == 34:
            return "Ed25519", ed25519.Ed25519PublicKey.from_public_bytes(data[2:])
        for name, (curve, size, _, pub, _) in _EC.items():
            if data.startswith(pub) and len(data) == 3 + size:
                point = ec.EllipticCurvePublicKey.from_encoded_point(curve(), data[2:])
                # _EC's keys are Algorithm names; the table is typed by plain str
                return name, point  # type: ignore[return-value]
    except ValueError as exc:
        raise KeyFormatError(f"invalid public key: {exc}") from None
    raise UnsupportedError(
        "unsupported public key: only Ed25519 (z6Mk…), P-256 (zDn…) and P-384 (z82…) "
        "Multikeys are accepted",
        code="unsupported_key_type",
    )


def _decode_secret(secret_multibase: str) -> tuple[Algorithm, Any]:
    data = multibase.decode(secret_multibase)
    try:
        if data.startswith(multibase.ED25519_PRIV) and len(data) in (34, 66):
            # 32-byte seed (W3C vectors) or seed || public key (Open Badges vector)
            return "Ed25519", ed25519.Ed25519PrivateKey.from_private_bytes(data[2:34])
        for name, (curve, size, _, _, priv) in _EC.items():
            if data.startswith(priv) and len(data) == 2 + size:
                scalar = int.from_bytes(data[2:], "big")
                # _EC's keys are Algorithm names; the table is typed by plain str
                return name, ec.derive_private_key(scalar, curve())  # type: ignore[return-value]
    except ValueError as exc:
        raise KeyFormatError(f"invalid secret key: {exc}") from None
    raise KeyFormatError(
        "unsupported secret key: expected an Ed25519 (0x8026), P-256 (0x8626) or P-384 "
        "(0x8726) Multikey secret"
    )


@dataclass
class Multikey:
    """A key pair (or a public key alone) with its verification method identity."""

    algorithm: Algorithm
    public_key: Any
    private_key: Any = field(default=None, repr=False)
    controller: str = ""
    id: str = ""

    def __post_init__(self) -> None:
        if not self.controller:
            self.controller = did_key_for(self.public_key_multibase)
        if not self.id:
            if self.controller.startswith("did:key:"):
                self.id = f"{self.controller}#{self.controller.removeprefix('did:key:')}"
            else:
                self.id = f"{self.controller}#{self.public_key_multibase}"

    # construction -------------------------------------------------------------------------

    @classmethod
    def generate(
        cls, algorithm: str = "Ed25519", *, controller: str = "", id: str = ""
    ) -> Multikey:
        """A new key pair (``ed25519``, ``p256`` or ``p384``; ``UnsupportedError`` otherwise).

        Without a ``controller`` the key is its own did:key.
        """
        alg = normalise_algorithm(algorithm)
        private: Any = (
            ed25519.Ed25519PrivateKey.generate()
            if alg == "Ed25519"
            else ec.generate_private_key(_EC[alg][0]())
        )
        return cls(alg, private.public_key(), private, controller, id)

    @classmethod
    def from_public_multibase(
        cls, public_key_multibase: str, *, controller: str = "", id: str = ""
    ) -> Multikey:
        """A verify-only key from its ``publicKeyMultibase``, or ``KeyFormatError``."""
        alg, public = decode_public_key(public_key_multibase)
        return cls(alg, public, None, controller, id)

    @classmethod
    def from_verification_method(cls, vm: dict[str, Any], *, id: str = "") -> Multikey:
        """The public key of a verification method object, whatever its (supported) type.

        ``id`` is the absolute verification method id (a DID document may write it relative,
        ``#key-1``). The ``controller`` is the one the method names.
        """
        kind = vm.get("type")
        vm_id = id or vm.get("id", "")
        controller = vm.get("controller") or ""
        if not isinstance(controller, str):
            raise KeyFormatError("the verification method's controller must be a string")
        if kind is not None and kind not in VERIFICATION_METHOD_TYPES:
            raise UnsupportedError(
                f"verification method type {kind!r} is not supported "
                f"(supported: {', '.join(VERIFICATION_METHOD_TYPES)})",
                code="unsupported_vm_type",
            )
        if "publicKeyJwk" in vm:
            algorithm, public = public_key_from_jwk(vm["publicKeyJwk"])
            return cls(algorithm, public, None, controller, vm_id)
        if "publicKeyMultibase" in vm:
            mb = vm["publicKeyMultibase"]
            if kind == "Ed25519VerificationKey2020" and _is_raw_ed25519_multibase(mb):
                # the 2020 suite's first drafts (and some DID documents still) carry the raw
                # 32-byte key without the multicodec header
                raw = multibase.decode(mb)
                return cls("Ed25519", _ed25519_public(raw), None, controller, vm_id)
            return cls.from_public_multibase(mb, controller=controller, id=vm_id)
        if kind == "Ed25519VerificationKey2018" and isinstance(vm.get("publicKeyBase58"), str):
            raw = multibase.b58decode(vm["publicKeyBase58"])
            return cls("Ed25519", _ed25519_public(raw), None, controller, vm_id)
        raise KeyFormatError(
            f"the verification method {vm_id} has no public key this type carries "
            "(publicKeyMultibase, publicKeyJwk or publicKeyBase58)"
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Multikey:
        """From a Multikey JSON object; the secret may be named secretKeyMultibase or
        privateKeyMultibase (the W3C test vectors use the latter)."""
        if not isinstance(data, dict):
            raise KeyFormatError("a key file must hold a JSON object")
        secret = data.get("secretKeyMultibase") or data.get("privateKeyMultibase")
        public_mb = data.get("publicKeyMultibase")
        controller = data.get("controller") or ""
        key_id = data.get("id") or ""
        if key_id and not key_id.startswith(("did:", "http", "urn:")) and controller:
            key_id = controller + key_id if key_id.startswith("#") else key_id
        if secret:
            alg, private = _decode_secret(secret)
            key = cls(alg, private.public_key(), private, controller, key_id)
            if public_mb and public_mb != key.public_key_multibase:
                raise KeyFormatError("publicKeyMultibase does not match the secret key")
            return key
        if public_mb:
            return cls.from_public_multibase(public_mb, controller=controller, id=key_id)
        raise KeyFormatError("the key has neither publicKeyMultibase nor secretKeyMultibase")

    # properties ---------------------------------------------------------------------------

    @property
    def public_key_multibase(self) -> str:
        return _public_multibase(self.algorithm, self.public_key)

    @property
    def secret_key_multibase(self) -> str:
        if self.private_key is None:
            raise KeyFormatError("this is a public key only")
        return multibase.encode_base58btc(self._secret_prefix() + self.secret_bytes())

    @property
    def has_secret(self) -> bool:
        return self.private_key is not None

    @property
    def cryptosuite(self) -> str:
        return "eddsa-rdfc-2022" if self.algorithm == "Ed25519" else "ecdsa-rdfc-2019"

    def _secret_prefix(self) -> bytes:
        return multibase.ED25519_PRIV if self.algorithm == "Ed25519" else _EC[self.algorithm][4]

    def secret_bytes(self) -> bytes:
        """The raw secret (Ed25519 seed or P-256 scalar), for encryption at rest."""
        if self.private_key is None:
            raise KeyFormatError("this is a public key only")
        if self.algorithm == "Ed25519":
            return self.private_key.private_bytes(
                serialization.Encoding.Raw,
                serialization.PrivateFormat.Raw,
                serialization.NoEncryption(),
            )
        size = _EC[self.algorithm][1]
        return self.private_key.private_numbers().private_value.to_bytes(size, "big")

    @classmethod
    def from_secret_bytes(
        cls, algorithm: str, secret: bytes, *, controller: str = "", id: str = ""
    ) -> Multikey:
        """A new key pair (``ed25519``, ``p256`` or ``p384``; ``UnsupportedError`` otherwise).

        Without a ``controller`` the key is its own did:key.
        """
        alg = normalise_algorithm(algorithm)
        prefix = multibase.ED25519_PRIV if alg == "Ed25519" else _EC[alg][4]
        _, private = _decode_secret(multibase.encode_base58btc(prefix + secret))
        return cls(alg, private.public_key(), private, controller, id)

    # serialisation -----------------------------------------------------------------------

    def to_public_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "Multikey",
            "controller": self.controller,
            "publicKeyMultibase": self.public_key_multibase,
        }

    def to_secret_dict(self) -> dict[str, Any]:
        return {**self.to_public_dict(), "secretKeyMultibase": self.secret_key_multibase}

    # crypto ------------------------------------------------------------------------------

    def sign(self, data: bytes) -> bytes:
        """The raw signature over ``data`` (Ed25519, or ECDSA P1363 ``r || s``).

        Needs the secret: a public key raises ``KeyFormatError``.
        """
        if self.private_key is None:
            raise KeyFormatError("cannot sign with a public key")
        if self.algorithm == "Ed25519":
            return self.private_key.sign(data)
        _, size, digest, _, _ = _EC[self.algorithm]
        der = self.private_key.sign(data, ec.ECDSA(digest()))
        r, s = decode_dss_signature(der)
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")

    def verify(self, signature: bytes, data: bytes) -> bool:
        """Whether ``signature`` is this key's over ``data``; False (never an exception) for a
        signature of the wrong length or one that does not verify.
        """
        try:
            if self.algorithm == "Ed25519":
                self.public_key.verify(signature, data)
                return True
            _, size, digest, _, _ = _EC[self.algorithm]
            if len(signature) != 2 * size:
                return False
            der = encode_dss_signature(
                int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
            )
            self.public_key.verify(der, data, ec.ECDSA(digest()))
            return True
        except (InvalidSignature, ValueError):
            return False


def normalise_algorithm(name: str) -> Algorithm:
    """The algorithm a user's spelling names (``ed25519``, ``P-256``, ``es384``...), or
    ``UnsupportedError``."""
    lowered = name.lower().replace("-", "").replace("_", "")
    if lowered in ("ed25519", "eddsa"):
        return "Ed25519"
    if lowered in ("p256", "secp256r1", "ecdsa", "es256"):
        return "P-256"
    if lowered in ("p384", "secp384r1", "es384"):
        return "P-384"
    raise UnsupportedError(
        f"unsupported key type {name!r} (use ed25519, p256 or p384)", code="unsupported_key_type"
    )


def _ed25519_public(raw: bytes) -> Any:
    if len(raw) != 32:
        raise KeyFormatError("an Ed25519 public key is 32 bytes")
    return ed25519.Ed25519PublicKey.from_public_bytes(raw)


def _is_raw_ed25519_multibase(value: object) -> bool:
    if not isinstance(value, str) or not value.startswith("z"):
        return False
    try:
        return len(multibase.decode(value)) == 32
    except KeyFormatError:
        return False


_JWK_CURVES: dict[tuple[object, object], Algorithm] = {
    ("OKP", "Ed25519"): "Ed25519",
    ("EC", "P-256"): "P-256",
    ("EC", "P-384"): "P-384",
}


def _jwk_bytes(jwk: dict[str, Any], name: str, size: int) -> bytes:
    value = jwk.get(name)
    if not isinstance(value, str) or len(value) > 200:
        raise KeyFormatError(f"publicKeyJwk.{name} is missing")
    try:
        data = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise KeyFormatError(f"publicKeyJwk.{name} is not base64url") from None
    if len(data) != size:
        raise KeyFormatError(f"publicKeyJwk.{name} must be {size} bytes")
    return data


def public_key_from_jwk(jwk: object) -> tuple[Algorithm, Any]:
    """(algorithm, public key) of a public JWK: OKP Ed25519, EC P-256 or EC P-384.

    A JWK that carries a private part (``d``) is refused: a verification method publishes
    public keys only, and one that does not is a mistake nobody should build on.
    """
    if not isinstance(jwk, dict):
        raise KeyFormatError("publicKeyJwk must be a JSON object")
    if "d" in jwk:
        raise KeyFormatError("publicKeyJwk must not contain a private key ('d')")
    algorithm = _JWK_CURVES.get((jwk.get("kty"), jwk.get("crv")))
    if algorithm is None:
        raise UnsupportedError(
            f"unsupported JWK kty {jwk.get('kty')!r} / crv {jwk.get('crv')!r} "
            "(supported: OKP Ed25519, EC P-256, EC P-384)",
            code="unsupported_key_type",
        )
    if algorithm == "Ed25519":
        return algorithm, _ed25519_public(_jwk_bytes(jwk, "x", 32))
    curve, size, _, _, _ = _EC[algorithm]
    x, y = _jwk_bytes(jwk, "x", size), _jwk_bytes(jwk, "y", size)
    try:
        return algorithm, ec.EllipticCurvePublicKey.from_encoded_point(curve(), b"\x04" + x + y)
    except ValueError as exc:
        raise KeyFormatError(f"invalid publicKeyJwk: {exc}") from None


def public_jwk(key: Multikey) -> dict[str, str]:
    """The public JWK of ``key`` (for JsonWebKey verification methods)."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    if key.algorithm == "Ed25519":
        raw = key.public_key.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return {"kty": "OKP", "crv": "Ed25519", "x": b64(raw)}
    size = _EC[key.algorithm][1]
    point = key.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return {
        "kty": "EC",
        "crv": key.algorithm,
        "x": b64(point[1 : 1 + size]),
        "y": b64(point[1 + size :]),
    }


def did_key_for(public_key_multibase: str) -> str:
    """The did:key whose method-specific id is ``public_key_multibase`` (not checked)."""
    return f"did:key:{public_key_multibase}"
