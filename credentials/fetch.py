"""The one outbound HTTP door of microcred.

Every URL microcred dereferences (did:web documents, status list credentials, share links,
credential offers, token endpoints) comes from a document someone else wrote. Fetching it
naively turns every verifier and wallet into a server-side request forgery tool: a
credential could point at ``http://169.254.169.254/`` (cloud metadata), at an admin page on
``localhost`` or at a host on the internal network. So all outbound requests go through
:class:`SafeFetcher`, which:

* allows only ``https`` (``http`` too in dev mode, ``FetchPolicy.allow_insecure``);
* resolves the host itself and refuses when *any* resolved address is not public
  (loopback, private, link-local, CGNAT, multicast, reserved, ...) — before any request is
  sent;
* connects to exactly the address it checked (the address is *pinned*), so a DNS answer
  that changes between the check and the connect (DNS rebinding) cannot redirect the
  connection; the TLS certificate is still verified against the host name;
* follows redirects by hand, re-checking every hop, up to ``max_redirects``;
* bounds the whole exchange in time (one deadline across all hops) and in size (the body is
  streamed and cut off at ``max_bytes``; a declared ``Content-Length`` above it is refused
  without reading);
* translates every failure into :class:`~credentials.errors.FetchError` with a stable
  ``code``; callers never see httpx or socket exceptions.

Dev mode relaxes the scheme and lets loopback and private addresses through (a local
issuer on ``http://127.0.0.1:8000``), but still never reaches link-local (cloud metadata),
multicast, unspecified or reserved addresses: no development set-up needs those.
"""

from __future__ import annotations

import json
import logging
import time
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx

from .errors import FetchError
from .fetch_transport import (
    PINNED_ADDRESS_EXTENSION,
    PinnedTransport,
    Resolver,
    _parse_ip,
    address_refusal_reason,
    is_public_address,
    system_resolver,
)

log = logging.getLogger("microcred.fetch")

__all__ = [
    "PINNED_ADDRESS_EXTENSION",
    "CheckedURL",
    "FetchHTTPError",
    "FetchPolicy",
    "FetchResponse",
    "PinnedTransport",
    "Resolver",
    "SafeFetcher",
    "address_refusal_reason",
    "is_public_address",
    "system_resolver",
]


USER_AGENT = "microcred/0.1 (+https://github.com/microcred)"

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Headers that carry credentials for one origin and must not follow a redirect elsewhere.
_ORIGIN_BOUND_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
# An error body is kept only for diagnostics (e.g. an OAuth ``{"error": ...}``), so it is
# truncated rather than refused when large.
_ERROR_BODY_LIMIT = 65_536


# --------------------------------------------------------------------------- addresses


# --------------------------------------------------------------------------- policy / data


@dataclass(frozen=True)
class FetchPolicy:
    """What the fetcher may reach; the defaults are the production posture.

    ``allow_cross_host_redirects`` exists for did:web, whose resolution must not be
    redirected to a different host (the DID names the host that answers for it).
    """

    allow_insecure: bool = False
    timeout: float = 5.0
    max_bytes: int = 1_048_576
    max_redirects: int = 3
    allowed_hosts: frozenset[str] | None = None
    allow_cross_host_redirects: bool = True


@dataclass(frozen=True)
class FetchResponse:
    """A fully read response; ``url`` is the final URL after redirects."""

    url: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes = b""

    def json(self) -> Any:
        """Parse the body as JSON, refusing non-standard constants and absurd nesting."""
        return _parse_json(self.content, self.url)

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


class FetchHTTPError(FetchError):
    """A non-2xx answer; the (truncated) response is kept for callers that read error
    bodies, such as OAuth clients that need ``{"error": "invalid_grant"}``."""

    code = "fetch_http_error"

    def __init__(self, message: str, *, response: FetchResponse) -> None:
        super().__init__(message)
        self.response = response
        self.status = response.status


def _parse_json(content: bytes, url: str) -> Any:
    def refuse_constant(name: str) -> Any:
        raise ValueError(f"non-standard JSON constant {name}")

    try:
        return json.loads(content, parse_constant=refuse_constant)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError too
        raise FetchError(
            f"the response from {url} is not valid JSON: {exc}", code="fetch_invalid_json"
        ) from None


# --------------------------------------------------------------------------- transport


# --------------------------------------------------------------------------- fetcher


