"""Checking a credential's status entries: Bitstring Status List, StatusList2021, 1EdTech.

:func:`check_status` turns each ``credentialStatus`` entry into one :class:`Check` with id
``status``. Three status methods are read:

* ``BitstringStatusListEntry`` (W3C Bitstring Status List v1.0): the list credential is a
  ``BitstringStatusListCredential`` whose ``encodedList`` is multibase base64url (``u``) of
  the GZIP-compressed bitstring;
* ``StatusList2021Entry`` (W3C CCG Status List 2021, the predecessor, on VCDM 1.1
  credentials): the same bitstring in a ``StatusList2021Credential`` / ``StatusList2021``
  subject, ``encodedList`` base64url of the GZIP bytes *without* a multibase prefix, and no
  ``statusSize`` (one bit per entry);
* ``1EdTechRevocationList`` (1EdTech Revocation List Status Method, used by Open Badges
  3.0): the entry's ``id`` is the URL of a revocation list, a JSON object whose
  ``revokedCredentials`` lists ``{id, revoked?, revocationReason?}``; the credential is
  revoked when its own ``id`` is listed with ``revoked`` true or absent (an entry with
  ``revoked: false`` is a reinstated credential). The list carries no proof, so it is
  only as trustworthy as the HTTPS server that serves it (its ``issuer``, when given, must
  be the credential's issuer).

  Where this shape comes from: Open Badges 3.0 (1EdTech/openbadges-specification,
  ob_v3p0/verification.md, § "OpenBadgeCredential Verification", step "Check the status",
  and the same step of § "EndorsementCredential Verification") says a credential is
  revoked when its ``credentialStatus`` has type ``1EdTechRevocationList`` "and … has been
  revoked as shown in [VCRL-10]"; ob_v3p0/common_credentials.lines, class
  ``CredentialStatus``: ``id`` "MUST be the URL of the issuer's credential status method",
  ``type`` the method's name. VCRL-10 (1EdTech Revocation List Status Method 1.0,
  https://www.imsglobal.org/spec/vcrl/v1p0/) is not part of that repository; its rule — the
  credential's ``id`` is in ``revokedCredentials`` and ``revoked`` is true or omitted — is
  read as 1EdTech's own validator applies it (digital-credentials-public-validator,
  RevocationListProbe). Checked against those texts for issue 13.

Any other ``credentialStatus`` type is a warning ``status_unknown``, never a failure: the
credential is not known to be revoked, and an unknown method is not a forgery.

The outcomes are deliberately asymmetric:

* a status that *cannot be determined* (the list is unreachable, times out, is not JSON) is
  a **warning** (``status_unknown``) — never "revoked", because an attacker who can block a
  URL must not be able to make a valid credential look revoked, and an outage must not
  silently read as "fine" either;
* a list that *was* fetched but cannot be trusted (not a status list credential, another
  issuer, outside its validity window, bad proof) is a **failure**: someone served
  something wrong at the URL the issuer named;
* only a trusted list with the bit set yields ``revoked`` / ``suspended``.

Replay (issue 14.5). A signed list stays genuine forever, so an attacker who kept an old
one (before a revocation) could serve it again at the list's URL. Three rules bound that:
the list's ``id`` must be the URL it was fetched from (``status_list_id_mismatch``); a list
past its ``validUntil`` is refused (``status_list_expired``; microcred's issuer re-signs
its lists long before that); and a list issued before one this process already trusted
for the URL is refused (``status_list_stale``). See docs/security.md for the freshness a
verifier can promise.

The list credential must come from the credential's own issuer. The spec allows a
different list issuer as long as the verifier trusts both; microcred has no trust
registry for that yet, so it takes the strict reading.

:class:`StatusListCache` keeps fetched list credentials in process memory so that
verifying many credentials against one list costs one download per freshness period.
Freshness follows HTTP (``Cache-Control: max-age`` / ``no-store`` / ``no-cache``,
``Expires``) and the list's own ``ttl``, whichever is shorter, capped by ``max_ttl``
so that a revocation becomes visible within a bounded time whatever a server says.
Concurrent misses for one URL wait for a single download instead of each fetching it.

Each cached list also remembers, for as long as it is cached, what does not change while
the bytes do not: its decoded bitstring and the outcome of verifying its proof. Under load
those two were most of a status check (a gunzip of the list and a full proof verification
per request). What depends on the credential or on the clock — the entry, the purpose,
the issuer match, the list's validity window — is still checked on every call. The proof
outcome is remembered for at most ``proof_memo_seconds`` (the DID resolver's cache time,
so a key the issuer withdraws stops counting as soon as it would without the memo), and
not at all for a proof that carries its own ``expires``.
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
from urllib.parse import urlsplit

from .dates import parse_xsd_datetime
from .errors import FetchError, MicrocredError, StatusListError
from .fetch import FetchResponse, SafeFetcher
from .report import Check
from .singleflight import SingleFlight
from .status_list import StatusList

__all__ = [
    "DEFAULT_TTL",
    "STATUS_LIST_ACCEPT",
    "CachedStatusList",
    "StatusListCache",
    "VerifyListCredential",
    "check_status",
]

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

CHECK_ID = "status"
_ENTRY_TYPE = "BitstringStatusListEntry"
REVOCATION_LIST_TYPE = "1EdTechRevocationList"


@dataclass(frozen=True)
class _Method:
    """One bitstring status method: the entry type and what its list credential is."""

    entry_type: str
    list_type: str
    subject_type: str
    multibase: bool  # encodedList carries the multibase "u" prefix


BITSTRING = _Method(
    _ENTRY_TYPE, "BitstringStatusListCredential", "BitstringStatusList", multibase=True
)
STATUS_LIST_2021 = _Method(
    "StatusList2021Entry", "StatusList2021Credential", "StatusList2021", multibase=False
)
_METHODS = {m.entry_type: m for m in (BITSTRING, STATUS_LIST_2021)}
_INDEX_RE = re.compile(r"[0-9]{1,15}")
_MAX_AGE_RE = re.compile(r'^max-age\s*=\s*"?(\d+)"?$')


# --------------------------------------------------------------------------- cache


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


# --------------------------------------------------------------------------- checking


@dataclass(frozen=True)
class _Entry:
    purpose: str
    index: int
    list_url: str
    status_size: int
    method: _Method = BITSTRING


def check_status(
    credential: dict[str, Any],
    *,
    fetcher: SafeFetcher,
    cache: StatusListCache,
    verify_list_credential: VerifyListCredential,
    now: datetime | None = None,
    clock_skew: timedelta = timedelta(minutes=5),
) -> list[Check]:
    """One ``status`` check per ``credentialStatus`` entry (a skipped check when none).

    ``clock_skew`` tolerates a reader whose clock is a little behind the issuer's: a list
    re-signed a second ago must not read as "not yet valid".

    ``verify_list_credential`` verifies the list credential's proof; it is a callback so
    that this module does not depend on the proof machinery (and tests can stub it).
    """
    now = now or datetime.now(UTC)
    status = credential.get("credentialStatus") if isinstance(credential, dict) else None
    if status is None or status == []:
        return [
            Check.skipped(
                CHECK_ID, "the credential has no credentialStatus", code="no_credential_status"
            )
        ]
    if not isinstance(status, dict | list):
        return [
            Check.failed(
                CHECK_ID, "status_entry_invalid", "credentialStatus must be an object or an array"
            )
        ]
    entries = status if isinstance(status, list) else [status]
    fetched: dict[str, Any | FetchError] = {}  # one download per list within this call
    return [
        _check_entry(
            entry, credential, fetcher, cache, verify_list_credential, now, fetched, clock_skew
        )
        for entry in entries
    ]


def _check_entry(
    raw: Any,
    credential: dict[str, Any],
    fetcher: SafeFetcher,
    cache: StatusListCache,
    verify_list_credential: VerifyListCredential,
    now: datetime,
    fetched: dict[str, Any | FetchError],
    clock_skew: timedelta,
) -> Check:
    if not isinstance(raw, dict):
        return _invalid("a credentialStatus entry is not an object")
    types = _as_list(raw.get("type"))
    if REVOCATION_LIST_TYPE in types:
        return _check_revocation_list(raw, credential, fetcher, cache, fetched)
    method = next((_METHODS[t] for t in types if isinstance(t, str) and t in _METHODS), None)
    if method is None:
        shown = ", ".join(str(t) for t in types) or "(none)"
        return Check.warning(
            CHECK_ID,
            "status_unknown",
            f"credentialStatus type {shown} is not a status method microcred knows; "
            "this status was not checked",
        )
    entry = _parse_entry(raw, method)
    if isinstance(entry, Check):
        return entry
    where = f"entry {entry.index} of {entry.list_url}"
    if entry.purpose not in ("revocation", "suspension"):
        return Check.warning(
            CHECK_ID,
            "status_purpose_unsupported",
            f"status purpose {entry.purpose!r} is not supported; {where} was not checked",
        )

    # -- fetch (failures here mean "unknown", never "revoked")
    if entry.list_url in fetched:
        document = fetched[entry.list_url]
    else:
        try:
            document = cache.fetch(entry.list_url, fetcher)
        except FetchError as exc:
            document = exc
        fetched[entry.list_url] = document
    if isinstance(document, FetchError):
        return Check.warning(
            CHECK_ID,
            "status_unknown",
            f"the {entry.purpose} status could not be determined: the status list "
            f"{entry.list_url} could not be retrieved ({document.message})",
        )

    # -- is it a status list credential we can trust?
    subject = _single_subject(document) if isinstance(document, dict) else None
    if (
        subject is None
        or not {"VerifiableCredential", entry.method.list_type}
        <= {t for t in _as_list(document.get("type")) if isinstance(t, str)}  # "type": [{}]
        or entry.method.subject_type not in _as_list(subject.get("type"))
        or not isinstance(subject.get("encodedList"), str)
    ):
        return Check.failed(
            CHECK_ID,
            "status_list_not_a_credential",
            f"{entry.list_url} did not return a {entry.method.list_type}",
        )
    list_purposes = _as_list(subject.get("statusPurpose"))
    if entry.purpose not in list_purposes:
        return Check.failed(
            CHECK_ID,
            "status_purpose_mismatch",
            f"the status list {entry.list_url} is for "
            f"{', '.join(map(str, list_purposes)) or 'no purpose'}, not {entry.purpose}",
        )
    list_issuer, issuer = _issuer_id(document), _issuer_id(credential)
    if list_issuer is None or list_issuer != issuer:
        return Check.failed(
            CHECK_ID,
            "status_list_issuer_mismatch",
            f"the status list {entry.list_url} was issued by {list_issuer or '(nobody)'}, "
            f"not by the credential's issuer {issuer or '(none)'}",
        )
    if document.get("id") is not None and document.get("id") != entry.list_url:
        # a list signed for one URL served at another (e.g. an old list of another
        # institution or purpose, replayed): its proof is genuine, but not for this URL
        return Check.failed(
            CHECK_ID,
            "status_list_id_mismatch",
            f"the status list served at {entry.list_url} is the list {document.get('id')!r}",
        )
    window = _validity_problem(document, now, entry.list_url, clock_skew)
    if window is not None:
        return window
    ok, reason = cache.remembered_proof(entry.list_url, document, verify_list_credential)
    if not ok:
        return Check.failed(
            CHECK_ID,
            "status_list_proof_invalid",
            f"the proof of the status list {entry.list_url} does not verify"
            + (f": {reason}" if reason else ""),
        )
    stale = cache.rollback(entry.list_url, document)
    if stale is not None:
        return Check.failed(CHECK_ID, "status_list_stale", stale)

    # -- read the entry
    try:
        value = _decoded(cache, entry, document, subject).get(entry.index)
    except StatusListError as exc:
        return Check.failed(CHECK_ID, exc.code, f"{where}: {exc.message}")
    if value:
        if entry.purpose == "revocation":
            return Check.failed(CHECK_ID, "revoked", f"the credential is revoked ({where})")
        return Check.failed(CHECK_ID, "suspended", f"the credential is suspended ({where})")
    state = "revoked" if entry.purpose == "revocation" else "suspended"
    return Check.passed(CHECK_ID, f"the credential is not {state} ({where})")


def _decoded(
    cache: StatusListCache, entry: _Entry, document: Any, subject: dict[str, Any]
) -> StatusList:
    """The list's bitstring, decoded once per cached list and status size."""
    memo = cache.memo_for(entry.list_url, document)
    key = ("bits", entry.status_size)
    if memo is not None:
        hit = memo.get(key)
        if isinstance(hit, StatusList):
            return hit
        if isinstance(hit, tuple):  # (code, message) of a list that does not decode
            raise StatusListError(hit[1], code=hit[0])
    encoded = subject["encodedList"]
    if not entry.method.multibase and isinstance(encoded, str) and encoded.startswith("H4sI"):
        # StatusList2021: plain base64url of the GZIP bytes (which always begin "H4sI");
        # the multibase prefix makes it the Bitstring form the decoder reads
        encoded = "u" + encoded
    try:
        bits = StatusList.decode(encoded, entry.status_size)
    except StatusListError as exc:
        if memo is not None:
            memo[key] = (exc.code, exc.message)
        raise
    if memo is not None:
        memo[key] = bits
    return bits


