"""Institutions: creation, the did:web DID document, keys (rotation, compromise, at rest)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from credentials.keystore import KeystoreError
from issuer.models import SigningKey
from tests.issuer.support import (
    Institution,
    make_institution,
    problem,
    snapshot,
    unsigned_badge,
)

OPERATOR = {"Authorization": "Bearer operator-secret"}


def create(client: TestClient, **body: Any) -> Any:
    body.setdefault("slug", "hsr")
    body.setdefault("name", "Hogeschool Rijnland")
    return client.post("/admin/institutions", json=body, headers=OPERATOR)


def test_operator_creates_an_institution_with_a_did_web_and_a_first_token(
    client: TestClient, port: int
) -> None:
    response = create(client, region="Zuid-Holland", identifiers={"BRIN": "99HR"})
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["did"] == f"did:web:127.0.0.1%3A{port}:institutions:hsr"
    assert created["token"].startswith("mci_") and len(created["token"]) > 40
    # the token is an all-scopes token of that institution
    listed = client.get(
        "/institutions/hsr/tokens", headers={"Authorization": f"Bearer {created['token']}"}
    )
    assert listed.status_code == 200
    assert listed.json()["tokens"][0]["scopes"] == ["issue", "revoke", "admin"]
    facts = client.get("/institutions/hsr").json()
    assert facts["did"] == created["did"]
    assert facts["credential_issuer"] == f"http://127.0.0.1:{port}/institutions/hsr"


def test_the_did_document_lists_the_key_as_a_multikey_assertion_method(
    client: TestClient, inst: Institution
) -> None:
    response = client.get(inst.path("/did.json"))
    assert response.status_code == 200
    document = response.json()
    assert document["@context"] == [
        "https://www.w3.org/ns/did/v1",
        "https://w3id.org/security/multikey/v1",
    ]
    assert document["id"] == inst.did
    [method] = document["verificationMethod"]
    assert method == {
        "id": f"{inst.did}#key-1",
        "type": "Multikey",
        "controller": inst.did,
        "publicKeyMultibase": method["publicKeyMultibase"],
    }
    assert method["publicKeyMultibase"].startswith("z6Mk")
    assert document["assertionMethod"] == [method["id"]]
    assert document["authentication"] == [method["id"]]
    assert "secretKeyMultibase" not in response.text and "privateKey" not in response.text


def test_p256_institutions_get_p256_keys(client: TestClient, app: Any) -> None:
    p256 = make_institution(app, "roc", name="ROC Noordkust", key_type="p256")
    document = client.get(p256.path("/did.json")).json()
    assert document["verificationMethod"][0]["publicKeyMultibase"].startswith("zDna")
    issued = client.post(
        p256.path("/credentials/issue"),
        json={"credential": unsigned_badge(p256.did)},
        headers=p256.headers,
    )
    assert issued.status_code == 201, issued.text
    assert issued.json()["verifiableCredential"]["proof"]["cryptosuite"] == "ecdsa-rdfc-2019"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"slug": "Not A Slug"}, "slug"),
        ({"slug": "-dash"}, "slug"),
        ({"country": "Netherlands"}, "country"),
        ({"key_type": "rsa"}, "key_type"),
        ({"url": "ftp://x"}, "url"),
        ({"name": ""}, "name"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_invalid_institutions_are_refused_field_by_field(
    client: TestClient, app: Any, body: dict[str, Any], field: str
) -> None:
    before = snapshot(app)
    answer = problem(create(client, **body), 422, "validation_error")
    assert answer["errors"][0]["field"] == field
    assert snapshot(app) == before


def test_a_slug_is_taken_once(client: TestClient, app: Any) -> None:
    assert create(client).status_code == 201
    before = snapshot(app)
    problem(create(client, name="Other"), 409, "slug_taken")
    assert snapshot(app) == before


def test_the_operator_api_needs_the_operator_token(client: TestClient) -> None:
    problem(
        client.post("/admin/institutions", json={"slug": "x", "name": "X"}), 401, "unauthorized"
    )
    wrong = client.post(
        "/admin/institutions",
        json={"slug": "x", "name": "X"},
        headers={"Authorization": "Bearer nope"},
    )
    problem(wrong, 401, "unauthorized")


def test_unknown_institutions_are_404(client: TestClient) -> None:
    problem(client.get("/institutions/nobody/did.json"), 404, "unknown_institution")
    problem(client.get("/institutions/nobody"), 404, "unknown_institution")


def test_rotation_keeps_old_keys_and_a_compromised_key_leaves_assertion_method(
    client: TestClient, inst: Institution
) -> None:
    first = client.post(
        inst.path("/credentials/issue"),
        json={"credential": unsigned_badge(inst.did)},
        headers=inst.headers,
    ).json()["verifiableCredential"]
    assert first["proof"]["verificationMethod"] == f"{inst.did}#key-1"

    rotated = client.post(inst.path("/keys/rotate"), json={}, headers=inst.headers)
    assert rotated.status_code == 201, rotated.text
    assert [k["state"] for k in rotated.json()["keys"]] == ["retired", "current"]
    document = client.get(inst.path("/did.json")).json()
    assert [m["id"] for m in document["verificationMethod"]] == [
        f"{inst.did}#key-1",
        f"{inst.did}#key-2",
    ]
    assert document["assertionMethod"] == [f"{inst.did}#key-1", f"{inst.did}#key-2"]
    assert document["authentication"] == [f"{inst.did}#key-2"]
    second = client.post(
        inst.path("/credentials/issue"),
        json={"credential": unsigned_badge(inst.did)},
        headers=inst.headers,
    ).json()["verifiableCredential"]
    assert second["proof"]["verificationMethod"] == f"{inst.did}#key-2"

    # key 2 leaks: rotate with compromised → key 2 leaves assertionMethod, key 1 stays
    client.post(inst.path("/keys/rotate"), json={"compromised": True}, headers=inst.headers)
    document = client.get(inst.path("/did.json")).json()
    assert len(document["verificationMethod"]) == 3
    assert document["assertionMethod"] == [f"{inst.did}#key-1", f"{inst.did}#key-3"]
    # and an old retired key can be withdrawn too
    client.post(inst.path("/keys/1/compromise"), headers=inst.headers)
    document = client.get(inst.path("/did.json")).json()
    assert document["assertionMethod"] == [f"{inst.did}#key-3"]
    problem(
        client.post(inst.path("/keys/3/compromise"), headers=inst.headers), 409, "key_is_current"
    )
    audit = client.get(inst.path("/audit?action=key.rotate"), headers=inst.headers).json()
    assert len(audit["events"]) == 2


def test_signing_keys_are_encrypted_at_rest_and_bound_to_their_institution(
    client: TestClient, app: Any, inst: Institution, other: Institution
) -> None:
    ctx = app.state.issuer
    with ctx.db.session() as session:
        rows = session.exec(select(SigningKey).order_by(SigningKey.id)).all()
        mine, theirs = rows[0], rows[1]
        assert mine.wrapped_secret.startswith("v1.")
        # the wrapped secret does not decrypt as the other institution's key
        with pytest.raises(KeystoreError):
            ctx.keystore.unwrap(
                mine.wrapped_secret, f"microcred/issuer/signing-key/{theirs.institution_id}/1"
            )
        # swap the two wrapped secrets: neither institution can sign any more
        mine.wrapped_secret, theirs.wrapped_secret = theirs.wrapped_secret, mine.wrapped_secret
        session.add(mine)
        session.add(theirs)
    ctx.forget_keys(mine.institution_id)
    before = snapshot(app)
    answer = client.post(
        inst.path("/credentials/issue"),
        json={"credential": unsigned_badge(inst.did)},
        headers=inst.headers,
    )
    problem(answer, 503, "signing_key_unavailable")
    assert snapshot(app) == before
