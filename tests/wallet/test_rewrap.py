"""KEK rotation for the wallet: ``microcred wallet rewrap-keys`` re-wraps holder keys and
share tokens under the new KEK; afterwards the new KEK alone serves both."""

from __future__ import annotations

import base64
import json
import secrets
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select
from typer.testing import CliRunner

import microcred.commands  # registers ``microcred wallet``
from credentials.keystore import Kek, Keystore
from microcred.cli import app as microcred
from servicekit.db import Database
from tests.wallet.conftest import PUBLIC_URL, WalletHarness, fake_fetcher, make_settings
from tests.wallet.fakes import Clock, FakeInternet
from wallet.main import create_app
from wallet.models import Learner, Share

runner = CliRunner()


def kek(name: str) -> tuple[Kek, str]:
    secret = secrets.token_bytes(32)
    return Kek.from_secret(secret, name), base64.urlsafe_b64encode(secret).rstrip(b"=").decode()


def wrapped(database_url: str) -> list[str]:
    db = Database(database_url)
    with db.session() as session:
        values = [w for w in session.exec(select(Learner.wrapped_key)).all()]
        values += [w for w in session.exec(select(Share.token_wrapped)).all() if w]
    db.dispose()
    return values


def test_wallet_rewrap_moves_holder_keys_and_share_tokens_to_the_new_kek(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (a, a_value), (b, b_value) = kek("a"), kek("b")
    settings = make_settings(database_url, tmp_path)
    internet, clock = FakeInternet(), Clock()

    def app(keystore: Keystore) -> TestClient:
        built = create_app(settings, clock=clock, fetcher=fake_fetcher(internet), keystore=keystore)
        return TestClient(built, base_url=PUBLIC_URL)

    with app(Keystore([a])) as client:
        harness = WalletHarness(client, internet, clock, settings)
        account = harness.signup()
        stored = harness.store(account)
        share = client.post(
            "/api/shares",
            json={"credentialIds": [stored], "expiresIn": 3600},
            headers=account.headers,
        ).json()
    assert {w.split(".")[1] for w in wrapped(database_url)} == {"a"}

    monkeypatch.setenv("MICROCRED_KEK", f"b:{b_value},a:{a_value}")
    result = runner.invoke(microcred, ["wallet", "rewrap-keys", "--database-url", database_url])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["kek"] == "b"
    assert report["holder_keys"] == {"total": 1, "rewrapped": 1, "already_current": 0}
    assert report["share_tokens"] == {"total": 1, "rewrapped": 1, "already_current": 0}
    assert {w.split(".")[1] for w in wrapped(database_url)} == {"b"}
    token = share["url"].rsplit("/", 1)[1]
    assert token not in result.output

    # b alone: the learner still signs presentations and sees the share link again
    with app(Keystore([b])) as client:
        harness = WalletHarness(client, internet, clock, settings)
        login = client.post(
            "/api/session", json={"username": account.username, "password": "correct horse battery"}
        )
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        listed = client.get("/api/shares", headers=headers).json()
        assert listed[0]["url"] == share["url"]
        served = client.get(f"/s/{token}", headers={"Accept": "application/json"})
        assert served.status_code == 200 and served.json()["holder"] == account.did

    again = runner.invoke(microcred, ["wallet", "rewrap-keys", "--database-url", database_url])
    assert json.loads(again.stdout)["holder_keys"]["already_current"] == 1

    monkeypatch.setenv("MICROCRED_KEK", f"c:{kek('c')[1]}")
    refused = runner.invoke(microcred, ["wallet", "rewrap-keys", "--database-url", database_url])
    assert refused.exit_code == 2 and "'b', which is not configured" in refused.stderr
