"""Service error kinds: how the service layers say what went wrong without speaking HTTP.

Services (``*/services/``) are called by the HTTP routes, the pages and the CLIs alike, so
they raise one of these kinds with a stable ``code`` and a human ``detail``; the HTTP
status is decided once, in :data:`STATUS_BY_KIND`, by the problem handlers
(:mod:`servicekit.problems`), and the CLIs map every kind to exit code 2 or 1 without
catching HTTP exceptions. ``extra`` travels into the problem body (e.g. ``errors`` or
``retry_after``) and ``headers`` into the HTTP answer when there is one.
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """Base of every kind; never raised itself."""

    kind = "invalid"

    def __init__(
        self, code: str, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


class Invalid(ServiceError):
    """The input cannot be used as given (HTTP 400)."""

    kind = "invalid"


class Unprocessable(ServiceError):
    """Well-formed input that breaks a rule of the domain (HTTP 422)."""

    kind = "unprocessable"


class Unauthorized(ServiceError):
    """No (valid) credentials were presented (HTTP 401)."""

    kind = "unauthorized"


class Forbidden(ServiceError):
    """The caller is known but may not do this (HTTP 403)."""

    kind = "forbidden"


class NotFound(ServiceError):
    """The thing asked for does not exist, or is not the caller's to see (HTTP 404)."""

    kind = "not_found"


class NotAcceptable(ServiceError):
    """No representation the caller accepts (HTTP 406)."""

    kind = "not_acceptable"


class Conflict(ServiceError):
    """The request clashes with the current state (HTTP 409)."""

    kind = "conflict"


class Gone(ServiceError):
    """It existed, and is now used up, withdrawn or expired for good (HTTP 410)."""

    kind = "gone"


class TooLarge(ServiceError):
    """The input is larger than the service accepts (HTTP 413)."""

    kind = "too_large"


class RateLimited(ServiceError):
    """Too many attempts; ``headers`` may carry ``Retry-After`` (HTTP 429)."""

    kind = "rate_limited"


class Upstream(ServiceError):
    """Another party (a status list, a DID document host) answered badly (HTTP 502)."""

    kind = "upstream"


class Busy(ServiceError):
    """Temporarily unable to serve: full queue, database lock, maintenance (HTTP 503)."""

    kind = "busy"


#: The one table from service error kinds to HTTP status codes.
STATUS_BY_KIND: dict[str, int] = {
    "invalid": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "not_acceptable": 406,
    "conflict": 409,
    "gone": 410,
    "too_large": 413,
    "unprocessable": 422,
    "rate_limited": 429,
    "upstream": 502,
    "busy": 503,
}


def http_status(error: ServiceError) -> int:
    """The HTTP status for ``error``'s kind."""
    return STATUS_BY_KIND[error.kind]


__all__ = [
    "STATUS_BY_KIND",
    "Busy",
    "Conflict",
    "Forbidden",
    "Gone",
    "Invalid",
    "NotAcceptable",
    "NotFound",
    "RateLimited",
    "ServiceError",
    "TooLarge",
    "Unauthorized",
    "Unprocessable",
    "Upstream",
    "http_status",
]
