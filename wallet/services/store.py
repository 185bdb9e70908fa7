"""The learner's stored credentials: keep, browse, filter, read in detail, delete.

Every query filters on ``learner_id``; a credential of another learner is "not found".
The columns used for filtering (issuer, title, level, ECTS, issue date) are read from the
credential once, when it is stored, with the core's ``read_microcredential``.

The detail view re-checks the status when the last check is older than
``status_recheck_seconds`` (or when the caller asks for a fresh check), so a revocation
shows up without every page view downloading the status list.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from credentials import Check, VerificationReport, is_ob2, read_credential
from servicekit.db import Database
from servicekit.errors import Conflict, NotFound

from ..models import Learner, Share, StoredCredential
from .checking import CredentialChecker, status_of
from .clock import Clock, aware, iso
from .elements import elements


def fingerprint(credential: dict[str, Any] | str) -> str:
    if isinstance(credential, str):  # an SD-JWT VC: its compact form is what was signed
        return hashlib.sha256(credential.strip().encode()).hexdigest()
    canonical = json.dumps(credential, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class CredentialFilter:
    """Browse filters; text filters match case-insensitively on part of the value."""

    institution: str | None = None
    module: str | None = None
    level: int | None = None
    issued_from: date | None = None
    issued_to: date | None = None


class CredentialStore:
    def __init__(
        self, db: Database, checker: CredentialChecker, *, clock: Clock, recheck_seconds: int
    ) -> None:
        self.db = db
        self.checker = checker
        self.clock = clock
        self.recheck_seconds = recheck_seconds

    # -- writing -----------------------------------------------------------------------

    def new_row(
        self,
        learner: Learner,
        credential: dict[str, Any] | str,
        report: VerificationReport | dict[str, Any],
        source: str,
    ) -> StoredCredential:
        """A row for ``credential`` (not yet added to a session): a JSON-LD credential, or a
        compact SD-JWT VC (stored as the string, ``format`` dc+sd-jwt)."""
        view = read_credential(credential)
        data = report.to_dict() if isinstance(report, VerificationReport) else report
        checks = [c for c in data.get("checks", []) if c.get("id") == "status"]
        now = self.clock()
        return StoredCredential(
            id=str(uuid.uuid4()),
            learner_id=learner.id,
            fingerprint=fingerprint(credential),
            document=credential.strip() if isinstance(credential, str) else credential,
            format=SD_JWT if isinstance(credential, str) else "ldp_vc",
            credential_id=view.credential_id,
            issuer_id=view.issuer_id,
            issuer_name=view.issuer_name,
            title=view.title,
            achievement_id=view.achievement_id,
            eqf_level=view.eqf_level,
            ects=view.ects,
            issued_at=view.issued,
            verified=bool(data.get("verified")),
            report=data,
            status=status_of(checks),
            status_checks=checks,
            status_checked_at=now,
            source=source,
            received_at=now,
        )

    def save(self, rows: list[StoredCredential]) -> list[StoredCredential]:
        """Store all rows or none; a credential already in the wallet is a 409."""
        try:
            with self.db.session() as session:
                for row in rows:
                    duplicate = session.exec(
                        select(StoredCredential.id)
                        .where(StoredCredential.learner_id == row.learner_id)
                        .where(StoredCredential.fingerprint == row.fingerprint)
                    ).first()
                    if duplicate is not None:
                        raise _duplicate(duplicate)
                    session.add(row)
        except IntegrityError:
            raise _duplicate(None) from None
        return rows

    def delete(self, learner_id: str, credential_id: str) -> None:
        """Delete a credential and revoke every share link that presents it."""
        with self.db.session() as session:
            row = self._get(session, learner_id, credential_id)
            shares = session.exec(
                select(Share)
                .where(Share.learner_id == learner_id)
                .where(col(Share.revoked_at).is_(None))
            ).all()
            now = self.clock()
            for share in shares:
                if credential_id in share.credential_ids:
                    share.revoked_at = now
            session.delete(row)

    # -- reading -----------------------------------------------------------------------

    def browse(self, learner_id: str, filters: CredentialFilter) -> list[dict[str, Any]]:
        """The learner's credential summaries that pass ``filters`` (institution, module,
        level, issue dates)."""
        statement = select(StoredCredential).where(StoredCredential.learner_id == learner_id)
        if filters.institution:
            pattern = f"%{_escape(filters.institution)}%"
            statement = statement.where(
                or_(
                    col(StoredCredential.issuer_id).ilike(pattern, escape="\\"),
                    col(StoredCredential.issuer_name).ilike(pattern, escape="\\"),
                )
            )
        if filters.module:
            pattern = f"%{_escape(filters.module)}%"
            statement = statement.where(
                or_(
                    col(StoredCredential.title).ilike(pattern, escape="\\"),
                    col(StoredCredential.achievement_id) == filters.module,
                )
            )
        if filters.level is not None:
            statement = statement.where(StoredCredential.eqf_level == filters.level)
        if filters.issued_from is not None:
            start = datetime.combine(filters.issued_from, time.min, tzinfo=UTC)
            statement = statement.where(col(StoredCredential.issued_at) >= start)
        if filters.issued_to is not None:
            end = datetime.combine(filters.issued_to, time.min, tzinfo=UTC) + timedelta(days=1)
            statement = statement.where(col(StoredCredential.issued_at) < end)
        statement = statement.order_by(
            func.coalesce(
                col(StoredCredential.issued_at), col(StoredCredential.received_at)
            ).desc(),
            col(StoredCredential.id),
        )
        with self.db.session() as session:
            return [summary(row) for row in session.exec(statement).all()]

    def rows(self, learner_id: str, ids: list[str] | None = None) -> list[StoredCredential]:
        """The learner's rows (all, or exactly ``ids`` in that order: 404 if one is not theirs)."""
        with self.db.session() as session:
            statement = select(StoredCredential).where(StoredCredential.learner_id == learner_id)
            if ids is None:
                return list(session.exec(statement.order_by(col(StoredCredential.received_at))))
            found = {
                r.id: r for r in session.exec(statement.where(col(StoredCredential.id).in_(ids)))
            }
        missing = [i for i in ids if i not in found]
        if missing:
            raise NotFound("credential_not_found", "no such credential")
        return [found[i] for i in ids]

    def detail(self, learner: Learner, credential_id: str, *, refresh: bool = False) -> dict:
        """One of the learner's credentials with its last verification report; the status is
        checked again when it is stale (or when ``refresh``).

        Raises ``NotFound`` (``credential_not_found``) for one of no or another learner.
        """
        with self.db.session() as session:
            row = self._get(session, learner.id, credential_id)
        now = self.clock()
        checked_at = aware(row.status_checked_at) or now
        rechecked = False
        if (
            not row.verified
            and not _ob2(row)
            and (refresh or now - checked_at >= timedelta(seconds=PENDING_RECHECK_SECONDS))
        ):
            # received, not yet verified: the whole verification again (a key the issuer
            # added since is found now), not just the status
            row = self._reverify(learner, credential_id, now)
            rechecked = True
        elif refresh or now - checked_at >= timedelta(seconds=self.recheck_seconds):
            checks = self.checker.status(row.document, fresh=refresh)
            row = self._update_status(learner.id, credential_id, checks, now)
            rechecked = True
        view = read_credential(row.document)
        out = summary(row)
        out.update(
            {
                "credential": row.document,
                "elements": elements(view, learner.did),
                "view": view.to_dict(),
                "report": row.report,
                "statusCheck": {
                    "status": row.status,
                    "checks": row.status_checks,
                    "checkedAt": iso(row.status_checked_at),
                    "rechecked": rechecked,
                },
            }
        )
        return out

    def _reverify(self, learner: Learner, credential_id: str, now: datetime) -> StoredCredential:
        with self.db.session() as session:
            document = self._get(session, learner.id, credential_id).document
        data = self.checker.verify(document, learner.did).to_dict()
        checks = [c for c in data.get("checks", []) if c.get("id") == "status"]
        with self.db.session() as session:
            row = self._get(session, learner.id, credential_id)
            row.verified = bool(data.get("verified"))
            row.report = data
            row.status_checks = checks
            row.status = status_of(checks)
            row.status_checked_at = now
            session.add(row)
            session.flush()
            session.refresh(row)
            return row

    def current_rows(self, learner_id: str) -> list[StoredCredential]:
        """The learner's credentials with a status no older than ``recheck_seconds``.

        For decisions made from the status (route progress, issue 14 item 10): a credential
        revoked since its last check must not keep counting because the stored status said
        "active". Checks older than ``recheck_seconds`` are redone, as on the detail page.
        """
        now = self.clock()
        out = []
        for row in self.rows(learner_id):
            checked_at = aware(row.status_checked_at)
            if checked_at is None or now - checked_at >= timedelta(seconds=self.recheck_seconds):
                checks = self.checker.status(row.document, fresh=False)
                row = self._update_status(learner_id, row.id, checks, now)
            out.append(row)
        return out

    def _update_status(
        self, learner_id: str, credential_id: str, checks: list[Check], now: datetime
    ) -> StoredCredential:
        with self.db.session() as session:
            row = self._get(session, learner_id, credential_id)
            row.status_checks = [c.to_dict() for c in checks]
            row.status = status_of(checks)
            row.status_checked_at = now
            session.add(row)
            session.flush()
            session.refresh(row)
            return row

    @staticmethod
    def _get(session: Session, learner_id: str, credential_id: str) -> StoredCredential:
        row = session.get(StoredCredential, credential_id) if len(credential_id) <= 36 else None
        if row is None or row.learner_id != learner_id:
            raise NotFound("credential_not_found", "no such credential")
        return row


