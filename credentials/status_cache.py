"""The status-list cache: each list fetched once per freshness window, shared by all checks.

A status list is the same document for every credential on it, so a verifier that checks
a thousand credentials from one issuer fetches it once: ``StatusListCache`` keeps the
decoded list (and whether its proof verified) for the list's own freshness (``ttl``, or
the response's Cache-Control / Expires), and collapses concurrent fetches of one URL into
one (``SingleFlight``). ``credentials.status`` decides what an entry's bit means.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from .dates import parse_xsd_datetime
from .errors import MicrocredError
from .fetch import FetchResponse, SafeFetcher
from .singleflight import SingleFlight

DEFAULT_TTL = 300.0
"""Seconds a status list is reused when neither HTTP nor the list says otherwise."""

PROOF_MEMO_SECONDS = 300.0
"""Seconds a cached list's proof outcome is reused (``DidResolver``'s default cache time)."""

STATUS_LIST_ACCEPT = (
    "application/vc, application/vc+ld+json;q=0.9, application/ld+json;q=0.8, "
    "application/json;q=0.7"
)

VerifyListCredential = Callable[[dict[str, Any]], tuple[bool, str]]
"""Verifies a status list credential's proof: ``(ok, reason)``."""

_MAX_AGE_RE = re.compile(r'^max-age\s*=\s*"?(\d+)"?$')


@dataclass(frozen=True)
class CachedStatusList:
    """A fetched status list document and the moment it stops being fresh.

    ``memo`` holds what is derived from the document alone (see the module docstring); it
    lives and dies with the entry.
    """

    url: str
    document: Any
    fetched_at: datetime
    expires_at: datetime
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)


