"""Issuing one credential: over VC-API (the caller's credential) or for a module (ours).

Both paths end in :func:`_issue`, one transaction that claims a status slot, adds the two
status entries, signs with the institution's current key, stores the signed credential
with its slot and learner reference, and writes the audit event. Any failure — an
undefined term found while signing, a duplicate id, a lost race — rolls all of it back:
nothing is stored for a credential that was not handed out.

Idempotency: with an ``Idempotency-Key`` the request (endpoint + body) is hashed and the
key remembered with the credential it produced, in the same transaction. The same key with
the same request answers the stored credential again; with another request it is refused
(409), so a retried request never issues twice and a reused key never issues the wrong
thing.
"""

from __future__ import annotations

import copy
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from contexts import DATA_INTEGRITY_V2
from credentials import MicrocredError, Multikey, SchemaError, check_credential, is_url
from servicekit.errors import Conflict, Invalid, NotFound, Unprocessable

from ..models import IdempotentRequest, Institution, IssuedCredential
from ..models import Module as ModuleRow
from ..schemas import IssueModuleIn, ResultIn, number
from . import audit, compose, institutions, keys, personal, status_lists, urls
from .clock import iso
from .context import IssuerContext

OB_TYPES = {"OpenBadgeCredential", "AchievementCredential"}
EXTRA_FIELDS = ("evidence", "relatedResource")
"""What an offer may add to a module credential (defined by the contexts it already has)."""


@dataclass(frozen=True)
class Issued:
    credential: dict[str, Any]
    replayed: bool = False
    """True when an ``Idempotency-Key`` matched an earlier identical request."""


@dataclass(frozen=True)
class Record:
    """What is stored next to the signed credential."""

    source: str
    module_id: int | None = None
    learner_ref: str | None = None
    holder_did: str | None = None
    batch_id: int | None = None
    row_key: str | None = None
    suite: str | None = None
    """The module's proof suite choice (``ecdsa-sd-2023``), else the key's default."""
    row_hash: str | None = None
    learner_alt: str | None = None
    """The e-mail address when ``learner_ref`` is the student number (searchable too)."""


# --------------------------------------------------------------------------- VC-API


def issue_vc_api(
    ctx: IssuerContext,
    institution: Institution,
    body: Any,
    *,
    actor: str,
    idempotency_key: str | None = None,
) -> Issued:
    """VC-API ``POST /credentials/issue``: sign the caller's credential as ours."""
    if not isinstance(body, dict) or "credential" not in body:
        raise Invalid("invalid_request", 'the body must be {"credential": {...}}')
    options = body.get("options")
    options = {} if options is None else options
    if not isinstance(options, dict):
        raise Invalid("invalid_request", "options must be an object")
    credential = prepare(ctx, institution, body["credential"], options)
    subjects = credential.get("credentialSubject")
    first = subjects[0] if isinstance(subjects, list) and subjects else subjects
    holder = first.get("id") if isinstance(first, dict) else None
    holder = holder if isinstance(holder, str) and holder.startswith("did:") else None
    record = Record(source="vc-api", learner_ref=holder, holder_did=holder)
    return _issue(
        ctx,
        institution,
        credential,
        record,
        actor=actor,
        idempotency=_idempotency("vc-api", idempotency_key, body),
    )


