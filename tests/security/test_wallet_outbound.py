"""W-11: a malicious verifier or issuer hands a learner a link that points the wallet at an
internal address (loopback, the cloud metadata service, a private network).

The wallet follows links a learner pastes or scans: OpenID4VP ``request_uri``s and
OpenID4VCI ``credential_offer_uri``s. Here it runs with its production fetcher (the real
``SafeFetcher`` and the real DNS path, not the tests' fake internet): every such link must
be refused with a problem *before* a connection is made. A counting listener on 127.0.0.1
sees every connection; attempts at 169.254.x.x are recorded and blocked by the socket guard
of ``tests/verifier/test_outbound.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from tests.verifier.support import CountingServer, counting_server
from tests.verifier.test_outbound import attempts as attempts  # the fixture
from tests.wallet.conftest import PUBLIC_URL, make_keystore, make_settings
from wallet.main import create_app

PASSWORD = "correct horse battery staple"


@pytest.fixture
def listener() -> Iterator[CountingServer]:
    with counting_server() as server:
        yield server


@pytest.fixture
def learner(database_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """A production-configured wallet (dev off: https only, no private addresses)."""
    app = create_app(make_settings(database_url, tmp_path), keystore=make_keystore())
    with TestClient(app, base_url=PUBLIC_URL) as client:
        signed_up = client.post("/api/learners", json={"username": "ada", "password": PASSWORD})
        assert signed_up.status_code == 201, signed_up.text
        logged_in = client.post("/api/session", json={"username": "ada", "password": PASSWORD})
        token = logged_in.json()["token"]
        yield client, {"Authorization": f"Bearer {token}"}


def _targets(listener: CountingServer) -> list[str]:
    return [
        f"https://127.0.0.1:{listener.port}/request",
        f"https://localhost:{listener.port}/request",
        f"https://[::ffff:127.0.0.1]:{listener.port}/request",
        f"http://127.0.0.1:{listener.port}/request",
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.1/request",
        "file:///etc/passwd",
    ]


def _refused(response: Any) -> None:
    assert 400 <= response.status_code < 500, response.text
    body = response.json()
    assert body.get("code"), body
    assert "Traceback" not in response.text


def test_a_presentation_request_cannot_point_the_wallet_inwards(
    learner: tuple[TestClient, dict[str, str]], listener: CountingServer, attempts: list[str]
) -> None:
    client, headers = learner
    for target in _targets(listener):
        link = f"openid4vp://?client_id={quote('x509_san_dns:verifier.example')}"
        link += f"&request_uri={quote(target, safe='')}"
        for path in ("/api/requests/preview", "/api/requests/decline"):
            _refused(client.post(path, json={"request": link}, headers=headers))
    assert listener.connections == 0 and attempts == []


def test_a_credential_offer_cannot_point_the_wallet_inwards(
    learner: tuple[TestClient, dict[str, str]], listener: CountingServer, attempts: list[str]
) -> None:
    client, headers = learner
    for target in _targets(listener):
        by_reference = "openid-credential-offer://?credential_offer_uri=" + quote(target, safe="")
        by_value = "openid-credential-offer://?credential_offer=" + quote(
            json.dumps(
                {
                    "credential_issuer": target.rsplit("/", 1)[0],
                    "credential_configuration_ids": ["OpenBadgeCredential_ldp_vc"],
                    "grants": {
                        "urn:ietf:params:oauth:grant-type:pre-authorized_code": {
                            "pre-authorized_code": "x" * 43
                        }
                    },
                }
            ),
            safe="",
        )
        for offer in (by_reference, by_value, target):
            response = client.post(
                "/api/credentials/offers", json={"offer": offer}, headers=headers
            )
            _refused(response)
    assert listener.connections == 0 and attempts == []
    assert client.get("/api/credentials", headers=headers).json() == []  # nothing stored