class StatusListCache:
    """Thread-safe in-process cache of status list credentials, keyed by URL.

    ``now`` returns an aware datetime (injectable so tests can move time). The cache holds
    at most ``max_entries`` lists; when full, the entry closest to expiry is dropped, so a
    stream of credentials naming ever-new list URLs cannot grow memory without bound.
    """

    def __init__(
        self,
        *,
        default_ttl: float = DEFAULT_TTL,
        max_ttl: float = 3600.0,
        max_entries: int = 1024,
        now: Callable[[], datetime] | None = None,
        proof_memo_seconds: float = PROOF_MEMO_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.default_ttl = default_ttl
        self.max_ttl = max_ttl
        self.max_entries = max_entries
        self.proof_memo_seconds = proof_memo_seconds
        self._now = now or (lambda: datetime.now(UTC))
        self._monotonic = monotonic
        self._entries: dict[str, CachedStatusList] = {}
        self._lock = threading.Lock()
        self._single_flight: SingleFlight[Any] = SingleFlight()  # one download per URL
        # url -> (validFrom, digest of the bits) of the newest list trusted there
        self._newest: dict[str, tuple[datetime, str]] = {}

    def rollback(self, url: str, document: Any) -> str | None:
        """Why ``document`` is older than a list this process already trusted for ``url``
        (None when it is not). Call it only for a list whose proof verified: the newest
        ``validFrom`` seen is then a high-water mark an attacker cannot raise, and an old
        signed list replayed at the URL is refused as stale even inside its window. An
        older list with the very same bits is no replay (a CDN copy, or two issuer
        instances re-signing at once): it says what the newest says, so it passes."""
        issued = _issued_at(document)
        if issued is None:
            return None
        bits = _bits_digest(document)
        with self._lock:
            newest = self._newest.get(url)
            if newest is not None and issued < newest[0]:
                if bits == newest[1]:
                    return None
                return (
                    f"the status list {url} was issued at {issued.isoformat()}, before the "
                    f"list already seen there ({newest[0].isoformat()}), and says something "
                    "else: an old list replayed"
                )
            self._newest[url] = (issued, bits)
            if len(self._newest) > self.max_entries * 4:
                for old in sorted(self._newest, key=lambda u: self._newest[u][0])[
                    : len(self._newest) - self.max_entries * 4
                ]:
                    del self._newest[old]
        return None

    def get(self, url: str) -> Any | None:
        """The cached document for ``url`` if still fresh, else None."""
        now = self._now()
        with self._lock:
            entry = self._entries.get(url)
            if entry is None:
                return None
            if now >= entry.expires_at:
                del self._entries[url]
                return None
            return entry.document

    def put(self, url: str, document: Any, response: FetchResponse | None = None) -> float:
        """Store ``document`` for as long as its headers and ``ttl`` allow; returns the TTL."""
        ttl = self.ttl_for(document, response)
        if ttl <= 0:
            with self._lock:
                self._entries.pop(url, None)
            return 0.0
        now = self._now()
        entry = CachedStatusList(url, document, now, now + timedelta(seconds=ttl))
        with self._lock:
            self._entries[url] = entry
            if len(self._entries) > self.max_entries:
                self._evict(now)
        return ttl

    def fetch(self, url: str, fetcher: SafeFetcher) -> Any:
        """The document at ``url``, from the cache or the network (FetchError on failure).

        Threads missing the same URL at once wait for one download (a per-URL lock: a slow
        list server holds up only the verifications that need that list); the cache-wide
        lock is never held during a download.
        """

        def download() -> Any:
            document, response = fetcher.get_json(url, accept=STATUS_LIST_ACCEPT)
            self.put(url, document, response)
            return document

        return self._single_flight.get(url, lambda: self.get(url), download)

    def memo_for(self, url: str, document: Any) -> dict[Any, Any] | None:
        """The memo of the fresh entry for ``url`` when it holds this very ``document``
        (None for a document that is not, or no longer, the cached one)."""
        now = self._now()
        with self._lock:
            entry = self._entries.get(url)
        if entry is None or entry.document is not document or now >= entry.expires_at:
            return None
        return entry.memo

    def remembered_proof(
        self, url: str, document: Any, verify: VerifyListCredential
    ) -> tuple[bool, str]:
        """``verify(document)``, reusing the outcome for the cached list (module docstring)."""
        memo = self.memo_for(url, document)
        if memo is not None:
            hit = memo.get("proof")
            if hit is not None and self._monotonic() < hit[0]:
                return hit[1]
        try:
            outcome = verify(document)
        except MicrocredError as exc:
            outcome = (False, exc.message)
        if memo is not None and not _proof_expires(document):
            memo["proof"] = (self._monotonic() + self.proof_memo_seconds, outcome)
        return outcome

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def ttl_for(self, document: Any, response: FetchResponse | None) -> float:
        """Seconds ``document`` stays fresh: the shortest of the HTTP and ``ttl`` lifetimes."""
        lifetimes: list[float] = []
        if response is not None:
            http = self._http_lifetime(response.headers)
            if http is not None:
                lifetimes.append(http)
        list_ttl = _list_ttl_seconds(document)
        if list_ttl is not None:
            lifetimes.append(list_ttl)
        ttl = min(lifetimes) if lifetimes else self.default_ttl
        return max(0.0, min(ttl, self.max_ttl))

    def _http_lifetime(self, headers: dict[str, str]) -> float | None:
        directives = [
            d.strip().lower() for d in headers.get("cache-control", "").split(",") if d.strip()
        ]
        if "no-store" in directives or "no-cache" in directives:
            return 0.0
        age = _non_negative_int(headers.get("age")) or 0
        for directive in directives:
            match = _MAX_AGE_RE.match(directive)
            if match:
                return float(int(match.group(1)) - age)
        expires = headers.get("expires")
        if expires is None:
            return None
        try:
            expires_at = parsedate_to_datetime(expires)
        except (TypeError, ValueError, IndexError):
            return 0.0  # RFC 9111 §5.3: an invalid Expires means "already expired"
        if expires_at.tzinfo is None:
            expires_at = expires_at.replace(tzinfo=UTC)
        reference = self._now()
        if "date" in headers:
            try:
                date = parsedate_to_datetime(headers["date"])
                reference = date if date.tzinfo else date.replace(tzinfo=UTC)
            except (TypeError, ValueError, IndexError):
                pass
        return (expires_at - reference).total_seconds() - age

    def _evict(self, now: datetime) -> None:
        for url in [u for u, e in self._entries.items() if now >= e.expires_at]:
            del self._entries[url]
        while len(self._entries) > self.max_entries:
            oldest = min(self._entries.values(), key=lambda e: e.expires_at)
            del self._entries[oldest.url]


def _proof_expires(document: Any) -> bool:
    """True when any proof of ``document`` has an ``expires`` (its outcome can change)."""
    proofs = document.get("proof") if isinstance(document, dict) else None
    proofs = proofs if isinstance(proofs, list) else [proofs]
    return any(not isinstance(p, dict) or "expires" in p for p in proofs if p is not None)


def _non_negative_int(value: str | None) -> int | None:
    # ASCII digits only: str.isdigit() is also true for "²", which int() refuses
    if value is None or not (value.strip().isascii() and value.strip().isdigit()):
        return None
    return int(value.strip())


def _list_ttl_seconds(document: Any) -> float | None:
    """The list's ``ttl`` (milliseconds, on the BitstringStatusList subject) in seconds."""
    if not isinstance(document, dict):
        return None
    subject = _single_subject(document)
    ttl = subject.get("ttl") if subject is not None else None
    if ttl is None:
        ttl = document.get("ttl")
    if isinstance(ttl, str) and ttl.strip().isascii() and ttl.strip().isdigit():
        ttl = int(ttl.strip())
    if isinstance(ttl, bool) or not isinstance(ttl, int | float) or ttl < 0:
        return None
    return float(ttl) / 1000.0


def _single_subject(document: dict[str, Any]) -> dict[str, Any] | None:
    subject = document.get("credentialSubject")
    if isinstance(subject, list) and len(subject) == 1:
        subject = subject[0]
    return subject if isinstance(subject, dict) else None


def _parse_datetime(value: Any) -> datetime | None:
    """A status list's window is an XML Schema dateTime whatever its data model (the zone
    may be missing; date-only or garbage is not a window): see ``credentials.dates``."""
    try:
        return parse_xsd_datetime(value)
    except ValueError:
        return None


def _bits_digest(document: dict[str, Any]) -> str:
    subject = _single_subject(document)
    encoded = subject.get("encodedList") if subject is not None else None
    return hashlib.sha256(str(encoded).encode()).hexdigest()


def _issued_at(document: Any) -> datetime | None:
    """A list's ``validFrom`` (VCDM 1.1: ``issuanceDate``), or None."""
    if not isinstance(document, dict):
        return None
    return _parse_datetime(document.get("validFrom", document.get("issuanceDate")))