def prepare(
    ctx: IssuerContext, institution: Institution, credential: Any, options: dict[str, Any]
) -> dict[str, Any]:
    """The caller's credential made ours: id, issuer, dates; checked, not yet signed.

    Any conforming VC 2.0 (or VCDM 1.1) credential is accepted, Open Badges or not, complete
    EU microcredential or not: the EU profile is the module path's rule (the registrar's own
    modules must be complete), not a condition for signing what a caller composed. A VCDM
    1.1 credential is signed as 1.1: ``issuanceDate`` instead of ``validFrom``, and the
    status and Data Integrity contexts added so that the status entry's and the proof's
    terms are defined.
    """
    if not isinstance(credential, dict):
        raise Invalid("invalid_credential", "credential must be a JSON object")
    document = copy.deepcopy(credential)
    if "proof" in document:
        raise Invalid("already_signed", "the credential already has a proof")
    if "credentialStatus" in document:
        raise Invalid(
            "status_not_allowed",
            "credentialStatus is assigned by the issuer; leave it out",
            field="credentialStatus",
        )
    contexts = _contexts(document)
    legacy = bool(contexts) and contexts[0] == VC_V1
    has_ob = any(isinstance(c, str) and c.startswith(OB_CONTEXT_PREFIX) for c in contexts)
    types = document.get("type")
    is_badge = has_ob and any(
        t in OB_TYPES for t in (types if isinstance(types, list) else [types]) if isinstance(t, str)
    )
    did = urls.institution_did(ctx.settings.public_url, institution.slug)
    issuer = document.get("issuer")
    named = issuer.get("id") if isinstance(issuer, dict) else issuer
    if named is not None and named != did:
        raise Invalid(
            "issuer_mismatch",
            f"the credential names the issuer {named!r}, but this is {did}",
            field="issuer",
        )
    document["issuer"] = _issuer(ctx, institution, issuer, did, has_ob=has_ob, is_badge=is_badge)
    wanted = options.get("credentialId")
    if wanted is not None and (not isinstance(wanted, str) or not is_url(wanted)):
        raise Invalid("invalid_credential_id", "options.credentialId must be a URL")
    if "id" not in document:
        document["id"] = wanted or f"urn:uuid:{uuid.uuid4()}"
    elif wanted is not None and wanted != document["id"]:
        raise Invalid("credential_id_conflict", "options.credentialId differs from credential.id")
    now = iso(ctx.now())
    if legacy:
        # the 1.1 context defines neither the status entries nor the Data Integrity proof
        missing = [c for c in (STATUS_V1, DATA_INTEGRITY_V2) if c not in contexts]
        document["@context"] = [*contexts, *missing]
        document.setdefault("issuanceDate", now)
        issued = document["issuanceDate"]
    else:
        document.setdefault("validFrom", now)
        issued = document["validFrom"]
    if is_badge:
        document.setdefault("awardedDate", issued)
    until = document.get("validUntil") or document.get("expirationDate")
    if isinstance(until, str):
        refuse_expired(ctx, parse_moment(until), "validUntil" if not legacy else "expirationDate")
    try:
        check_credential(document)
    except MicrocredError as exc:
        # the core words these "<field>: <what is wrong>"; the field is worth its own key
        field, sep, _ = exc.message.partition(": ")
        extra: dict[str, Any] = {"field": field} if sep and " " not in field else {}
        raise Invalid(exc.code, exc.message, **extra) from None
    return document


def parse_moment(text: str) -> datetime | None:
    """An XML Schema dateTime as an aware datetime; None when unreadable (the schema
    check reports that)."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def refuse_expired(ctx: IssuerContext, until: datetime | None, field: str) -> None:
    """Refuse to sign a credential whose validity already ended (issue 14 item 10).

    Such a credential fails every verification from the moment it exists; signing it is
    always a mistake in the request (a wrong year, a copied date), never an intent.
    """
    if until is not None and until.tzinfo is not None and until <= ctx.now():
        raise Invalid(
            "already_expired",
            f"{field} {until.isoformat()} has passed; a credential would be born expired",
            field=field,
        )


VC_V1 = "https://www.w3.org/2018/credentials/v1"
STATUS_V1 = "https://www.w3.org/ns/credentials/status/v1"
"""BitstringStatusListEntry for VCDM 1.1 credentials (the VC 2.0 context has it built in)."""
OB_CONTEXT_PREFIX = "https://purl.imsglobal.org/spec/ob/v3p0/context"


def _contexts(document: dict[str, Any]) -> list[Any]:
    value = document.get("@context")
    return list(value) if isinstance(value, list) else [value] if value is not None else []


def _issuer(
    ctx: IssuerContext,
    institution: Institution,
    issuer: Any,
    did: str,
    *,
    has_ob: bool,
    is_badge: bool,
) -> Any:
    """The credential's issuer: the caller's, completed only with what its contexts define.

    The institution's OB ``Profile`` fields (name, url, address ...) are OB terms: merged
    into the caller's issuer object only when the credential carries an OB 3.0 context.
    Under the VC 2.0 context alone they would be undefined terms, and signing would refuse
    the caller's credential for fields the caller never sent.
    """
    if isinstance(issuer, dict):
        if not has_ob:
            return {"id": did, **issuer}
        # The institution's own profile wins for what it states; extra fields stay.
        return {**issuer, **institutions.profile(ctx, institution).profile()}
    if is_badge:
        return institutions.profile(ctx, institution).profile()
    return did


# --------------------------------------------------------------------------- modules


def module_row(session: Session, institution: Institution, module_slug: str) -> ModuleRow:
    """The institution's module ``module_slug``, ready to issue.

    Raises ``NotFound`` (``unknown_module``) for a module of no or another institution and
    ``Conflict`` (``module_archived``) for an archived one: nothing is issued from it.
    """
    row = session.exec(
        select(ModuleRow).where(
            ModuleRow.institution_id == institution.id, ModuleRow.slug == module_slug
        )
    ).first()
    if row is None:
        raise NotFound("unknown_module", f"there is no module {module_slug!r}")
    if row.archived_at is not None:
        raise Conflict("module_archived", f"module {module_slug!r} is archived")
    return row


def alt_reference(learner: Any) -> str | None:
    """The e-mail address, lower-cased, when the main reference is the student number."""
    if learner.student_number and learner.email:
        return str(learner.email).lower()
    return None


def check_grade(grading: dict[str, Any] | None, result: ResultIn | None, prefix: str = "") -> None:
    """A numeric grade must lie on the module's scale and reach its pass mark."""
    if not grading or result is None or result.grade is None:
        return
    grade = number(result.grade)
    if grade is None:
        return
    low, high = number(grading.get("value_min")), number(grading.get("value_max"))
    if (low is not None and grade < low) or (high is not None and grade > high):
        message = "the grade is outside the module's scale"
    elif (need := number(grading.get("required_value"))) is not None and grade < need:
        message = "the grade is below the module's pass mark: no credential is issued"
    else:
        return
    field = f"{prefix}result.grade"
    raise Unprocessable(
        "validation_error",
        f"{field}: {message}",
        errors=[{"field": field, "message": message}],
    )