@dataclass(frozen=True)
class CheckedURL:
    """A URL that passed the policy, with the address the connection will be pinned to."""

    url: httpx.URL
    host: str
    address: str


class _BoundedGunzip:
    """Decompress a gzip body without ever holding more than ``limit`` bytes of output."""

    def __init__(self, limit: int, url: str) -> None:
        self._decoder = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        self._limit = limit
        self._url = url
        self._size = 0
        self._parts: list[bytes] = []

    def feed(self, data: bytes) -> None:
        try:
            while data and not self._decoder.eof:
                out = self._decoder.decompress(data, self._limit - self._size + 1)
                self._take(out)
                data = self._decoder.unconsumed_tail
        except zlib.error as exc:
            raise FetchError(
                f"the gzip body from {self._url} is corrupt: {exc}", code="fetch_bad_encoding"
            ) from None

    def finish(self) -> bytes:
        if not self._decoder.eof:
            raise FetchError(
                f"the gzip body from {self._url} is truncated", code="fetch_bad_encoding"
            )
        return b"".join(self._parts)

    def _take(self, out: bytes) -> None:
        self._size += len(out)
        if self._size > self._limit:
            raise FetchError(
                f"the response from {self._url} exceeds {self._limit} bytes once decompressed",
                code="fetch_too_large",
            )
        self._parts.append(out)