def _parse_entry(raw: dict[str, Any], method: _Method = BITSTRING) -> _Entry | Check:
    purpose = raw.get("statusPurpose")
    if not isinstance(purpose, str) or not purpose:
        return _invalid("statusPurpose is missing or not a string")
    index_value = raw.get("statusListIndex")
    if isinstance(index_value, int) and not isinstance(index_value, bool) and index_value >= 0:
        index = index_value
    elif isinstance(index_value, str) and _INDEX_RE.fullmatch(index_value):
        index = int(index_value)
    else:
        return _invalid(f"statusListIndex {index_value!r} is not a non-negative base-10 integer")
    list_url = raw.get("statusListCredential")
    if not isinstance(list_url, str) or not _is_absolute_http_url(list_url):
        return _invalid(f"statusListCredential {list_url!r} is not an http(s) URL")
    if raw.get("id") is not None and raw.get("id") == list_url:
        return _invalid("the status entry id must not be the status list URL")
    if method is STATUS_LIST_2021:
        return _Entry(purpose, index, list_url, 1, method)  # one bit per entry, always
    status_size = raw.get("statusSize", 1)
    if isinstance(status_size, bool) or not isinstance(status_size, int) or status_size < 1:
        return _invalid(f"statusSize {status_size!r} is not a positive integer")
    if status_size > 1 and not isinstance(raw.get("statusMessage"), list):
        return _invalid("statusMessage is required when statusSize is greater than 1")
    return _Entry(purpose, index, list_url, status_size, method)


