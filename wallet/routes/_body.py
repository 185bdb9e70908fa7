"""Reading JSON bodies that hold foreign documents (credentials, exports).

FastAPI's own JSON parsing accepts duplicate keys (the last wins), which for a credential
means the wallet could display one value while a verifier reads another. Bodies carrying
documents are therefore parsed with the core's ``parse_json``: size-capped, duplicate keys
refused, nesting limited.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from credentials import MicrocredError, parse_json
from servicekit.problems import ProblemError


async def json_object(request: Request, max_bytes: int) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        raise ProblemError(400, "invalid_json", "the request body is empty; send a JSON object")
    try:
        data = parse_json(raw, max_bytes=max_bytes)
    except MicrocredError as exc:
        raise ProblemError(
            400, exc.code, f"the request body is not usable JSON: {exc.message}"
        ) from None
    if not isinstance(data, dict):
        raise ProblemError(400, "invalid_json", "the request body must be a JSON object")
    return data


def flag(data: dict[str, Any], name: str) -> bool:
    value = data.get(name, False)
    if not isinstance(value, bool):
        raise ProblemError(400, "validation_error", f"{name} must be true or false")
    return value
