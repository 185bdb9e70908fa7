"""VC-API challenges: issued here, usable once, by any instance of the verifier.

A challenge stops a recorded presentation from being replayed: the holder signs it into
the proof, and once a presentation with it has been accepted it must never be accepted
again. "Once" has to hold across every verifier instance behind a load balancer, so it is
decided by the database: consuming is ``UPDATE … SET used_at = now WHERE challenge_hash =
… AND used_at IS NULL AND expires_at > now``, which exactly one transaction can win.

Only the SHA-256 of a challenge is stored; a copy of the table does not help anyone answer.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import update
from sqlmodel import col

from credentials import Check
from servicekit.db import Database, rowcount
from servicekit.tokens import new_token, token_hash

from ..models import Challenge
from .clock import Clock, aware, utc

CHECK_ID = "challenge"


class ChallengeState(StrEnum):
    UNKNOWN = "unknown"
    FRESH = "fresh"
    USED = "used"
    EXPIRED = "expired"


class ChallengeService:
    def __init__(self, db: Database, *, ttl: int, clock: Clock) -> None:
        self.db = db
        self.ttl = timedelta(seconds=ttl)
        self.clock = clock

    def issue(self) -> tuple[str, datetime]:
        """A new challenge (192 bits, URL-safe) and when it expires."""
        challenge = new_token(nbytes=24)
        now = utc(self.clock())
        row = Challenge(
            challenge_hash=token_hash(challenge), created_at=now, expires_at=now + self.ttl
        )
        with self.db.session() as session:
            session.add(row)
        return challenge, aware(row.expires_at)

    def state(self, challenge: str) -> ChallengeState:
        """Whether ``challenge`` was issued here and is still usable (unknown, used, expired
        or fresh); reading it does not use it up.
        """
        with self.db.session() as session:
            row = session.get(Challenge, token_hash(challenge))
        if row is None:
            return ChallengeState.UNKNOWN
        if row.used_at is not None:
            return ChallengeState.USED
        if row.expires_at <= utc(self.clock()):
            return ChallengeState.EXPIRED
        return ChallengeState.FRESH

    def consume(self, challenge: str) -> bool:
        """Mark the challenge used; True for exactly one caller across all instances."""
        now = utc(self.clock())
        statement = (
            update(Challenge)
            .where(col(Challenge.challenge_hash) == token_hash(challenge))
            .where(col(Challenge.used_at).is_(None))
            .where(col(Challenge.expires_at) > now)
            .values(used_at=now)
        )
        with self.db.session() as session:
            return rowcount(session.execute(statement)) == 1

    def check(self, challenge: str, state: ChallengeState, binding_holds: bool) -> Check | None:
        """The ``challenge`` check for a verified presentation, consuming when it may.

        ``state`` was read before verifying; a challenge is consumed only by a presentation
        whose own proof verified with it, so junk sent with a stolen challenge cannot burn
        the holder's genuine answer.
        """
        if state is ChallengeState.UNKNOWN:
            return Check.skipped(
                CHECK_ID,
                "the challenge was not issued by this verifier; single use is the caller's "
                "responsibility",
                code="challenge_external",
            )
        if state is ChallengeState.USED:
            return Check.failed(
                CHECK_ID, "challenge_replayed", "this challenge has already been used"
            )
        if state is ChallengeState.EXPIRED:
            return Check.failed(CHECK_ID, "challenge_expired", "this challenge has expired")
        if not binding_holds:
            return Check.skipped(
                CHECK_ID,
                "the challenge was not used up: the presentation's proof did not verify",
                code="challenge_not_consumed",
            )
        if not self.consume(challenge):
            if self.state(challenge) is ChallengeState.EXPIRED:
                return Check.failed(CHECK_ID, "challenge_expired", "this challenge has expired")
            return Check.failed(
                CHECK_ID, "challenge_replayed", "this challenge has already been used"
            )
        return Check.passed(CHECK_ID, "challenge issued by this verifier, now used up")