def job_for(
    ctx: IssuerContext, request: IssueModuleIn, *, holder_did: str | None = None
) -> compose.Job:
    """The composition job of one module issuance (a fresh ``urn:uuid`` credential id),
    bound to ``holder_did`` when the wallet proved one.
    """
    learner = request.learner
    result = request.result
    return compose.Job(
        row=0,
        credential_id=f"urn:uuid:{uuid.uuid4()}",
        learner=compose.LearnerSpec(
            email=learner.email,
            student_number=learner.student_number,
            did=holder_did or learner.did,
        ),
        result=compose.ResultSpec(result.grade, result.awarded_date, result.status)
        if result
        else None,
        valid_from=ctx.now().replace(microsecond=0),
        valid_until=request.valid_until,
    )


def issue_module(
    ctx: IssuerContext,
    institution: Institution,
    request: IssueModuleIn,
    *,
    actor: str,
    source: str = "module",
    holder_did: str | None = None,
    idempotency_key: str | None = None,
    raw_body: Any = None,
    extra: dict[str, Any] | None = None,
) -> Issued:
    """Build the microcredential for ``request`` (a module, a learner, a result) and
    issue it. ``holder_did`` overrides the learner's DID (OpenID4VCI proves it); ``extra``
    adds top-level fields of the VC 2.0 / OB 3.0 contexts (a recognition award's evidence)."""
    with ctx.db.session() as session:
        module = module_row(session, institution, request.module_id)
    check_grade(module.definition.get("grading"), request.result)
    refuse_expired(ctx, request.valid_until, "valid_until")
    job = job_for(ctx, request, holder_did=holder_did)
    definition = compose.module_definition(
        urls.module_url(ctx.settings.public_url, institution.slug, module.slug), module.definition
    )
    try:
        credential = compose.compose(
            institutions.profile(ctx, institution),
            definition,
            module.definition.get("grading"),
            job,
        )
    except SchemaError as exc:
        raise Invalid(exc.code, exc.message, field=exc.field) from None
    except ValueError as exc:
        raise Invalid("invalid_request", str(exc)) from None
    if extra:
        credential.update({k: v for k, v in extra.items() if k in EXTRA_FIELDS})
    learner_did = holder_did or request.learner.did
    record = Record(
        source=source,
        module_id=module.id,
        learner_ref=request.learner.reference or learner_did,
        learner_alt=alt_reference(request.learner),
        holder_did=learner_did,
        suite=module.definition.get("proof_suite"),
    )
    return _issue(
        ctx,
        institution,
        credential,
        record,
        actor=actor,
        idempotency=_idempotency(source, idempotency_key, raw_body),
    )


# --------------------------------------------------------------------------- the one path


@dataclass(frozen=True)
class _Idempotency:
    key: str
    request_hash: str


def _idempotency(endpoint: str, key: str | None, body: Any) -> _Idempotency | None:
    if key is None:
        return None
    if not key or len(key) > 200 or not key.isprintable():
        raise Invalid(
            "invalid_idempotency_key", "Idempotency-Key must be 1-200 printable characters"
        )
    canonical = json.dumps([endpoint, body], sort_keys=True, separators=(",", ":"), default=str)
    return _Idempotency(key, hashlib.sha256(canonical.encode()).hexdigest())


