"""The verifier's API models (pydantic): what the JSON routes accept and what they answer.

Most verifier routes read their body themselves, so malformed input gets a verification
report or a problem with a stable code rather than FastAPI's 422; ``PresentationRequestCreate``
is the one body FastAPI validates. The answer models are declared as ``response_model`` for
the OpenAPI document only: these routes return a ``Response`` (headers, status), which
FastAPI does not re-validate, so the models never change an answer. ``extra="allow"``: an
answer may carry more than is listed here.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class PresentationRequestCreate(BaseModel):
    """``POST /requests``: what the verifier asks the learner for."""

    model_config = ConfigDict(extra="forbid")

    purpose: str = Field(min_length=1, max_length=1000)
    """Shown to the learner by the wallet: why this is asked (e.g. "Application: data analyst")."""
    credential_types: list[str] | None = Field(default=None, max_length=10)
    """Compact type names; default VerifiableCredential + OpenBadgeCredential."""
    modules: list[str] | None = Field(default=None, max_length=20)
    """Module names, or achievement ids (URLs); each becomes its own required query."""
    rule: dict[str, Any] | None = None
    """A route definition (credentials.rules) evaluated over the verified answer."""
    expires_in: int | None = Field(default=None, ge=1)
    client_name: str | None = Field(default=None, min_length=1, max_length=200)
    formats: list[str] | None = Field(default=None, max_length=2)
    """``ldp_vc`` (default), ``dc+sd-jwt`` or both: either format answers (issue 19)."""
    vct_values: list[str] | None = Field(default=None, max_length=20)
    """The SD-JWT VC types accepted (DCQL ``meta.vct_values``); needed for dc+sd-jwt."""


# --------------------------------------------------------------------------- answers


class Answer(BaseModel):
    model_config = ConfigDict(extra="allow")


class ChallengeOut(Answer):
    """A single-use challenge for a holder to sign into a presentation."""

    challenge: str
    expires: str


class PresentationRequestOut(Answer):
    """A new presentation request: links for the wallet, the QR, the secret result token."""

    id: str
    request_uri: str
    response_uri: str
    client_id: str
    nonce: str
    state: str
    openid4vp_uri: str
    openid4vp_by_reference_uri: str
    qr_uri: str
    qrPng: str
    qrSvg: str
    result_token: str
    result_uri: str
    events_uri: str
    expires_at: str


class WalletAnswerOut(Answer):
    """What the wallet's ``direct_post`` gets back: ``{}`` for a declined request, the
    outcome (verified, matches the request, accepted by the rule) otherwise."""

    verified: bool | None = None
    matches_request: bool | None = None
    accepted: bool | None = None
    queries: list[dict[str, Any]] = []
    holders_agree: bool | None = None
    summary: dict[str, Any] = {}
    rule: dict[str, Any] | None = None
    presentations: list[dict[str, Any]] = []


class RequestResultOut(Answer):
    """A presentation request as its creator sees it (needs the result token)."""

    id: str
    status: str
    purpose: str
    request: dict[str, Any]
    created_at: str | None
    expires_at: str | None
    completed_at: str | None
    rejected_attempts: int
    last_rejection: Any = None
    result: dict[str, Any] | None = None


class AdmissionOut(Answer):
    """A rule evaluated over what verified, every requirement explained."""

    satisfied: bool
    route: dict[str, Any]
    explanations: list[dict[str, Any]]
    missing: list[Any]
    ects_total: float | None = None
    hours_total: float | None = None
    credentials: list[dict[str, Any]]
    rejected: list[dict[str, Any]]
    holder_proven: bool | None = None
    verification: dict[str, Any]


class TrustRegistryOut(Answer):
    """The institutions this verifier recognises."""

    name: str | None = None
    loaded_at: str | None = None
    institutions: list[dict[str, Any]]
    last_error: str | None = None


class TrustRegistryReloadOut(Answer):
    reloaded: bool
    source: str | None = None
    institutions: int
    loaded_at: str | None = None


class VerificationLogOut(Answer):
    """The verification log (hashes and check codes; documents only with keep_full_log)."""

    keep_full_log: bool
    retention_days: int | None = None
    entries: list[dict[str, Any]]


class PurgeOut(Answer):
    """How many rows the retention purge removed, per table."""

    purged: dict[str, int]


class DidDocumentOut(Answer):
    """The verifier's did:web DID document (it signs request objects with this key)."""

    id: str
    verificationMethod: list[dict[str, Any]] = []
