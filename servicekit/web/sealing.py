"""Sealed cookies: a value encrypted and authenticated, with an expiry."""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import time

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from fastapi import Request

from .cookies import CookieBase


class SealingMixin(CookieBase):
    """For page sessions of services that have no session table of their own."""

    def seal(self, request: Request, purpose: str, value: str, ttl: int) -> str:
        """``value`` encrypted and authenticated (AES-GCM) with an expiry, for a cookie.

        For page sessions of services that have no session table of their own: a stolen
        cookie is useless after ``ttl`` seconds and does not reveal what it carries.
        """
        key = hmac.new(self.secret(request), f"seal:{purpose}".encode(), "sha256").digest()
        nonce = secrets.token_bytes(12)
        payload = json.dumps({"v": value, "exp": int(time.time()) + ttl}).encode()
        sealed = AESGCM(key).encrypt(nonce, payload, purpose.encode())
        return base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")

    def unseal(self, request: Request, purpose: str, token: str | None) -> str | None:
        """The value of a cookie from :meth:`seal`; None when forged, altered or expired."""
        if not token or len(token) > 4096:
            return None
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            key = hmac.new(self.secret(request), f"seal:{purpose}".encode(), "sha256").digest()
            payload = json.loads(AESGCM(key).decrypt(raw[:12], raw[12:], purpose.encode()))
        except (ValueError, InvalidTag, TypeError):
            return None
        if not isinstance(payload, dict) or int(payload.get("exp", 0)) < time.time():
            return None
        value = payload.get("v")
        return value if isinstance(value, str) else None
