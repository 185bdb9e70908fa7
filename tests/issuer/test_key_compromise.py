"""Key compromise end to end: what the key signed is listed, re-issued and revoked.

Against the real app and database; verification is the core ``Verifier`` resolving the
issuer's did:web over HTTP from a live server on the test's port.
"""

from __future__ import annotations

import base64
import json
import threading
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import select
from typer.testing import CliRunner

import microcred.commands  # registers ``microcred issuer``
from credentials.keystore import Keystore
from issuer.models import IssuedCredential
from issuer.services import reissue, status_lists
from microcred.cli import app as microcred
from tests.issuer.oid4vci_wallet import CONFIGURATION, Wallet, code_of, create_offer
from tests.issuer.support import Clock, Institution, problem, snapshot, unsigned_badge, verifier
from tests.support.servers import live_server

LEARNER_FIELDS = {"learner_ref", "holder", "learner", "document", "verifiableCredential"}


def issue_module(client: TestClient, inst: Institution, student: str) -> dict[str, Any]:
    body = {
        "module_id": "data-wrangling",
        "learner": {"email": f"{student}@example.nl", "student_number": student},
        "result": {"grade": "8", "awarded_date": "2026-06-30"},
    }
    response = client.post(inst.path("/issuances"), json=body, headers=inst.headers)
    assert response.status_code == 201, response.text
    return response.json()["verifiableCredential"]