class SafeFetcher:
    """Outbound HTTP under a :class:`FetchPolicy`; see the module docstring for the rules.

    ``transport`` and ``resolver`` are for tests. An injected transport receives each
    request with the checked address in ``request.extensions[PINNED_ADDRESS_EXTENSION]``
    and is trusted to honour it (``httpx.MockTransport`` simply ignores it). The fetcher
    holds no connections between calls, so one instance can be shared across threads.
    """

    def __init__(
        self,
        policy: FetchPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        *,
        resolver: Resolver | None = None,
    ) -> None:
        self.policy = policy or FetchPolicy()
        self._transport = transport or PinnedTransport()
        self._resolver = resolver or system_resolver
        self._allowed_hosts = (
            frozenset(h.lower().rstrip(".") for h in self.policy.allowed_hosts)
            if self.policy.allowed_hosts is not None
            else None
        )

    # -- public API

    def with_policy(self, **changes: Any) -> SafeFetcher:
        """The same fetcher (transport, resolver) under a stricter or looser policy."""
        import dataclasses

        return SafeFetcher(
            dataclasses.replace(self.policy, **changes), self._transport, resolver=self._resolver
        )

    def get(self, url: str, *, accept: str = "application/json") -> FetchResponse:
        """GET ``url``; raises FetchError (``FetchHTTPError`` for non-2xx answers)."""
        return self._exchange("GET", url, {"accept": accept}, None)

    def get_json(self, url: str, *, accept: str = "application/json") -> tuple[Any, FetchResponse]:
        """GET ``url`` and parse the body as JSON; the response is returned for its headers."""
        response = self.get(url, accept=accept)
        return response.json(), response

    def post_json(
        self, url: str, body: Any, *, headers: Mapping[str, str] | None = None
    ) -> FetchResponse:
        """POST ``body`` as JSON (UTF-8, compact)."""
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        merged = {"accept": "application/json", "content-type": "application/json"}
        merged.update({k.lower(): v for k, v in (headers or {}).items()})
        return self._exchange("POST", url, merged, content)

    def post_form(
        self,
        url: str,
        data: Mapping[str, str] | Sequence[tuple[str, str]],
        headers: Mapping[str, str] | None = None,
    ) -> FetchResponse:
        """POST ``data`` as ``application/x-www-form-urlencoded`` (OAuth token requests)."""
        content = urlencode(data).encode("ascii")
        merged = {
            "accept": "application/json",
            "content-type": "application/x-www-form-urlencoded",
        }
        merged.update({k.lower(): v for k, v in (headers or {}).items()})
        return self._exchange("POST", url, merged, content)

    # -- checks

    def check_url(self, url: str | httpx.URL) -> CheckedURL:
        """Apply the policy to ``url`` and resolve it; raises FetchError when refused.

        Public so that callers can pre-flight a URL (e.g. to validate configuration) with
        exactly the rules a fetch would apply.
        """
        try:
            parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
        except (httpx.InvalidURL, TypeError, ValueError) as exc:
            raise FetchError(
                f"not a valid URL: {url!r} ({exc})", code="fetch_invalid_url"
            ) from None
        scheme = parsed.scheme.lower()
        allowed_schemes = ("https", "http") if self.policy.allow_insecure else ("https",)
        if scheme not in allowed_schemes:
            raise FetchError(
                f"refusing to fetch {parsed}: scheme {scheme or '(none)'!r} is not allowed "
                f"(allowed: {', '.join(allowed_schemes)})",
                code="fetch_refused_scheme",
            )
        if parsed.userinfo:
            # "https://trusted.example@evil.example/" style confusion, and secrets in URLs.
            raise FetchError(
                "refusing to fetch a URL that carries user credentials", code="fetch_invalid_url"
            )
        try:
            host = parsed.raw_host.decode("ascii").lower().rstrip(".")
        except UnicodeDecodeError:
            host = ""
        if not host:
            raise FetchError(f"the URL {parsed} has no host", code="fetch_invalid_url")
        if self._allowed_hosts is not None and host not in self._allowed_hosts:
            raise FetchError(
                f"refusing to fetch {parsed}: host {host} is not in the allowed hosts",
                code="fetch_refused_host",
            )
        port = parsed.port or (443 if scheme == "https" else 80)
        addresses = self._resolve(host, port)
        for address in addresses:
            reason = address_refusal_reason(address, allow_insecure=self.policy.allow_insecure)
            if reason is not None:
                literal = len(addresses) == 1 and _is_ip_literal(host)
                # A name's resolved address is the deployment's internal DNS: never shown
                # to the caller (issue 14 item 9), only to the operator's log.
                if not literal:
                    log.info("refused %s: %s resolves to %s (%s)", parsed, host, address, reason)
                shown = f"is a {reason}" if literal else "does not resolve to a public address"
                raise FetchError(
                    f"refusing to fetch {parsed}: host {host} {shown}",
                    code="fetch_refused_address",
                )
        return CheckedURL(url=parsed, host=host, address=addresses[0])

    def _resolve(self, host: str, port: int) -> list[str]:
        literal = host[1:-1] if host.startswith("[") and host.endswith("]") else host
        try:
            return [str(_parse_ip(literal))]
        except ValueError:
            pass
        try:
            raw = list(self._resolver(host, port))
        except (OSError, UnicodeError) as exc:
            log.info("cannot resolve %s: %s", host, exc)  # the resolver's words stay here
            raise FetchError(f"cannot resolve host {host}", code="fetch_unreachable") from None
        addresses: list[str] = []
        for item in raw:
            try:
                addresses.append(str(_parse_ip(item)))
            except ValueError:
                log.info("the resolver returned a non-address %r for %s", item, host)
                raise FetchError(f"cannot resolve host {host}", code="fetch_unreachable") from None
        if not addresses:
            raise FetchError(f"host {host} has no addresses", code="fetch_unreachable")
        return addresses

    # -- the exchange

    def _exchange(
        self, method: str, url: str, headers: dict[str, str], content: bytes | None
    ) -> FetchResponse:
        deadline = time.monotonic() + self.policy.timeout
        # identity: compressed bodies would need bounded decompression (handled, but avoided).
        headers = {"user-agent": USER_AGENT, **headers, "accept-encoding": "identity"}
        target = self.check_url(url)
        redirects = 0
        while True:
            response = self._send_once(method, target, headers, content, deadline)
            if response.status_code in _REDIRECT_STATUSES:
                location = response.headers.get("location")
                response.close()
                if not location:
                    raise FetchHTTPError(
                        f"HTTP {response.status_code} redirect without Location from {target.url}",
                        response=self._summary(target, response, b""),
                    )
                if redirects >= self.policy.max_redirects:
                    raise FetchError(
                        f"more than {self.policy.max_redirects} redirects fetching {url}",
                        code="fetch_too_many_redirects",
                    )
                redirects += 1
                try:
                    next_url = target.url.join(location)
                except (httpx.InvalidURL, ValueError) as exc:
                    raise FetchError(
                        f"invalid redirect Location {location!r}: {exc}",
                        code="fetch_invalid_url",
                    ) from None
                next_target = self.check_url(next_url)
                if not self.policy.allow_cross_host_redirects and next_target.host != target.host:
                    raise FetchError(
                        f"refusing redirect from host {target.host} to host {next_target.host}",
                        code="fetch_refused_redirect",
                    )
                if _origin(next_target.url) != _origin(target.url):
                    headers = {k: v for k, v in headers.items() if k not in _ORIGIN_BOUND_HEADERS}
                if response.status_code == 303 or (
                    response.status_code in (301, 302) and method == "POST"
                ):
                    method, content = "GET", None
                    headers = {k: v for k, v in headers.items() if k != "content-type"}
                target = next_target
                continue
            try:
                success = 200 <= response.status_code < 300
                limit = self.policy.max_bytes if success else _ERROR_BODY_LIMIT
                body = self._read_body(response, target, limit, deadline, truncate=not success)
            finally:
                response.close()
            result = self._summary(target, response, body)
            if not success:
                raise FetchHTTPError(
                    f"HTTP {response.status_code} from {target.url}", response=result
                )
            return result

    def _send_once(
        self,
        method: str,
        target: CheckedURL,
        headers: dict[str, str],
        content: bytes | None,
        deadline: float,
    ) -> httpx.Response:
        remaining = self._remaining(deadline, target)
        timeouts = {"connect": remaining, "read": remaining, "write": remaining, "pool": remaining}
        request = httpx.Request(
            method,
            target.url.copy_with(fragment=None),
            headers=headers,
            content=content,
            extensions={"timeout": timeouts, PINNED_ADDRESS_EXTENSION: target.address},
        )
        try:
            return self._transport.handle_request(request)
        except httpx.TimeoutException:
            raise FetchError(
                f"timed out after {self.policy.timeout}s fetching {target.url}",
                code="fetch_timeout",
            ) from None
        except httpx.TransportError as exc:
            raise FetchError(
                f"cannot reach {target.url}: {exc}", code="fetch_unreachable"
            ) from None

    def _read_body(
        self,
        response: httpx.Response,
        target: CheckedURL,
        limit: int,
        deadline: float,
        *,
        truncate: bool,
    ) -> bytes:
        """Read at most ``limit`` bytes (raw and decoded); error bodies are cut, not refused."""
        declared = response.headers.get("content-length", "").strip()
        if not truncate and declared.isdigit() and int(declared) > limit:
            raise FetchError(
                f"the response from {target.url} declares {int(declared)} bytes, "
                f"more than the limit of {limit}",
                code="fetch_too_large",
            )
        chunks: Iterable[bytes]
        if response.is_stream_consumed:
            # An injected test transport may hand back an already read (and decoded) body.
            chunks, encoding = [response.content], "identity"
        else:
            chunks = response.iter_raw()
            encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("identity", "", "gzip", "x-gzip"):
            raise FetchError(
                f"the response from {target.url} uses unsupported content encoding {encoding!r}",
                code="fetch_bad_encoding",
            )
        gunzip = _BoundedGunzip(limit, str(target.url)) if encoding in ("gzip", "x-gzip") else None
        parts: list[bytes] = []
        size = 0
        try:
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    if truncate:
                        parts.append(chunk[: len(chunk) - (size - limit)])
                        break
                    raise FetchError(
                        f"the response from {target.url} exceeds the limit of {limit} bytes",
                        code="fetch_too_large",
                    )
                parts.append(chunk)
                if gunzip is not None:
                    gunzip.feed(chunk)
                # Per-read timeouts alone would let a server trickle bytes forever.
                self._remaining(deadline, target)
            if gunzip is not None:
                return gunzip.finish()
        except httpx.TimeoutException:
            raise FetchError(
                f"timed out after {self.policy.timeout}s reading {target.url}",
                code="fetch_timeout",
            ) from None
        except httpx.TransportError as exc:
            raise FetchError(
                f"connection to {target.url} failed while reading: {exc}",
                code="fetch_unreachable",
            ) from None
        except FetchError:
            if truncate:  # an error body is diagnostics only; never fail on it
                return b""
            raise
        return b"".join(parts)

    def _remaining(self, deadline: float, target: CheckedURL) -> float:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchError(
                f"timed out after {self.policy.timeout}s fetching {target.url}",
                code="fetch_timeout",
            )
        return remaining

    @staticmethod
    def _summary(target: CheckedURL, response: httpx.Response, body: bytes) -> FetchResponse:
        return FetchResponse(
            url=str(target.url),
            status=response.status_code,
            headers={k.lower(): v for k, v in response.headers.items()},
            content=body,
        )


def _is_ip_literal(host: str) -> bool:
    try:
        _parse_ip(host.strip("[]"))
    except ValueError:
        return False
    return True


def _origin(url: httpx.URL) -> tuple[str, bytes, int | None]:
    return (url.scheme, url.raw_host, url.port)
