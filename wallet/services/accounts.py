"""Learner accounts: registration, log-in, bearer tokens and session cookies, log-out.

* Passwords are hashed with argon2id (``argon2-cffi`` defaults) and must pass a minimum
  policy (length, not the user name, not a well-known password, not one repeated
  character). A log-in for an unknown user still runs one argon2 verification, so timing
  does not tell which user names exist.
* Failed log-ins back off per (user name, client), never lock the account as such: ten
  wrong guesses from one address must not lock the real owner out (issue 14 item 8). Guesses
  sprayed over many addresses still meet a per-name back-off, which a client that logged in
  to that account before (the owner's own device) does not.
* At most ``max_concurrent_hashes`` argon2 computations run at once (each takes
  ``memory_kib``); the rest wait briefly, then get a 503. Thirty parallel failed log-ins
  took the wallet to 1.6 GiB before.
* Tokens (API bearer tokens and page session cookies alike) are 256-bit random values;
  only their SHA-256 is stored, and each has an absolute expiry. Expired tokens are
  refused and swept at log-in.
"""

from __future__ import annotations

import math
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from servicekit.db import Database
from servicekit.errors import Busy, Conflict, Invalid, RateLimited, Unauthorized
from servicekit.tokens import new_token, token_hash

from ..models import AuthToken, Learner
from .clock import Clock
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


BACKOFF_AFTER = 5
"""Failures of one (user name, client) pair before that pair backs off."""
SPRAY_BACKOFF_AFTER = 20
"""Failures of one user name from clients it never logged in from, before those back off."""
BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600
HASH_WAIT_SECONDS = 10.0
"""How long a log-in waits for an argon2 slot before the answer is 503 ``busy``."""
_MAX_TRACKED = 100_000


