"""``microcred issuer recheck-awards`` (issue 17, Build 5): a module revoked after the award
is reported by the operator's command too, with exit 1 for a cron job to notice."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from credentials.keystore import Keystore, new_kek_value
from issuer.config import Settings
from issuer.main import create_app
from tests.issuer.support import Clock, Institution, issuer_settings, make_institution
from tests.issuer.test_cli import run
from tests.issuer.test_recognition import _answer, _ask, _case_id, _world
from tests.support.servers import live_server


@pytest.fixture
def kek_app(
    monkeypatch: pytest.MonkeyPatch, migrated: str, port: int, tmp_path: Path, clock: Clock
) -> Iterator[tuple[Any, TestClient]]:
    """An app whose KEK the command finds in the environment (the same as the service's)."""
    monkeypatch.setenv("MICROCRED_KEK", new_kek_value())
    settings: Settings = issuer_settings(migrated, port, tmp_path)
    app = create_app(settings, keystore=Keystore.from_environment(), clock=clock)
    with TestClient(app) as client, live_server(app, port):
        yield app, client


def test_recheck_awards_reports_a_revoked_module(
    kek_app: tuple[Any, TestClient], migrated: str, port: int
) -> None:
    app, client = kek_app
    inst: Institution = make_institution(app)
    other: Institution = make_institution(app, "unidelta", name="Universiteit Delta")
    env = ["--database-url", migrated, "--public-url", f"http://127.0.0.1:{port}", "--dev"]
    clean = run("issuer", "recheck-awards", *env)
    assert clean.exit_code == 0, clean.output
    assert json.loads(clean.stdout) == {"notices": []}

    world = _world(client, inst, other)
    request = _ask(world)
    assert _answer(world, request).status_code == 200
    case_id = _case_id(world)
    approve = {"decision": "approve"}
    path = inst.path(f"/recognition/board/{case_id}/decision")
    assert client.post(path, json=approve, headers=inst.headers).status_code == 200
    revoked = client.post(
        inst.path("/credentials/status"),
        json={
            "credentialId": world.modules[1]["id"],
            "credentialStatus": {"type": "BitstringStatusListEntry", "status": "revoked"},
        },
        headers=inst.headers,
    )
    assert revoked.is_success, revoked.text
    result = run("issuer", "recheck-awards", "--institution", "hsr", *env)
    assert result.exit_code == 1, result.output
    notices = json.loads(result.stdout)["notices"]
    assert [n["case"] for n in notices] == [case_id]
    assert notices[0]["revoked"][0]["title"] == "SQL basis"
    unknown = run("issuer", "recheck-awards", "--institution", "nope", *env)
    assert unknown.exit_code == 2
