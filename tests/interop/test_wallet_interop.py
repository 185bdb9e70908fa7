"""A wallet share link's presentation verifies in the independent reference implementation
(Digital Bazaar) with the share's challenge and the share URL as domain."""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from credentials.keys import Multikey
from interop.reference import ReferenceImplementation
from tests.wallet.conftest import (
    PUBLIC_URL,
    WalletHarness,
    fake_fetcher,
    make_keystore,
    make_settings,
)
from tests.wallet.fakes import Clock, FakeInternet
from wallet.main import create_app

pytestmark = pytest.mark.interop


@pytest.mark.parametrize("issuer_type", ["ed25519", "p256"])
def test_share_link_presentation_verifies_in_reference(
    reference: ReferenceImplementation, database_url: str, tmp_path: Path, issuer_type: str
) -> None:
    settings = make_settings(database_url, tmp_path)
    internet = FakeInternet()
    app = create_app(
        settings, clock=Clock(), fetcher=fake_fetcher(internet), keystore=make_keystore()
    )
    with TestClient(app, base_url=PUBLIC_URL) as client:
        harness = WalletHarness(client, internet, Clock(), settings, Multikey.generate(issuer_type))
        account = harness.signup(f"interop{secrets.token_hex(2)}")
        ids = [harness.store(account), harness.store(account)]
        share = client.post(
            "/api/shares", json={"credentialIds": ids, "expiresIn": 600}, headers=account.headers
        ).json()
        response = client.get(urlsplit(share["url"]).path, headers={"Accept": "application/json"})
    assert response.status_code == 200
    vp = response.json()
    challenge = vp["proof"]["challenge"]
    assert reference.verify_presentation(vp, challenge=challenge, domain=share["url"]) == (
        True,
        None,
    )
    ok, error = reference.verify_presentation(
        vp, challenge=challenge, domain=share["url"] + "-elsewhere"
    )
    assert not ok and error
    ok, _ = reference.verify_presentation(vp, challenge="another-challenge", domain=share["url"])
    assert not ok
