"""The trust registry: which institutions this verifier recognises, and under what name.

A verifier that checks signatures alone proves only that *someone* with a DID signed a
credential; an employer needs to know that the someone is an accredited institution, and
wants to read "Hogeschool Rijnland", not ``did:web:hsrijnland.example``. The registry is
a file an operator maintains (JSON or YAML)::

    name: Dutch accredited institutions (demo)
    institutions:
      - did: did:web:hsrijnland.example
        name: Hogeschool Rijnland
        country: NL
        accreditation: NVAO          # or a list: [NVAO, erkende instelling]
        valid_from: 2020-01-01
        valid_until: 2031-12-31      # optional; a date means "through that day"
        url: https://hsrijnland.example

The file is parsed strictly (unknown keys, duplicate DIDs and bad dates are refused with
the entry named), because a typo that silently drops an institution would make its
credentials look untrusted. :class:`TrustRegistryStore` keeps the current registry, reloads
it on demand and when the file's mtime changes; a broken new file never replaces a good
loaded one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

from credentials import Check, MalformedInput, load_data_file

from .clock import iso

log = logging.getLogger("microcred.verifier")

CHECK_ID = "trust"
_ENTRY_KEYS = {
    "did", "name", "country", "accreditation", "valid_from", "valid_until", "url",
    "validFrom", "validUntil",
}  # fmt: skip
_TOP_KEYS = {"name", "institutions", "description"}
MAX_REGISTRY_BYTES = 5 * 1024 * 1024


REGISTRY_ERROR = "invalid_trust_registry"


def _fail(message: str) -> MalformedInput:
    return MalformedInput(message, code=REGISTRY_ERROR)


@dataclass(frozen=True)
class Institution:
    """One accredited institution: its DID and the name learners and employers know."""

    did: str
    name: str
    country: str | None = None
    accreditation: tuple[str, ...] = ()
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    url: str | None = None

    def accredited_at(self, moment: datetime) -> bool:
        if self.valid_from is not None and moment < self.valid_from:
            return False
        return not (self.valid_until is not None and moment > self.valid_until)

    def describe(self) -> str:
        """ "Hogeschool Rijnland (NL), accredited: NVAO" — one line for a report."""
        text = self.name + (f" ({self.country})" if self.country else "")
        if self.accreditation:
            text += ", accredited: " + ", ".join(self.accreditation)
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "did": self.did,
            "name": self.name,
            "country": self.country,
            "accreditation": list(self.accreditation),
            "valid_from": iso(self.valid_from),
            "valid_until": iso(self.valid_until),
            "url": self.url,
        }


@dataclass(frozen=True)
class TrustRegistry:
    """An immutable snapshot; a reload builds a new one and swaps it in whole."""

    institutions: Mapping[str, Institution] = field(default_factory=dict)
    name: str = "trust registry"
    source: str | None = None
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def lookup(self, did: str | None) -> Institution | None:
        """The recognised institution with DID ``did``, if any."""
        return self.institutions.get(did) if isinstance(did, str) else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "loaded_at": iso(self.loaded_at),
            "institutions": [i.to_dict() for i in self.institutions.values()],
        }


# --------------------------------------------------------------------------- parsing


def parse_registry(data: Any, *, source: str | None = None) -> TrustRegistry:
    """Build a registry from its JSON/YAML form (a mapping, or a bare list of entries)."""
    if isinstance(data, list):
        data = {"institutions": data}
    if not isinstance(data, Mapping):
        raise _fail("a trust registry must be a mapping with an 'institutions' list")
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise _fail(f"unknown top-level keys: {', '.join(map(str, unknown))}")
    entries = data.get("institutions", [])
    if not isinstance(entries, list):
        raise _fail("'institutions' must be a list")
    institutions: dict[str, Institution] = {}
    for index, entry in enumerate(entries):
        institution = _parse_entry(entry, f"institutions[{index}]")
        if institution.did in institutions:
            raise _fail(f"institutions[{index}]: duplicate DID {institution.did}")
        institutions[institution.did] = institution
    name = data.get("name", "trust registry")
    if not isinstance(name, str) or not name.strip():
        raise _fail("name must be a non-empty string")
    return TrustRegistry(institutions=institutions, name=name, source=source)


def _parse_entry(entry: Any, where: str) -> Institution:
    if not isinstance(entry, Mapping):
        raise _fail(f"{where}: must be a mapping")
    unknown = sorted(set(map(str, entry)) - _ENTRY_KEYS)
    if unknown:
        raise _fail(f"{where}: unknown keys {', '.join(unknown)}")
    did = entry.get("did")
    if not isinstance(did, str) or not did.startswith("did:") or did.count(":") < 2:
        raise _fail(f"{where}: did must be a DID such as did:web:example.nl")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _fail(f"{where} ({did}): name must be a non-empty string")
    country = entry.get("country")
    if country is not None and (not isinstance(country, str) or not country.strip()):
        raise _fail(f"{where} ({did}): country must be a string such as NL")
    accreditation = entry.get("accreditation", [])
    if isinstance(accreditation, str):
        accreditation = [accreditation]
    if not isinstance(accreditation, list) or not all(
        isinstance(a, str) and a.strip() for a in accreditation
    ):
        raise _fail(f"{where} ({did}): accreditation must be a string or a list of strings")
    url = entry.get("url")
    if url is not None and not (isinstance(url, str) and url.startswith(("https://", "http://"))):
        raise _fail(f"{where} ({did}): url must be an http(s) URL")
    valid_from = _moment(entry.get("valid_from", entry.get("validFrom")), where, end=False)
    valid_until = _moment(entry.get("valid_until", entry.get("validUntil")), where, end=True)
    if valid_from and valid_until and valid_until < valid_from:
        raise _fail(f"{where} ({did}): valid_until is before valid_from")
    return Institution(
        did=did,
        name=name.strip(),
        country=country.strip().upper() if isinstance(country, str) else None,
        accreditation=tuple(a.strip() for a in accreditation),
        valid_from=valid_from,
        valid_until=valid_until,
        url=url,
    )


def _moment(value: Any, where: str, *, end: bool) -> datetime | None:
    """A date or date-time; a bare date covers its whole day (from 00:00 / until 24:00)."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                value = date.fromisoformat(text)
            else:
                value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise _fail(f"{where}: {value!r} is not an ISO 8601 date or date-time") from None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        moment = datetime.combine(value, dtime.min, tzinfo=UTC)
        return moment + timedelta(days=1) - timedelta(seconds=1) if end else moment
    raise _fail(f"{where}: {value!r} is not a date")


