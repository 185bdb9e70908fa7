"""Signing keys at rest: AES-256-GCM under a key-encryption key (KEK).

The KEK comes from ``MICROCRED_KEK`` (base64url of 32 bytes), from the file named by
``MICROCRED_KEK_FILE``, or — in dev mode only — from a file generated in the data directory.
Wrapped secrets carry the KEK's id, so several KEKs can be loaded at once (``MICROCRED_KEK``
may hold ``id1:key1,id2:key2``; the first is current) and old secrets re-wrapped under the
new KEK without downtime. Associated data binds a wrapped secret to its owner (an
institution's key cannot be swapped into another's row).
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import MicrocredError


class KeystoreError(MicrocredError):
    code = "keystore_error"


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class Kek:
    id: str
    key: bytes

    @classmethod
    def from_secret(cls, secret: bytes, key_id: str | None = None) -> Kek:
        if len(secret) != 32:
            raise KeystoreError("a key-encryption key must be 32 bytes")
        return cls(key_id or hashlib.sha256(secret).hexdigest()[:8], secret)


class Keystore:
    """Wraps and unwraps secrets; the first KEK is used for new wraps."""

    def __init__(self, keks: list[Kek]) -> None:
        if not keks:
            raise KeystoreError("no key-encryption key configured")
        self.keks = {k.id: k for k in keks}
        self.current = keks[0]

    def wrap(self, secret: bytes, aad: str) -> str:
        """``secret`` sealed under the current KEK (AES-256-GCM), bound to ``aad`` (the
        owner: the same ``aad`` is needed to unwrap), as ``v1.<kek id>.<base64url>``."""
        nonce = secrets.token_bytes(12)
        sealed = AESGCM(self.current.key).encrypt(nonce, secret, aad.encode())
        return f"v1.{self.current.id}.{_b64e(nonce + sealed)}"

    def unwrap(self, wrapped: str, aad: str) -> bytes:
        """The secret ``wrap`` sealed, or ``KeystoreError`` (unknown KEK, wrong ``aad``,
        tampered or malformed value)."""
        try:
            version, key_id, body = wrapped.split(".", 2)
        except ValueError:
            raise KeystoreError("not a wrapped secret") from None
        if version != "v1" or key_id not in self.keks:
            raise KeystoreError(f"wrapped with an unknown key-encryption key {key_id!r}")
        try:
            raw = _b64d(body)
            return AESGCM(self.keks[key_id].key).decrypt(raw[:12], raw[12:], aad.encode())
        except (InvalidTag, ValueError):  # ValueError: bad base64 or a too short body
            raise KeystoreError(
                "the wrapped secret does not decrypt (wrong KEK or owner)"
            ) from None

    def needs_rewrap(self, wrapped: str) -> bool:
        """Whether ``wrapped`` is sealed under another KEK than the current one."""
        return not wrapped.startswith(f"v1.{self.current.id}.")

    def rewrap(self, wrapped: str, aad: str) -> str:
        """``wrapped`` sealed again under the current KEK (for KEK rotation)."""
        return self.wrap(self.unwrap(wrapped, aad), aad)

    @classmethod
    def from_environment(cls, *, data_dir: Path | None = None, dev: bool = False) -> Keystore:
        """The keystore ``MICROCRED_KEK`` / ``MICROCRED_KEK_FILE`` configure; in dev mode
        only, a KEK generated once under ``data_dir``. ``KeystoreError`` when there is none."""
        value = os.environ.get("MICROCRED_KEK", "").strip()
        path = os.environ.get("MICROCRED_KEK_FILE", "").strip()
        if not value and path:
            value = Path(path).read_text().strip()
        if not value and data_dir is not None and dev:
            generated = data_dir / "kek.secret"
            if not generated.exists():
                data_dir.mkdir(parents=True, exist_ok=True)
                generated.write_text(_b64e(secrets.token_bytes(32)))
                generated.chmod(0o600)
            value = generated.read_text().strip()
        if not value:
            raise KeystoreError(
                "no key-encryption key: set MICROCRED_KEK (base64url of 32 random bytes) "
                "or MICROCRED_KEK_FILE (see docs/deployment.md)"
            )
        keks = []
        for part in value.split(","):
            key_id, _, key = part.strip().rpartition(":")
            keks.append(Kek.from_secret(_b64d(key), key_id or None))
        return cls(keks)


def new_kek_value() -> str:
    """A fresh KEK in the MICROCRED_KEK format."""
    return _b64e(secrets.token_bytes(32))
