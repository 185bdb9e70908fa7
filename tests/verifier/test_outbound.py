"""Outbound requests a credential can cause (did:web, status lists, share links) never reach
loopback, private or link-local addresses outside dev mode — refused *before* connecting.

For 127.0.0.1 a local listener counts every connection it accepts; for 169.254.169.254 (the
cloud metadata address — no traffic to 169.254.x.x is allowed from this workplace at all)
the transport and the socket layer are patched to record, and refuse, any attempt.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from credentials import fetch
from credentials.fetch import FetchPolicy, SafeFetcher
from credentials.keys import Multikey
from tests.verifier.support import (
    CountingServer,
    did_document,
    microcredential,
    revocation_entry,
)


def did_web_key(host: str) -> Multikey:
    did = "did:web:" + host.replace(":", "%3A")
    return Multikey.generate("ed25519", controller=did, id=f"{did}#key-1")


def errors(body: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["code"] for c in body["errors"]}


@pytest.fixture
def attempts(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every attempt to reach 169.254.0.0/16, at the transport or the socket; all refused."""
    seen: list[str] = []

    def transport(self: Any, request: httpx.Request) -> httpx.Response:
        address = request.extensions.get(fetch.PINNED_ADDRESS_EXTENSION, "")
        seen.append(f"transport {address} {request.url}")
        raise httpx.ConnectError("blocked by the test", request=request)

    original_connect = socket.socket.connect
    original_create = socket.create_connection

    def guarded_connect(self: socket.socket, address: Any) -> Any:
        if isinstance(address, tuple) and str(address[0]).startswith("169.254."):
            seen.append(f"socket {address}")
            raise OSError("blocked by the test")
        return original_connect(self, address)

    def guarded_create(address: Any, *args: Any, **kwargs: Any) -> Any:
        if str(address[0]).startswith("169.254."):
            seen.append(f"create_connection {address}")
            raise OSError("blocked by the test")
        return original_create(address, *args, **kwargs)

    monkeypatch.setattr(fetch.PinnedTransport, "handle_request", transport)
    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "create_connection", guarded_create)
    yield seen


# --------------------------------------------------------------------------- did:web


def test_did_web_on_loopback_is_refused_before_connecting(
    client: Any, server: CountingServer, holder: Multikey
) -> None:
    key = did_web_key(server.host)
    server.serve("/.well-known/did.json", did_document(key))
    response = client.post(
        "/credentials/verify", json={"verifiableCredential": microcredential(key, holder)}
    )
    assert response.status_code == 400
    body = response.json()
    assert errors(body)["verification_method"] == "did_resolution_failed"
    message = next(c["message"] for c in body["errors"] if c["id"] == "verification_method")
    assert "loopback" in message
    assert server.connections == 0


def test_the_same_did_web_resolves_in_dev_mode(
    dev_client: Any, server: CountingServer, holder: Multikey
) -> None:
    """The positive control: the listener does count, and dev mode does reach it."""
    key = did_web_key(server.host)
    server.serve("/.well-known/did.json", did_document(key))
    response = dev_client.post(
        "/credentials/verify", json={"verifiableCredential": microcredential(key, holder)}
    )
    assert response.status_code == 200, response.json()["errors"]
    assert server.connections >= 1
    assert server.requests == ["/.well-known/did.json"]


@pytest.mark.parametrize("dev", [False, True])
def test_did_web_at_the_metadata_address_is_refused_even_in_dev_mode(
    make_client: Any, attempts: list[str], holder: Multikey, dev: bool
) -> None:
    client = make_client(dev=dev)
    key = did_web_key("169.254.169.254")
    response = client.post(
        "/credentials/verify", json={"verifiableCredential": microcredential(key, holder)}
    )
    assert response.status_code == 400
    body = response.json()
    assert errors(body)["verification_method"] == "did_resolution_failed"
    assert "link-local" in str(body["errors"])
    assert attempts == []