def issue_vc_api(client: TestClient, inst: Institution) -> dict[str, Any]:
    response = client.post(
        inst.path("/credentials/issue"),
        json={"credential": unsigned_badge(inst.did)},
        headers=inst.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()["verifiableCredential"]


def stored(client: TestClient, inst: Institution, credential_id: str) -> dict[str, Any]:
    response = client.get(inst.path(f"/credentials/{credential_id}"), headers=inst.headers)
    assert response.status_code == 200, response.text
    return response.json()


def listing(client: TestClient, inst: Institution, generation: int, **query: Any) -> Any:
    return client.get(
        inst.path(f"/keys/{generation}/credentials"), params=query, headers=inst.headers
    )


def failed_checks(credential: dict[str, Any]) -> dict[str, str]:
    report = verifier().verify_credential(credential)
    return {c.id: c.code for c in report.checks if c.outcome == "failed"}


def without_signature(credential: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v
        for k, v in credential.items()
        if k not in ("id", "proof", "credentialStatus", "validFrom")
    }


def test_compromised_credentials_are_listed_reissued_and_revoked_end_to_end(
    client: TestClient, app: Any, inst: Institution, module: Any, clock: Clock, port: int
) -> None:
    originals = [issue_module(client, inst, "500123"), issue_module(client, inst, "500124")]
    originals.append(issue_vc_api(client, inst))
    with live_server(app, port):
        for credential in originals:
            assert verifier().verify_credential(credential).verified

        clock.advance(60)  # within the verifier's clock skew: the test clock is not moved back
        rotated = client.post(
            inst.path("/keys/rotate"), json={"compromised": True}, headers=inst.headers
        )
        assert rotated.status_code == 201, rotated.text
        # the key left assertionMethod: what it signed no longer verifies
        for credential in originals:
            assert failed_checks(credential) == {"verification_method": "vm_not_authorised"}

        # (a) the list: minimised, paginated
        first = listing(client, inst, 1, limit=2)
        assert first.status_code == 200, first.text
        page = first.json()
        assert page["key_state"] == "compromised" and len(page["credentials"]) == 2
        second = listing(client, inst, 1, limit=2, before=page["next"]).json()
        assert second["next"] is None
        items = page["credentials"] + second["credentials"]
        assert {i["credential_id"] for i in items} == {c["id"] for c in originals}
        for item in items:
            assert set(item) == {
                "credential_id",
                "module",
                "issued_at",
                "status",
                "replaced_by",
                "replacement_offer",
            }
            assert item["status"] == "active" and item["replaced_by"] is None
        modules = [i["module"] for i in items]
        assert modules.count("data-wrangling") == 2  # the VC-API one: its achievement id
        assert "https://hsrijnland.example/microcredentials/data-wrangling" in modules
        assert not LEARNER_FIELDS & set(json.dumps(items))

        # (b) re-issue
        answer = client.post(inst.path("/keys/1/reissue"), headers=inst.headers)
        assert answer.status_code == 200, answer.text
        report = answer.json()
        assert report["counts"]["reissued"] == 3 and report["counts"]["failed"] == 0
        replaced = {r["credential_id"]: r["replaced_by"] for r in report["replacements"]}
        assert set(replaced) == {c["id"] for c in originals}
        for original in originals:
            new = stored(client, inst, replaced[original["id"]])
            document = new["verifiableCredential"]
            assert new["source"] == "reissue" and new["status"] == "active"
            assert document["id"] not in {c["id"] for c in originals}
            assert document["proof"]["verificationMethod"] == f"{inst.did}#key-2"
            assert document["credentialStatus"] != original["credentialStatus"]
            # same content: achievement, subject (salted hashes too), result, awardedDate
            assert without_signature(document) == without_signature(original)
            assert document["validFrom"] > original["validFrom"]
            assert failed_checks(document) == {}
            # the original is revoked in its status list, so verifiers see "revoked"
            assert stored(client, inst, original["id"])["status"] == "revoked"
            assert failed_checks(original).get("status") == "revoked"

    listed = {i["credential_id"]: i for i in listing(client, inst, 1).json()["credentials"]}
    assert {k: v["replaced_by"] for k, v in listed.items()} == replaced
    assert {v["status"] for v in listed.values()} == {"revoked"}
    # the audit log tells the story: new credentials, and revocations naming them
    revokes = client.get(inst.path("/audit?action=credential.revoke"), headers=inst.headers).json()[
        "events"
    ]
    assert {e["credential_id"] for e in revokes} == set(replaced)
    assert all("key-1 compromised" in e["reason"] for e in revokes)
    issues = client.get(inst.path("/audit?action=credential.issue"), headers=inst.headers).json()
    assert sum(e["details"]["source"] == "reissue" for e in issues["events"]) == 3

    # re-running issues nothing new and changes nothing
    before = snapshot(app)
    again = client.post(inst.path("/keys/1/reissue"), headers=inst.headers).json()
    assert again["counts"]["reissued"] == 0 and again["counts"]["already_replaced"] == 3
    assert again["replacements"] == []
    assert snapshot(app) == before


def test_reissue_is_refused_for_keys_that_are_not_compromised(
    client: TestClient, app: Any, inst: Institution, module: Any
) -> None:
    issue_module(client, inst, "500123")
    before = snapshot(app)
    problem(
        client.post(inst.path("/keys/1/reissue"), headers=inst.headers), 409, "key_not_compromised"
    )
    client.post(inst.path("/keys/rotate"), json={}, headers=inst.headers)  # routine: retired
    before = snapshot(app)
    body = problem(
        client.post(inst.path("/keys/1/reissue"), headers=inst.headers), 409, "key_not_compromised"
    )
    assert "retired" in body["detail"]
    problem(client.post(inst.path("/keys/9/reissue"), headers=inst.headers), 404, "unknown_key")
    problem(listing(client, inst, 9), 404, "unknown_key")
    assert snapshot(app) == before


def test_registrar_revoked_and_suspended_credentials_are_not_reissued(
    client: TestClient, app: Any, inst: Institution, module: Any
) -> None:
    revoked = issue_module(client, inst, "500123")
    suspended = issue_module(client, inst, "500124")
    client.post(inst.path(f"/credentials/{revoked['id']}/revoke"), json={}, headers=inst.headers)
    client.post(inst.path(f"/credentials/{suspended['id']}/suspend"), json={}, headers=inst.headers)
    client.post(inst.path("/keys/rotate"), json={"compromised": True}, headers=inst.headers)
    counts = client.post(inst.path("/keys/1/reissue"), headers=inst.headers).json()["counts"]
    assert counts["skipped_revoked"] == 1 and counts["skipped_suspended"] == 1
    assert counts["reissued"] == 0
    # once unsuspended, the next run replaces it
    client.post(
        inst.path(f"/credentials/{suspended['id']}/unsuspend"), json={}, headers=inst.headers
    )
    counts = client.post(inst.path("/keys/1/reissue"), headers=inst.headers).json()["counts"]
    assert counts["reissued"] == 1 and counts["skipped_revoked"] == 1


def test_an_interrupted_reissue_is_finished_by_the_next_run(
    client: TestClient, app: Any, inst: Institution, module: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = app.state.issuer
    first = issue_module(client, inst, "500123")
    second = issue_module(client, inst, "500124")
    client.post(inst.path("/keys/rotate"), json={"compromised": True}, headers=inst.headers)
    from issuer.services import institutions

    with ctx.db.session() as session:
        institution = institutions.by_slug(session, inst.slug)

    # crash 1: after the replacement is stored, before the original is revoked
    real_change = status_lists.change

    def crash(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("power cut")

    monkeypatch.setattr(status_lists, "change", crash)
    with pytest.raises(RuntimeError):
        reissue.reissue(ctx, institution, 1, actor="test")
    monkeypatch.setattr(status_lists, "change", real_change)
    with ctx.db.session() as session:
        rows = {r.credential_id: r for r in session.exec(select(IssuedCredential)).all()}
    assert rows[first["id"]].replaced_by and rows[first["id"]].revoked_at is None
    assert rows[second["id"]].replaced_by is None

    # crash 2: inside the transaction that stores a replacement — nothing of it remains
    real_store = reissue.issuance.store

    def store_then_crash(*args: Any, **kwargs: Any) -> Any:
        real_store(*args, **kwargs)
        raise RuntimeError("power cut")

    monkeypatch.setattr(reissue.issuance, "store", store_then_crash)
    before = snapshot(app)
    with pytest.raises(RuntimeError):
        reissue.reissue(ctx, institution, 1, actor="test")
    after = snapshot(app)
    # this run finished the first credential (revoked it, one audit event), and of the
    # second nothing remains: no credential, no claimed status slot
    for table in ("issued_credentials", "status_slots"):
        assert after[table] == before[table], table
    assert after["audit_events"] == before["audit_events"] + 1
    monkeypatch.setattr(reissue.issuance, "store", real_store)

    report = reissue.reissue(ctx, institution, 1, actor="test").to_dict()
    assert report["counts"]["already_replaced"] == 1 and report["counts"]["reissued"] == 1
    with ctx.db.session() as session:
        rows = session.exec(select(IssuedCredential)).all()
    assert len(rows) == 4  # two originals, one replacement each
    originals = [r for r in rows if r.key_generation == 1]
    assert all(r.replaced_by and r.revoked_at for r in originals)
    assert reissue.reissue(ctx, institution, 1, actor="test").counts["already_replaced"] == 2


def test_two_reissue_runs_at_once_replace_each_credential_once(
    client: TestClient, app: Any, inst: Institution, module: Any
) -> None:
    ctx = app.state.issuer
    for n in range(6):
        issue_module(client, inst, f"5001{n:02d}")
    client.post(inst.path("/keys/rotate"), json={"compromised": True}, headers=inst.headers)
    from issuer.services import institutions

    with ctx.db.session() as session:
        institution = institutions.by_slug(session, inst.slug)
    reports: list[Any] = []

    def run() -> None:
        reports.append(reissue.reissue(ctx, institution, 1, actor="test"))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # SQLite may answer one run "busy" for a credential; a further run finishes those
    reports.append(reissue.reissue(ctx, institution, 1, actor="test"))
    assert sum(r.counts["reissued"] for r in reports) == 6
    with ctx.db.session() as session:
        rows = session.exec(select(IssuedCredential)).all()
    assert len(rows) == 12
    originals = [r for r in rows if r.key_generation == 1]
    assert len({r.replaced_by for r in originals}) == 6 and all(r.revoked_at for r in originals)


def test_a_wallet_collected_credential_is_offered_again_to_the_same_wallet(
    client: TestClient, app: Any, inst: Institution, module: Any, clock: Clock, port: int
) -> None:
    issuer = f"http://127.0.0.1:{port}/institutions/{inst.slug}"
    with live_server(app, port), httpx.Client() as http:
        wallet = Wallet(http, clock)

        def collect(offer_uri: str, pin: str | None) -> dict[str, Any]:
            offer = wallet.offer(offer_uri)
            token = wallet.token(f"{issuer}/token", code_of(offer), pin)
            assert token.status_code == 200, token.text
            nonce = wallet.nonce(f"{issuer}/nonce")
            answer = wallet.credential(
                f"{issuer}/credential",
                token.json()["access_token"],
                {
                    "credential_configuration_id": CONFIGURATION,
                    "proofs": {"jwt": [wallet.proof(issuer, nonce)]},
                },
            )
            assert answer.status_code == 200, answer.text
            return answer.json()["credentials"][0]["credential"]

        created = create_offer(client, inst, pin=True)
        original = collect(created["offer_uri"], created["pin"])
        assert verifier().verify_credential(original).verified

        clock.advance(60)  # within the verifier's clock skew: the test clock is not moved back
        client.post(inst.path("/keys/rotate"), json={"compromised": True}, headers=inst.headers)
        report = client.post(inst.path("/keys/1/reissue"), headers=inst.headers).json()
        assert report["counts"]["offered"] == 1, report
        [replacement] = report["replacements"]
        assert replacement["delivery"] == "offer" and replacement["replaced_by"] is None
        offer = replacement["offer"]
        assert offer["pin"] and offer["offer_uri"].startswith("openid-credential-offer://")
        # the original is revoked at once; the replacement waits for the wallet
        assert stored(client, inst, original["id"])["status"] == "revoked"
        again = client.post(inst.path("/keys/1/reissue"), headers=inst.headers).json()
        assert again["counts"]["awaiting_wallet"] == 1 and again["replacements"] == []

        # (the offer is pinned to the holder's DID: tests/issuer/test_oid4vci.py
        # ::test_an_offer_for_a_did_needs_that_did shows another wallet is refused)
        new = collect(offer["offer_uri"], offer["pin"])
        assert new["id"] != original["id"]
        assert new["proof"]["verificationMethod"] == f"{inst.did}#key-2"
        assert new["credentialSubject"]["id"] == wallet.did
        assert new["awardedDate"] == original["awardedDate"]
        assert new["credentialSubject"]["result"] == original["credentialSubject"]["result"]
        assert verifier().verify_credential(new).verified
        assert failed_checks(original).get("status") == "revoked"

    done = client.post(inst.path("/keys/1/reissue"), headers=inst.headers).json()
    assert done["counts"]["already_replaced"] == 1
    [item] = listing(client, inst, 1).json()["credentials"]
    assert item["replaced_by"] == new["id"] and item["replacement_offer"] == offer["id"]


def test_an_expired_replacement_offer_is_offered_again(
    client: TestClient, app: Any, inst: Institution, module: Any, clock: Clock
) -> None:
    # the original collected in-process (TestClient) by a test wallet
    created = create_offer(client, inst)
    wallet = Wallet(client, clock)
    token = wallet.token(inst.path("/token"), code_of(created["credential_offer"]))
    nonce = client.post(inst.path("/nonce")).json()["c_nonce"]
    issuer = f"{app.state.issuer.settings.public_url}/institutions/{inst.slug}"
    answer = wallet.credential(
        inst.path("/credential"),
        token.json()["access_token"],
        {
            "credential_configuration_id": CONFIGURATION,
            "proofs": {"jwt": [wallet.proof(issuer, nonce)]},
        },
    )
    assert answer.status_code == 200, answer.text
    client.post(inst.path("/keys/rotate"), json={"compromised": True}, headers=inst.headers)
    first = client.post(inst.path("/keys/1/reissue"), headers=inst.headers).json()
    assert first["counts"]["offered"] == 1
    clock.advance(app.state.issuer.settings.max_offer_ttl + 60)
    second = client.post(inst.path("/keys/1/reissue"), headers=inst.headers).json()
    assert second["counts"]["offered"] == 1
    assert second["replacements"][0]["offer"]["id"] != first["replacements"][0]["offer"]["id"]


def test_the_cli_lists_and_reissues(
    client: TestClient,
    app: Any,
    inst: Institution,
    module: Any,
    keystore: Keystore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = issue_module(client, inst, "500123")
    kek = keystore.current
    value = base64.urlsafe_b64encode(kek.key).rstrip(b"=").decode()
    monkeypatch.setenv("MICROCRED_KEK", f"{kek.id}:{value}")
    settings = app.state.issuer.settings
    options = ["--database-url", settings.database_url, "--public-url", settings.public_url]
    runner = CliRunner()
    refused = runner.invoke(microcred, ["issuer", "reissue", "1", "--institution", "hsr", *options])
    assert refused.exit_code == 2 and "compromised" in refused.stderr
    client.post(inst.path("/keys/rotate"), json={"compromised": True}, headers=inst.headers)

    listed = runner.invoke(
        microcred, ["issuer", "key-credentials", "1", "--institution", "hsr", *options]
    )
    assert listed.exit_code == 0, listed.output
    [line] = listed.stdout.splitlines()
    assert json.loads(line)["credential_id"] == original["id"]

    done = runner.invoke(microcred, ["issuer", "reissue", "1", "--institution", "hsr", *options])
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert report["counts"]["reissued"] == 1
    new_id = report["replacements"][0]["replaced_by"]
    assert stored(client, inst, new_id)["verifiableCredential"]["proof"]["verificationMethod"] == (
        f"{inst.did}#key-2"
    )
    again = runner.invoke(microcred, ["issuer", "reissue", "1", "--institution", "hsr", *options])
    assert json.loads(again.stdout)["counts"]["already_replaced"] == 1
    unknown = runner.invoke(
        microcred, ["issuer", "key-credentials", "7", "--institution", "hsr", *options]
    )
    assert unknown.exit_code == 2 and "key-7" in unknown.stderr
