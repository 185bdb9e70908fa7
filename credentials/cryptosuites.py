"""Proof suites: transform, hash, serialise, verify.

Every suite microcred reads produces its hash data the same way: canonicalise the document
and the proof configuration, hash each, hash data = proof hash ‖ document hash, sign. They
differ in four places, and a ``Cryptosuite`` is exactly those four:

- the proof ``type`` and ``cryptosuite`` name that select it (``DataIntegrityProof`` with
  ``eddsa-rdfc-2022`` / ``ecdsa-rdfc-2019`` / ``eddsa-jcs-2022`` / ``ecdsa-jcs-2019``, or
  the Linked Data Signatures suite ``Ed25519Signature2020`` that most credentials in
  circulation carry);
- the canonicalisation: RDFC-1.0 N-Quads (JSON-LD) or RFC 8785 JCS (plain JSON);
- the hash: SHA-256, or SHA-384 when an ECDSA suite is used with a P-384 key (VC DI ECDSA
  §3.3.4: the hash follows the key's curve);
- which key algorithms may sign.

A suite is looked up from a proof object; one the specs define but microcred does not
implement (BBS selective disclosure, JWT or RSA signatures) is reported as
``unsupported_cryptosuite`` / ``unsupported_proof_type``, never as a failed signature.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import rfc8785

from . import multibase
from .canonical import canonicalize
from .documents import DocumentLoader
from .errors import CanonicalizationError, KeyFormatError, UnsupportedError
from .keys import Algorithm, Multikey

DATA_INTEGRITY_PROOF = "DataIntegrityProof"
ED25519_SIGNATURE_2020 = "Ed25519Signature2020"


@dataclass(frozen=True)
class Cryptosuite:
    """One proof suite: how its hash data is made and which keys may sign it."""

    name: str
    algorithms: tuple[Algorithm, ...]
    proof_type: str = DATA_INTEGRITY_PROOF
    transform: str = "rdfc"  # "rdfc" (RDFC-1.0 N-Quads) or "jcs" (RFC 8785)
    #: a selective-disclosure suite (ecdsa-sd-2023): base / derived proofs, see ecdsa_sd.py
    selective: bool = False

    @property
    def algorithm(self) -> Algorithm:
        """The key algorithm the suite signs with by default (the first it accepts)."""
        return self.algorithms[0]

    @property
    def is_data_integrity(self) -> bool:
        return self.proof_type == DATA_INTEGRITY_PROOF

    def canonicalize(
        self, document: dict[str, Any], loader: DocumentLoader, *, strict: bool
    ) -> str:
        if self.transform == "jcs":
            return jcs(document)
        return canonicalize(document, loader, strict=strict)

    def hash_data(
        self,
        document: dict[str, Any],
        proof_config: dict[str, Any],
        loader: DocumentLoader,
        *,
        strict: bool = True,
        canonical_document: str | None = None,
        algorithm: Algorithm | None = None,
    ) -> bytes:
        """proof-config hash ‖ document hash, per the suite's hashing algorithm.

        ``canonical_document`` lets a verifier that already canonicalised the unsecured
        document with RDFC (to police its terms) skip doing it twice; a JCS suite ignores
        it. ``algorithm`` is the signing key's: P-384 hashes with SHA-384.
        """
        digest = hashlib.sha384 if algorithm == "P-384" else hashlib.sha256
        if canonical_document is None or self.transform != "rdfc":
            canonical_document = self.canonicalize(document, loader, strict=strict)
        doc_hash = digest(canonical_document.encode()).digest()
        # the proof configuration is never strict: its terms come from the suite's context
        proof_hash = digest(self.canonicalize(proof_config, loader, strict=False).encode())
        return proof_hash.digest() + doc_hash

    def check_key(self, key: Multikey) -> None:
        if key.algorithm not in self.algorithms:
            raise UnsupportedError(
                f"{self.name} needs a key of type {' or '.join(self.algorithms)}, "
                f"not {key.algorithm}",
                code="wrong_key_type",
            )

    def sign(self, hash_data: bytes, key: Multikey) -> str:
        self.check_key(key)
        return multibase.encode_base58btc(key.sign(hash_data))

    def verify(self, hash_data: bytes, proof_value: object, key: Multikey) -> bool:
        """Whether ``proof_value`` is ``key``'s signature over ``hash_data``.

        Opaque on purpose, as Fernet's ``InvalidToken``: a value that is not a string, has
        another multibase prefix, holds a character outside base58btc, is too long, or
        decodes to the wrong number of bytes is simply not a signature, so every one of
        them is ``False`` and never an exception telling a prober which check it tripped.
        Only a key of the wrong type raises (``wrong_key_type``): that is the verifier's
        configuration, not the proof's content.
        """
        self.check_key(key)
        if not isinstance(proof_value, str) or not proof_value.startswith("z"):
            return False
        try:
            signature = multibase.decode(proof_value)
        except KeyFormatError:
            return False
        if len(signature) != (96 if key.algorithm == "P-384" else 64):
            return False
        return key.verify(signature, hash_data)


def jcs(value: Any) -> str:
    """RFC 8785 canonical JSON (the JCS suites' transformation)."""
    try:
        return rfc8785.dumps(value).decode("utf-8")
    except (rfc8785.CanonicalizationError, ValueError, TypeError, UnicodeError) as exc:
        raise CanonicalizationError(f"the document has no JCS form: {exc}") from None


EDDSA_RDFC_2022 = Cryptosuite("eddsa-rdfc-2022", ("Ed25519",))
ECDSA_RDFC_2019 = Cryptosuite("ecdsa-rdfc-2019", ("P-256", "P-384"))
EDDSA_JCS_2022 = Cryptosuite("eddsa-jcs-2022", ("Ed25519",), transform="jcs")
ECDSA_JCS_2019 = Cryptosuite("ecdsa-jcs-2019", ("P-256", "P-384"), transform="jcs")
#: selective disclosure: signs statement by statement (credentials/ecdsa_sd.py does the work)
ECDSA_SD_2023 = Cryptosuite("ecdsa-sd-2023", ("P-256",), selective=True)
ED25519_2020 = Cryptosuite(ED25519_SIGNATURE_2020, ("Ed25519",), proof_type=ED25519_SIGNATURE_2020)

SUITES: dict[str, Cryptosuite] = {
    s.name: s
    for s in (EDDSA_RDFC_2022, ECDSA_RDFC_2019, EDDSA_JCS_2022, ECDSA_JCS_2019, ECDSA_SD_2023)
}
#: Proof types other than DataIntegrityProof that microcred verifies (and can sign).
PROOF_TYPES: dict[str, Cryptosuite] = {ED25519_SIGNATURE_2020: ED25519_2020}

#: Data Integrity cryptosuites that exist but microcred does not implement.
KNOWN_UNSUPPORTED_CRYPTOSUITES = frozenset(
    {"bbs-2023", "bbs-2022", "ecdsa-2019", "eddsa-2022", "sd-jwt"}
)
#: Proof types in circulation that microcred recognises but does not verify.
KNOWN_UNSUPPORTED_PROOF_TYPES = frozenset(
    {
        "Ed25519Signature2018",
        "JsonWebSignature2020",
        "JwtProof2020",
        "RsaSignature2018",
        "EcdsaSecp256k1Signature2019",
        "EcdsaSecp256r1Signature2019",
        "BbsBlsSignature2020",
        "BbsBlsSignatureProof2020",
        "Bls12381G2Signature2020",
        "CLSignature2019",
    }
)


def _recognised(name: object, known: frozenset[str]) -> str:
    if isinstance(name, str) and name in known:
        return " (recognised, but not implemented here)"
    return ""


def get_suite(name: object) -> Cryptosuite:
    """The Data Integrity cryptosuite named ``name``."""
    if isinstance(name, str) and name in SUITES:
        return SUITES[name]
    known = _recognised(name, KNOWN_UNSUPPORTED_CRYPTOSUITES)
    raise UnsupportedError(
        f"unsupported cryptosuite {name!r}{known} (supported: {', '.join(SUITES)})",
        code="unsupported_cryptosuite",
    )


def suite_for_proof(proof: dict[str, Any]) -> Cryptosuite:
    """The suite that verifies ``proof``, from its ``type`` (and ``cryptosuite``)."""
    kind = proof.get("type")
    if kind == DATA_INTEGRITY_PROOF:
        return get_suite(proof.get("cryptosuite"))
    if isinstance(kind, str) and kind in PROOF_TYPES:
        return PROOF_TYPES[kind]
    known = _recognised(kind, KNOWN_UNSUPPORTED_PROOF_TYPES)
    supported = ", ".join([DATA_INTEGRITY_PROOF, *PROOF_TYPES])
    raise UnsupportedError(
        f"unsupported proof type {kind!r}{known} (supported: {supported})",
        code="unsupported_proof_type",
    )


def suite_named(name: str) -> Cryptosuite:
    """A suite by cryptosuite name or proof type name (for signing)."""
    if name in PROOF_TYPES:
        return PROOF_TYPES[name]
    return get_suite(name)


def suite_for_key(key: Multikey) -> Cryptosuite:
    return EDDSA_RDFC_2022 if key.algorithm == "Ed25519" else ECDSA_RDFC_2019