def test_a_host_name_resolving_to_the_metadata_address_is_refused(
    make_client: Any, attempts: list[str], holder: Multikey
) -> None:
    fetcher = SafeFetcher(FetchPolicy(), resolver=lambda host, port: ["169.254.169.254"])
    client = make_client(fetcher=fetcher)
    key = did_web_key("university.example")
    response = client.post(
        "/credentials/verify", json={"verifiableCredential": microcredential(key, holder)}
    )
    assert response.status_code == 400
    # refused, and the internal DNS answer is not told to the caller (issue 14 item 9)
    assert "public address" in str(response.json()["errors"])
    assert "169.254.169.254" not in str(response.json()["errors"])
    assert attempts == []


def test_a_host_name_resolving_to_loopback_is_refused(
    make_client: Any, server: CountingServer, holder: Multikey
) -> None:
    fetcher = SafeFetcher(FetchPolicy(), resolver=lambda host, port: ["127.0.0.1"])
    client = make_client(fetcher=fetcher)
    key = did_web_key(f"university.example:{server.port}")
    response = client.post(
        "/credentials/verify", json={"verifiableCredential": microcredential(key, holder)}
    )
    assert errors(response.json())["verification_method"] == "did_resolution_failed"
    assert server.connections == 0


# --------------------------------------------------------------------------- status lists


def test_a_status_list_on_loopback_is_not_fetched_outside_dev_mode(
    client: Any, server: CountingServer, issuer: Multikey, holder: Multikey
) -> None:
    entry = revocation_entry(server.url("/status/1"), 7)
    credential = microcredential(issuer, holder, status=[entry])
    response = client.post("/credentials/verify", json={"verifiableCredential": credential})
    body = response.json()
    status = next(c for c in body["checks"] if c["id"] == "status")
    assert (status["outcome"], status["code"]) == ("warning", "status_unknown")
    assert response.status_code == 200  # unknown is never "revoked"
    assert server.connections == 0


@pytest.mark.parametrize("dev", [False, True])
def test_a_status_list_at_the_metadata_address_is_never_fetched(
    make_client: Any, attempts: list[str], issuer: Multikey, holder: Multikey, dev: bool
) -> None:
    client = make_client(dev=dev)
    entry = revocation_entry("http://169.254.169.254/latest/meta-data/status", 3)
    credential = microcredential(issuer, holder, status=[entry])
    body = client.post("/credentials/verify", json={"verifiableCredential": credential}).json()
    status = next(c for c in body["checks"] if c["id"] == "status")
    assert status["code"] == "status_unknown"
    assert attempts == []


# --------------------------------------------------------------------------- share links


def test_a_share_link_on_loopback_is_refused_outside_dev_mode(
    client: Any, server: CountingServer
) -> None:
    url = server.serve("/s/abc", {"verifiablePresentation": {}})
    response = client.post("/shares/verify", json={"url": url})
    assert response.status_code == 400
    assert errors(response.json()) == {"share_link": "fetch_refused_scheme"}
    https = url.replace("http://", "https://")
    response = client.post("/shares/verify", json={"url": https})
    assert errors(response.json()) == {"share_link": "fetch_refused_address"}
    assert server.connections == 0


@pytest.mark.parametrize(
    "url",
    [
        "https://169.254.169.254/latest/meta-data/",
        "http://169.254.169.254/latest/meta-data/",
        "https://[::ffff:169.254.169.254]/s/x",
        "https://169.254.1.1/s/x",
    ],
)
def test_a_share_link_to_link_local_addresses_is_refused_in_dev_mode_too(
    make_client: Any, attempts: list[str], url: str
) -> None:
    client = make_client(dev=True)
    response = client.post("/shares/verify", json={"url": url})
    assert response.status_code == 400
    assert errors(response.json()) == {"share_link": "fetch_refused_address"}
    assert attempts == []
