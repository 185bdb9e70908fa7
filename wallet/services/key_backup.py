"""The holder key, encrypted under a passphrase, for a wallet export that keeps working.

An export without the key restores credentials that are bound to a DID the new account
cannot sign for: presenting them then fails ("holder is not the subject"). The learner may
therefore add the key to an export, encrypted with a passphrase only they know:

* key derivation: **Argon2id** (RFC 9106) with a random 16-byte salt; the parameters travel
  with the backup (``t``, ``m`` in KiB, ``p``) and are bounded on import, so a hostile
  file cannot make the wallet spend gigabytes;
* encryption: **AES-256-GCM** with a random 12-byte nonce; the associated data binds the
  ciphertext to the format version and the DID it claims to be the key of, so a backup
  cannot be relabelled;
* after decryption the key must derive exactly that DID.

The format (``keyBackup`` in the export, all binary values base64url without padding) is
documented in docs/wallet.md.
"""

from __future__ import annotations

import base64
import os
from typing import Any

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from credentials import Multikey
from servicekit.errors import Invalid

FORMAT = "microcred-key-backup"
VERSION = 1
KDF_T, KDF_M_KIB, KDF_P = 3, 65_536, 1
"""Argon2id cost of a new backup: RFC 9106's second recommendation (64 MiB, 3 passes)."""
MAX_T, MAX_M_KIB, MAX_P = 10, 262_144, 4
MIN_PASSPHRASE = 10
MAX_PASSPHRASE = 1024


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: Any) -> bytes:
    if not isinstance(text, str) or len(text) > 4096:
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _aad(did: str) -> bytes:
    return f"{FORMAT}:v{VERSION}:{did}".encode()


def _derive(passphrase: str, salt: bytes, t: int, m: int, p: int) -> bytes:
    return hash_secret_raw(
        passphrase.encode("utf-8"), salt, time_cost=t, memory_cost=m, parallelism=p,
        hash_len=32, type=Type.ID,
    )  # fmt: skip


def check_passphrase(passphrase: str) -> None:
    """A passphrase worth an offline attack on a file that may leak: long enough."""
    if len(passphrase) < MIN_PASSPHRASE or len(passphrase) > MAX_PASSPHRASE:
        raise Invalid(
            "weak_passphrase",
            f"the passphrase must have {MIN_PASSPHRASE} to {MAX_PASSPHRASE} characters",
            min=MIN_PASSPHRASE,
        )


def seal(key: Multikey, passphrase: str) -> dict[str, Any]:
    """The encrypted backup of ``key`` (its secret bytes), for the export."""
    check_passphrase(passphrase)
    salt, nonce = os.urandom(16), os.urandom(12)
    derived = _derive(passphrase, salt, KDF_T, KDF_M_KIB, KDF_P)
    sealed = AESGCM(derived).encrypt(nonce, key.secret_bytes(), _aad(key.controller))
    return {
        "format": FORMAT,
        "version": VERSION,
        "did": key.controller,
        "algorithm": key.algorithm,
        "kdf": {"name": "argon2id", "t": KDF_T, "m": KDF_M_KIB, "p": KDF_P, "salt": _b64(salt)},
        "cipher": "A256GCM",
        "nonce": _b64(nonce),
        "ciphertext": _b64(sealed),
    }


def open_backup(backup: Any, passphrase: str) -> Multikey:
    """The key in ``backup``; ``Invalid`` (``invalid_key_backup`` or
    ``key_backup_passphrase_wrong``) when it cannot be opened."""
    try:
        if not isinstance(backup, dict) or backup.get("format") != FORMAT:
            raise ValueError("format")
        if backup.get("version") != VERSION or backup.get("cipher") != "A256GCM":
            raise ValueError("version")
        kdf = backup.get("kdf")
        if not isinstance(kdf, dict) or kdf.get("name") != "argon2id":
            raise ValueError("kdf")
        t, m, p = (kdf.get(k) for k in ("t", "m", "p"))
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (t, m, p)):
            raise ValueError("kdf parameters")
        assert isinstance(t, int) and isinstance(m, int) and isinstance(p, int)
        if not (1 <= t <= MAX_T and 8 * p <= m <= MAX_M_KIB and 1 <= p <= MAX_P):
            raise ValueError("kdf parameters out of bounds")
        salt, nonce = _unb64(kdf.get("salt")), _unb64(backup.get("nonce"))
        sealed = _unb64(backup.get("ciphertext"))
        did, algorithm = backup.get("did"), backup.get("algorithm")
        if not isinstance(did, str) or algorithm != "Ed25519" or len(nonce) != 12:
            raise ValueError("did or algorithm")
    except (ValueError, TypeError) as exc:
        raise Invalid("invalid_key_backup", f"the key backup cannot be read ({exc})") from None
    if not passphrase:
        raise Invalid("key_backup_passphrase_missing", "the key backup needs its passphrase")
    derived = _derive(passphrase, salt, t, m, p)
    try:
        secret = AESGCM(derived).decrypt(nonce, sealed, _aad(did))
        key = Multikey.from_secret_bytes("Ed25519", secret)
    except (InvalidTag, ValueError):
        raise Invalid(
            "key_backup_passphrase_wrong", "the passphrase does not open the key backup"
        ) from None
    if key.controller != did:
        raise Invalid("invalid_key_backup", "the key in the backup is not the key of its DID")
    return key


__all__ = ["check_passphrase", "open_backup", "seal"]
