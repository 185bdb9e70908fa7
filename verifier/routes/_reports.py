"""The one way a verification result becomes an HTTP answer (and its OpenAPI description)."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from ..services.verification import VerificationResult

_CHECK = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "outcome": {"type": "string", "enum": ["passed", "failed", "warning", "skipped"]},
        "code": {"type": "string"},
        "message": {"type": "string"},
    },
    "required": ["id", "outcome", "code", "message"],
}
REPORT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "verified": {"type": "boolean"},
        "checks": {"type": "array", "items": _CHECK},
        "warnings": {"type": "array", "items": _CHECK},
        "errors": {"type": "array", "items": _CHECK},
        "summary": {"type": "object"},
        "credentials": {"type": "array", "items": {"type": "object"}},
    },
    "required": ["verified", "checks", "warnings", "errors", "summary"],
}
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
    },
    "required": ["type", "title", "status", "detail", "code"],
}
REPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "verification ran and every required check passed",
        "content": {"application/json": {"schema": REPORT_SCHEMA}},
    },
    400: {
        "description": "a required check failed, or the input is malformed (same report shape)",
        "content": {"application/json": {"schema": REPORT_SCHEMA}},
    },
    413: {
        "description": "the body is larger than the limit",
        "content": {"application/problem+json": {"schema": PROBLEM_SCHEMA}},
    },
}


def json_body(description: str, properties: dict[str, Any]) -> dict[str, Any]:
    """``openapi_extra`` for routes that read their JSON body themselves (to report on
    malformed input instead of answering FastAPI's 422)."""
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {
                "application/json": {"schema": {"type": "object", "properties": properties}}
            },
        }
    }


def report_response(result: VerificationResult) -> JSONResponse:
    return JSONResponse(
        result.to_dict(),
        status_code=200 if result.verified else 400,
        headers={"Cache-Control": "no-store"},
    )
