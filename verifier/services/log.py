"""The verification log: that a verification happened and how it ended, nothing personal.

A verifier sees diplomas, grades and names; keeping them would make it a honeypot and a
GDPR liability. So each verified credential leaves one row: time, kind of verification,
outcome, the issuer (an institution, not a person), the failed check codes, and the
SHA-256 of the credential id — enough to answer "was this credential checked here, and
with what outcome?" when someone presents the same credential again, and to count
outcomes per institution. The documents themselves are stored only when the operator
turns ``keep_full_log`` on. Rows older than the retention period are purged.

Logging never decides a verification: a database error while logging is reported in the
service log and the verification answer still goes out.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, select

from credentials.model import issuer_id
from credentials.report import VerificationReport
from servicekit.db import Database

from ..models import Challenge, PresentationRequest, VerificationLogEntry
from .clock import utc

log = logging.getLogger("microcred.verifier")


def credential_id_hash(credential: Any) -> str | None:
    """SHA-256 (hex) of the credential's ``id``, or None when it has none."""
    if isinstance(credential, dict) and isinstance(credential.get("id"), str):
        return hashlib.sha256(credential["id"].encode("utf-8")).hexdigest()
    return None


@dataclass(frozen=True)
class LoggedCredential:
    """What one log row is made from (the document is used only with keep_full_log)."""

    document: Any
    report: VerificationReport


class VerificationLog:
    def __init__(self, db: Database, *, keep_full: bool, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.keep_full = keep_full
        self._clock = clock

    def record(self, kind: str, items: Iterable[LoggedCredential]) -> None:
        now = utc(self._clock())
        rows = [self._row(kind, item, now) for item in items]
        if not rows:
            return
        try:
            with self.db.session() as session:
                session.add_all(rows)
        except SQLAlchemyError as exc:
            log.warning("verification log not written (%s): %s", kind, type(exc).__name__)

    def _row(self, kind: str, item: LoggedCredential, now: datetime) -> VerificationLogEntry:
        document = item.document if isinstance(item.document, dict) else None
        issuer = issuer_id(document) if document is not None else None
        return VerificationLogEntry(
            created_at=now,
            kind=kind,
            verified=item.report.verified,
            issuer=issuer,
            credential_id_hash=credential_id_hash(document),
            failed_checks=",".join(f"{c.id}:{c.code}" for c in item.report.failed),
            document=document if self.keep_full else None,
        )

    def entries(self, limit: int = 100) -> list[VerificationLogEntry]:
        with self.db.session() as session:
            statement = (
                select(VerificationLogEntry)
                .order_by(col(VerificationLogEntry.id).desc())
                .limit(limit)
            )
            return list(session.exec(statement))


@dataclass(frozen=True)
class PurgeResult:
    log_entries: int
    requests: int
    challenges: int

    def to_dict(self) -> dict[str, int]:
        return {
            "log_entries": self.log_entries,
            "requests": self.requests,
            "challenges": self.challenges,
        }


def purge(
    db: Database,
    *,
    now: datetime,
    log_retention_days: int,
    result_retention_hours: int,
) -> PurgeResult:
    """Delete what the retention settings no longer allow to be kept.

    Log rows older than ``log_retention_days``; presentation requests (whose results name
    the learner) ended more than ``result_retention_hours`` ago; challenges expired for a
    day (kept that long so a late replay is still recognised as a replay).
    """
    now = utc(now)
    log_cutoff = now - timedelta(days=log_retention_days)
    result_cutoff = now - timedelta(hours=result_retention_hours)
    challenge_cutoff = now - timedelta(days=1)
    with db.session() as session:
        removed_log = session.execute(
            delete(VerificationLogEntry).where(col(VerificationLogEntry.created_at) < log_cutoff)
        ).rowcount
        removed_requests = session.execute(
            delete(PresentationRequest).where(
                or_(
                    col(PresentationRequest.completed_at) < result_cutoff,
                    col(PresentationRequest.expires_at) < result_cutoff,
                )
            )
        ).rowcount
        removed_challenges = session.execute(
            delete(Challenge).where(col(Challenge.expires_at) < challenge_cutoff)
        ).rowcount
    return PurgeResult(removed_log or 0, removed_requests or 0, removed_challenges or 0)