def _check_revocation_list(
    raw: dict[str, Any],
    credential: dict[str, Any],
    fetcher: SafeFetcher,
    cache: StatusListCache,
    fetched: dict[str, Any | FetchError],
) -> Check:
    """A ``1EdTechRevocationList`` entry: is the credential's id in the list at ``id``?"""
    list_url = raw.get("id")
    if not isinstance(list_url, str) or not _is_absolute_http_url(list_url):
        return _invalid(f"the 1EdTechRevocationList id {list_url!r} is not an http(s) URL")
    credential_id = credential.get("id")
    if not isinstance(credential_id, str) or not credential_id:
        return Check.warning(
            CHECK_ID,
            "status_unknown",
            f"the credential has no id to look up in the revocation list {list_url}",
        )
    if list_url in fetched:
        document = fetched[list_url]
    else:
        try:
            document = cache.fetch(list_url, fetcher)
        except FetchError as exc:
            document = exc
        fetched[list_url] = document
    if isinstance(document, FetchError):
        return Check.warning(
            CHECK_ID,
            "status_unknown",
            f"the revocation status could not be determined: the revocation list {list_url} "
            f"could not be retrieved ({document.message})",
        )
    revoked = document.get("revokedCredentials", []) if isinstance(document, dict) else None
    if not isinstance(revoked, list) or not all(
        isinstance(item, dict)
        and isinstance(item.get("id"), str)
        and isinstance(item.get("revoked", True), bool)
        for item in revoked
    ):
        return Check.failed(
            CHECK_ID,
            "status_list_not_a_credential",
            f"{list_url} did not return a 1EdTech revocation list "
            "(an object whose revokedCredentials are objects with an id and, optionally, "
            "a boolean revoked)",
        )
    list_issuer = _issuer_id(document)
    if list_issuer is not None and list_issuer != _issuer_id(credential):
        return Check.failed(
            CHECK_ID,
            "status_list_issuer_mismatch",
            f"the revocation list {list_url} belongs to {list_issuer}, not to the "
            f"credential's issuer {_issuer_id(credential) or '(none)'}",
        )
    for item in revoked:
        # VCRL 1.0: listed with revoked true or omitted; revoked false is a reinstatement
        if item["id"] == credential_id and item.get("revoked", True):
            reason = item.get("revocationReason")
            because = f": {reason}" if isinstance(reason, str) and reason else ""
            return Check.failed(
                CHECK_ID,
                "revoked",
                f"the credential is revoked (listed in {list_url}){because}",
            )
    return Check.passed(
        CHECK_ID,
        f"the credential is not in the revocation list {list_url} (an unsigned list: it is "
        "as trustworthy as the server that serves it)",
    )


