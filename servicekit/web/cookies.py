"""Cookies the pages set, and the settings and secret they depend on.

Cookies on ``localhost`` are shared by every port, and the demo runs three services on one
host, so every cookie name carries the service name (only the language choice is shared).
Every cookie is HttpOnly (unless a script must read it), SameSite=Lax, and Secure when the
service is served over https.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from .signing import SECRET_ENV, deployment_secret


class CookieBase:
    """The part of :class:`~servicekit.web.Web` every other part builds on.

    Split out so that CSRF, sealing and flash messages can each live in their own module
    while sharing one secret cache and one set of cookie flags.
    """

    service: str
    _settings_of: Callable[[Request], Any]
    _secrets: dict[str, bytes]

    def settings(self, request: Request) -> Any:
        return self._settings_of(request)

    def secret(self, request: Request) -> bytes:
        try:
            data_dir = getattr(self.settings(request), "data_dir", None)
        except AttributeError:
            data_dir = None
        cache_key = f"{data_dir}|{os.environ.get(SECRET_ENV, '')}"
        if cache_key not in self._secrets:
            self._secrets[cache_key] = deployment_secret(self.service, data_dir)
        return self._secrets[cache_key]

    def secure_cookies(self, request: Request) -> bool:
        try:
            return bool(getattr(self.settings(request), "is_https", False))
        except AttributeError:
            return request.url.scheme == "https"

    def set_cookie(
        self,
        request: Request,
        response: Response,
        name: str,
        value: str,
        *,
        max_age: int | None = None,
        httponly: bool = True,
        path: str = "/",
    ) -> None:
        """Cookies the pages set: HttpOnly, SameSite=Lax, Secure when served over https."""
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path=path,
            httponly=httponly,
            samesite="lax",
            secure=self.secure_cookies(request),
        )

    def delete_cookie(self, request: Request, response: Response, name: str) -> None:
        """Expire a cookie with the flags it was set with: a deletion without them would be
        the one cookie header on the site that scripts could read or plain http carry."""
        response.delete_cookie(
            name, path="/", httponly=True, samesite="lax", secure=self.secure_cookies(request)
        )
