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

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from .errors import FetchError, StatusListError
from .fetch import SafeFetcher
from .report import Check
from .status_cache import (
    DEFAULT_TTL,
    STATUS_LIST_ACCEPT,
    CachedStatusList,
    StatusListCache,
    VerifyListCredential,
    _parse_datetime,
    _single_subject,
)
from .status_list import StatusList

__all__ = [
    "DEFAULT_TTL",
    "STATUS_LIST_ACCEPT",
    "CachedStatusList",
    "StatusListCache",
    "VerifyListCredential",
    "check_status",
]


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


# --------------------------------------------------------------------------- cache


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


def _issuer_id(document: dict[str, Any]) -> str | None:
    issuer = document.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) and issuer else None


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