def _invalid(message: str) -> Check:
    return Check.failed(CHECK_ID, "status_entry_invalid", message)


def _is_absolute_http_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _single_subject(document: dict[str, Any]) -> dict[str, Any] | None:
    subject = document.get("credentialSubject")
    if isinstance(subject, list) and len(subject) == 1:
        subject = subject[0]
    return subject if isinstance(subject, dict) else None


def _issuer_id(document: dict[str, Any]) -> str | None:
    issuer = document.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) and issuer else None


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


def _validity_problem(
    document: dict[str, Any], now: datetime, url: str, skew: timedelta = timedelta(0)
) -> Check | None:
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    # VC 2.0 names the window validFrom/validUntil, VCDM 1.1 issuanceDate/expirationDate
    start_key = "validFrom" if "validFrom" in document else "issuanceDate"
    end_key = "validUntil" if "validUntil" in document else "expirationDate"
    for key in (start_key, end_key):
        if key in document and _parse_datetime(document[key]) is None:
            return Check.failed(
                CHECK_ID,
                "status_list_invalid",
                f"the status list {url} has an invalid {key}: {document[key]!r}",
            )
    valid_from = _parse_datetime(document.get(start_key))
    valid_until = _parse_datetime(document.get(end_key))
    if valid_from is not None and now + skew < valid_from:
        return Check.failed(
            CHECK_ID,
            "status_list_not_yet_valid",
            f"the status list {url} is not valid before {document[start_key]}",
        )
    if valid_until is not None and now - skew > valid_until:
        return Check.failed(
            CHECK_ID,
            "status_list_expired",
            f"the status list {url} expired at {document[end_key]}",
        )
    return None