PENDING_RECHECK_SECONDS = 10
"""A credential received but not yet verified is verified again on a view at most this
often (and at once on an explicit re-check)."""


SD_JWT = "dc+sd-jwt"


def _ob2(row: StoredCredential) -> bool:
    """Open Badges 2.0 rows keep the report of their own checker (not re-verified here)."""
    return is_ob2(row.document)


def pending_reason(row: StoredCredential) -> str | None:
    """Why a stored credential is "received, not yet verified" (None when verified)."""
    if row.verified:
        return None
    failed = []
    if isinstance(row.report, dict):
        failed = [
            c.get("message") or c.get("code")
            for c in row.report.get("checks", [])
            if isinstance(c, dict) and c.get("outcome") == "failed"
        ]
    return "; ".join(str(f) for f in failed if f) or "no valid proof"


def summary(row: StoredCredential) -> dict[str, Any]:
    warnings = row.report.get("warnings", []) if isinstance(row.report, dict) else []
    return {
        "id": row.id,
        "credentialId": row.credential_id,
        "title": row.title,
        "institution": {"id": row.issuer_id, "name": row.issuer_name},
        "moduleId": row.achievement_id,
        "level": row.eqf_level,
        "ects": row.ects,
        "issued": iso(row.issued_at),
        "verified": row.verified,
        "pendingReason": pending_reason(row),
        "status": row.status,
        "warnings": [w.get("message") for w in warnings if isinstance(w, dict)],
        "profile": row.report.get("profile") if isinstance(row.report, dict) else None,
        "format": row.format,
        "source": row.source,
        "receivedAt": iso(row.received_at),
    }


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _duplicate(existing: str | None) -> Exception:
    extra: dict[str, Any] = {"credentialId": existing} if existing else {}
    return Conflict(
        "credential_already_stored", "this credential is already in your wallet", **extra
    )


__all__ = ["CredentialFilter", "CredentialStore", "fingerprint", "summary"]
