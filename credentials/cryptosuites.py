"""Data Integrity cryptosuites: transform, hash, serialise, verify.

``eddsa-rdfc-2022`` (Ed25519) and ``ecdsa-rdfc-2019`` (P-256) share every step but the
signature algorithm: RDFC-1.0 canonicalisation of the document and of the proof
configuration, SHA-256 of each, hash data = proof hash ‖ document hash, sign. A suite is
looked up by name; an unknown name is ``UnsupportedError``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from . import multibase
from .canonical import canonicalize
from .documents import DocumentLoader
from .errors import KeyFormatError, UnsupportedError
from .keys import Algorithm, Multikey


@dataclass(frozen=True)
class Cryptosuite:
    name: str
    algorithm: Algorithm

    def canonicalize(
        self, document: dict[str, Any], loader: DocumentLoader, *, strict: bool
    ) -> str:
        return canonicalize(document, loader, strict=strict)

    def hash_data(
        self,
        document: dict[str, Any],
        proof_config: dict[str, Any],
        loader: DocumentLoader,
        *,
        strict: bool = True,
        canonical_document: str | None = None,
    ) -> bytes:
        """proof-config hash ‖ document hash, per the suite's hashing algorithm.

        ``canonical_document`` lets a verifier that already canonicalised the unsecured
        document (to police its terms) skip doing it twice.
        """
        if canonical_document is None:
            canonical_document = self.canonicalize(document, loader, strict=strict)
        doc_hash = hashlib.sha256(canonical_document.encode()).digest()
        # the proof configuration is never strict: its terms come from the v2 context
        proof_hash = hashlib.sha256(
            canonicalize(proof_config, loader, strict=False).encode()
        ).digest()
        return proof_hash + doc_hash

    def check_key(self, key: Multikey) -> None:
        if key.algorithm != self.algorithm:
            raise UnsupportedError(
                f"{self.name} needs an {self.algorithm} key, not {key.algorithm}",
                code="wrong_key_type",
            )

    def sign(self, hash_data: bytes, key: Multikey) -> str:
        self.check_key(key)
        return multibase.encode_base58btc(key.sign(hash_data))

    def verify(self, hash_data: bytes, proof_value: str, key: Multikey) -> bool:
        self.check_key(key)
        if not isinstance(proof_value, str) or not proof_value.startswith("z"):
            raise KeyFormatError("proofValue must be a base58btc multibase string ('z…')")
        signature = multibase.decode(proof_value)
        if len(signature) != 64:
            return False
        return key.verify(signature, hash_data)


EDDSA_RDFC_2022 = Cryptosuite("eddsa-rdfc-2022", "Ed25519")
ECDSA_RDFC_2019 = Cryptosuite("ecdsa-rdfc-2019", "P-256")
SUITES: dict[str, Cryptosuite] = {s.name: s for s in (EDDSA_RDFC_2022, ECDSA_RDFC_2019)}


def get_suite(name: object) -> Cryptosuite:
    if isinstance(name, str) and name in SUITES:
        return SUITES[name]
    raise UnsupportedError(
        f"unsupported cryptosuite {name!r} (supported: {', '.join(SUITES)})",
        code="unsupported_cryptosuite",
    )


def suite_for_key(key: Multikey) -> Cryptosuite:
    return EDDSA_RDFC_2022 if key.algorithm == "Ed25519" else ECDSA_RDFC_2019