def load_registry(path: str | Path) -> TrustRegistry:
    """Read and parse a registry file (``.yaml``/``.yml`` as YAML, anything else as JSON)."""
    path = Path(path)
    data = load_data_file(path, code=REGISTRY_ERROR, max_bytes=MAX_REGISTRY_BYTES)
    return parse_registry(data, source=str(path))


# --------------------------------------------------------------------------- the store


class TrustRegistryStore:
    """The current registry for one app, reloaded when asked or when its file changes.

    ``current()`` is called on every verification, so the file is only ``stat``-ed at most
    every ``check_seconds``. Thread-safe: verifications run in a thread pool.
    """

    def __init__(
        self,
        path: Path | None,
        *,
        check_seconds: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self.check_seconds = check_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._registry = TrustRegistry(name="empty trust registry")
        self._signature: tuple[float, int] | None = None
        self._checked_at = float("-inf")
        self.last_error: str | None = None
        if path is not None:
            self.reload()  # a bad file at start-up is a configuration error: raise

    def current(self) -> TrustRegistry:
        """The registry in force; a changed file is re-read at most every ``check_seconds``,
        and a broken one is refused (the old registry stays, ``last_error`` says why).
        """
        if self.path is not None and self._monotonic() - self._checked_at >= self.check_seconds:
            self._reload_if_changed()
        return self._registry

    def reload(self) -> TrustRegistry:
        """Load the file now; on error the previous registry stays and the error is raised."""
        if self.path is None:
            return self._registry
        with self._lock:
            signature = self._stat()
            try:
                registry = load_registry(self.path)
            except MalformedInput as exc:
                self.last_error = exc.message
                self._signature = signature  # do not retry a broken file on every call
                raise
            self._registry = registry
            self._signature = signature
            self._checked_at = self._monotonic()
            self.last_error = None
            log.info("trust registry loaded: %d institutions", len(registry.institutions))
            return registry

    def _reload_if_changed(self) -> None:
        self._checked_at = self._monotonic()
        if self._stat() == self._signature:
            return
        try:
            self.reload()
        except MalformedInput as exc:
            log.error("trust registry not reloaded, keeping the previous one: %s", exc.message)

    def _stat(self) -> tuple[float, int] | None:
        try:
            stat = self.path.stat() if self.path is not None else None
        except OSError:
            return None
        return (stat.st_mtime, stat.st_size) if stat else None


# --------------------------------------------------------------------------- the check


def trust_check(
    registry: TrustRegistry, issuer: str | None, issued: datetime | None, *, strict: bool
) -> Check:
    """Whether the issuer is an institution this verifier recognises at the issue date.

    Unknown institutions are a warning by default (a verifier may meet foreign institutions
    it has not listed yet) and a failure under ``strict``. An institution listed but not
    accredited on the day the credential was issued counts the same as an unknown one;
    accreditation ending *after* issuance does not devalue what was issued before.
    """
    institution = registry.lookup(issuer)
    if institution is None:
        return _untrusted(
            strict,
            "untrusted_issuer",
            f"the issuer {issuer or '(none)'} is not in the trust registry",
        )
    moment = issued or datetime.now(UTC)
    if not institution.accredited_at(moment):
        window = (
            f"{iso(institution.valid_from) or 'always'} until "
            f"{iso(institution.valid_until) or 'further notice'}"
        )
        return _untrusted(
            strict,
            "accreditation_not_valid",
            f"{institution.name} is in the trust registry from {window}, but the credential "
            f"was issued on {iso(moment)}",
        )
    return Check.passed(CHECK_ID, f"issued by {institution.describe()}", code="trusted")


def _untrusted(strict: bool, code: str, message: str) -> Check:
    if strict:
        return Check.failed(CHECK_ID, code, message)
    return Check.warning(CHECK_ID, code, message)
