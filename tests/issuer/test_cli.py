"""``microcred issuer …`` through the real ``microcred`` command (typer's CliRunner)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import microcred.commands
from credentials.keystore import Keystore, new_kek_value
from issuer.config import Settings
from issuer.main import create_app
from microcred.cli import app as microcred
from tests.issuer.support import module_spec

runner = CliRunner()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, migrated: str, tmp_path: Path, port: int) -> list[str]:
    monkeypatch.setenv("MICROCRED_KEK", new_kek_value())
    monkeypatch.delenv("MICROCRED_DEV", raising=False)
    monkeypatch.setenv("MICROCRED_DATA_DIR", str(tmp_path))
    return ["--database-url", migrated, "--public-url", f"http://127.0.0.1:{port}"]


def run(*args: str) -> Any:
    return runner.invoke(microcred, list(args))


def test_add_institution_prints_the_did_and_a_working_token(
    env: list[str], migrated: str, port: int
) -> None:
    result = run(
        "issuer",
        "add-institution",
        "--slug",
        "hsr",
        "--name",
        "Hogeschool Rijnland",
        "--brin",
        "99HR",
        *env,
    )
    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)
    assert created["did"] == f"did:web:127.0.0.1%3A{port}:institutions:hsr"
    app = create_app(
        Settings(database_url=migrated, public_url=f"http://127.0.0.1:{port}"),
        keystore=Keystore.from_environment(),
    )
    with TestClient(app) as client:
        headers = {"Authorization": f"Bearer {created['token']}"}
        assert (
            client.post(
                "/institutions/hsr/modules", json=module_spec(), headers=headers
            ).status_code
            == 201
        )
        document = client.get("/institutions/hsr/did.json").json()
        assert document["id"] == created["did"]
        facts = client.get("/institutions/hsr").json()
        assert facts["identifiers"] == {"BRIN": "99HR"}
        events = client.get("/institutions/hsr/audit", headers=headers).json()["events"]
        assert events[-1]["actor"].startswith("cli")

    again = run("issuer", "add-institution", "--slug", "hsr", "--name", "Other", *env)
    assert again.exit_code == 2 and "already exists" in again.stderr
    bad = run("issuer", "add-institution", "--slug", "x", "--name", "X", "--key-type", "rsa", *env)
    assert bad.exit_code == 2 and "key_type" in bad.stderr


def test_tokens_keys_and_batches(env: list[str], tmp_path: Path) -> None:
    created = json.loads(
        run("issuer", "add-institution", "--slug", "hsr", "--name", "HS Rijnland", *env).stdout
    )
    made = run(
        "issuer",
        "tokens",
        "create",
        "--institution",
        "hsr",
        "--name",
        "SIS",
        "--scope",
        "issue",
        "--scope",
        "revoke",
        *env,
    )
    assert made.exit_code == 0, made.output
    token = json.loads(made.stdout)
    assert token["scopes"] == ["issue", "revoke"] and token["token"].startswith("mci_")
    listed = json.loads(run("issuer", "tokens", "list", "--institution", "hsr", *env).stdout)
    assert [t["name"] for t in listed] == ["initial", "SIS"]
    assert token["token"] not in json.dumps(listed) and created["token"] not in json.dumps(listed)
    revoked = run("issuer", "tokens", "revoke", token["id"], "--institution", "hsr", *env)
    assert json.loads(revoked.stdout)["revoked_at"]

    rotated = run("issuer", "rotate-key", "--institution", "hsr", *env)
    assert [k["state"] for k in json.loads(rotated.stdout)] == ["retired", "current"]
    assert run("issuer", "rotate-key", "--institution", "nobody", *env).exit_code == 2

    # a module for the batch, through the API code the CLI shares
    from issuer.schemas import ModuleIn, validate
    from issuer.services import modules
    from issuer.services.context import IssuerContext

    ctx = IssuerContext(
        Settings(database_url=env[1], public_url=env[3]), keystore=Keystore.from_environment()
    )
    with ctx.db.session() as session:
        from issuer.services.institutions import by_slug

        institution = by_slug(session, "hsr")
    modules.create(ctx, institution, validate(ModuleIn, module_spec()), actor="test")
    ctx.close()

    cohort = tmp_path / "cohort.csv"
    cohort.write_text("student_number,email,grade\n1,a@example.nl,8\n2,b@example.nl,9\n")
    issued = run(
        "issuer",
        "issue-batch",
        "--institution",
        "hsr",
        "--module",
        "data-wrangling",
        str(cohort),
        "--workers",
        "0",
        *env,
    )
    assert issued.exit_code == 0, issued.output
    summary = json.loads(issued.stdout)
    assert summary["counts"]["issued"] == 2 and summary["problems"] == []
    report = tmp_path / "report.json"
    again = run(
        "issuer",
        "issue-batch",
        "--institution",
        "hsr",
        "--module",
        "data-wrangling",
        str(cohort),
        "--report",
        str(report),
        "--workers",
        "0",
        *env,
    )
    assert json.loads(again.stdout)["counts"]["already_issued"] == 2
    assert [r["status"] for r in json.loads(report.read_text())["rows"]] == ["already_issued"] * 2

    broken = tmp_path / "broken.csv"
    broken.write_text("student_number,email,grade\n3,c@example.nl,8\n4,not-an-email,9\n")
    partial = run(
        "issuer",
        "issue-batch",
        "--institution",
        "hsr",
        "--module",
        "data-wrangling",
        str(broken),
        "--workers",
        "0",
        *env,
    )
    assert partial.exit_code == 1
    assert json.loads(partial.stdout)["problems"][0]["row"] == 3
    missing = run(
        "issuer", "issue-batch", "--institution", "hsr", "--module", "nope", str(broken), *env
    )
    assert missing.exit_code == 2 and "no module" in missing.stderr
    nofile = run(
        "issuer",
        "issue-batch",
        "--institution",
        "hsr",
        "--module",
        "x",
        str(tmp_path / "none.csv"),
        *env,
    )
    assert nofile.exit_code == 2


def test_the_cli_refuses_an_unmigrated_database(env: list[str], tmp_path: Path) -> None:
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    result = run("issuer", "add-institution", "--slug", "x", "--name", "X", "--database-url", empty)
    assert result.exit_code == 2
    assert "microcred migrate issuer" in result.stderr


def test_the_cli_refuses_to_work_without_a_kek(
    env: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MICROCRED_KEK")
    monkeypatch.delenv("MICROCRED_KEK_FILE", raising=False)
    result = run("issuer", "add-institution", "--slug", "x", "--name", "X", *env)
    assert result.exit_code == 2 and "MICROCRED_KEK" in result.stderr
    # dev mode generates a KEK file in the data directory instead
    dev = run("issuer", "add-institution", "--slug", "x", "--name", "X", "--dev", *env)
    assert dev.exit_code == 0, dev.output


def test_sweep_offers_reports_what_it_put_back(env: list[str]) -> None:
    """Issue 14.1: offers a crash left in ``issuing`` can be swept on demand."""
    result = run("issuer", "sweep-offers", "--older-than", "60", *env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"swept": []}
    refused = run("issuer", "sweep-offers", "--older-than", "-1", *env)
    assert refused.exit_code == 2
