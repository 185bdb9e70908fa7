"""After a key compromise: find what the key signed, re-issue it, revoke the originals.

A compromised key leaves ``assertionMethod`` (``keys.mark_compromised``), so everything it
signed stops verifying at once — including what the thief signs. The learners' real
credentials must be replaced: same content (achievement, subject, result, dates of
achievement), a new id, a new ``validFrom``, a new status entry, signed with the current
key. The originals are then revoked in their status list, so a verifier sees *revoked*
(a clear answer) rather than only a failing proof (which could be anything).

Delivery follows the original's path:

* credentials that went to a caller of the API (VC-API, ``/issuances``, cohort batches)
  are signed now; the caller finds the replacement id in the answer (and the stored
  document at ``GET /credentials/<id>``), the same way it got the original;
* credentials a learner's wallet collected over OpenID4VCI get a new offer through
  ``offers.create`` — the same module, learner and result, pinned to the holder DID the
  wallet proved the first time — and the wallet collects the replacement with it (the
  credential is minted then, bound to that DID, exactly as the first time).

Idempotent and resumable, because every step is recorded in the row it concerns:

1. ``replaced_by`` (or ``replacement_offer_id``) is set by a conditional ``UPDATE`` in the
   same transaction that stores the replacement: a crash leaves either both or neither,
   and two runs at once cannot both replace one credential (the loser rolls back its
   replacement and its status slot);
2. the original is revoked afterwards through ``status_lists.change`` (idempotent); a run
   that finds ``replaced_by`` set but the original not revoked finishes that step.

An offer whose handle died with a crashed run can never be redeemed (only its hash is
stored); once it expires — or is cancelled — the next run offers the credential again.
Credentials revoked before the re-issue stay revoked and are not replaced; suspended
ones are left until the registrar unsuspends (or revokes) them.
"""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, select

from credentials import MicrocredError, disclosure
from servicekit.db import rowcount
from servicekit.errors import Busy, Conflict, ServiceError, Unprocessable

from ..models import Institution, IssuedCredential, Offer
from ..models import Module as ModuleRow
from ..schemas import OfferIn, validate
from . import compose, issuance, keys, offers, personal, records, status_lists
from .clock import aware, iso
from .context import IssuerContext

_PAGE = 100
_LIVE_OFFER_STATES = ("offered", "redeemed", "issuing", "issued", "accepted")
# an offer whose wallet reported it could not keep the credential ("failed", "deleted")
# is not live: the next run offers the credential again (issue 14.1)
_COLLECTED_STATES = ("issued", "accepted")


class _Lost(Exception):
    """Another run replaced this credential meanwhile: roll back ours."""


def signed_by(
    ctx: IssuerContext,
    institution: Institution,
    generation: int,
    *,
    before: int | None = None,
    limit: int = 100,
) -> dict[str, Any]:
    """What key ``generation`` signed, newest first, minimised for the registrar.

    Only what a key-compromise procedure needs: the credential id, the module, when it was
    issued, its status and its replacement — no learner reference, holder DID or document.
    ``next`` is the cursor for the following page (as in ``GET /credentials``).
    """
    with ctx.db.session() as session:
        key = keys.key_row(session, institution, generation)
        statement = select(IssuedCredential).where(
            IssuedCredential.institution_id == institution.id,
            IssuedCredential.key_generation == generation,
        )
        rows, cursor = records.page(session, statement, before=before, limit=limit)
        modules = _module_slugs(session, {r.module_id for r in rows if r.module_id})
        collected = _collected(session, [r.replacement_offer_id for r in rows])
        items = [
            {
                "credential_id": row.credential_id,
                "module": modules.get(row.module_id) if row.module_id else _achievement(row),
                "issued_at": iso(row.issued_at),
                "status": status_lists.state(row)["status"],
                "replaced_by": row.replaced_by or collected.get(row.replacement_offer_id or ""),
                "replacement_offer": row.replacement_offer_id,
            }
            for row in rows
        ]
    return {
        "generation": generation,
        "key_state": key.state,
        "credentials": items,
        "next": cursor,
    }


