"""The issuer's API input models (pydantic), with field-by-field errors.

Every request body is validated here before any service sees it, and every problem is
reported as ``{"field": "quality_assurance.url", "message": …}`` (422), so a registrar's
integration can point at the exact input to fix. Rules that span fields (ects *or* hours,
learning outcomes *or* criteria) are ``cross_check`` methods rather than model validators,
because a pydantic model validator cannot say which field is wrong.

The EU elements of a module map onto ``credentials.microcredential.ModuleDefinition``;
the value sets (participation form, supervision, QF-EHEA cycle) are the profile's own, so
what the API accepts is exactly what the profile schema accepts.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from credentials import PARTICIPATION_FORMS, SUPERVISION
from servicekit.errors import Unprocessable

T = TypeVar("T", bound=BaseModel)

URI_PATTERN = r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+$"
HTTP_URL_PATTERN = r"^https?://[^\s/]+[^\s]*$"
SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,62})$"
EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$"
STUDENT_NUMBER_PATTERN = r"^[A-Za-z0-9._/-]{1,64}$"
DID_PATTERN = r"^did:[a-z0-9]+:[A-Za-z0-9._:%-]+$"
EXAMPLE_DID_PREFIX = "did:example:"
LANGUAGE_PATTERN = r"^[a-z]{2,4}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$"


# Non-empty, trimmed text of at most so many characters. Spelled out (not made by a
# function) because a type checker only reads a literal ``Annotated`` as a type.
Text32 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text500 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Text1000 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
Text2000 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]
Uri = Annotated[str, StringConstraints(pattern=URI_PATTERN, max_length=500)]
HttpUrl = Annotated[str, StringConstraints(pattern=HTTP_URL_PATTERN, max_length=500)]
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]
ParticipationForm = Literal["online", "onsite", "blended", "volunteering", "work-experience"]
Supervision = Literal["unsupervised", "supervised-online", "supervised-onsite"]
ResultStatus = Literal[
    "Completed", "Enrolled", "Failed", "InProgress", "OnHold", "Provisional", "Withdrew"
]
Scope = Literal["issue", "revoke", "admin"]
KeyType = Literal["ed25519", "p256"]

# The literals above must stay the profile's own value sets.
assert set(get_args(ParticipationForm)) == set(PARTICIPATION_FORMS)
assert set(get_args(Supervision)) == set(SUPERVISION)


class Strict(BaseModel):
    """Unknown fields are errors: a misspelt optional EU element must not vanish."""

    model_config = ConfigDict(extra="forbid")

    def cross_check(self) -> list[tuple[str, str]]:
        """Problems between fields as (field, message); empty when fine."""
        return []


# --------------------------------------------------------------------------- modules


class QualityAssuranceIn(Strict):
    """EU element 11."""

    name: Name
    url: Uri
    description: Text2000 | None = None
    code: Short | None = None


class AlignmentIn(Strict):
    """A further alignment: a skill (ESCO), a competency, a programme."""

    name: Name
    url: Uri
    type: Short | None = None
    framework: Name | None = None
    code: Short | None = None
    description: Text2000 | None = None


class GradingIn(Strict):
    """The module's grade scale; becomes the achievement's ResultDescription."""

    description: Name = "Final grade"
    value_min: Short | None = None
    value_max: Short | None = None
    required_value: Short | None = None
    """The pass mark: a numeric grade below it is refused at issuance."""

    def cross_check(self) -> list[tuple[str, str]]:
        low, high = _number(self.value_min), _number(self.value_max)
        problems = []
        if low is not None and high is not None and low >= high:
            problems.append(("grading.value_max", "must be greater than value_min"))
        need = _number(self.required_value)
        if need is not None and (
            (low is not None and need < low) or (high is not None and need > high)
        ):
            problems.append(("grading.required_value", "must lie within the scale"))
        return problems


class ModuleIn(Strict):
    """A module with every EU microcredential element (Council Recommendation 2022/C 243/02,
    Annex I; docs/ob3-mapping.md maps each to Open Badges 3.0)."""

    id: Slug | None = Field(default=None, description="the module's slug; generated if absent")
    name: Name
    description: LongText
    learning_outcomes: list[Text1000] = Field(default_factory=list, max_length=50)
    criteria: LongText | None = None
    ects: float | None = Field(default=None, gt=0, le=240)
    hours: int | None = Field(default=None, ge=1, le=10_000)
    eqf_level: int = Field(ge=1, le=8)
    nlqf_level: int | None = Field(default=None, ge=1, le=8)
    qf_ehea_cycle: Literal["short", "first", "second", "third"] | None = None
    assessment_type: Text500
    participation_form: ParticipationForm
    quality_assurance: QualityAssuranceIn
    language: Annotated[str, StringConstraints(pattern=LANGUAGE_PATTERN)] | None = None
    prerequisites: list[Text500] = Field(default_factory=list, max_length=50)
    stackable_into: list[Uri] = Field(default_factory=list, max_length=50)
    stackability: Literal["standalone", "stackable"] | None = None
    supervision: Supervision | None = None
    identity_check: bool | None = None
    field_of_study: Name | None = None
    human_code: Short | None = None
    version: Short | None = None
    identifiers: dict[Annotated[str, StringConstraints(min_length=1, max_length=50)], Name] = Field(
        default_factory=dict, max_length=20
    )
    alignments: list[AlignmentIn] = Field(default_factory=list, max_length=50)
    tags: list[Short] = Field(default_factory=list, max_length=50)
    grading: GradingIn | None = None
    proof_suite: Literal["ecdsa-sd-2023"] | None = Field(
        default=None,
        description="ecdsa-sd-2023: selective disclosure (the learner may leave out the "
        "grade, her name and identities; needs a P-256 institution key); none: the "
        "institution's default suite",
    )

    def cross_check(self) -> list[tuple[str, str]]:
        problems = []
        if self.ects is None and self.hours is None:
            problems.append(
                ("ects", "the notional workload is required: ects and/or hours (EU element 7)")
            )
        if not self.learning_outcomes and not self.criteria:
            problems.append(
                (
                    "learning_outcomes",
                    "the learning outcomes are required: learning_outcomes and/or criteria "
                    "(EU element 6)",
                )
            )
        if self.stackability == "standalone" and self.stackable_into:
            problems.append(("stackability", "a standalone module cannot be stackable_into"))
        if self.grading:
            problems.extend(self.grading.cross_check())
        return problems


# --------------------------------------------------------------------------- learners


class LearnerIn(Strict):
    """EU element 1: an e-mail address and/or student number (hashed into the credential)
    and/or the holder's DID."""

    email: (
        Annotated[str, StringConstraints(strip_whitespace=True, pattern=EMAIL_PATTERN)] | None
    ) = None
    student_number: (
        Annotated[str, StringConstraints(strip_whitespace=True, pattern=STUDENT_NUMBER_PATTERN)]
        | None
    ) = None
    did: Annotated[str, StringConstraints(pattern=DID_PATTERN, max_length=500)] | None = None

    def cross_check(self) -> list[tuple[str, str]]:
        if not (self.email or self.student_number or self.did):
            return [("email", "a learner needs an email, a student_number or a did")]
        if self.did and self.did.startswith(EXAMPLE_DID_PREFIX):
            # did:example is reserved for documentation and resolves nowhere: a credential
            # bound to it is bound to nobody (issue 14 item 10)
            return [("did", "did:example is for examples; give the learner's real DID")]
        return []

    @property
    def reference(self) -> str:
        """How the registrar finds the learner again: student number, e-mail, DID."""
        return self.student_number or (self.email or "").lower() or self.did or ""


