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

import ipaddress
import json
import logging
import socket
import ssl
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpcore
import httpx

from .errors import FetchError

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

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

Resolver = Callable[[str, int], Sequence[str]]
"""``(host, port) -> addresses``: how a host name becomes IP addresses (injectable for tests)."""

PINNED_ADDRESS_EXTENSION = "microcred.pinned_address"
"""Request extension carrying the checked IP address the transport must connect to."""

USER_AGENT = "microcred/0.1 (+https://github.com/microcred)"

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Headers that carry credentials for one origin and must not follow a redirect elsewhere.
_ORIGIN_BOUND_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
# An error body is kept only for diagnostics (e.g. an OAuth ``{"error": ...}``), so it is
# truncated rather than refused when large.
_ERROR_BODY_LIMIT = 65_536


# --------------------------------------------------------------------------- addresses

_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
_THIS_NETWORK = ipaddress.IPv4Network("0.0.0.0/8")
_RFC1918 = (
    ipaddress.IPv4Network("10.0.0.0/8"),
    ipaddress.IPv4Network("172.16.0.0/12"),
    ipaddress.IPv4Network("192.168.0.0/16"),
)
_ULA = ipaddress.IPv6Network("fc00::/7")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_METADATA = ipaddress.IPv4Address("169.254.169.254")

# Categories a developer legitimately runs services on; only these pass in dev mode.
_DEV_ALLOWED = frozenset({"loopback", "private", "shared address space (CGNAT)", "unique local"})


def _parse_ip(ip: str | IPAddress) -> IPAddress:
    if isinstance(ip, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return ip
    # A scope id ("fe80::1%eth0") only says which interface; the address class is the same.
    return ipaddress.ip_address(ip.split("%", 1)[0])


def _category(ip: IPAddress) -> str | None:
    """The kind of non-public address ``ip`` is, or None when it is globally routable.

    Written out rather than relying on ``ipaddress.is_global`` alone, because that
    property's exact table has changed between Python releases and because the message
    should say *why* an address is refused.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped
        if embedded is None and ip in _NAT64:
            # NAT64 forwards to the embedded IPv4 address, so that address is what counts.
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is None and ip.sixtofour is not None:
            embedded = ip.sixtofour
        if embedded is not None:
            return _category(embedded)
    if ip.is_unspecified or (isinstance(ip, ipaddress.IPv4Address) and ip in _THIS_NETWORK):
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if isinstance(ip, ipaddress.IPv4Address):
        if ip in _CGNAT:
            return "shared address space (CGNAT)"
        if any(ip in net for net in _RFC1918):
            return "private"
    else:
        if ip in _ULA:
            return "unique local"
        if ip.is_site_local:
            return "site-local"
    if ip.is_reserved:
        return "reserved"
    if ip.is_private or not ip.is_global:
        return "special-purpose (not globally routable)"
    return None


def address_refusal_reason(ip: str | IPAddress, *, allow_insecure: bool = False) -> str | None:
    """Why a connection to ``ip`` is refused under the given mode, or None if it is allowed."""
    parsed = _parse_ip(ip)
    category = _category(parsed)
    if category is None:
        return None
    if allow_insecure and category in _DEV_ALLOWED:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        category = f"{category} (IPv4-mapped)"
    if parsed == _METADATA:
        category = f"{category} (cloud metadata service)"
    return f"{category} address"


def is_public_address(ip: str | IPAddress) -> bool:
    """True when ``ip`` is globally routable, i.e. safe to contact outside dev mode."""
    return _category(_parse_ip(ip)) is None


def system_resolver(host: str, port: int) -> list[str]:
    """Resolve ``host`` with the system resolver; every address, de-duplicated, in order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: dict[str, None] = {}
    for _family, _type, _proto, _canon, sockaddr in infos:
        seen.setdefault(str(sockaddr[0]), None)
    return list(seen)


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


class _PinnedBackend(httpcore.SyncBackend):
    """A network backend that ignores the host name and connects to one checked address."""

    def __init__(self, address: str) -> None:
        self._address = address

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        return super().connect_tcp(
            self._address,
            port,
            timeout=timeout,
            local_address=local_address,
            socket_options=socket_options,
        )

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are never used by the safe fetcher")


def _map_core_error(exc: Exception, request: httpx.Request) -> httpx.TransportError:
    """httpcore's exceptions as httpx's, so injected and default transports look alike."""
    message = str(exc) or type(exc).__name__
    if isinstance(exc, httpcore.TimeoutException):
        return httpx.TimeoutException(message, request=request)
    if isinstance(exc, httpcore.ProtocolError):
        return httpx.ProtocolError(message, request=request)
    if isinstance(exc, httpcore.UnsupportedProtocol):
        return httpx.UnsupportedProtocol(message, request=request)
    return httpx.ConnectError(message, request=request)


_CORE_ERRORS = (
    httpcore.TimeoutException,
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.UnsupportedProtocol,
    httpcore.ProxyError,
)


class _PinnedStream(httpx.SyncByteStream):
    def __init__(
        self, response: httpcore.Response, pool: httpcore.ConnectionPool, request: httpx.Request
    ) -> None:
        self._response = response
        self._pool = pool
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._response.iter_stream()
        except _CORE_ERRORS as exc:
            raise _map_core_error(exc, self._request) from exc

    def close(self) -> None:
        try:
            self._response.close()
        finally:
            self._pool.close()


class PinnedTransport(httpx.BaseTransport):
    """An httpx transport that connects to the address in ``PINNED_ADDRESS_EXTENSION``.

    The request URL keeps the host name, so the Host header, TLS SNI and certificate
    verification all use the name while the TCP connection goes to the checked address.
    Each request gets its own one-shot connection pool: a kept-alive connection opened for
    one host name must never carry a request for another name that shares its address.
    """

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self._ssl_context = ssl_context or httpx.create_ssl_context()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        address = request.extensions.get(PINNED_ADDRESS_EXTENSION)
        if not isinstance(address, str) or not address:
            raise httpx.ConnectError("no pinned address for this request", request=request)
        pool = httpcore.ConnectionPool(
            ssl_context=self._ssl_context,
            max_connections=1,
            max_keepalive_connections=0,
            http1=True,
            http2=False,
            retries=0,
            network_backend=_PinnedBackend(address),
        )
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,  # type: ignore[arg-type]
            extensions={"timeout": request.extensions.get("timeout", {})},
        )
        try:
            core_response = pool.handle_request(core_request)
        except _CORE_ERRORS as exc:
            pool.close()
            raise _map_core_error(exc, request) from exc
        except BaseException:
            pool.close()
            raise
        return httpx.Response(
            status_code=core_response.status,
            headers=core_response.headers,
            stream=_PinnedStream(core_response, pool, request),
            extensions=core_response.extensions,
        )


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
