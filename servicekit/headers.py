"""The security headers every answer carries (see ``SecurityHeadersMiddleware``).

In a module of their own because two places set them: the middleware, for every answer
that passes through it, and the 500 error page, which Starlette sends from its outermost
layer, outside every middleware.
"""

from __future__ import annotations

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def security_headers(*, hsts: bool = False) -> dict[str, str]:
    headers = {
        "content-security-policy": CSP,
        "x-frame-options": "DENY",
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
    }
    if hsts:
        headers["strict-transport-security"] = "max-age=31536000"
    return headers


__all__ = ["CSP", "security_headers"]
