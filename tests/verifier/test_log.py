"""The verification log keeps outcome, time, issuer and a hash of the credential id — no
credential and no personal data unless keep_full_log — and is purged after retention."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from credentials.keys import Multikey
from credentials.verify import create_presentation
from servicekit.db import make_engine
from tests.verifier.support import microcredential, tampered
from verifier.cli import app as cli
from verifier.models import PresentationRequest, VerificationLogEntry

ADMIN = {"authorization": "Bearer log-admin"}
CREDENTIAL_ID = "urn:uuid:2f1e8d0c-4b1a-4c7e-9a55-0d3c9f6a7b21"


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def rows(url: str) -> list[VerificationLogEntry]:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return list(
                session.exec(select(VerificationLogEntry).order_by(VerificationLogEntry.id))
            )
    finally:
        engine.dispose()


def settle(client: Any) -> None:
    """Log rows are written behind the answers (group commits): wait until they are in."""
    assert client.app.state.services.log.flush()


def dump(entry: VerificationLogEntry) -> str:
    return json.dumps(entry.model_dump(mode="json"))


def test_a_verification_is_logged_as_hashes_only(
    client: Any, migrated_url: str, issuer: Multikey, holder: Multikey
) -> None:
    credential = microcredential(issuer, holder, credential_id=CREDENTIAL_ID)
    client.post("/credentials/verify", json={"verifiableCredential": credential})
    settle(client)
    (entry,) = rows(migrated_url)
    assert entry.kind == "credential" and entry.verified is True
    assert entry.issuer == issuer.controller
    assert entry.credential_id_hash == hashlib.sha256(CREDENTIAL_ID.encode()).hexdigest()
    assert entry.failed_checks == "" and entry.document is None
    text = dump(entry)
    for personal in (holder.controller, CREDENTIAL_ID, "Data Wrangling", "8.5", "Rijnland"):
        assert personal not in text


def test_a_presentation_logs_one_row_per_credential_without_the_holder(
    client: Any, migrated_url: str, issuer: Multikey, holder: Multikey
) -> None:
    good = microcredential(issuer, holder, credential_id=CREDENTIAL_ID)
    bad = tampered(microcredential(issuer, holder), "credentialSubject.result.0.value", "10")
    vp = create_presentation([good, bad], holder, challenge="c")
    client.post(
        "/presentations/verify", json={"verifiablePresentation": vp, "options": {"challenge": "c"}}
    )
    settle(client)
    first, second = rows(migrated_url)
    assert (first.kind, first.verified, second.verified) == ("presentation", True, False)
    assert second.failed_checks == "proof:invalid_proof"
    assert holder.controller not in dump(first) + dump(second)


def test_unusable_input_is_logged_as_a_failure_without_content(
    client: Any, migrated_url: str
) -> None:
    client.post(
        "/credentials/verify", content=b"{broken", headers={"content-type": "application/json"}
    )
    settle(client)
    (entry,) = rows(migrated_url)
    assert entry.verified is False and entry.issuer is None and entry.credential_id_hash is None
    assert entry.failed_checks == "structure:invalid_json"


def test_keep_full_log_stores_the_document(
    make_client: Any, migrated_url: str, issuer: Multikey, holder: Multikey
) -> None:
    client = make_client(keep_full_log=True)
    credential = microcredential(issuer, holder)
    client.post("/credentials/verify", json={"verifiableCredential": credential})
    settle(client)
    (entry,) = rows(migrated_url)
    assert entry.document == credential


def test_the_log_is_readable_by_admins_only(
    make_client: Any, issuer: Multikey, holder: Multikey
) -> None:
    client = make_client(admin_token="log-admin")
    client.post(
        "/credentials/verify", json={"verifiableCredential": microcredential(issuer, holder)}
    )
    assert client.get("/admin/verification-log").status_code == 401
    body = client.get("/admin/verification-log", headers=ADMIN).json()
    assert body["keep_full_log"] is False and body["retention_days"] == 90
    (entry,) = body["entries"]
    assert entry["verified"] is True and entry["document"] is None
    assert len(entry["credential_id_hash"]) == 64


def test_retention_purges_old_rows_and_old_results(
    make_client: Any, migrated_url: str, issuer: Multikey, holder: Multikey
) -> None:
    clock = Clock()
    client = make_client(
        clock=clock, admin_token="log-admin", log_retention_days=30, result_retention_hours=24
    )
    credential = microcredential(issuer, holder)
    client.post("/credentials/verify", json={"verifiableCredential": credential})
    client.post("/requests", json={"purpose": "old request"})
    clock.now += timedelta(days=31)
    client.post("/credentials/verify", json={"verifiableCredential": credential})
    client.post("/challenges")
    response = client.post("/admin/verification-log/purge", headers=ADMIN)
    assert response.json()["purged"] == {"log_entries": 1, "requests": 1, "challenges": 0}
    settle(client)
    assert len(rows(migrated_url)) == 1


def test_purge_runs_at_start_up(
    make_client: Any, migrated_url: str, issuer: Multikey, holder: Multikey
) -> None:
    clock = Clock()
    clock.now -= timedelta(days=100)
    old = make_client(clock=clock)
    old.post("/credentials/verify", json={"verifiableCredential": microcredential(issuer, holder)})
    settle(old)
    assert len(rows(migrated_url)) == 1
    make_client()  # starting another instance applies the retention period
    assert rows(migrated_url) == []


def test_cli_purge_log(
    make_client: Any, migrated_url: str, issuer: Multikey, holder: Multikey
) -> None:
    clock = Clock()
    clock.now -= timedelta(days=10)
    client = make_client(clock=clock)
    client.post(
        "/credentials/verify", json={"verifiableCredential": microcredential(issuer, holder)}
    )
    settle(client)
    runner = CliRunner()
    kept = runner.invoke(cli, ["purge-log", "--database-url", migrated_url])
    assert kept.exit_code == 0, kept.output
    assert "purged 0 log entries" in kept.output
    purged = runner.invoke(cli, ["purge-log", "--database-url", migrated_url, "--days", "7"])
    assert purged.exit_code == 0 and "purged 1 log entries (older than 7 days)" in purged.output
    assert rows(migrated_url) == []


def test_cli_purge_log_refuses_an_unmigrated_database(database_url: str) -> None:
    result = CliRunner().invoke(cli, ["purge-log", "--database-url", database_url])
    assert result.exit_code == 2


@pytest.mark.parametrize("days", ["-1"])
def test_cli_purge_log_refuses_negative_days(migrated_url: str, days: str) -> None:
    result = CliRunner().invoke(cli, ["purge-log", "--database-url", migrated_url, "--days", days])
    assert result.exit_code == 2


def test_request_results_are_stored_for_the_employer_only_until_retention(
    make_client: Any, migrated_url: str
) -> None:
    clock = Clock()
    client = make_client(clock=clock, admin_token="log-admin", result_retention_hours=1)
    created = client.post("/requests", json={"purpose": "x", "expires_in": 60}).json()
    clock.now += timedelta(hours=2)
    client.post("/admin/verification-log/purge", headers=ADMIN)
    engine = make_engine(migrated_url)
    with Session(engine) as session:
        assert session.get(PresentationRequest, created["id"]) is None
    engine.dispose()
    assert client.get(f"/requests/{created['id']}/result").status_code == 404


def test_a_result_past_retention_is_not_shown_even_before_the_purge(make_client: Any) -> None:
    """Issue 14 item 9: results stayed readable past retention until a purge ran."""
    clock = Clock()
    client = make_client(clock=clock)
    created = client.post("/requests", json={"purpose": "x", "expires_in": 60}).json()
    auth = {"authorization": f"Bearer {created['result_token']}"}
    assert client.get(f"/requests/{created['id']}/result", headers=auth).status_code == 200
    clock.now += timedelta(seconds=60 + 3600)  # the default retention (1 h) after it ended
    late = client.get(f"/requests/{created['id']}/result", headers=auth)
    assert late.status_code == 410 and late.json()["code"] == "result_expired"


def test_a_credential_from_a_failed_presentation_is_not_logged_as_verified(
    client: Any, migrated_url: str, issuer: Multikey, holder: Multikey
) -> None:
    """Issue 14 item 10: a failed share check (a presentation lifted to another URL) was
    logged ``verified: true`` because the credential inside was fine on its own."""
    good = microcredential(issuer, holder, credential_id=CREDENTIAL_ID)
    vp = create_presentation([good], holder, challenge="c", domain="https://wallet.example/s/a")
    options = {"challenge": "c", "domain": "https://wallet.example/s/b"}
    answer = client.post(
        "/presentations/verify", json={"verifiablePresentation": vp, "options": options}
    )
    assert answer.json()["verified"] is False
    settle(client)
    (entry,) = rows(migrated_url)
    assert entry.verified is False
    assert "domain_mismatch" in entry.failed_checks
