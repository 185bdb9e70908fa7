"""CSRF protection: a signed double-submit token bound to the visitor's session.

A random value with an HMAC over it and the caller's session cookie, kept in a cookie and
repeated in a hidden field; every POST of a page form must carry both, equal and correctly
signed. The HMAC key is per deployment, so a token cannot be forged, and binding it to the
session means one planted by a sibling host does not fit another user's session.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request
from starlette.datastructures import FormData

from .cookies import CookieBase
from .routing import PageError
from .signing import sign

CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class CsrfMixin(CookieBase):
    """Issuing and checking the token; ``session_cookie`` names the cookie it is bound to."""

    session_cookie: str | None
    csrf_cookie: str

    def _binding(self, request: Request) -> str:
        if not self.session_cookie:
            return ""
        session = request.cookies.get(self.session_cookie, "")
        return hashlib.sha256(session.encode()).hexdigest() if session else ""

    def _csrf_valid(self, request: Request, token: str | None) -> bool:
        if not token or "." not in token:
            return False
        nonce, signature = token.rsplit(".", 1)
        if len(nonce) < 16:
            return False
        expected = sign(self.secret(request), "csrf", self._binding(request), nonce)
        return hmac.compare_digest(expected, signature)

    def csrf_token(self, request: Request) -> tuple[str, bool]:
        """The token for this visitor's forms, and whether it is new (cookie to set)."""
        cached = getattr(request.state, "mc_csrf_token", None)
        if cached:
            return cached, False
        current = request.cookies.get(self.csrf_cookie)
        if current and self._csrf_valid(request, current):
            return current, False
        nonce = secrets.token_urlsafe(24)
        token = f"{nonce}.{sign(self.secret(request), 'csrf', self._binding(request), nonce)}"
        request.state.mc_csrf_token = token
        return token, True

    async def csrf_protect(self, request: Request) -> None:
        """Router dependency: every unsafe request must carry a valid double-submit token.

        Browsers also say where a request came from (``Sec-Fetch-Site``); a cross-site form
        post is refused on that alone, before the token is even looked at.
        """
        if request.method not in UNSAFE_METHODS:
            return
        if request.headers.get("sec-fetch-site", "") == "cross-site":
            raise PageError(403, "error.csrf")
        try:
            form: FormData = await request.form()
        except Exception:  # an unparsable body is no form of ours
            raise PageError(400, "error.csrf") from None
        field_value = form.get(CSRF_FIELD)
        cookie_value = request.cookies.get(self.csrf_cookie)
        if (
            not isinstance(field_value, str)
            or not cookie_value
            or not hmac.compare_digest(field_value.encode(), cookie_value.encode())
            or not self._csrf_valid(request, cookie_value)
        ):
            raise PageError(403, "error.csrf")
