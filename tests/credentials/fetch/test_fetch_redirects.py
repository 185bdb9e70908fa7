"""SafeFetcher: redirects, POST bodies and TLS, against real local listeners.

As in test_fetch.py, an autouse guard fails a test that tries to open a TCP connection to
anything but loopback.
"""

from __future__ import annotations

import datetime as dt
import json
import ssl
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from credentials.errors import FetchError
from credentials.fetch import (
    PINNED_ADDRESS_EXTENSION,
    FetchHTTPError,
    FetchPolicy,
    PinnedTransport,
    SafeFetcher,
)
from tests.credentials.fetch.support import (
    DEV,
    PUBLIC_IP,
    ForwardingTransport,
    LocalServer,
    Reply,
    fetch_error,
    fixed_resolver,
)

# --------------------------------------------------------------------------- redirects


def test_relative_redirect_is_followed(server: LocalServer) -> None:
    server.routes["/a"] = Reply(302, b"", headers={"Location": "/b"})
    server.routes["/b"] = Reply(body=b'{"at": "b"}')
    document, response = SafeFetcher(DEV).get_json(server.url("/a"))
    assert document == {"at": "b"}
    assert response.url == server.url("/b")
    assert [r["path"] for r in server.requests] == ["/a", "/b"]


def test_redirect_to_refused_address_is_refused(
    server: LocalServer, connections: list[tuple[str, int]]
) -> None:
    """Even in dev mode a redirect to the metadata service is stopped at the hop check."""
    server.routes["/r"] = Reply(
        302, b"", headers={"Location": "http://169.254.169.254/latest/meta-data/"}
    )
    err = fetch_error(lambda: SafeFetcher(DEV).get(server.url("/r")), "fetch_refused_address")
    assert "169.254.169.254" in err.message
    assert server.count == 1
    assert connections == [("127.0.0.1", server.port)]


@pytest.mark.parametrize(
    "location",
    [
        "https://10.0.0.1/internal",
        "https://169.254.169.254/latest/meta-data/",
        "https://localhost/admin",
        "https://[::1]/admin",
        "http://issuer.example/plain-http",
    ],
)
def test_redirect_from_public_host_to_refused_target_in_production_mode(
    server: LocalServer, location: str, connections: list[tuple[str, int]]
) -> None:
    server.routes["/start"] = Reply(302, b"", headers={"Location": location})
    transport = ForwardingTransport(server)
    fetcher = SafeFetcher(
        FetchPolicy(),
        transport=transport,
        resolver=fixed_resolver({"issuer.example": [PUBLIC_IP], "localhost": ["127.0.0.1"]}),
    )
    with pytest.raises(FetchError) as info:
        fetcher.get("https://issuer.example/start")
    assert info.value.code in ("fetch_refused_address", "fetch_refused_scheme")
    assert transport.pinned == [PUBLIC_IP]  # only the first hop went out
    assert server.count == 1
    assert all(addr[0] == "127.0.0.1" for addr in connections)


def test_production_mode_fetch_through_public_name(server: LocalServer) -> None:
    server.routes["/did.json"] = Reply(body=b'{"id": "did:web:issuer.example"}')
    transport = ForwardingTransport(server)
    fetcher = SafeFetcher(
        FetchPolicy(),
        transport=transport,
        resolver=fixed_resolver({"issuer.example": [PUBLIC_IP]}),
    )
    document, response = fetcher.get_json("https://issuer.example/did.json")
    assert document == {"id": "did:web:issuer.example"}
    assert response.url == "https://issuer.example/did.json"
    assert transport.pinned == [PUBLIC_IP]
    assert server.requests[0]["headers"]["host"] == "issuer.example"


def test_too_many_redirects(server: LocalServer) -> None:
    server.routes["/loop"] = Reply(302, b"", headers={"Location": "/loop"})
    fetcher = SafeFetcher(FetchPolicy(allow_insecure=True, max_redirects=3))
    fetch_error(lambda: fetcher.get(server.url("/loop")), "fetch_too_many_redirects")
    assert server.count == 4


def test_redirect_without_location(server: LocalServer) -> None:
    server.routes["/r"] = Reply(302, b"")
    fetch_error(lambda: SafeFetcher(DEV).get(server.url("/r")), "fetch_http_error")


def test_cross_host_redirect_can_be_forbidden(server: LocalServer) -> None:
    server.routes["/r"] = Reply(302, b"", headers={"Location": server.url("/x", host="localhost")})
    server.routes["/x"] = Reply(body=b"{}")
    strict = FetchPolicy(allow_insecure=True, allow_cross_host_redirects=False)
    fetch_error(lambda: SafeFetcher(strict).get(server.url("/r")), "fetch_refused_redirect")
    assert server.count == 1