class _Backoff:
    """Failure counts with a back-off that doubles per failure past ``after``."""

    def __init__(self, after: int) -> None:
        self.after = after
        self.entries: dict[object, tuple[int, datetime | None]] = {}

    def until(self, key: object) -> datetime | None:
        return self.entries.get(key, (0, None))[1]

    def fail(self, key: object, now: datetime) -> None:
        if len(self.entries) > _MAX_TRACKED:
            self.entries.clear()  # bounded memory under a key-spraying attack
        count = self.entries.get(key, (0, None))[0] + 1
        until = None
        if count >= self.after:
            seconds = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (count - self.after))
            until = now + timedelta(seconds=seconds)
        self.entries[key] = (count, until)

    def forget(self, key: object) -> None:
        self.entries.pop(key, None)


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
        max_concurrent_hashes: int = 4,
    ) -> None:
        self.db = db
        self.keys = keys
        self.clock = clock
        self.min_password_length = min_password_length
        self.ttl = {API: token_ttl, SESSION: session_ttl}
        self.hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
        self._hash_slots = threading.BoundedSemaphore(max(1, max_concurrent_hashes))
        self._hashing = 0
        self.peak_hashing = 0
        """The most argon2 computations seen running at once (a measurement for tests)."""
        self._failures_lock = threading.Lock()
        self._dummy_hash = self._hash(new_token(nbytes=16))
        self._per_client = _Backoff(BACKOFF_AFTER)  # key: (name, client)
        self._per_name = _Backoff(SPRAY_BACKOFF_AFTER)  # key: name; unknown clients only
        self._known_clients: dict[str, set[str]] = {}  # name -> clients that logged in

    # -- registration ------------------------------------------------------------------

    def check_password(self, username: str, password: str) -> None:
        """Raise a 400 problem naming what is wrong with ``password``."""
        if len(password) < self.min_password_length:
            raise Invalid(
                "weak_password",
                f"the password must have at least {self.min_password_length} characters",
            )
        if len(password) > MAX_PASSWORD:
            raise Invalid("weak_password", f"the password may have at most {MAX_PASSWORD}")
        lowered = password.lower()
        if lowered in _COMMON or len(set(password)) < 4:
            raise Invalid("weak_password", "this password is too easy to guess")
        if username and username.lower() in lowered:
            raise Invalid("weak_password", "the password must not contain the user name")

    def register(self, username: str, password: str, *, reveal_taken: bool = False) -> Learner:
        """Create an account; the answer never tells whether the name was free (H-9e).

        For a taken name the returned learner is a stand-in that was never stored: the
        caller cannot tell it apart, and only a log-in with this password shows whether
        the account is the caller's. ``reveal_taken`` is for the operator's own tools (the
        demo set-up), never for an HTTP route: then a taken name is 409 ``username_taken``.
        """
        name = normalise_username(username)
        if not USERNAME.match(name):
            raise Invalid(
                "invalid_username",
                "the user name must be 3 to 64 characters: letters, digits and . _ @ + -",
            )
        self.check_password(name, password)
        learner_id = str(uuid.uuid4())
        did, wrapped = self.keys.create(learner_id)
        learner = Learner(
            id=learner_id,
            username=name,
            password_hash=self._hash(password),
            did=did,
            wrapped_key=wrapped,
            created_at=self.clock(),
        )
        try:
            with self.db.session() as session:
                session.add(learner)
        except IntegrityError:
            if reveal_taken:
                raise Conflict("username_taken", "this user name is already taken") from None
            # The name is taken. Saying so would tell anyone which names have accounts
            # (H-9e), so the caller gets the same answer as for a free name: an account
            # that does not exist (never stored, its key thrown away). Its log-in fails
            # like any wrong password; the owner's account is untouched.
            return learner
        return learner

    # -- log-in and tokens -------------------------------------------------------------

    def login(
        self, username: str, password: str, kind: str = API, client: str = "unknown"
    ) -> tuple[str, datetime]:
        """A new token for the learner (``api`` or ``session``) and when it expires.

        ``client`` is the caller's address (the route's rate-limit key): failures back off
        per (name, client), so an attacker's guesses never lock the owner's own client out.
        """
        name = normalise_username(username)
        self._refuse_while_backing_off(name, client)
        with self.db.session() as session:
            learner = session.exec(select(Learner).where(Learner.username == name)).first()
        if learner is None:
            self._verify(self._dummy_hash, password)
            self._record_failure(name, client)
            raise _bad_login()
        if not self._verify(learner.password_hash, password):
            self._record_failure(name, client)
            raise _bad_login()
        with self._failures_lock:
            self._per_client.forget((name, client))
            known = self._known_clients.setdefault(name, set())
            if len(known) < 64:
                known.add(client)
            if len(self._known_clients) > _MAX_TRACKED:
                self._known_clients.clear()
        if self.hasher.check_needs_rehash(learner.password_hash):
            with self.db.session() as session:
                row = session.get(Learner, learner.id)
                if row is not None:
                    row.password_hash = self._hash(password)
        return self.issue_token(learner.id, kind)

    def _refuse_while_backing_off(self, name: str, client: str) -> None:
        now = self.clock()
        with self._failures_lock:
            waits = [self._per_client.until((name, client))]
            if client not in self._known_clients.get(name, ()):
                waits.append(self._per_name.until(name))
        until = max((w for w in waits if w is not None), default=None)
        if until is not None and until > now:
            wait = max(1, math.ceil((until - now).total_seconds()))
            raise RateLimited(
                "login_backoff",
                f"too many failed log-ins; try again in {wait} s",
                headers={"Retry-After": str(wait)},
            )

    def _record_failure(self, name: str, client: str) -> None:
        now = self.clock()
        with self._failures_lock:
            self._per_client.fail((name, client), now)
            if client not in self._known_clients.get(name, ()):
                self._per_name.fail(name, now)

    def issue_token(self, learner_id: str, kind: str = API) -> tuple[str, datetime]:
        """A new bearer token of ``kind`` (API or session) for the learner and when it expires;
        only its hash is stored, and the learner's expired tokens are swept on the way.
        """
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
        """Forget ``token`` (idempotent: an unknown token is no error)."""
        with self.db.session() as session:
            session.execute(delete(AuthToken).where(col(AuthToken.token_hash) == token_hash(token)))

    def _verify(self, hashed: str, password: str) -> bool:
        try:
            with self._hash_slot():
                return self.hasher.verify(hashed, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def _hash(self, password: str) -> str:
        with self._hash_slot():
            return self.hasher.hash(password)

    @contextmanager
    def _hash_slot(self) -> Iterator[None]:
        """Hold one of the argon2 slots: memory is ``slots x memory_kib``, not unbounded."""
        if not self._hash_slots.acquire(timeout=HASH_WAIT_SECONDS):
            raise Busy(
                "busy",
                "too many log-ins are being checked right now; try again shortly",
                headers={"Retry-After": "5"},
            )
        try:
            with self._failures_lock:
                self._hashing += 1
                self.peak_hashing = max(self.peak_hashing, self._hashing)
            yield
        finally:
            with self._failures_lock:
                self._hashing -= 1
            self._hash_slots.release()


def normalise_username(username: str) -> str:
    """The form a user name is stored and compared in (trimmed, lower case)."""
    return username.strip().lower()


def _bad_login() -> Unauthorized:
    return Unauthorized(
        "invalid_credentials",
        "the user name or password is wrong",
        headers={"WWW-Authenticate": "Bearer"},
    )
