"""How the services meet uvicorn: access logs without capabilities, proxies trusted explicitly.

Issue 14 item 4: share tokens (``/s/<token>``), credential-offer handles and verifier result
tokens (``?token=``) are capabilities: whoever reads them from an access log can use them.
``RedactCapabilities`` rewrites the path of every ``uvicorn.access`` record before any
handler formats it: query values and token-like path segments become ``[redacted]``.

Issue 14 item 8: uvicorn believes ``X-Forwarded-For`` from any loopback peer by default, so
a client behind no proxy at all could pick its own rate-limit key. ``uvicorn_options`` turns
proxy headers off unless trusted proxies are named (``MICROCRED_TRUSTED_PROXIES``, a comma
separated list of addresses, or ``--trusted-proxies``); the default is none.
"""

from __future__ import annotations

import logging
import os
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode

REDACTED = "[redacted]"
TRUSTED_PROXIES_ENV = "MICROCRED_TRUSTED_PROXIES"

#: Path segments that are followed by a capability (the segment after them is secret).
CAPABILITY_PREFIXES = frozenset({"s", "credential-offers"})
#: A path segment that looks like a random token: 20+ base64url characters in both cases
#: (what ``new_token`` makes); UUIDs and lower-case slugs keep their readable shape.
_TOKENISH = re.compile(r"^[A-Za-z0-9_-]{20,}$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


def _looks_like_token(segment: str) -> bool:
    if not _TOKENISH.match(segment) or _UUID.match(segment):
        return False
    return any(c.isupper() for c in segment) and any(c.islower() for c in segment)


def redact_path(full_path: str) -> str:
    """``full_path`` (path + query) with capabilities replaced by ``[redacted]``."""
    path, sep, query = full_path.partition("?")
    segments = path.split("/")
    out: list[str] = []
    for index, segment in enumerate(segments):
        after_capability = index > 0 and segments[index - 1] in CAPABILITY_PREFIXES
        if segment and (after_capability or _looks_like_token(segment)):
            out.append(REDACTED)
        else:
            out.append(segment)
    redacted = "/".join(out)
    if sep:
        pairs = parse_qsl(query, keep_blank_values=True)
        redacted += "?" + urlencode([(key, REDACTED) for key, _ in pairs], safe="[]")
    return redacted


class RedactCapabilities(logging.Filter):
    """Rewrite the request path of uvicorn access records (``args[2]``); never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_path(args[2]), *args[3:])
        return True


def install_access_log_redaction() -> None:
    """Put ``RedactCapabilities`` on the ``uvicorn.access`` logger, once per process.

    On the logger rather than on a handler, so it holds for whatever handlers the operator
    configures (uvicorn's own ``dictConfig`` adds handlers but keeps logger filters).
    """
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactCapabilities) for f in logger.filters):
        logger.addFilter(RedactCapabilities())


def trusted_proxies() -> str:
    """The configured trusted proxy addresses (comma separated), or "" for none."""
    value = os.environ.get(TRUSTED_PROXIES_ENV, "")
    return ",".join(part.strip() for part in value.split(",") if part.strip())


def uvicorn_options() -> dict[str, Any]:
    """The proxy options for ``uvicorn.run`` / ``uvicorn.Config``: none trusted by default."""
    trusted = trusted_proxies()
    if not trusted:
        return {"proxy_headers": False, "forwarded_allow_ips": ""}
    return {"proxy_headers": True, "forwarded_allow_ips": trusted}
