"""DID resolution: did:key offline, did:web over the project's one safe fetcher.

did:web is where an attacker-controlled credential could make the software call out, so it
goes through ``SafeFetcher`` (scheme and address policy, timeout, size cap) and results are
cached for ``cache_ttl`` seconds; threads that miss the same DID at once wait for one
download (under load a cold cache otherwise sends every in-flight verification to the
issuer's server).

Key rotation. A cached document does not know a key the issuer added after it was fetched:
without more, every credential (and status list) signed with a new key failed until the
cache ran out. So when a verification method is not in the cached document, the resolver
fetches the document once more before it gives up. The re-fetch is single-flight (threads
meeting the same unknown key wait for one download) and rate-limited per DID by a small
token bucket (``refetch_burst`` re-fetches, one more each ``refetch_interval`` seconds),
so credentials naming made-up keys cannot turn the verifier into a load generator
against an issuer. The resolver also answers "is this verification method authorised for
this purpose by its controller?", which proof purposes need.
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .did_jwk import did_jwk_document
from .errors import DidResolutionError, FetchError, MicrocredError, UnsupportedError
from .keys import MULTIKEY_CONTEXT, Multikey
from .singleflight import SingleFlight

if TYPE_CHECKING:
    from .fetch import SafeFetcher

DID_CONTEXT = "https://www.w3.org/ns/did/v1"


def did_key_document(did: str) -> dict[str, Any]:
    """The DID document a did:key stands for (Multikey verification method)."""
    mb = did.removeprefix("did:key:")
    try:
        key = Multikey.from_public_multibase(mb, controller=did)
    except MicrocredError as exc:
        raise DidResolutionError(f"invalid did:key {did}: {exc}") from None
    vm = key.to_public_dict()
    return {
        "@context": [DID_CONTEXT, MULTIKEY_CONTEXT],
        "id": did,
        "verificationMethod": [vm],
        "authentication": [vm["id"]],
        "assertionMethod": [vm["id"]],
        "capabilityDelegation": [vm["id"]],
        "capabilityInvocation": [vm["id"]],
    }


def did_web_url(did: str, *, allow_insecure: bool = False) -> str:
    """The did.json URL of a did:web (http only for loopback hosts in dev mode)."""
    parts = did.removeprefix("did:web:").split(":")
    if not parts or not parts[0]:
        raise DidResolutionError(f"invalid did:web identifier: {did}")
    host = urllib.parse.unquote(parts[0])
    if "/" in host or "@" in host or "?" in host or "#" in host:
        raise DidResolutionError(f"invalid did:web host: {host!r}")
    segments = [urllib.parse.unquote(p) for p in parts[1:]]
    # each segment must stay one path segment: "%3F", "%23", "%2F" or ".." would turn the
    # rest of the URL into a query or fragment, or walk to another path on the host
    if any(not s or s in (".", "..") or any(c in s for c in "/?#\\") for s in segments):
        raise DidResolutionError(f"invalid did:web path: {did}")
    path = "/".join(segments)
    scheme = (
        "http" if allow_insecure and host.split(":")[0] in ("localhost", "127.0.0.1") else "https"
    )
    if path:
        return f"{scheme}://{host}/{path}/did.json"
    return f"{scheme}://{host}/.well-known/did.json"


def did_web_from_url(base_url: str, *path: str) -> str:
    """The did:web for a public base URL plus path segments (port encoded as %3A)."""
    parsed = urllib.parse.urlsplit(base_url)
    host = parsed.netloc.replace(":", "%3A")
    segments = [s for s in parsed.path.split("/") if s] + [p for p in path if p]
    return ":".join(["did:web", host, *segments])


class DidResolver:
    """Resolves did:key and did:web documents; thread-safe, with a small TTL cache."""

    def __init__(
        self,
        fetcher: SafeFetcher | None = None,
        *,
        cache_ttl: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        overrides: dict[str, dict[str, Any]] | None = None,
        max_entries: int = 1024,
        refetch_burst: int = 3,
        refetch_interval: float = 5.0,
    ) -> None:
        # a DID document must come from the DID's own host: no redirects elsewhere
        self.fetcher = fetcher.with_policy(allow_cross_host_redirects=False) if fetcher else None
        self.cache_ttl = cache_ttl
        self.max_entries = max_entries
        self._clock = clock
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._single_flight: SingleFlight[dict[str, Any]] = SingleFlight()  # one download per DID
        self.refetch_burst = refetch_burst
        self.refetch_interval = refetch_interval
        self._buckets: dict[str, tuple[float, float]] = {}  # did -> (tokens, at)
        self._refetch_flight: SingleFlight[dict[str, Any]] = SingleFlight()
        # DID documents known without resolution (e.g. an issuer's own DIDs)
        self.overrides = dict(overrides or {})

    def resolve(self, did: str) -> dict[str, Any]:
        """The DID document of ``did`` (a fragment is ignored), or ``DidResolutionError``.

        did:key and did:jwk are derived offline; did:web is fetched under this resolver's fetch
        policy and cached; overrides (an issuer's own DIDs) win over both.
        """
        if isinstance(did, str) and did.split("#", 1)[0] in self.overrides:
            return self.overrides[did.split("#", 1)[0]]
        if not isinstance(did, str) or not did.startswith("did:"):
            raise DidResolutionError(f"not a DID: {did!r}")
        did = did.split("#", 1)[0]
        if did.startswith("did:key:"):
            return did_key_document(did)
        if did.startswith("did:web:"):
            return self._resolve_web(did)
        if did.startswith("did:jwk:"):  # offline, like did:key (OpenID4VCI jwk binding)
            return did_jwk_document(did)
        method = did.split(":")[1] if did.count(":") >= 2 else "?"
        raise UnsupportedError(
            f"unsupported DID method did:{method}", code="unsupported_did_method"
        )

    def _cached(self, did: str) -> dict[str, Any] | None:
        now = self._clock()
        with self._lock:
            hit = self._cache.get(did)
        return hit[1] if hit and hit[0] > now else None

    def _resolve_web(self, did: str) -> dict[str, Any]:
        return self._single_flight.get(did, lambda: self._cached(did), lambda: self._download(did))

    def _download(self, did: str) -> dict[str, Any]:
        now = self._clock()
        if self.fetcher is None:
            raise DidResolutionError(f"did:web resolution is not enabled here: {did}")
        url = did_web_url(did, allow_insecure=self.fetcher.policy.allow_insecure)
        try:
            document, _ = self.fetcher.get_json(url)
        except FetchError as exc:
            raise DidResolutionError(f"could not resolve {did}: {exc.message}") from None
        if not isinstance(document, dict) or document.get("id") != did:
            raise DidResolutionError(f"the DID document at {url} is not the document of {did}")
        with self._lock:
            self._cache[did] = (now + self.cache_ttl, document)
            if len(self._cache) > self.max_entries:  # credentials naming ever-new DIDs
                for stale in [d for d, (until, _) in self._cache.items() if until <= now]:
                    del self._cache[stale]
                while len(self._cache) > self.max_entries:
                    del self._cache[min(self._cache, key=lambda d: self._cache[d][0])]
        return document

    def verification_method(self, vm_id: str) -> dict[str, Any]:
        """The verification method object for ``vm_id`` (a DID URL with a fragment)."""
        if not isinstance(vm_id, str) or "#" not in vm_id:
            raise DidResolutionError(
                f"verificationMethod must be a DID URL with a fragment: {vm_id!r}"
            )
        document = self.resolve(vm_id)
        entry = _find_method(document, vm_id)
        if entry is None:
            entry = _find_method(self.refetch(vm_id, document), vm_id)
        if entry is None:
            raise DidResolutionError(f"verification method {vm_id} is not in its DID document")
        return entry

    def refetch(self, did: str, seen: dict[str, Any]) -> dict[str, Any]:
        """The DID document downloaded anew, because ``seen`` lacks a key someone used.

        Only for did:web documents from the network (did:key and did:jwk cannot change;
        overrides are the service's own documents). Returns ``seen`` when the DID's re-fetch
        budget is spent. A thread that waited while another re-fetched gets that download.
        """
        did = did.split("#", 1)[0]
        if not did.startswith("did:web:") or did in self.overrides or self.fetcher is None:
            return seen

        def fresher() -> dict[str, Any] | None:
            hit = self._cached(did)
            return hit if hit is not None and hit is not seen else None

        def load() -> dict[str, Any]:
            return self._download(did) if self._take_token(did) else seen

        return self._refetch_flight.get(did, fresher, load)

    def _take_token(self, did: str) -> bool:
        """One re-fetch from ``did``'s token bucket, if it has one."""
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.get(did, (float(self.refetch_burst), now))
            if self.refetch_interval > 0:
                tokens = min(float(self.refetch_burst), tokens + (now - at) / self.refetch_interval)
            else:  # no interval: no rate limit beyond single-flight
                tokens = float(self.refetch_burst)
            if tokens < 1.0:
                self._buckets[did] = (tokens, now)
                return False
            self._buckets[did] = (tokens - 1.0, now)
            if len(self._buckets) > self.max_entries:  # bounded, like the cache
                for stale in sorted(self._buckets, key=lambda d: self._buckets[d][1])[
                    : len(self._buckets) - self.max_entries
                ]:
                    del self._buckets[stale]
            return True

    def is_authorised(self, vm_id: str, purpose: str) -> bool:
        """True when the controller document lists ``vm_id`` under ``purpose``."""
        document = self.resolve(vm_id)
        for entry in document.get(purpose, []) or []:
            ref = entry.get("id", "") if isinstance(entry, dict) else entry
            if isinstance(ref, str) and _absolute(ref, document) == vm_id:
                return True
        return False


def _find_method(document: dict[str, Any], vm_id: str) -> dict[str, Any] | None:
    for entry in _methods(document):
        if isinstance(entry, dict) and _absolute(entry.get("id", ""), document) == vm_id:
            return entry
    return None


def _methods(document: dict[str, Any]) -> list[Any]:
    found: list[Any] = list(document.get("verificationMethod", []) or [])
    for purpose in ("assertionMethod", "authentication"):
        found.extend(e for e in document.get(purpose, []) or [] if isinstance(e, dict))
    return found


def _absolute(ref: str, document: dict[str, Any]) -> str:
    return document.get("id", "") + ref if ref.startswith("#") else ref