def _module_slugs(session: Session, ids: set[int | None]) -> dict[int | None, str]:
    if not ids:
        return {}
    found = session.exec(
        select(ModuleRow.id, ModuleRow.slug).where(col(ModuleRow.id).in_(list(ids)))
    ).all()
    return dict(found)


def _achievement(row: IssuedCredential) -> str | None:
    """For a VC-API credential (no catalogue module): its achievement id, if it has one."""
    try:
        subject = json.loads(row.document).get("credentialSubject")
    except ValueError:
        return None
    subject = subject[0] if isinstance(subject, list) and subject else subject
    achievement = subject.get("achievement") if isinstance(subject, dict) else None
    value = achievement.get("id") if isinstance(achievement, dict) else None
    return value if isinstance(value, str) else None


def _collected(session: Session, offer_ids: list[str | None]) -> dict[str, str]:
    """Offer id → the credential its wallet collected (replacement offers already used)."""
    wanted = [o for o in offer_ids if o]
    if not wanted:
        return {}
    found = session.exec(
        select(Offer.id, Offer.credential_id).where(
            col(Offer.id).in_(wanted), col(Offer.state).in_(_COLLECTED_STATES)
        )
    ).all()
    return {offer_id: credential_id for offer_id, credential_id in found if credential_id}


# --------------------------------------------------------------------------- re-issue


@dataclass
class Report:
    generation: int
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            (
                "reissued",
                "offered",
                "completed",
                "already_replaced",
                "awaiting_wallet",
                "skipped_revoked",
                "skipped_suspended",
                "failed",
            ),
            0,
        )
    )
    replacements: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "generation": self.generation,
            "counts": dict(self.counts),
            "replacements": self.replacements,
            "failures": self.failures,
        }


def reissue(ctx: IssuerContext, institution: Institution, generation: int, *, actor: str) -> Report:
    """Replace every credential key ``generation`` signed (see the module docstring).

    One transaction per credential, so a long run never holds locks for long and a crash
    loses at most the credential in flight (which the next run does again).
    """
    with ctx.db.session() as session:
        key = keys.key_row(session, institution, generation)
    if key.state != "compromised":
        raise Conflict(
            "key_not_compromised",
            f"key-{generation} is {key.state}: only what a compromised key signed is "
            "re-issued (mark it compromised first)",
        )
    report = Report(generation)
    last = 0
    while True:
        with ctx.db.session() as session:
            page = session.exec(
                select(IssuedCredential.id, IssuedCredential.credential_id)
                .where(
                    IssuedCredential.institution_id == institution.id,
                    IssuedCredential.key_generation == generation,
                    col(IssuedCredential.id) > last,
                )
                .order_by(col(IssuedCredential.id))
                .limit(_PAGE)
            ).all()
        if not page:
            return report
        for row_id, credential_id in page:
            assert row_id is not None  # a stored row has its primary key
            last = row_id
            try:
                _one(ctx, institution, row_id, generation, actor, report)
            except ServiceError as exc:
                if isinstance(exc, Busy):
                    raise  # no usable signing key: every credential would fail alike
                _failed(report, credential_id, exc.code, exc.detail)
            except OperationalError:
                # SQLite's "database is locked" under a concurrent writer: the next run
                # picks this credential up again.
                _failed(report, credential_id, "busy", "the database was busy; run again")


def _failed(report: Report, credential_id: str, code: str, message: str) -> None:
    report.counts["failed"] += 1
    report.failures.append({"credential_id": credential_id, "code": code, "message": message})


