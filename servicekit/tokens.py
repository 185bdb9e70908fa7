"""Opaque secrets: API tokens, share tokens, offer codes, nonces.

All are ≥ 128 bits from ``secrets``; only their SHA-256 is stored, and comparisons are
constant-time, so a database leak or a timing side channel gives nothing usable. How a
token is presented (``Authorization: Bearer <token>``) is read by :func:`bearer_token`,
the one parser of that header for the three services.
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


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization`` header value when it is a Bearer one (the scheme
    case-insensitive, the token stripped); anything else is no token."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None