def _replay(session: Session, institution: Institution, idem: _Idempotency) -> Issued | None:
    earlier = session.exec(
        select(IdempotentRequest).where(
            IdempotentRequest.institution_id == institution.id, IdempotentRequest.key == idem.key
        )
    ).first()
    if earlier is None:
        return None
    if earlier.request_hash != idem.request_hash:
        raise Conflict(
            "idempotency_key_reused",
            "this Idempotency-Key was used for a different request; nothing was issued",
        )
    stored = session.exec(
        select(IssuedCredential).where(
            IssuedCredential.institution_id == institution.id,
            IssuedCredential.credential_id == earlier.credential_id,
        )
    ).first()
    assert stored is not None
    return Issued(json.loads(stored.document), replayed=True)


def _issue(
    ctx: IssuerContext,
    institution: Institution,
    credential: dict[str, Any],
    record: Record,
    *,
    actor: str,
    idempotency: _Idempotency | None,
) -> Issued:
    credential_id = credential["id"]
    try:
        with ctx.db.session() as session:
            if idempotency is not None:
                replay = _replay(session, institution, idempotency)
                if replay is not None:
                    return replay
            # Only this institution's ids count: another's are no business of this caller
            # (H-9f), and the same id may exist once per institution.
            taken = session.exec(
                select(IssuedCredential.id).where(
                    IssuedCredential.institution_id == institution.id,
                    IssuedCredential.credential_id == credential_id,
                )
            ).first()
            if taken is not None:
                raise Conflict(
                    "duplicate_credential_id", f"a credential {credential_id} already exists"
                )
            key, generation = keys.signer(ctx, session, institution)
            slot = status_lists.allocate(ctx, session, institution, [credential_id])[credential_id]
            signed = _sign(
                ctx,
                compose.with_status(
                    credential,
                    status_lists.entries(ctx.settings.public_url, institution.slug, slot),
                ),
                key,
                suite=record.suite,
            )
            store(ctx, session, institution, signed, slot, generation, record, actor=actor)
            if idempotency is not None:
                session.add(
                    IdempotentRequest(
                        institution_id=institution.id,
                        key=idempotency.key,
                        request_hash=idempotency.request_hash,
                        credential_id=credential_id,
                        created_at=ctx.now(),
                    )
                )
            return Issued(signed)
    except IntegrityError:
        # A concurrent request with the same id or Idempotency-Key won the race.
        if idempotency is not None:
            with ctx.db.session() as session:
                replay = _replay(session, institution, idempotency)
                if replay is not None:
                    return replay
        raise Conflict(
            "duplicate_credential_id", f"a credential {credential_id} already exists"
        ) from None


def _sign(
    ctx: IssuerContext, credential: dict[str, Any], key: Multikey, *, suite: str | None = None
) -> dict[str, Any]:
    try:
        return compose.sign_credential(credential, key, ctx.now(), suite=suite)
    except MicrocredError as exc:
        if exc.code == "selective_disclosure_needs_p256":
            raise Conflict(exc.code, exc.message) from None
        # undefined_term, unknown_context, jsonld_error …: the caller's document is at fault
        raise Invalid(exc.code, exc.message) from None


def store(
    ctx: IssuerContext,
    session: Session,
    institution: Institution,
    signed: dict[str, Any],
    slot: status_lists.Slot,
    generation: int,
    record: Record,
    *,
    actor: str,
    document: str | None = None,
) -> IssuedCredential:
    """Persist a signed credential and its audit event (in the caller's transaction)."""
    now = ctx.now()
    learner_ref, learner_sealed = personal.protect_ref(
        ctx.keystore, institution.id, record.learner_ref
    )
    row = IssuedCredential(
        credential_id=signed["id"],
        institution_id=institution.id,
        module_id=record.module_id,
        learner_ref=learner_ref,
        learner_sealed=learner_sealed,
        learner_alt_ref=personal.protect_ref(ctx.keystore, institution.id, record.learner_alt)[0],
        holder_did=record.holder_did,
        document=document or json.dumps(signed, ensure_ascii=False, separators=(",", ":")),
        status_list_id=slot.list_id,
        status_index=slot.index,
        key_generation=generation,
        source=record.source,
        batch_id=record.batch_id,
        row_key=record.row_key,
        row_hash=record.row_hash,
        issued_at=now,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        institution.id,
        actor,
        "credential.issue",
        now,
        credential_id=row.credential_id,
        details={"source": record.source, "module": record.module_id},
    )
    return row
