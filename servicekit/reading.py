"""Reading what a request carries: a bearer token, a JSON body, form fields.

Each service had its own copy of each (three bearer parsers, three JSON-body readers, four
form-to-dict comprehensions) with small differences nobody had chosen. One of each:

* :func:`request_bearer` – ``Authorization: Bearer <token>`` through
  :func:`servicekit.tokens.bearer_token` (the scheme case-insensitive, the token stripped);
  anything else is no token, and the caller decides whether that is a 401;
* :func:`json_body` – the body parsed with the core's ``parse_json`` (size-capped, duplicate
  keys and ``NaN`` refused: a credential with two ``name`` keys must not show one value
  and verify another), every failure a 400 with the core's code; optionally only for a
  declared JSON media type (415 otherwise) and only a JSON object;
* :func:`form_fields` – the text fields of a form as a dict (file parts are not text).
"""

from __future__ import annotations

import email.message
from typing import Any

from fastapi import Request

from credentials import MAX_DOCUMENT_BYTES as MAX_BYTES
from credentials import MicrocredError, parse_json

from .errors import Invalid
from .problems import ProblemError
from .tokens import bearer_token


def request_bearer(request: Request) -> str | None:
    """The bearer token the request presents, if any."""
    return bearer_token(request.headers.get("authorization"))


def media_type(request: Request) -> tuple[str, str]:
    """The declared content type as (main, sub), parameters dropped, lower-case."""
    message = email.message.Message()
    message["content-type"] = request.headers.get("content-type", "")
    return message.get_content_maintype(), message.get_content_subtype()


def is_json(request: Request) -> bool:
    """``application/json`` or any ``application/*+json``."""
    main, sub = media_type(request)
    return main == "application" and (sub == "json" or sub.endswith("+json"))


async def json_body(
    request: Request,
    *,
    max_bytes: int = MAX_BYTES,
    require_json_type: bool = False,
    want_object: bool = False,
) -> Any:
    """The request body as JSON.

    Raises :class:`~servicekit.errors.Invalid` (400) with the core's code (``invalid_json``,
    ``duplicate_key``, ...) when it cannot be used, and a 415 problem when
    ``require_json_type`` and the body is not declared JSON. The body is read before any
    of that, so the body-size limit still answers 413.
    """
    if require_json_type and not is_json(request):
        raise ProblemError(415, "unsupported_media_type", "send the body as application/json")
    raw = await request.body()
    if want_object and not raw.strip():
        raise Invalid("invalid_json", "the request body is empty; send a JSON object")
    try:
        data = parse_json(raw, max_bytes=max_bytes)
    except MicrocredError as exc:
        raise Invalid(exc.code, exc.message) from None
    if want_object and not isinstance(data, dict):
        raise Invalid("invalid_json", "the request body must be a JSON object")
    return data


async def form_fields(
    request: Request, *, max_fields: int = 1000, max_files: int = 1000
) -> dict[str, str]:
    """The text fields of the request's form (the last value where a name repeats)."""
    form = await request.form(max_fields=max_fields, max_files=max_files)
    return {key: value for key, value in form.items() if isinstance(value, str)}


def bool_field(data: dict[str, Any], name: str, default: bool = False) -> bool:
    """A JSON body's flag: ``true`` or ``false`` only (``"yes"`` or ``1`` is a 400)."""
    value = data.get(name, default)
    if not isinstance(value, bool):
        raise Invalid("validation_error", f"{name} must be true or false")
    return value


__all__ = [
    "bool_field",
    "form_fields",
    "is_json",
    "json_body",
    "media_type",
    "request_bearer",
]
