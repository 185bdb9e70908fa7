"""Opaque secrets: API tokens, share tokens, offer codes, nonces.

All are ≥ 128 bits from ``secrets``; only their SHA-256 is stored, and comparisons are
constant-time, so a database leak or a timing side channel gives nothing usable.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_token(prefix: str = "", nbytes: int = 32) -> str:
    token = secrets.token_urlsafe(nbytes)
    return f"{prefix}_{token}" if prefix else token


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
