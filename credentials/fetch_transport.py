"""Where an outbound connection may go, and the transport that holds it to that address.

An address is refused by category (loopback, private, link-local, CGNAT, metadata, …;
``address_refusal_reason``), and ``PinnedTransport`` connects to exactly the address the
policy approved (no second DNS lookup between the check and the connection: DNS
rebinding), presenting the URL's host for TLS and Host. ``credentials.fetch`` builds the
safe fetcher on top.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

Resolver = Callable[[str, int], Sequence[str]]
"""``(host, port) -> addresses``: how a host name becomes IP addresses (injectable for tests)."""

PINNED_ADDRESS_EXTENSION = "microcred.pinned_address"
"""Request extension carrying the checked IP address the transport must connect to."""

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
            content=request.stream,
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
