"""API tokens: 401 without a valid one, 403 for another institution's or a missing scope;
stored hashed, listed without secrets, revocable."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from issuer.models import ApiToken
from tests.issuer.support import Institution, problem, snapshot, unsigned_badge

ROUTES = [
    ("post", "/credentials/issue", {"credential": {}}),
    ("post", "/credentials/status", {"credentialId": "urn:uuid:x", "credentialStatus": []}),
    ("post", "/issuances", {}),
    ("post", "/offers", {}),
    ("post", "/modules", {}),
    ("get", "/modules", None),
    ("get", "/credentials", None),
    ("get", "/audit", None),
    ("get", "/tokens", None),
    ("post", "/keys/rotate", {}),
]


def call(
    client: TestClient, inst: Institution, method: str, path: str, body: Any, headers: Any
) -> Any:
    kwargs: dict[str, Any] = {"headers": headers}
    if body is not None:
        kwargs["json"] = body
    return getattr(client, method)(inst.path(path), **kwargs)


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_missing_or_wrong_tokens_are_401(
    client: TestClient, app: Any, inst: Institution, method: str, path: str, body: Any
) -> None:
    before = snapshot(app)
    for headers in ({}, {"Authorization": "Bearer mci_wrong"}, {"Authorization": "Basic abc"}):
        answer = call(client, inst, method, path, body, headers)
        problem(answer, 401, "unauthorized")
        assert answer.headers["www-authenticate"] == "Bearer"
    assert snapshot(app) == before


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_another_institutions_token_is_403(
    client: TestClient,
    app: Any,
    inst: Institution,
    other: Institution,
    method: str,
    path: str,
    body: Any,
) -> None:
    before = snapshot(app)
    problem(call(client, inst, method, path, body, other.headers), 403, "wrong_institution")
    assert snapshot(app) == before


def test_scopes_limit_what_a_token_may_do(client: TestClient, app: Any, inst: Institution) -> None:
    made = client.post(
        inst.path("/tokens"), json={"name": "SIS", "scopes": ["issue"]}, headers=inst.headers
    )
    assert made.status_code == 201, made.text
    sis = {"Authorization": f"Bearer {made.json()['token']}"}
    issued = client.post(
        inst.path("/credentials/issue"), json={"credential": unsigned_badge(inst.did)}, headers=sis
    )
    assert issued.status_code == 201
    credential_id = issued.json()["verifiableCredential"]["id"]
    before = snapshot(app)
    change = {
        "credentialId": credential_id,
        "credentialStatus": [{"type": "BitstringStatusListEntry", "status": "revoked"}],
    }
    answer = problem(
        client.post(inst.path("/credentials/status"), json=change, headers=sis),
        403,
        "insufficient_scope",
    )
    assert answer["scope"] == "revoke"
    problem(client.get(inst.path("/audit"), headers=sis), 403, "insufficient_scope")
    problem(client.post(inst.path("/modules"), json={}, headers=sis), 403, "insufficient_scope")
    assert snapshot(app) == before


def test_tokens_are_stored_hashed_listed_without_secrets_and_revocable(
    client: TestClient, app: Any, inst: Institution
) -> None:
    made = client.post(
        inst.path("/tokens"),
        json={"name": "registrar", "scopes": ["revoke", "issue"]},
        headers=inst.headers,
    ).json()
    token = made["token"]
    assert made["scopes"] == ["issue", "revoke"]
    with app.state.issuer.db.session() as session:
        rows = session.exec(select(ApiToken)).all()
    assert all(token not in (row.token_hash, row.id, row.name) for row in rows)
    assert len({row.token_hash for row in rows}) == 2
    listing = client.get(inst.path("/tokens"), headers=inst.headers)
    assert token not in listing.text and "hash" not in listing.text
    assert [t["name"] for t in listing.json()["tokens"]] == ["initial", "registrar"]

    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(inst.path("/credentials"), headers=headers).status_code == 200
    revoked = client.delete(inst.path(f"/tokens/{made['id']}"), headers=inst.headers)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    problem(client.get(inst.path("/credentials"), headers=headers), 401, "unauthorized")
    problem(
        client.delete(inst.path("/tokens/tok_nope"), headers=inst.headers), 404, "unknown_token"
    )


@pytest.mark.parametrize(
    "body",
    [{"name": "x", "scopes": []}, {"name": "x", "scopes": ["root"]}, {"scopes": ["issue"]}],
)
def test_invalid_token_requests_are_422(
    client: TestClient, app: Any, inst: Institution, body: dict[str, Any]
) -> None:
    before = snapshot(app)
    problem(
        client.post(inst.path("/tokens"), json=body, headers=inst.headers), 422, "validation_error"
    )
    assert snapshot(app) == before


def test_an_unknown_institution_is_404_for_a_valid_token(
    client: TestClient, inst: Institution
) -> None:
    answer = client.get("/institutions/nobody/credentials", headers=inst.headers)
    problem(answer, 404, "unknown_institution")