def test_credentials_are_not_forwarded_across_origins(server: LocalServer) -> None:
    other = LocalServer().start()
    try:
        other.routes["/landing"] = Reply(body=b"{}")
        server.routes["/r"] = Reply(307, b"", headers={"Location": other.url("/landing")})
        SafeFetcher(DEV).post_json(
            server.url("/r"), {"a": 1}, headers={"Authorization": "Bearer secret"}
        )
        assert server.requests[0]["headers"]["authorization"] == "Bearer secret"
        landed = other.requests[0]
        assert "authorization" not in landed["headers"]
        assert landed["method"] == "POST"  # 307 keeps the method and body
        assert json.loads(landed["body"]) == {"a": 1}
    finally:
        other.stop()


def test_post_then_303_becomes_get(server: LocalServer) -> None:
    server.routes["/submit"] = Reply(303, b"", headers={"Location": "/result"})
    server.routes["/result"] = Reply(body=b'{"done": true}')
    response = SafeFetcher(DEV).post_form(server.url("/submit"), {"a": "b"})
    assert response.json() == {"done": True}
    assert [r["method"] for r in server.requests] == ["POST", "GET"]
    assert server.requests[1]["body"] == b""


# --------------------------------------------------------------------------- POST


def test_post_json(server: LocalServer) -> None:
    server.routes["/api"] = Reply(201, b'{"created": true}')
    response = SafeFetcher(DEV).post_json(
        server.url("/api"), {"name": "Café", "n": [1, 2]}, headers={"X-Extra": "1"}
    )
    assert response.status == 201
    assert response.json() == {"created": True}
    sent = server.requests[0]
    assert sent["method"] == "POST"
    assert sent["headers"]["content-type"] == "application/json"
    assert sent["headers"]["x-extra"] == "1"
    assert json.loads(sent["body"].decode("utf-8")) == {"name": "Café", "n": [1, 2]}


def test_post_form(server: LocalServer) -> None:
    server.routes["/token"] = Reply(400, b'{"error": "invalid_grant"}')
    with pytest.raises(FetchHTTPError) as info:
        SafeFetcher(DEV).post_form(
            server.url("/token"),
            {"grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code", "x": "a b&c"},
        )
    assert info.value.response.json() == {"error": "invalid_grant"}
    sent = server.requests[0]
    assert sent["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert b"x=a+b%26c" in sent["body"]


# --------------------------------------------------------------------------- TLS


def _self_signed(tmp_path: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_https_pinned_to_address_verifies_certificate_by_name(
    tmp_path: Path, connections: list[tuple[str, int]]
) -> None:
    """TLS goes to the pinned address, yet SNI and certificate checks use the host name."""
    cert, key = _self_signed(tmp_path, "pinned.test")
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)
    seen_sni: list[str | None] = []
    server_ctx.sni_callback = lambda sock, name, ctx: seen_sni.append(name)  # type: ignore[assignment,misc,return-value]
    tls = LocalServer(server_ctx).start()
    try:
        tls.routes["/ok"] = Reply(body=b'{"tls": true}')
        client_ctx = ssl.create_default_context(cafile=str(cert))
        resolver = fixed_resolver({"pinned.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})
        fetcher = SafeFetcher(DEV, transport=PinnedTransport(client_ctx), resolver=resolver)
        assert fetcher.get_json(f"https://pinned.test:{tls.port}/ok")[0] == {"tls": True}
        assert seen_sni[0] == "pinned.test"
        assert tls.requests[0]["headers"]["host"] == f"pinned.test:{tls.port}"
        # Same address, another name: the certificate does not match, so no request.
        fetch_error(lambda: fetcher.get(f"https://other.test:{tls.port}/ok"), "fetch_unreachable")
        assert tls.count == 1
        assert all(addr == ("127.0.0.1", tls.port) for addr in connections)
    finally:
        tls.stop()


def test_pinned_transport_requires_a_pinned_address() -> None:
    with pytest.raises(httpx.ConnectError):
        PinnedTransport().handle_request(httpx.Request("GET", "https://example.com/"))


def test_mock_transport_sees_the_logical_url() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"mocked": True})

    fetcher = SafeFetcher(
        FetchPolicy(),
        transport=httpx.MockTransport(handler),
        resolver=fixed_resolver({"issuer.example": [PUBLIC_IP]}),
    )
    assert fetcher.get_json("https://issuer.example/x#frag")[0] == {"mocked": True}
    assert str(seen[0].url) == "https://issuer.example/x"
    assert seen[0].extensions[PINNED_ADDRESS_EXTENSION] == PUBLIC_IP

