"""The wallet's API models (pydantic): what the JSON routes accept, and what some answer.

Input models are validated by FastAPI before a route runs (a bad body is a 422
``validation_error`` problem with the fields at fault); the services take plain values,
so the pages and the CLI call them without these models. (The input models carry no class
docstring on purpose: it would become their OpenAPI description, and moving them here was
not to change the document.)
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=4096)


class RequestRef(BaseModel):
    request: str = Field(max_length=32_768)


class Answer(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    request: str = Field(max_length=32_768)
    credential_ids: list[str] = Field(alias="credentialIds", max_length=50)
    consent: bool = False
    disclose: dict[str, list[str]] | None = Field(default=None, max_length=50)
    """Selective disclosure, credential id → what goes: field keys of an ecdsa-sd-2023
    credential (issue 18) or claim paths of an SD-JWT VC (issue 19); by default exactly what
    the request asks for."""


class ShareCreate(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    credential_ids: list[str] = Field(alias="credentialIds", max_length=50)
    expires_in: int | None = Field(default=None, alias="expiresIn")
    max_views: int | None = Field(default=None, alias="maxViews")
    label: str | None = Field(default=None, max_length=200)
    disclose: dict[str, list[str]] | None = Field(default=None, max_length=50)
    """Selective disclosure: credential id → the fields to show (the rest is withheld)."""


class WalletExportOut(BaseModel):
    """Everything the learner holds, as one file ``POST /api/import`` takes back.

    Declared for the OpenAPI document only (the route sets headers, so it returns a
    ``Response`` that FastAPI does not re-validate)."""

    model_config = ConfigDict(extra="allow")

    format: str
    version: int
    exportedAt: str
    learner: dict[str, Any]
    credentials: list[dict[str, Any]]
    shares: list[dict[str, Any]] = []
    routes: list[dict[str, Any]] = []
