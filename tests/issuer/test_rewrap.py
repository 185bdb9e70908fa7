"""KEK rotation without downtime: ``microcred issuer rewrap-keys`` on the real database.

Start with KEK A; deploy A and B (``MICROCRED_KEK=b,a``); re-wrap while an instance keeps
issuing; afterwards B alone unwraps every key and the service signs.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select
from typer.testing import CliRunner

import microcred.commands  # registers ``microcred issuer``
from credentials.keystore import Kek, Keystore
from issuer.config import Settings
from issuer.main import create_app
from issuer.models import SigningKey
from microcred.cli import app as microcred
from tests.issuer.support import Clock, make_institution, unsigned_badge
from tests.security.test_service_abuse import _encodings

runner = CliRunner()


def kek(name: str) -> tuple[Kek, str]:
    secret = secrets.token_bytes(32)
    return Kek.from_secret(secret, name), base64.urlsafe_b64encode(secret).rstrip(b"=").decode()


def wrapped_keys(app: Any) -> dict[int, str]:
    with app.state.issuer.db.session() as session:
        return {r.id: r.wrapped_secret for r in session.exec(select(SigningKey)).all()}


def issue(client: TestClient, slug: str, did: str, token: str) -> int:
    return client.post(
        f"/institutions/{slug}/credentials/issue",
        json={"credential": unsigned_badge(did)},
        headers={"Authorization": f"Bearer {token}"},
    ).status_code


def test_rewrap_moves_every_key_to_the_new_kek_while_the_service_keeps_signing(
    settings: Settings, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    (a, a_value), (b, b_value) = kek("a"), kek("b")
    old_app = create_app(settings, keystore=Keystore([a]), clock=clock)
    inst = make_institution(old_app)
    make_institution(old_app, "unidelta", name="Universiteit Delta")
    with TestClient(old_app) as client:
        assert issue(client, inst.slug, inst.did, inst.token) == 201
        client.post(inst.path("/keys/rotate"), json={}, headers=inst.headers)
    before = wrapped_keys(old_app)
    assert len(before) == 3 and all(w.startswith("v1.a.") for w in before.values())
    secrets_before = [Keystore([a]).unwrap(row.wrapped_secret, _aad(row)) for row in _rows(old_app)]

    # every instance now holds b (current) and a; one keeps issuing during the re-wrap
    both = create_app(settings, keystore=Keystore([b, a]), clock=clock)
    monkeypatch.setenv("MICROCRED_KEK", f"b:{b_value},a:{a_value}")
    options = ["--database-url", settings.database_url, "--public-url", settings.public_url]
    statuses: list[int] = []
    stop = threading.Event()
    with TestClient(both) as client:

        def keep_issuing() -> None:
            while not stop.is_set() or len(statuses) < 3:
                statuses.append(issue(client, inst.slug, inst.did, inst.token))

        worker = threading.Thread(target=keep_issuing)
        worker.start()
        try:
            result = runner.invoke(microcred, ["issuer", "rewrap-keys", *options])
        finally:
            stop.set()
            worker.join(timeout=60)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    # how many learner refs (H-9d) it converts depends on what the issuing thread stored
    assert isinstance(report.pop("learner_refs_protected"), int)
    assert report == {
        "kek": "b",
        "total": 3,
        "rewrapped": 3,
        "already_current": 0,
        "offers_resealed": 0,
    }
    assert statuses and set(statuses) == {201}, statuses
    # counts only: no key material in what the command printed
    for secret in secrets_before:
        for form in _encodings(secret):
            assert form not in result.output

    after = wrapped_keys(old_app)
    assert all(w.startswith("v1.b.") for w in after.values())
    # b alone now unwraps every key (the same secrets), and the service signs with it
    only_b = Keystore([b])
    assert [only_b.unwrap(row.wrapped_secret, _aad(row)) for row in _rows(old_app)] == (
        secrets_before
    )
    new_app = create_app(settings, keystore=only_b, clock=clock)
    with TestClient(new_app) as client:
        assert issue(client, inst.slug, inst.did, inst.token) == 201
        assert client.get(inst.path("/did.json")).status_code == 200

    # a second run changes nothing
    again = runner.invoke(microcred, ["issuer", "rewrap-keys", *options])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["already_current"] == 3
    assert wrapped_keys(old_app) == after


def _aad(row: SigningKey) -> str:
    return f"microcred/issuer/signing-key/{row.institution_id}/{row.generation}"


def _rows(app: Any) -> list[SigningKey]:
    with app.state.issuer.db.session() as session:
        return list(session.exec(select(SigningKey).order_by(SigningKey.id)).all())


def test_rewrap_with_an_unknown_kek_exits_2_and_changes_nothing(
    settings: Settings, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    (a, _), (_, c_value) = kek("a"), kek("c")
    app = create_app(settings, keystore=Keystore([a]), clock=clock)
    make_institution(app)
    before = wrapped_keys(app)
    monkeypatch.setenv("MICROCRED_KEK", f"c:{c_value}")
    options = ["--database-url", settings.database_url, "--public-url", settings.public_url]
    result = runner.invoke(microcred, ["issuer", "rewrap-keys", *options])
    assert result.exit_code == 2
    assert "'a', which is not configured" in result.stderr and "hsr" in result.stderr
    assert result.stdout == ""
    assert wrapped_keys(app) == before