class ResultIn(Strict):
    grade: Text32 | None = None
    awarded_date: datetime | None = None
    status: ResultStatus | None = None

    @field_validator("awarded_date", mode="before")
    @classmethod
    def _date(cls, value: Any) -> Any:
        """A calendar date (``2025-06-30``) means that day at 00:00 UTC; a date-time must
        carry its time zone (VC 2.0 requires one)."""
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            year, month, day = (int(part) for part in value.strip().split("-"))
            try:
                return datetime(year, month, day, tzinfo=UTC)
            except ValueError as exc:
                raise ValueError(f"not a calendar date: {exc}") from None
        return value

    @field_validator("awarded_date")
    @classmethod
    def _zone(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("a date-time needs a time zone (e.g. 2025-06-30T12:00:00Z)")
        return value


class IssueModuleIn(Strict):
    module_id: Slug
    learner: LearnerIn
    result: ResultIn | None = None
    valid_until: datetime | None = None

    def cross_check(self) -> list[tuple[str, str]]:
        problems = [(f"learner.{f}", m) for f, m in self.learner.cross_check()]
        if self.valid_until is not None and self.valid_until.tzinfo is None:
            problems.append(("valid_until", "needs a time zone"))
        return problems


class OfferIn(IssueModuleIn):
    """An issuance waiting for the learner's wallet (OpenID4VCI pre-authorised code)."""

    pin: bool = Field(default=False, description="require a transaction code (PIN)")
    pin_length: int = Field(default=6, ge=4, le=10)
    expires_in: int | None = Field(default=None, ge=60, description="seconds")


# --------------------------------------------------------------------------- admin


class TokenIn(Strict):
    name: Short
    scopes: list[Scope] = Field(min_length=1)


class InstitutionIn(Strict):
    slug: Slug
    name: Name
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] = "NL"
    region: Short | None = None
    url: HttpUrl | None = None
    identifiers: dict[Annotated[str, StringConstraints(min_length=1, max_length=50)], Name] = Field(
        default_factory=dict, max_length=20
    )
    key_type: KeyType = "ed25519"


