"""The audit log: who (which token) did what to which credential, when, and why."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.issuer.support import Clock, Institution, problem, unsigned_badge


def test_issuance_and_status_changes_are_logged_with_token_time_and_reason(
    client: TestClient, inst: Institution, clock: Clock
) -> None:
    made = client.post(
        inst.path("/tokens"),
        json={"name": "SIS", "scopes": ["issue", "revoke"]},
        headers=inst.headers,
    ).json()
    sis = {"Authorization": f"Bearer {made['token']}"}
    credential = client.post(
        inst.path("/credentials/issue"), json={"credential": unsigned_badge(inst.did)}, headers=sis
    ).json()["verifiableCredential"]
    clock.advance(3600)
    change = {
        "credentialId": credential["id"],
        "credentialStatus": [{"type": "BitstringStatusListEntry", "status": "revoked"}],
        "reason": "issued to the wrong student",
    }
    assert (
        client.post(inst.path("/credentials/status"), json=change, headers=sis).status_code == 200
    )

    log = client.get(inst.path(f"/audit?credential_id={credential['id']}"), headers=inst.headers)
    assert log.status_code == 200
    revoke, issue = log.json()["events"]
    assert issue["action"] == "credential.issue" and issue["actor"] == f"token:{made['id']}"
    assert issue["details"]["source"] == "vc-api"
    assert revoke["action"] == "credential.revoke"
    assert revoke["reason"] == "issued to the wrong student"
    assert revoke["at"] > issue["at"]

    actions = [
        e["action"] for e in client.get(inst.path("/audit"), headers=inst.headers).json()["events"]
    ]
    assert actions == [
        "credential.revoke",
        "credential.issue",
        "token.create",
        "token.create",
        "institution.create",
    ]
    by_actor = client.get(
        inst.path(f"/audit?actor=token:{made['id']}"), headers=inst.headers
    ).json()
    assert len(by_actor["events"]) == 2


def test_the_log_is_paged_and_filtered_by_time(
    client: TestClient, inst: Institution, clock: Clock
) -> None:
    for _ in range(5):
        client.post(
            inst.path("/credentials/issue"),
            json={"credential": unsigned_badge(inst.did)},
            headers=inst.headers,
        )
        clock.advance(60)
    first = client.get(
        inst.path("/audit?action=credential.issue&limit=2"), headers=inst.headers
    ).json()
    assert len(first["events"]) == 2 and first["next"]
    second = client.get(
        inst.path(f"/audit?action=credential.issue&limit=2&before={first['next']}"),
        headers=inst.headers,
    ).json()
    assert len(second["events"]) == 2
    assert {e["id"] for e in first["events"]}.isdisjoint(e["id"] for e in second["events"])
    since = first["events"][0]["at"]
    recent = client.get(inst.path("/audit"), params={"since": since}, headers=inst.headers).json()
    assert [e["at"] for e in recent["events"]] == [since]


def test_the_log_is_per_institution_and_needs_admin(
    client: TestClient, app: Any, inst: Institution, other: Institution
) -> None:
    client.post(
        inst.path("/credentials/issue"),
        json={"credential": unsigned_badge(inst.did)},
        headers=inst.headers,
    )
    theirs = client.get(other.path("/audit"), headers=other.headers).json()["events"]
    assert [e["action"] for e in theirs] == ["token.create", "institution.create"]
    problem(client.get(other.path("/audit"), headers=inst.headers), 403, "wrong_institution")
    issuer_only = client.post(
        inst.path("/tokens"), json={"name": "x", "scopes": ["issue"]}, headers=inst.headers
    ).json()["token"]
    problem(
        client.get(inst.path("/audit"), headers={"Authorization": f"Bearer {issuer_only}"}),
        403,
        "insufficient_scope",
    )
    problem(client.get(inst.path("/audit?limit=0"), headers=inst.headers), 422, "validation_error")