def _one(
    ctx: IssuerContext,
    institution: Institution,
    row_id: int,
    generation: int,
    actor: str,
    report: Report,
) -> None:
    with ctx.db.session() as session:
        row = session.get(IssuedCredential, row_id)
        assert row is not None
        offer = session.get(Offer, row.replacement_offer_id) if row.replacement_offer_id else None
    if row.replaced_by:
        _finish(ctx, institution, row, row.replaced_by, generation, actor, report)
        return
    if offer is not None and _live(ctx, offer):
        if offer.state in _COLLECTED_STATES and offer.credential_id:
            _link_collected(ctx, row, offer.credential_id)
            _finish(ctx, institution, row, offer.credential_id, generation, actor, report)
        else:
            _revoke(ctx, institution, row, f"offer {offer.id}", generation, actor)
            report.counts["awaiting_wallet"] += 1
        return
    if row.revoked_at is not None and offer is None:
        report.counts["skipped_revoked"] += 1  # revoked by the registrar: stays revoked
        return
    if row.suspended and row.revoked_at is None:
        report.counts["skipped_suspended"] += 1
        return
    if row.source == "offer":
        _offer_again(ctx, institution, row, offer, generation, actor, report)
    else:
        _sign_again(ctx, institution, row, generation, actor, report)


def _live(ctx: IssuerContext, offer: Offer) -> bool:
    """Whether a replacement offer can still be (or has been) collected."""
    if offer.state not in _LIVE_OFFER_STATES:
        return False
    expires = aware(offer.expires_at)
    return offer.state != "offered" or (expires is not None and expires > ctx.now())


def _finish(
    ctx: IssuerContext,
    institution: Institution,
    row: IssuedCredential,
    replacement: str,
    generation: int,
    actor: str,
    report: Report,
) -> None:
    """An earlier run stored the replacement; make sure the original is revoked."""
    if row.revoked_at is None:
        _revoke(ctx, institution, row, replacement, generation, actor)
        report.counts["completed"] += 1
    else:
        report.counts["already_replaced"] += 1


def _revoke(
    ctx: IssuerContext,
    institution: Institution,
    row: IssuedCredential,
    replacement: str,
    generation: int,
    actor: str,
) -> None:
    status_lists.change(
        ctx,
        institution,
        row.credential_id,
        ["revoked"],
        actor=actor,
        reason=f"signing key key-{generation} compromised; replaced by {replacement}",
    )


def _link_collected(ctx: IssuerContext, row: IssuedCredential, credential_id: str) -> None:
    with ctx.db.session() as session:
        session.execute(
            update(IssuedCredential)
            .where(col(IssuedCredential.id) == row.id, col(IssuedCredential.replaced_by).is_(None))
            .values(replaced_by=credential_id)
        )


def replacement_document(
    original: dict[str, Any], credential_id: str, now: datetime
) -> dict[str, Any]:
    """The original's content under a new id, valid from now, without proof and status.

    ``awardedDate`` (when the learning was recognised), the subject, the result and
    ``validUntil`` stay as they were: the learner's achievement did not change, only the
    signature that vouches for it. A ``validFrom`` still in the future is kept.
    """
    document = copy.deepcopy(original)
    document.pop("proof", None)
    document.pop("credentialStatus", None)
    document["id"] = credential_id
    if not _later_than(document.get("validFrom"), now):
        document["validFrom"] = iso(now)
    return document


def _later_than(value: Any, now: datetime) -> bool:
    if not isinstance(value, str):
        return False
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return False
    return moment.tzinfo is not None and moment > now


