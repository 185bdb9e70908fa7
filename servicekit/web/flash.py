"""Flash messages: message keys carried across the redirect that follows a form post.

They travel in a signed cookie, so a visitor cannot make a page show text of their choice.
"""

from __future__ import annotations

import base64
import hmac
import json
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from .cookies import CookieBase
from .signing import sign


@dataclass(frozen=True)
class Flash:
    level: str  # "success", "error", "info"
    key: str
    params: dict[str, str] = field(default_factory=dict)


class FlashMixin(CookieBase):
    """Setting and taking flash messages; ``flash_cookie`` is the cookie they travel in."""

    flash_cookie: str

    def flash(
        self, request: Request, response: Response, level: str, key: str, **params: Any
    ) -> None:
        """Add a message to show on the next page this visitor sees."""
        pending = list(getattr(request.state, "mc_flash_pending", []))
        pending.append(Flash(level, key, {k: str(v) for k, v in params.items()}))
        request.state.mc_flash_pending = pending
        payload = json.dumps([[f.level, f.key, f.params] for f in pending[-5:]]).encode()
        data = base64.urlsafe_b64encode(payload).decode().rstrip("=")
        signature = sign(self.secret(request), "flash", data)
        self.set_cookie(request, response, self.flash_cookie, f"{data}.{signature}", max_age=300)

    def _take_flashes(self, request: Request) -> list[Flash]:
        raw = request.cookies.get(self.flash_cookie)
        if not raw or "." not in raw:
            return []
        data, signature = raw.rsplit(".", 1)
        if not hmac.compare_digest(sign(self.secret(request), "flash", data), signature):
            return []
        try:
            items = json.loads(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))
            return [
                Flash(str(level), str(key), {str(k): str(v) for k, v in dict(params).items()})
                for level, key, params in items
            ]
        except (ValueError, TypeError):
            return []
