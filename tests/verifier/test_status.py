"""Status checking through the verifier: revoked and suspended fail, a list that is not a
status list credential fails, an unreachable list is "status unknown" (a warning, never
"revoked"). The lists are served by a local server, so these tests run in dev mode."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from credentials.keys import Multikey
from tests.verifier.support import (
    CountingServer,
    microcredential,
    revocation_entry,
    signed_status_list,
)


def status_checks(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["outcome"], c["code"]) for c in body["checks"] if c["id"] == "status"]


def verify(client: Any, credential: dict[str, Any]) -> Any:
    return client.post("/credentials/verify", json={"verifiableCredential": credential})


def test_an_active_credential_passes_the_status_check(
    dev_client: Any, server: CountingServer, issuer_key: Multikey, holder: Multikey
) -> None:
    url = server.serve("/status/1", signed_status_list(issuer_key, server.url("/status/1")))
    credential = microcredential(issuer_key, holder, status=[revocation_entry(url, 94567)])
    response = verify(dev_client, credential)
    assert response.status_code == 200, response.json()["errors"]
    assert status_checks(response.json()) == [("passed", "ok")]


def test_a_revoked_credential_fails_the_status_check(
    dev_client: Any, server: CountingServer, issuer: Multikey, holder: Multikey
) -> None:
    url = server.url("/status/1")
    server.serve("/status/1", signed_status_list(issuer, url, set_indexes=(94567,)))
    credential = microcredential(issuer, holder, status=[revocation_entry(url, 94567)])
    response = verify(dev_client, credential)
    assert response.status_code == 400
    assert status_checks(response.json()) == [("failed", "revoked")]
    assert response.json()["summary"]["module"]  # still says what it was


def test_a_suspended_credential_fails_the_status_check(
    dev_client: Any, server: CountingServer, issuer: Multikey, holder: Multikey
) -> None:
    url = server.url("/status/s")
    server.serve(
        "/status/s", signed_status_list(issuer, url, purpose="suspension", set_indexes=(5,))
    )
    entry = revocation_entry(url, 5, purpose="suspension")
    response = verify(dev_client, microcredential(issuer, holder, status=[entry]))
    assert response.status_code == 400
    assert status_checks(response.json()) == [("failed", "suspended")]


@pytest.mark.parametrize(
    "document",
    [
        {"hello": "world"},
        [1, 2, 3],
        {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"]},
    ],
)
def test_a_status_list_url_that_returns_no_status_list_credential_fails(
    dev_client: Any, server: CountingServer, issuer: Multikey, holder: Multikey, document: Any
) -> None:
    url = server.serve("/status/odd", document)
    response = verify(
        dev_client, microcredential(issuer, holder, status=[revocation_entry(url, 1)])
    )
    assert response.status_code == 400
    assert status_checks(response.json()) == [("failed", "status_list_not_a_credential")]


def test_a_status_list_from_another_issuer_fails(
    dev_client: Any, server: CountingServer, issuer: Multikey, holder: Multikey
) -> None:
    url = server.url("/status/1")
    server.serve("/status/1", signed_status_list(Multikey.generate(), url))
    response = verify(
        dev_client, microcredential(issuer, holder, status=[revocation_entry(url, 1)])
    )
    assert status_checks(response.json()) == [("failed", "status_list_issuer_mismatch")]


def test_a_status_list_with_a_forged_proof_fails(
    dev_client: Any, server: CountingServer, issuer: Multikey, holder: Multikey
) -> None:
    url = server.url("/status/1")
    forged = signed_status_list(issuer, url, set_indexes=(1,))
    forged["credentialSubject"]["encodedList"] = signed_status_list(issuer, url)[
        "credentialSubject"
    ]["encodedList"]  # "un-revoke" without the issuer's key
    server.serve("/status/1", forged)
    response = verify(
        dev_client, microcredential(issuer, holder, status=[revocation_entry(url, 1)])
    )
    assert status_checks(response.json()) == [("failed", "status_list_proof_invalid")]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("where", ["closed port", "404", "not json"])
def test_an_unreachable_status_list_is_a_warning_status_unknown_never_revoked(
    dev_client: Any, server: CountingServer, issuer: Multikey, holder: Multikey, where: str
) -> None:
    if where == "closed port":
        url = f"http://127.0.0.1:{_closed_port()}/status/1"
    elif where == "404":
        url = server.url("/status/missing")
    else:
        url = server.serve("/status/html", b"<html>maintenance</html>")
    response = verify(
        dev_client, microcredential(issuer, holder, status=[revocation_entry(url, 1)])
    )
    assert response.status_code == 200
    body = response.json()
    assert status_checks(body) == [("warning", "status_unknown")]
    assert body["warnings"][0]["message"].startswith(
        "the revocation status could not be determined"
    )
    assert body["verified"] is True


def test_status_lists_are_cached_between_verifications(
    dev_client: Any, server: CountingServer, issuer: Multikey, holder: Multikey
) -> None:
    url = server.serve("/status/1", signed_status_list(issuer, server.url("/status/1")))
    for index in (1, 2, 3):
        credential = microcredential(issuer, holder, status=[revocation_entry(url, index)])
        assert verify(dev_client, credential).status_code == 200
    assert server.requests == ["/status/1"]


# --------------------------------------------------------------------------- issue 13


def _vcdm11(issuer: Multikey, holder: Multikey, status: dict[str, Any]) -> dict[str, Any]:
    from credentials.proofs import sign

    return sign(
        {
            "@context": [
                "https://www.w3.org/2018/credentials/v1",
                "https://w3id.org/security/suites/ed25519-2020/v1",
                "https://w3id.org/vc/status-list/2021/v1",
                "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json",  # 1EdTech types
            ],
            "id": "urn:uuid:9f1c2a3b-4d5e-4f60-8a7b-6c5d4e3f2a1b",
            "type": ["VerifiableCredential"],
            "issuer": issuer.controller,
            "issuanceDate": "2025-06-30T12:00:00Z",
            "credentialSubject": {"id": holder.controller},
            "credentialStatus": status,
        },
        issuer,
        cryptosuite="Ed25519Signature2020",
        created="2025-06-30T12:00:00Z",
    )


def _status_list_2021(issuer: Multikey, url: str, revoked: int | None) -> dict[str, Any]:
    """A signed VCDM 1.1 StatusList2021Credential (encodedList without multibase prefix)."""
    import base64
    import gzip

    from credentials.proofs import sign

    bits = bytearray(16 * 1024)
    if revoked is not None:
        bits[revoked // 8] |= 0x80 >> (revoked % 8)
    encoded = base64.urlsafe_b64encode(gzip.compress(bytes(bits))).rstrip(b"=").decode()
    return sign(
        {
            "@context": [
                "https://www.w3.org/2018/credentials/v1",
                "https://w3id.org/vc/status-list/2021/v1",
                "https://w3id.org/security/suites/ed25519-2020/v1",
            ],
            "id": url,
            "type": ["VerifiableCredential", "StatusList2021Credential"],
            "issuer": issuer.controller,
            "issuanceDate": "2025-01-01T00:00:00Z",
            "credentialSubject": {
                "id": url + "#list",
                "type": "StatusList2021",
                "statusPurpose": "revocation",
                "encodedList": encoded,
            },
        },
        issuer,
        cryptosuite="Ed25519Signature2020",
        created="2025-01-01T00:00:00Z",
    )


@pytest.mark.parametrize("revoked", [None, 94567])
def test_a_vcdm_1_1_credential_with_a_status_list_2021_entry(
    dev_client: Any, server: CountingServer, holder: Multikey, revoked: int | None
) -> None:
    issuer = Multikey.generate("ed25519")
    url = server.serve("/2021/1", _status_list_2021(issuer, server.url("/2021/1"), revoked))
    entry = {
        "id": f"{url}#94567",
        "type": "StatusList2021Entry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",
        "statusListCredential": url,
    }
    response = verify(dev_client, _vcdm11(issuer, holder, entry))
    body = response.json()
    assert body["format"] == "VCDM 1.1 · Ed25519Signature2020"
    if revoked is None:
        assert response.status_code == 200, body["errors"]
        assert status_checks(body) == [("passed", "ok")]
    else:
        assert response.status_code == 400
        assert status_checks(body) == [("failed", "revoked")]


def test_a_1edtech_revocation_list_is_read(
    dev_client: Any, server: CountingServer, holder: Multikey
) -> None:
    issuer = Multikey.generate("ed25519")
    url = server.serve(
        "/revocations",
        {
            "id": server.url("/revocations"),
            "issuer": issuer.controller,
            "revokedCredentials": [
                {"id": "urn:uuid:9f1c2a3b-4d5e-4f60-8a7b-6c5d4e3f2a1b", "revocationReason": "x"}
            ],
        },
    )
    response = verify(
        dev_client, _vcdm11(issuer, holder, {"id": url, "type": "1EdTechRevocationList"})
    )
    assert response.status_code == 400
    assert status_checks(response.json()) == [("failed", "revoked")]