def _sign_again(
    ctx: IssuerContext,
    institution: Institution,
    row: IssuedCredential,
    generation: int,
    actor: str,
    report: Report,
) -> None:
    new_id = f"urn:uuid:{uuid.uuid4()}"
    now = ctx.now()
    try:
        with ctx.db.session() as session:
            key, current = keys.signer(ctx, session, institution)
            original = json.loads(row.document)
            document = replacement_document(original, new_id, now)
            # a selectively disclosable credential is re-signed selectively (issue 18)
            suite = disclosure.SUITE if disclosure.is_selective(original) else None
            slot = status_lists.allocate(ctx, session, institution, [new_id])[new_id]
            entries = status_lists.entries(ctx.settings.public_url, institution.slug, slot)
            try:
                signed = compose.sign_credential(
                    compose.with_status(document, entries), key, now, suite=suite
                )
            except MicrocredError as exc:
                raise Unprocessable(exc.code, exc.message) from None
            record = issuance.Record(
                source="reissue",
                module_id=row.module_id,
                learner_ref=personal.show_ref(
                    ctx.keystore, institution.id, row.learner_ref, row.learner_sealed
                ),
                holder_did=row.holder_did,
            )
            issuance.store(ctx, session, institution, signed, slot, current, record, actor=actor)
            won = session.execute(
                update(IssuedCredential)
                .where(
                    col(IssuedCredential.id) == row.id,
                    col(IssuedCredential.replaced_by).is_(None),
                    col(IssuedCredential.revoked_at).is_(None),
                    col(IssuedCredential.suspended).is_(False),
                )
                .values(replaced_by=new_id)
            )
            if rowcount(won) != 1:
                raise _Lost
    except (_Lost, IntegrityError):
        report.counts["already_replaced"] += 1  # a concurrent run did it
        return
    _revoke(ctx, institution, row, new_id, generation, actor)
    report.counts["reissued"] += 1
    report.replacements.append(
        {"credential_id": row.credential_id, "replaced_by": new_id, "delivery": "api"}
    )


def _offer_again(
    ctx: IssuerContext,
    institution: Institution,
    row: IssuedCredential,
    previous: Offer | None,
    generation: int,
    actor: str,
    report: Report,
) -> None:
    """A new OpenID4VCI offer for what the learner's wallet collected the first time."""
    with ctx.db.session() as session:
        original = session.exec(
            select(Offer).where(
                Offer.institution_id == institution.id, Offer.credential_id == row.credential_id
            )
        ).first()
        module = session.get(ModuleRow, row.module_id) if row.module_id else None
    if original is None or module is None:
        raise Conflict("not_reofferable", "the offer or module this credential came from is gone")
    stored = personal.unseal(ctx.keystore, original.id, original.learner)
    result = stored.get("result")
    awarded = json.loads(row.document).get("awardedDate")
    if isinstance(result, dict) and not result.get("awarded_date") and awarded:
        # the first credential's awardedDate was its issue moment: keep that date
        result = {**result, "awarded_date": awarded}
    request = validate(
        OfferIn,
        {
            "module_id": module.slug,
            "learner": {**stored.get("learner", {}), "did": row.holder_did},
            "result": result,
            "valid_until": stored.get("valid_until"),
            "pin": original.tx_code_hash is not None,
            "pin_length": original.tx_code_length or 6,
        },
    )
    created = offers.create(ctx, institution, request, actor=actor)
    with ctx.db.session() as session:
        won = session.execute(
            update(IssuedCredential)
            .where(
                col(IssuedCredential.id) == row.id,
                col(IssuedCredential.replaced_by).is_(None),
                or_(
                    col(IssuedCredential.replacement_offer_id).is_(None),
                    col(IssuedCredential.replacement_offer_id)
                    == (previous.id if previous else None),
                ),
            )
            .values(replacement_offer_id=created["id"])
        )
        linked = rowcount(won) == 1
    if not linked:
        offers.cancel(ctx, institution, created["id"], actor=actor)
        report.counts["already_replaced"] += 1
        return
    _revoke(ctx, institution, row, f"offer {created['id']}", generation, actor)
    report.counts["offered"] += 1
    report.replacements.append(
        {
            "credential_id": row.credential_id,
            "replaced_by": None,
            "delivery": "offer",
            "offer": {
                name: created[name]
                for name in (
                    "id",
                    "offer_uri",
                    "credential_offer_uri",
                    "qr_png",
                    "qr_svg",
                    "pin",
                    "expires_at",
                )
            },
        }
    )
