"""Composing and signing module credentials: pure functions, no database, no HTTP.

This is the CPU-heavy part of issuance (JSON Schema validation of the profile, RDFC-1.0
canonicalisation, the signature), so it is kept free of anything that cannot cross a
process boundary: batch issuance runs :func:`sign_jobs` in worker processes, single
issuance calls the same functions in the request's thread. Everything here is picklable
data in, JSON text out.
"""

from __future__ import annotations

import json
import pickle
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from credentials import (
    Alignment,
    IssuerProfile,
    Learner,
    MicrocredError,
    ModuleDefinition,
    Multikey,
    QualityAssurance,
    Result,
    SchemaError,
    build_credential,
    disclosure,
    sign,
    validate_microcredential,
)

from . import module_images

STUDENT_NUMBER_TYPE = "sisSourcedId"
"""OB IdentifierTypeEnum value for an identifier from the student information system."""


@dataclass(frozen=True)
class LearnerSpec:
    email: str | None = None
    student_number: str | None = None
    did: str | None = None


@dataclass(frozen=True)
class ResultSpec:
    grade: str | None = None
    awarded_date: datetime | None = None
    status: str | None = None


@dataclass(frozen=True)
class Job:
    """One credential to compose and sign (``row`` is the caller's reference)."""

    row: int
    credential_id: str
    learner: LearnerSpec
    result: ResultSpec | None
    valid_from: datetime
    valid_until: datetime | None = None
    status_entries: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class KeyMaterial:
    """What a worker process needs to rebuild the signing key (never logged)."""

    algorithm: str
    secret: bytes = field(repr=False)
    controller: str
    id: str

    @classmethod
    def of(cls, key: Multikey) -> KeyMaterial:
        return cls(key.algorithm, key.secret_bytes(), key.controller, key.id)

    def key(self) -> Multikey:
        return Multikey.from_secret_bytes(
            self.algorithm, self.secret, controller=self.controller, id=self.id
        )


@dataclass(frozen=True)
class Outcome:
    row: int
    credential_id: str
    document: str | None = None
    """The signed credential as JSON text when it worked."""
    code: str | None = None
    field: str | None = None
    message: str | None = None

    @property
    def ok(self) -> bool:
        return self.document is not None


def module_definition(achievement_id: str, spec: dict[str, Any]) -> ModuleDefinition:
    """The core's ``ModuleDefinition`` from a stored ``schemas.ModuleIn`` dump."""
    qa = spec["quality_assurance"]
    definition = ModuleDefinition(
        id=achievement_id,
        name=spec["name"],
        description=spec["description"],
        eqf_level=spec["eqf_level"],
        assessment_type=spec["assessment_type"],
        participation_form=spec["participation_form"],
        quality_assurance=QualityAssurance(
            name=qa["name"], url=qa["url"], description=qa.get("description"), code=qa.get("code")
        ),
        ects=spec.get("ects"),
        hours=spec.get("hours"),
        criteria=spec.get("criteria"),
        learning_outcomes=tuple(spec.get("learning_outcomes") or ()),
        nlqf_level=spec.get("nlqf_level"),
        qf_ehea_cycle=spec.get("qf_ehea_cycle"),
        language=spec.get("language"),
        prerequisites=tuple(spec.get("prerequisites") or ()),
        stackable_into=tuple(spec.get("stackable_into") or ()),
        stackability=spec.get("stackability"),
        supervision=spec.get("supervision"),
        identity_check=spec.get("identity_check"),
        field_of_study=spec.get("field_of_study"),
        human_code=spec.get("human_code"),
        identifiers=dict(spec.get("identifiers") or {}),
        alignments=tuple(
            Alignment(
                name=a["name"],
                url=a["url"],
                type=a.get("type"),
                framework=a.get("framework"),
                code=a.get("code"),
                description=a.get("description"),
            )
            for a in spec.get("alignments") or ()
        ),
        tags=tuple(spec.get("tags") or ()),
        version=spec.get("version"),
    )
    # issue 16: the badge image the registrar uploaded (services/module_images.py)
    return module_images.with_image(definition, spec.get("image"))


def _learners(spec: LearnerSpec, salts: tuple[str, str]) -> tuple[Learner, Learner | None]:
    """The core ``Learner`` (e-mail before student number) and, when both are given, the
    second identity (the student number), each with its own salt.

    A learner with a DID gets no identity hashes (issue 14 item 9): the DID binds the
    credential, and a salted hash of a student number travels with its salt, so anyone
    holding a shared credential recovers the number by trying them all (0.3 s). Only a
    credential without a DID still names its learner by hash, since it has nothing else.
    """
    if spec.did:
        return Learner(did=spec.did), None
    if spec.email:
        first = Learner(
            did=spec.did, identity=spec.email.lower(), identity_type="emailAddress", salt=salts[0]
        )
        second = (
            Learner(identity=spec.student_number, identity_type=STUDENT_NUMBER_TYPE, salt=salts[1])
            if spec.student_number
            else None
        )
        return first, second
    if spec.student_number:
        return (
            Learner(
                did=spec.did,
                identity=spec.student_number,
                identity_type=STUDENT_NUMBER_TYPE,
                salt=salts[0],
            ),
            None,
        )
    return Learner(did=spec.did), None