class RotateIn(Strict):
    key_type: KeyType | None = None
    compromised: bool = Field(
        default=False, description="the old key leaked: its signatures must stop verifying"
    )


# --------------------------------------------------------------------------- status


class StatusEntryIn(BaseModel):
    """One requested change: the issue's ``{type, status}`` or VC-API's
    ``{type, statusPurpose}`` with a top-level boolean ``status``."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["BitstringStatusListEntry", "BitstringStatusList"]
    status: Literal["revoked", "suspended", "active"] | None = None
    statusPurpose: Literal["revocation", "suspension"] | None = None


class StatusChangeIn(BaseModel):
    """VC-API ``POST /credentials/status``."""

    model_config = ConfigDict(extra="ignore")

    credentialId: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    credentialStatus: list[StatusEntryIn] | StatusEntryIn
    status: bool | None = None
    reason: Text1000 | None = None

    def cross_check(self) -> list[tuple[str, str]]:
        entries = self.entries()
        if not entries:
            return [("credentialStatus", "at least one entry is required")]
        for index, entry in enumerate(entries):
            if entry.status is None and (entry.statusPurpose is None or self.status is None):
                return [
                    (
                        f"credentialStatus[{index}].status",
                        "give status (revoked, suspended, active), or statusPurpose with a "
                        "boolean status",
                    )
                ]
        return []

    def entries(self) -> list[StatusEntryIn]:
        value = self.credentialStatus
        return value if isinstance(value, list) else [value]

    def targets(self) -> list[str]:
        """The requested states, in order: revoked, suspended or active."""
        out: list[str] = []
        for entry in self.entries():
            if entry.status is not None:
                out.append(entry.status)
            elif entry.statusPurpose == "revocation":
                out.append("revoked" if self.status else "active")
            else:
                out.append("suspended" if self.status else "active")
        return out


class StatusActionIn(Strict):
    """The UI-facing form: POST …/credentials/{id}/revoke|suspend|unsuspend."""

    reason: Text1000 | None = None


# --------------------------------------------------------------------------- helpers


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value.strip().replace(",", "."))
    except ValueError:
        return None


def number(value: str | None) -> float | None:
    """A grade as a number (``7,5`` and ``7.5`` alike), None when it is not numeric."""
    return _number(value)


def field_errors(exc: ValidationError, prefix: str = "") -> list[dict[str, str]]:
    errors = []
    for error in exc.errors():
        parts = []
        for part in error.get("loc", ()):
            if isinstance(part, int):
                parts.append(f"[{part}]")
            else:
                parts.append(("." if parts else "") + str(part))
        field = prefix + "".join(parts)
        errors.append({"field": field or "body", "message": error.get("msg", "invalid")})
    return errors


def validate(model: type[T], data: Any, *, prefix: str = "") -> T:
    """``model`` from untrusted data, or a 422 problem listing every field at fault."""
    try:
        value = model.model_validate(data)
    except ValidationError as exc:
        errors = field_errors(exc, prefix)
        raise Unprocessable(
            "validation_error",
            f"{errors[0]['field']}: {errors[0]['message']}",
            errors=errors,
        ) from None
    problems = value.cross_check() if isinstance(value, Strict | StatusChangeIn) else []
    if problems:
        errors = [{"field": prefix + field, "message": message} for field, message in problems]
        raise Unprocessable(
            "validation_error",
            f"{errors[0]['field']}: {errors[0]['message']}",
            errors=errors,
        )
    return value


# --------------------------------------------------------------------------- answers
# What the routes that build their own response (headers, status, media type) send back;
# declared as ``response_model`` for the OpenAPI document only: a route that returns a
# ``Response`` is not re-validated, so these never change an answer. ``extra="allow"``:
# the protocols let issuers add members, and so may we.


class Answer(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class IssuedCredentialOut(Answer):
    """201 for a new credential, 200 when an ``Idempotency-Key`` replays an earlier one."""

    verifiableCredential: dict[str, Any]


class DidDocumentOut(Answer):
    """A did:web DID document."""

    id: str
    verificationMethod: list[dict[str, Any]] = []


class CredentialIssuerMetadataOut(Answer):
    """OpenID4VCI credential issuer metadata."""

    credential_issuer: str
    credential_endpoint: str
    nonce_endpoint: str | None = None
    notification_endpoint: str | None = None
    token_endpoint: str | None = None
    display: list[dict[str, Any]] = []
    credential_configurations_supported: dict[str, dict[str, Any]]


class AuthorizationServerMetadataOut(Answer):
    """RFC 8414 authorisation server metadata (pre-authorised code flow only)."""

    issuer: str
    token_endpoint: str
    grant_types_supported: list[str]
    pre_authorized_grant_anonymous_access_supported: bool = Field(
        alias="pre-authorized_grant_anonymous_access_supported"
    )
    response_types_supported: list[str] = []
    token_endpoint_auth_methods_supported: list[str] = []


class CredentialOfferOut(Answer):
    """An OpenID4VCI credential offer (what ``credential_offer_uri`` points at)."""

    credential_issuer: str
    credential_configuration_ids: list[str]
    grants: dict[str, dict[str, Any]]


class TokenOut(Answer):
    """The token endpoint's answer (OAuth 2.0 + OpenID4VCI)."""

    access_token: str
    token_type: str
    expires_in: int
    c_nonce: str | None = None
    c_nonce_expires_in: int | None = None


class NonceOut(Answer):
    """A fresh ``c_nonce`` for the key proof (OpenID4VCI 1.0 nonce endpoint)."""

    c_nonce: str


class CredentialOut(Answer):
    """The credential endpoint's answer: the credential (a JSON-LD VC or an SD-JWT VC)."""

    credentials: list[dict[str, Any]]
    notification_id: str | None = None
    credential: dict[str, Any] | str | None = None


class JwtVcIssuerMetadataOut(Answer):
    """SD-JWT VC issuer metadata (``/.well-known/jwt-vc-issuer``)."""

    issuer: str
    jwks: dict[str, Any]


class TypeMetadataOut(Answer):
    """SD-JWT VC type metadata of one module (``vct``)."""

    vct: str
    name: str | None = None
    description: str | None = None
    display: list[dict[str, Any]] = []
    claims: list[dict[str, Any]] = []


def media_content(
    description: str, *media_types: str, binary: bool = False
) -> dict[int | str, Any]:
    """``responses=`` for a 200 that is not JSON (an image, a JWT): says what comes back."""
    schema = {"type": "string", "format": "binary"} if binary else {"type": "string"}
    return {
        200: {"description": description, "content": {m: {"schema": schema} for m in media_types}}
    }
