"""Learner accounts: registration, log-in, bearer tokens and session cookies, log-out.

* Passwords are hashed with argon2id (``argon2-cffi`` defaults) and must pass a minimum
  policy (length, not the user name, not a well-known password, not one repeated
  character). A log-in for an unknown user still runs one argon2 verification, so timing
  does not tell which user names exist.
* Tokens (API bearer tokens and page session cookies alike) are 256-bit random values;
  only their SHA-256 is stored, and each has an absolute expiry. Expired tokens are
  refused and swept at log-in.
"""

from __future__ import annotations

import math
import re
import threading
import uuid
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from servicekit.db import Database
from servicekit.problems import ProblemError
from servicekit.tokens import new_token, token_hash

from ..models import AuthToken, Learner
from .clock import Clock
from .errors import bad_request, conflict
from .keys import HolderKeys

API, SESSION = "api", "session"
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@+-]{2,63}$")
MAX_PASSWORD = 1024
# The handful everyone tries first; a full breached-password list is a deployment choice.
_COMMON = frozenset(
    {
        "password", "password1", "password12", "password123", "passw0rd", "1234567890",
        "12345678910", "qwertyuiop", "qwerty1234", "iloveyou12", "letmein123", "welcome123",
        "wachtwoord", "wachtwoord1", "wachtwoord123", "administrator", "abcdefghij",
    }
)  # fmt: skip


LOCKOUT_AFTER = 10
LOCKOUT_BASE_SECONDS = 30
LOCKOUT_MAX_SECONDS = 3600


class AccountService:
    def __init__(
        self,
        db: Database,
        keys: HolderKeys,
        *,
        clock: Clock,
        min_password_length: int,
        token_ttl: int,
        session_ttl: int,
        time_cost: int = 3,
        memory_kib: int = 65_536,
    ) -> None:
        self.db = db
        self.keys = keys
        self.clock = clock
        self.min_password_length = min_password_length
        self.ttl = {API: token_ttl, SESSION: session_ttl}
        self.hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
        self._dummy_hash = self.hasher.hash(new_token(nbytes=16))
        # per-username failure counts: a lock-out that spreading guesses over many client
        # addresses cannot avoid (the per-client limit is in the route)
        self._failures: dict[str, tuple[int, datetime | None]] = {}
        self._failures_lock = threading.Lock()

    # -- registration ------------------------------------------------------------------

    def check_password(self, username: str, password: str) -> None:
        """Raise a 400 problem naming what is wrong with ``password``."""
        if len(password) < self.min_password_length:
            raise bad_request(
                "weak_password",
                f"the password must have at least {self.min_password_length} characters",
            )
        if len(password) > MAX_PASSWORD:
            raise bad_request("weak_password", f"the password may have at most {MAX_PASSWORD}")
        lowered = password.lower()
        if lowered in _COMMON or len(set(password)) < 4:
            raise bad_request("weak_password", "this password is too easy to guess")
        if username and username.lower() in lowered:
            raise bad_request("weak_password", "the password must not contain the user name")

    def register(self, username: str, password: str) -> Learner:
        name = normalise_username(username)
        if not USERNAME.match(name):
            raise bad_request(
                "invalid_username",
                "the user name must be 3 to 64 characters: letters, digits and . _ @ + -",
            )
        self.check_password(name, password)
        learner_id = str(uuid.uuid4())
        did, wrapped = self.keys.create(learner_id)
        learner = Learner(
            id=learner_id,
            username=name,
            password_hash=self.hasher.hash(password),
            did=did,
            wrapped_key=wrapped,
            created_at=self.clock(),
        )
        try:
            with self.db.session() as session:
                session.add(learner)
        except IntegrityError:
            raise conflict("username_taken", "this user name is already taken") from None
        return learner

    # -- log-in and tokens -------------------------------------------------------------

    def login(self, username: str, password: str, kind: str = API) -> tuple[str, datetime]:
        """A new token for the learner (``api`` or ``session``) and when it expires."""
        name = normalise_username(username)
        self._refuse_if_locked(name)
        with self.db.session() as session:
            learner = session.exec(select(Learner).where(Learner.username == name)).first()
        if learner is None:
            self._verify(self._dummy_hash, password)
            self._record_failure(name)
            raise _bad_login()
        if not self._verify(learner.password_hash, password):
            self._record_failure(name)
            raise _bad_login()
        with self._failures_lock:
            self._failures.pop(name, None)
        if self.hasher.check_needs_rehash(learner.password_hash):
            with self.db.session() as session:
                row = session.get(Learner, learner.id)
                if row is not None:
                    row.password_hash = self.hasher.hash(password)
        return self.issue_token(learner.id, kind)

    def _refuse_if_locked(self, name: str) -> None:
        with self._failures_lock:
            _, locked_until = self._failures.get(name, (0, None))
        now = self.clock()
        if locked_until is not None and locked_until > now:
            wait = max(1, math.ceil((locked_until - now).total_seconds()))
            raise ProblemError(
                429,
                "account_locked",
                f"too many failed log-ins for this account; try again in {wait} s",
                headers={"Retry-After": str(wait)},
            )

    def _record_failure(self, name: str) -> None:
        """After LOCKOUT_AFTER failures, lock with a back-off that doubles per failure."""
        with self._failures_lock:
            if len(self._failures) > 100_000:
                self._failures.clear()
            count, _ = self._failures.get(name, (0, None))
            count += 1
            locked_until = None
            if count >= LOCKOUT_AFTER:
                seconds = min(
                    LOCKOUT_MAX_SECONDS, LOCKOUT_BASE_SECONDS * 2 ** (count - LOCKOUT_AFTER)
                )
                locked_until = self.clock() + timedelta(seconds=seconds)
            self._failures[name] = (count, locked_until)

    def issue_token(self, learner_id: str, kind: str = API) -> tuple[str, datetime]:
        now = self.clock()
        token = new_token(nbytes=32)
        expires = now + timedelta(seconds=self.ttl[kind])
        with self.db.session() as session:
            session.execute(
                delete(AuthToken)
                .where(col(AuthToken.learner_id) == learner_id)
                .where(col(AuthToken.expires_at) <= now)
            )
            session.add(
                AuthToken(
                    token_hash=token_hash(token),
                    learner_id=learner_id,
                    kind=kind,
                    created_at=now,
                    expires_at=expires,
                )
            )
        return token, expires

    def authenticate(self, token: str, kind: str) -> Learner | None:
        """The learner a live token of ``kind`` belongs to, else None."""
        if not token or len(token) > 200:
            return None
        with self.db.session() as session:
            row = session.get(AuthToken, token_hash(token))
            if row is None or row.kind != kind or row.expires_at <= self.clock():
                return None
            return session.get(Learner, row.learner_id)

    def logout(self, token: str) -> None:
        with self.db.session() as session:
            session.execute(delete(AuthToken).where(col(AuthToken.token_hash) == token_hash(token)))

    def _verify(self, hashed: str, password: str) -> bool:
        try:
            return self.hasher.verify(hashed, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


def normalise_username(username: str) -> str:
    return username.strip().lower()


def _bad_login() -> ProblemError:
    return ProblemError(
        401,
        "invalid_credentials",
        "the user name or password is wrong",
        headers={"WWW-Authenticate": "Bearer"},
    )