def new_salts() -> tuple[str, str]:
    return secrets.token_hex(16), secrets.token_hex(16)


def compose(
    profile: IssuerProfile,
    module: ModuleDefinition,
    grading: dict[str, Any] | None,
    job: Job,
    salts: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """The unsigned, profile-valid credential for one learner (SchemaError otherwise)."""
    first, second = _learners(job.learner, salts or new_salts())
    result = None
    if job.result is not None:
        scale = grading or {}
        result = Result(
            grade=job.result.grade,
            description=scale.get("description") or "Final grade",
            value_min=scale.get("value_min"),
            value_max=scale.get("value_max"),
            required_value=scale.get("required_value"),
            status=job.result.status,
            awarded_date=job.result.awarded_date,
        )
    credential = build_credential(
        profile,
        module,
        first,
        result=result,
        credential_id=job.credential_id,
        valid_from=job.valid_from,
        valid_until=job.valid_until,
    )
    if second is not None:
        # Both identities (EU element 1). The second IdentityObject is the core's own,
        # shaped exactly like the first one the profile schema just accepted.
        identity = second.identity_object()
        assert identity is not None
        credential["credentialSubject"]["identifier"].append(identity)
        validate_microcredential(credential)  # the credential as issued, not only its base
    return credential


class Composer:
    """Composes many credentials of one module quickly, exactly as :func:`compose` would.

    In a batch every credential of one module has the same structure; only the learner's
    values differ, and building the constant part (issuer profile, achievement with every
    EU element) again for each row costs more than copying it. So the first credential of
    each *shape* (DID or not, which identities, which result fields) is built and checked
    by the core and kept, serialised, as the shape's template; the next one is built twice
    — by the core and by filling in a copy of the template — and the two compared. Only
    when they are identical is that shape filled in from then on; a mismatch (the core's
    builder changed) means every credential of the shape is built by the core. A filled
    credential is still checked in full against the profile.
    """

    def __init__(
        self, profile: IssuerProfile, module: ModuleDefinition, grading: dict[str, Any] | None
    ) -> None:
        self.profile = profile
        self.module = module
        self.grading = grading
        self._templates: dict[tuple[bool, ...], bytes] = {}
        """Pickled: unpickling is the cheapest way to a fresh, independent copy."""
        self._trusted: dict[tuple[bool, ...], bool] = {}
        self._lock = threading.Lock()
        """A process keeps its composers (:func:`composer_for`), and an in-process batch
        may share one with another thread: a shape's template and verdict change together."""

    def compose(self, job: Job) -> dict[str, Any]:
        with self._lock:
            return self._compose(job)

    def _compose(self, job: Job) -> dict[str, Any]:
        shape = _shape(job)
        salts = new_salts()
        template = self._templates.get(shape)
        if template is None or self._trusted.get(shape) is False:
            built = compose(self.profile, self.module, self.grading, job, salts)
            if template is None:
                self._templates[shape] = pickle.dumps(built, pickle.HIGHEST_PROTOCOL)
            return built
        filled = _fill(pickle.loads(template), job, salts)
        if shape not in self._trusted:
            built = compose(self.profile, self.module, self.grading, job, salts)
            self._trusted[shape] = filled == built
            return built
        # The template's constant part was checked when it was built, the learner's values
        # were not: every credential is checked in full against the profile, as the core's
        # builder would check it.
        validate_microcredential(filled)
        return filled


def _shape(job: Job) -> tuple[bool, ...]:
    spec, result = job.learner, job.result
    return (
        bool(spec.did),
        bool(spec.email),
        bool(spec.student_number),
        result is not None,
        bool(result and result.grade is not None),
        bool(result and result.status is not None),
        job.valid_until is not None,
    )


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _fill(credential: dict[str, Any], job: Job, salts: tuple[str, str]) -> dict[str, Any]:
    """The learner's values written into a copy of a same-shaped credential."""
    credential["id"] = job.credential_id
    credential["validFrom"] = _stamp(job.valid_from)
    if job.valid_until is not None:
        credential["validUntil"] = _stamp(job.valid_until)
    awarded = job.result.awarded_date if job.result else None
    credential["awardedDate"] = _stamp(awarded or job.valid_from)
    subject = credential["credentialSubject"]
    first, second = _learners(job.learner, salts)
    if job.learner.did:
        subject["id"] = job.learner.did
    identities = [i for i in (first.identity_object(), second and second.identity_object()) if i]
    if identities:
        subject["identifier"] = identities
    if job.result is not None:
        entry = subject["result"][0]
        if job.result.grade is not None:
            entry["value"] = str(job.result.grade)
        if job.result.status is not None:
            entry["status"] = job.result.status
    return credential


def with_status(credential: dict[str, Any], entries: list[dict[str, Any]]) -> dict[str, Any]:
    if entries:
        credential["credentialStatus"] = entries
    return credential


def sign_credential(
    credential: dict[str, Any], key: Multikey, created: datetime, *, suite: str | None = None
) -> dict[str, Any]:
    """Sign with strict canonicalisation: an undefined term is an error, never dropped.

    ``suite`` ``ecdsa-sd-2023`` makes a selective-disclosure base proof whose mandatory
    part is the issuer, the achievement, validity and status (``credentials.disclosure``).
    """
    if suite == disclosure.SUITE:
        if key.algorithm != "P-256":
            raise MicrocredError(
                "selective disclosure (ecdsa-sd-2023) needs a P-256 institution key; this "
                f"institution signs with {key.algorithm}",
                code="selective_disclosure_needs_p256",
            )
        return sign(
            credential,
            key,
            created=created,
            cryptosuite=suite,
            mandatory_pointers=disclosure.mandatory_pointers(credential),
        )
    return sign(credential, key, created=created)


@dataclass(frozen=True)
class Constants:
    """What every job of one batch shares; sent along with each chunk of jobs."""

    profile: IssuerProfile
    module: ModuleDefinition
    grading: dict[str, Any] | None
    material: KeyMaterial
    created: datetime
    """The proofs' ``created``: one moment for the whole batch."""
    suite: str | None = None
    """``ecdsa-sd-2023`` for a module issued with selective disclosure; else the key's."""


def ready() -> bool:
    """A task that does nothing: submitting it is how a pool is made to start a worker."""
    return True


_COMPOSERS: list[Composer] = []
_COMPOSERS_KEPT = 4
_composers_lock = threading.Lock()


def composer_for(
    profile: IssuerProfile, module: ModuleDefinition, grading: dict[str, Any] | None
) -> Composer:
    """This process's ``Composer`` for the module, kept across chunks and batches.

    A worker signs a batch in many chunks; a new ``Composer`` per chunk would build and
    compare each row shape's first credentials again every time. Found by equality, as
    each chunk arrives with its own unpickled copies. Holds no key material.
    """
    with _composers_lock:
        for composer in _COMPOSERS:
            if (composer.profile, composer.module, composer.grading) == (profile, module, grading):
                return composer
        composer = Composer(profile, module, grading)
        _COMPOSERS.insert(0, composer)
        del _COMPOSERS[_COMPOSERS_KEPT:]
        return composer


def sign_chunk(constants: Constants, jobs: list[Job]) -> list[Outcome]:
    """Compose and sign each job; a failing job is an ``Outcome`` with a code, not an
    exception, so one bad row never costs the rest of its chunk. Runs in worker
    processes (hence plain, picklable arguments) and in-process alike."""
    key = constants.material.key()
    composer = composer_for(constants.profile, constants.module, constants.grading)
    return [_sign_job(composer, key, constants.created, job, constants.suite) for job in jobs]


def sign_jobs(
    profile: IssuerProfile,
    module: ModuleDefinition,
    grading: dict[str, Any] | None,
    material: KeyMaterial,
    created: datetime,
    jobs: list[Job],
) -> list[Outcome]:
    """:func:`sign_chunk` with the constants spelt out."""
    return sign_chunk(Constants(profile, module, grading, material, created), jobs)


def _sign_job(
    composer: Composer, key: Multikey, created: datetime, job: Job, suite: str | None = None
) -> Outcome:
    try:
        credential = composer.compose(job)
        signed = sign_credential(
            with_status(credential, job.status_entries), key, created, suite=suite
        )
    except SchemaError as exc:
        return Outcome(
            job.row, job.credential_id, code=exc.code, field=exc.field, message=exc.message
        )
    except MicrocredError as exc:
        return Outcome(job.row, job.credential_id, code=exc.code, message=exc.message)
    except (ValueError, TypeError) as exc:
        return Outcome(job.row, job.credential_id, code="invalid_row", message=str(exc))
    return Outcome(
        job.row,
        job.credential_id,
        document=json.dumps(signed, ensure_ascii=False, separators=(",", ":")),
    )
