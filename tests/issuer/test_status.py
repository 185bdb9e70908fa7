"""Revocation and suspension: VC-API status changes, the published status list credential
(signed, cacheable, changed at once), the transition rules, and no lost concurrent bit."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient

from credentials.status_list import StatusList
from issuer.services import status_lists
from issuer.services.context import IssuerContext
from tests.issuer.support import Institution, problem, snapshot, unsigned_badge, verifier
from tests.support.servers import live_server


def issue(client: TestClient, inst: Institution) -> dict[str, Any]:
    response = client.post(
        inst.path("/credentials/issue"),
        json={"credential": unsigned_badge(inst.did)},
        headers=inst.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()["verifiableCredential"]


def set_status(
    client: TestClient, inst: Institution, credential_id: str, status: str, **extra: Any
) -> Any:
    body = {
        "credentialId": credential_id,
        "credentialStatus": [{"type": "BitstringStatusListEntry", "status": status}],
        **extra,
    }
    return client.post(inst.path("/credentials/status"), json=body, headers=inst.headers)


def served_bit(client: TestClient, credential: dict[str, Any], purpose: str) -> int:
    entry = next(e for e in credential["credentialStatus"] if e["statusPurpose"] == purpose)
    path = "/" + entry["statusListCredential"].split("/", 3)[3]
    document = client.get(path).json()
    assert document["credentialSubject"]["statusPurpose"] == purpose
    return StatusList.decode(document["credentialSubject"]["encodedList"]).get(
        int(entry["statusListIndex"])
    )


def status_checks(credential: dict[str, Any]) -> list[tuple[str, str]]:
    report = verifier().verify_credential(credential)
    return [(c.outcome, c.code) for c in report.checks if c.id == "status"]


def test_revoke_suspend_and_unsuspend_show_in_the_list_and_in_verification(
    client: TestClient, app: Any, inst: Institution, port: int
) -> None:
    credential = issue(client, inst)
    bystander = issue(client, inst)
    with live_server(app, port):
        assert status_checks(credential) == [("passed", "ok"), ("passed", "ok")]

        answer = set_status(client, inst, credential["id"], "suspended", reason="under review")
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "suspended"
        assert served_bit(client, credential, "suspension") == 1
        assert ("failed", "suspended") in status_checks(credential)

        assert set_status(client, inst, credential["id"], "active").json()["status"] == "active"
        assert served_bit(client, credential, "suspension") == 0
        assert status_checks(credential) == [("passed", "ok"), ("passed", "ok")]

        answer = set_status(client, inst, credential["id"], "revoked", reason="fraud")
        assert answer.json() == {
            "credentialId": credential["id"],
            "revoked": True,
            "suspended": False,
            "status": "revoked",
        }
        assert served_bit(client, credential, "revocation") == 1
        assert ("failed", "revoked") in status_checks(credential)
        report = verifier().verify_credential(credential)
        assert not report.verified
        # the other credential on the same list is untouched
        assert served_bit(client, bystander, "revocation") == 0
        assert verifier().verify_credential(bystander).verified


def test_revocation_is_permanent(client: TestClient, app: Any, inst: Institution) -> None:
    credential = issue(client, inst)
    set_status(client, inst, credential["id"], "revoked")
    before = snapshot(app)
    problem(set_status(client, inst, credential["id"], "active"), 409, "credential_revoked")
    problem(set_status(client, inst, credential["id"], "suspended"), 409, "credential_revoked")
    vcapi = {
        "credentialId": credential["id"],
        "credentialStatus": {"type": "BitstringStatusList", "statusPurpose": "revocation"},
        "status": False,
    }
    problem(
        client.post(inst.path("/credentials/status"), json=vcapi, headers=inst.headers),
        409,
        "credential_revoked",
    )
    # revoking again changes nothing and is not an error
    assert set_status(client, inst, credential["id"], "revoked").status_code == 200
    assert snapshot(app) == before
    assert served_bit(client, credential, "revocation") == 1


def test_the_vc_api_boolean_form_and_the_ui_actions(client: TestClient, inst: Institution) -> None:
    credential = issue(client, inst)
    body = {
        "credentialId": credential["id"],
        "credentialStatus": {"type": "BitstringStatusList", "statusPurpose": "suspension"},
        "status": True,
    }
    answer = client.post(inst.path("/credentials/status"), json=body, headers=inst.headers)
    assert answer.json()["status"] == "suspended"
    path = inst.path(f"/credentials/{credential['id']}")
    assert (
        client.post(f"{path}/unsuspend", json={}, headers=inst.headers).json()["status"] == "active"
    )
    revoked = client.post(f"{path}/revoke", json={"reason": "duplicate"}, headers=inst.headers)
    assert revoked.json()["status"] == "revoked"
    events = client.get(inst.path(f"/audit?credential_id={credential['id']}"), headers=inst.headers)
    actions = [(e["action"], e["reason"]) for e in events.json()["events"]]
    assert actions == [
        ("credential.revoke", "duplicate"),
        ("credential.unsuspend", None),
        ("credential.suspend", None),
        ("credential.issue", None),
    ]
    problem(client.post(f"{path}/delete", json={}, headers=inst.headers), 404, "not_found")


def test_the_list_is_signed_cacheable_and_its_etag_follows_changes(
    client: TestClient, app: Any, inst: Institution, port: int
) -> None:
    credential = issue(client, inst)
    entry = credential["credentialStatus"][0]
    path = "/" + entry["statusListCredential"].split("/", 3)[3]
    first = client.get(path)
    assert first.status_code == 200
    assert first.headers["cache-control"] == "public, max-age=60"
    etag = first.headers["etag"]
    document = first.json()
    assert document["id"] == entry["statusListCredential"]
    assert document["issuer"] == inst.did
    assert document["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert document["credentialSubject"]["ttl"] == 60_000
    assert StatusList.decode(document["credentialSubject"]["encodedList"]).length == 131_072
    with live_server(app, port):
        report = verifier().verify_credential(document, check_status=False)
    assert report.verified, report.to_dict()
    # unchanged: same bytes (cached signature), and 304 for a conditional request
    assert client.get(path).content == first.content
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    set_status(client, inst, credential["id"], "revoked")
    changed = client.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


def test_unknown_lists_and_credentials_are_404(client: TestClient, inst: Institution) -> None:
    credential = issue(client, inst)
    list_url = credential["credentialStatus"][0]["statusListCredential"]
    list_id = list_url.split("/")[-2]
    problem(client.get(inst.path(f"/status/{list_id}/refresh")), 404, "unknown_status_list")
    problem(client.get(inst.path("/status/0000/revocation")), 404, "unknown_status_list")
    problem(set_status(client, inst, "urn:uuid:nope", "revoked"), 404, "unknown_credential")


@pytest.mark.parametrize(
    "body",
    [
        {
            "credentialId": "urn:uuid:x",
            "credentialStatus": [{"type": "BitstringStatusListEntry", "status": "deleted"}],
        },
        {
            "credentialId": "urn:uuid:x",
            "credentialStatus": [{"type": "Other", "status": "revoked"}],
        },
        {"credentialId": "urn:uuid:x", "credentialStatus": []},
        {
            "credentialId": "urn:uuid:x",
            "credentialStatus": {"type": "BitstringStatusList", "statusPurpose": "revocation"},
        },
        {"credentialStatus": [{"type": "BitstringStatusListEntry", "status": "revoked"}]},
    ],
)
def test_malformed_status_requests_are_422(
    client: TestClient, app: Any, inst: Institution, body: dict[str, Any]
) -> None:
    before = snapshot(app)
    problem(
        client.post(inst.path("/credentials/status"), json=body, headers=inst.headers),
        422,
        "validation_error",
    )
    assert snapshot(app) == before


def test_concurrent_changes_from_two_instances_never_lose_a_bit(
    client: TestClient, app: Any, inst: Institution
) -> None:
    ctx: IssuerContext = app.state.issuer
    # a second "instance": its own engine and pool on the same database
    twin = IssuerContext(ctx.settings, keystore=ctx.keystore, clock=ctx.clock)
    credentials = [issue(client, inst) for _ in range(12)]
    with ctx.db.session() as session:
        from issuer.services.institutions import by_slug

        institution = by_slug(session, inst.slug)
    errors: list[BaseException] = []
    start = threading.Barrier(len(credentials))

    def change(index: int, credential: dict[str, Any]) -> None:
        target = "revoked" if index % 2 else "suspended"
        try:
            start.wait()
            status_lists.change(
                ctx if index % 3 else twin, institution, credential["id"], [target], actor="test"
            )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=change, args=item) for item in enumerate(credentials)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    twin.db.dispose()
    assert errors == []
    for index, credential in enumerate(credentials):
        purpose = "revocation" if index % 2 else "suspension"
        assert served_bit(client, credential, purpose) == 1, index
        other = "suspension" if index % 2 else "revocation"
        assert served_bit(client, credential, other) == 0, index


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        (None, "application/vc"),
        ("*/*", "application/vc"),
        ("application/vc", "application/vc"),
        ("application/ld+json", "application/ld+json"),
        ("application/json", "application/json"),
        ("application/json, application/ld+json;q=0.9", "application/json"),
        ("application/ld+json;q=0.5, application/json;q=0.8", "application/json"),
        ("application/ld+json, application/vc", "application/vc"),
        ("text/html, application/json;q=0.1", "application/json"),
        ("application/json;q=0, */*;q=0.1", "application/vc"),
    ],
)
def test_the_status_list_is_served_as_the_type_the_client_accepts(
    client: TestClient, inst: Institution, accept: str | None, media_type: str
) -> None:
    """The same document under the type asked for: a client that accepts only
    ``application/ld+json`` or ``application/json`` must get the list too."""
    entry = issue(client, inst)["credentialStatus"][0]
    path = "/" + entry["statusListCredential"].split("/", 3)[3]
    reference = client.get(path, headers={"Accept": "application/vc"})
    headers = {} if accept is None else {"Accept": accept}
    answer = client.get(path, headers=headers)
    assert answer.status_code == 200
    assert answer.headers["content-type"].split(";")[0] == media_type
    assert answer.content == reference.content
    assert "accept" in answer.headers["vary"].lower()
