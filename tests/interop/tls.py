"""A loopback https server for interop tests, with a throw-away certificate authority.

Why: outside verifiers resolve ``did:web:127.0.0.1%3A<port>:…`` as
``https://127.0.0.1:<port>/…/did.json`` (no plain-http exception for loopback, unlike
microcred's dev mode), so the issuer under test must speak TLS with a certificate those
verifiers trust. The CA made here is handed to Node as ``NODE_EXTRA_CA_CERTS`` and to
Python (httpx) as an SSL context or ``SSL_CERT_FILE``; nothing outside the test trusts it.
"""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from credentials.fetch import FetchPolicy, PinnedTransport, SafeFetcher
from credentials.setup import default_verifier
from credentials.verify import Verifier
from tests.support.servers import live_server


@dataclass(frozen=True)
class LocalTls:
    """PEM files of a test CA and of a server certificate it signed for 127.0.0.1."""

    ca_file: Path
    cert_file: Path
    key_file: Path

    def client_context(self) -> ssl.SSLContext:
        """A client context trusting only the test CA (for microcred's SafeFetcher)."""
        return ssl.create_default_context(cafile=str(self.ca_file))


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_local_tls(directory: Path) -> LocalTls:
    """Create a CA and a leaf certificate for ``127.0.0.1`` / ``::1`` / ``localhost``."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC) - timedelta(minutes=5)
    later = now + timedelta(days=2)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("microcred interop test CA")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(later)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(later)
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.IPAddress(ipaddress.ip_address("::1")),
                    x509.DNSName("localhost"),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    tls = LocalTls(
        ca_file=directory / "ca.pem",
        cert_file=directory / "server.pem",
        key_file=directory / "server-key.pem",
    )
    tls.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    tls.cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    tls.key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return tls


@contextmanager
def live_https_server(app: Any, port: int, tls: LocalTls) -> Iterator[str]:
    """Serve ``app`` over TLS on 127.0.0.1:``port`` until the block ends; yields its URL."""
    with live_server(
        app, port, ssl_certfile=str(tls.cert_file), ssl_keyfile=str(tls.key_file)
    ) as base:
        yield base


class LoopbackHttpsTransport(PinnedTransport):
    """microcred's dev mode resolves a loopback did:web over http (credentials/dids.py),
    but the servers here speak https only, as outside verifiers require; so microcred's side
    of these tests upgrades loopback http requests to https (loopback is reachable only with
    ``allow_insecure``, which is also what selects http)."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme == "http" and request.url.host == "127.0.0.1":
            request.url = request.url.copy_with(scheme="https")
        return super().handle_request(request)


def microcred_verifier(tls: LocalTls) -> Verifier:
    """microcred's default verifier reaching loopback https servers that ``tls`` certified
    (a fresh status cache and DID cache each time)."""
    transport = LoopbackHttpsTransport(tls.client_context())
    return default_verifier(fetcher=SafeFetcher(FetchPolicy(allow_insecure=True), transport))


@contextmanager
def static_https_server(documents: dict[str, Any], port: int, tls: LocalTls) -> Iterator[str]:
    """Serve ``documents`` (path → JSON) over TLS on 127.0.0.1:``port``: a DID document or
    status list of an institution that is not microcred."""
    import json

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        document = documents.get(scope["path"])
        status = 200 if document is not None else 404
        body = json.dumps(document if document is not None else {"error": "not found"}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    with live_https_server(app, port, tls) as base:
        yield base
