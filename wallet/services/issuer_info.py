"""What the wallet asks an issuer about a credential it holds: why it was withdrawn, and
the badge image of its achievement.

Both are niceties around a credential whose proof and status were checked elsewhere, so
every failure here (unreachable issuer, 404, a body that is not what it should be) means
"nothing to show", never an error page: the status itself is decided by the status list.

* **Status notice.** The issuer publishes ``GET <issuer origin>/credentials/status-notice
  ?id=<credential id>`` answering ``{"credential_id", "status", "reason", "since"}``. The
  issuer origin is the origin of the credential's ``credentialStatus`` list URL: the one
  party the wallet already fetches status from for this credential, so no new host is
  contacted. A notice whose ``credential_id`` is another credential's is ignored.
* **Badge image.** OB 3.0 ``achievement.image`` is fetched from the issuer's own host only
  (the host of the issuer's ``id``/``url`` or its status list), at most
  ``MAX_IMAGE_BYTES``, and kept only when its bytes are a PNG, JPEG or GIF; the page shows
  it as a ``data:`` URI, which the pages' CSP (``img-src 'self' data:``) allows without
  opening it to other origins. Results are cached per URL for the process.
"""

from __future__ import annotations

import base64
import threading
from collections import OrderedDict
from typing import Any
from urllib.parse import urlencode, urlsplit

from credentials import MicrocredError, SafeFetcher

MAX_IMAGE_BYTES = 256 * 1024
MAX_NOTICE_BYTES = 16 * 1024
_IMAGE_TYPES = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}
_CACHE_SIZE = 128


def _status_urls(credential: dict[str, Any]) -> list[str]:
    entries = credential.get("credentialStatus")
    entries = entries if isinstance(entries, list) else [entries]
    return [
        str(e["statusListCredential"])
        for e in entries
        if isinstance(e, dict) and isinstance(e.get("statusListCredential"), str)
    ]


def issuer_origin(credential: dict[str, Any]) -> str | None:
    """The origin of the credential's status list, where the issuer answers about it."""
    for url in _status_urls(credential):
        parts = urlsplit(url)
        if parts.scheme in ("https", "http") and parts.netloc:
            return f"{parts.scheme}://{parts.netloc}"
    return None


def status_notice(fetcher: SafeFetcher, credential: dict[str, Any]) -> dict[str, str] | None:
    """The issuer's reason for a revocation or suspension, or None when it gives none."""
    origin = issuer_origin(credential)
    credential_id = credential.get("id")
    if origin is None or not isinstance(credential_id, str):
        return None
    url = f"{origin}/credentials/status-notice?{urlencode({'id': credential_id})}"
    try:
        data = fetcher.with_policy(max_bytes=MAX_NOTICE_BYTES).get(url).json()
    except (MicrocredError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("credential_id") not in (None, credential_id):
        return None
    out = {
        key: str(data[key])[:500]
        for key in ("status", "reason", "since")
        if isinstance(data.get(key), str) and data[key]
    }
    return out if out.get("reason") else None


class BadgeImages:
    """Badge images as ``data:`` URIs, fetched from the issuer's host and cached."""

    def __init__(self, fetcher: SafeFetcher) -> None:
        self.fetcher = fetcher.with_policy(max_bytes=MAX_IMAGE_BYTES)
        self._cache: OrderedDict[str, str | None] = OrderedDict()
        self._lock = threading.Lock()

    def data_uri(self, credential: Any) -> str | None:
        url = image_url(credential)
        if url is None:
            return None
        if url.startswith("data:"):
            return url if _sniff(_data_bytes(url)) else None
        with self._lock:
            if url in self._cache:
                self._cache.move_to_end(url)
                return self._cache[url]
        found = self._fetch(url)
        with self._lock:
            self._cache[url] = found
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return found

    def _fetch(self, url: str) -> str | None:
        try:
            content = self.fetcher.get(url, accept="image/png, image/jpeg, image/gif").content
        except MicrocredError:
            return None
        media_type = _sniff(content)
        if media_type is None:
            return None
        return f"data:{media_type};base64,{base64.b64encode(content).decode()}"


def image_url(credential: Any) -> str | None:
    """The achievement's ``image`` when it may be shown: a ``data:`` image, or an http(s)
    URL on the issuer's own host."""
    if not isinstance(credential, dict):
        return None
    subject = credential.get("credentialSubject")
    subject = subject[0] if isinstance(subject, list) and subject else subject
    achievement = subject.get("achievement") if isinstance(subject, dict) else None
    image = achievement.get("image") if isinstance(achievement, dict) else None
    url = image.get("id") if isinstance(image, dict) else image
    if not isinstance(url, str) or not url:
        return None
    if url.startswith("data:image/"):
        return url if len(url) <= MAX_IMAGE_BYTES * 4 // 3 + 100 else None
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return None
    return url if parts.hostname in _issuer_hosts(credential) else None


def _issuer_hosts(credential: dict[str, Any]) -> set[str]:
    issuer = credential.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    candidates = [issuer_id, issuer.get("url") if isinstance(issuer, dict) else None]
    candidates += _status_urls(credential)
    hosts = {urlsplit(str(c)).hostname for c in candidates if isinstance(c, str)}
    if isinstance(issuer_id, str) and issuer_id.startswith("did:web:"):
        hosts.add(issuer_id.removeprefix("did:web:").split(":")[0].split("%3A")[0])
    return {h for h in hosts if h}


def _data_bytes(uri: str) -> bytes:
    head, _, body = uri.partition(",")
    if not head.endswith(";base64"):
        return b""
    try:
        return base64.b64decode(body, validate=True)
    except ValueError:
        return b""


def _sniff(content: bytes) -> str | None:
    for magic, media_type in _IMAGE_TYPES.items():
        if content.startswith(magic):
            return media_type
    return None


__all__ = ["BadgeImages", "image_url", "issuer_origin", "status_notice"]
