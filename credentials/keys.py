"""Multikey key pairs (Ed25519 and P-256) as the Data Integrity specs describe them.

A ``Multikey`` knows its algorithm, its verification-method ``id`` and ``controller`` and
can sign and verify raw bytes. Signatures are raw (Ed25519: 64 bytes; P-256: IEEE P1363
``r || s``, 64 bytes) because that is what ``proofValue`` carries.
"""

from __future__ import annotations

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

Algorithm = Literal["Ed25519", "P-256"]
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"

_P256_ORDER_BYTES = 32


def _public_multibase(algorithm: Algorithm, public_key: Any) -> str:
    if algorithm == "Ed25519":
        raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return multibase.encode_base58btc(multibase.ED25519_PUB + raw)
    raw = public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
    )
    return multibase.encode_base58btc(multibase.P256_PUB + raw)


def decode_public_key(public_key_multibase: str) -> tuple[Algorithm, Any]:
    """(algorithm, cryptography public key) from a ``publicKeyMultibase`` value."""
    data = multibase.decode(public_key_multibase)
    try:
        if data.startswith(multibase.ED25519_PUB) and len(data) == 34:
            return "Ed25519", ed25519.Ed25519PublicKey.from_public_bytes(data[2:])
        if data.startswith(multibase.P256_PUB) and len(data) == 35:
            return "P-256", ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), data[2:])
    except ValueError as exc:
        raise KeyFormatError(f"invalid public key: {exc}") from None
    raise UnsupportedError(
        "unsupported public key: only Ed25519 (z6Mk…) and P-256 (zDna…) Multikeys are accepted",
        code="unsupported_key_type",
    )


def _decode_secret(secret_multibase: str) -> tuple[Algorithm, Any]:
    data = multibase.decode(secret_multibase)
    try:
        if data.startswith(multibase.ED25519_PRIV) and len(data) in (34, 66):
            # 32-byte seed (W3C vectors) or seed || public key (Open Badges vector)
            return "Ed25519", ed25519.Ed25519PrivateKey.from_private_bytes(data[2:34])
        if data.startswith(multibase.P256_PRIV) and len(data) == 34:
            scalar = int.from_bytes(data[2:], "big")
            return "P-256", ec.derive_private_key(scalar, ec.SECP256R1())
    except ValueError as exc:
        raise KeyFormatError(f"invalid secret key: {exc}") from None
    raise KeyFormatError(
        "unsupported secret key: expected an Ed25519 (0x8026) or P-256 (0x8626) Multikey secret"
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
        alg = normalise_algorithm(algorithm)
        private: Any = (
            ed25519.Ed25519PrivateKey.generate()
            if alg == "Ed25519"
            else ec.generate_private_key(ec.SECP256R1())
        )
        return cls(alg, private.public_key(), private, controller, id)

    @classmethod
    def from_public_multibase(
        cls, public_key_multibase: str, *, controller: str = "", id: str = ""
    ) -> Multikey:
        alg, public = decode_public_key(public_key_multibase)
        return cls(alg, public, None, controller, id)

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
        return multibase.ED25519_PRIV if self.algorithm == "Ed25519" else multibase.P256_PRIV

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
        return self.private_key.private_numbers().private_value.to_bytes(_P256_ORDER_BYTES, "big")

    @classmethod
    def from_secret_bytes(
        cls, algorithm: str, secret: bytes, *, controller: str = "", id: str = ""
    ) -> Multikey:
        alg = normalise_algorithm(algorithm)
        prefix = multibase.ED25519_PRIV if alg == "Ed25519" else multibase.P256_PRIV
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
        if self.private_key is None:
            raise KeyFormatError("cannot sign with a public key")
        if self.algorithm == "Ed25519":
            return self.private_key.sign(data)
        der = self.private_key.sign(data, ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def verify(self, signature: bytes, data: bytes) -> bool:
        try:
            if self.algorithm == "Ed25519":
                self.public_key.verify(signature, data)
                return True
            if len(signature) != 64:
                return False
            der = encode_dss_signature(
                int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            )
            self.public_key.verify(der, data, ec.ECDSA(hashes.SHA256()))
            return True
        except (InvalidSignature, ValueError):
            return False


def normalise_algorithm(name: str) -> Algorithm:
    lowered = name.lower().replace("-", "").replace("_", "")
    if lowered in ("ed25519", "eddsa"):
        return "Ed25519"
    if lowered in ("p256", "secp256r1", "ecdsa", "es256"):
        return "P-256"
    raise UnsupportedError(
        f"unsupported key type {name!r} (use ed25519 or p256)", code="unsupported_key_type"
    )


def did_key_for(public_key_multibase: str) -> str:
    return f"did:key:{public_key_multibase}"
