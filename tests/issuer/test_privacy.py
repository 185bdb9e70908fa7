"""Issue 14 item 9, issuer side: what a credential and the issuer's database give away."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from credentials.keystore import KeystoreError
from issuer.models import IssuedCredential, Offer
from issuer.services import personal
from tests.issuer.support import Institution, unsigned_badge

HOLDER = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"


def _recover_student_number(credential: dict[str, Any]) -> str | None:
    """The attack: try every 6-digit number against each salted hash (about 0.3 s)."""
    for identity in credential["credentialSubject"].get("identifier", []):
        salt, wanted = identity["salt"], identity["identityHash"].removeprefix("sha256$")
        for n in range(500_000, 500_200):  # the test's cohort range keeps the test fast
            if hashlib.sha256(f"{n}{salt}".encode()).hexdigest() == wanted:
                return str(n)
    return None


def test_a_credential_bound_to_a_did_carries_no_reversible_identity_hash(
    client: TestClient, inst: Institution, module: Any
) -> None:
    body = {
        "module_id": "data-wrangling",
        "learner": {"did": HOLDER, "student_number": "500123", "email": "jan@example.nl"},
    }
    answer = client.post(inst.path("/issuances"), json=body, headers=inst.headers)
    assert answer.status_code == 201, answer.text
    credential = answer.json()["verifiableCredential"]
    assert credential["credentialSubject"]["id"] == HOLDER
    assert _recover_student_number(credential) is None
    assert "identifier" not in credential["credentialSubject"]
    # the registrar still finds it by student number
    listed = client.get(
        inst.path("/credentials"), params={"learner": "500123"}, headers=inst.headers
    ).json()
    assert [c["credentialId"] for c in listed["credentials"]] == [credential["id"]]


def test_an_institution_cannot_learn_whether_another_used_a_credential_id(
    client: TestClient, inst: Institution, other: Institution
) -> None:
    """H-9f: issuing with an id another institution used is no different from a fresh id
    (it used to answer 409 ``duplicate_credential_id``); each keeps its own credential,
    status slot and status changes."""
    shared_id = "urn:uuid:0c6f3e1a-6d1b-4f39-9a52-3f3e1d2c4b5a"

    def issue(owner: Institution) -> Any:
        credential = unsigned_badge(owner.did)
        credential["id"] = shared_id
        return client.post(
            owner.path("/credentials/issue"), json={"credential": credential}, headers=owner.headers
        )

    first, second = issue(inst), issue(other)
    assert first.status_code == 201, first.text
    assert second.status_code == 201, second.text
    mine, theirs = first.json()["verifiableCredential"], second.json()["verifiableCredential"]
    assert mine["id"] == theirs["id"] == shared_id
    slot = [e["statusListCredential"] for e in mine["credentialStatus"]]
    assert slot != [e["statusListCredential"] for e in theirs["credentialStatus"]]
    # the same id twice within one institution is still refused
    again = issue(other)
    assert again.status_code == 409 and again.json()["code"] == "duplicate_credential_id"
    # status changes and look-ups stay within each institution
    revoked = client.post(
        other.path(f"/credentials/{shared_id}/revoke"), json={}, headers=other.headers
    )
    assert revoked.status_code == 200, revoked.text
    for owner, status in ((inst, "active"), (other, "revoked")):
        record = client.get(owner.path(f"/credentials/{shared_id}"), headers=owner.headers)
        assert record.status_code == 200, record.text
        assert record.json()["status"] == status, record.json()


def test_an_offer_keeps_its_learners_e_mail_and_student_number_sealed(
    client: TestClient, app: Any, inst: Institution, module: Any
) -> None:
    """H-9d (offers): the database row names no learner, the issuer still reads it back."""
    body = {
        "module_id": "data-wrangling",
        "learner": {"email": "jan.jansen@example.nl", "student_number": "500123"},
    }
    created = client.post(inst.path("/offers"), json=body, headers=inst.headers)
    assert created.status_code == 201, created.text
    ctx = app.state.issuer
    with ctx.db.session() as session:
        row = session.get(Offer, created.json()["id"])
        assert row is not None
        stored, offer_id = row.learner, row.id
    text = json.dumps(stored)
    assert "jan.jansen" not in text and "500123" not in text
    assert personal.unseal(ctx.keystore, offer_id, stored)["learner"] == body["learner"]
    # bound to its row: the sealed value of one offer does not open as another's
    with pytest.raises(KeystoreError):
        personal.unseal(ctx.keystore, "off_other", stored)


def _found(client: TestClient, inst: Institution, learner: str) -> list[str]:
    """The learner references the registrar's search by ``learner`` lists."""
    found = client.get(inst.path("/credentials"), params={"learner": learner}, headers=inst.headers)
    assert found.status_code == 200, found.text
    return [c["learner_ref"] for c in found.json()["credentials"]]


def test_issued_credentials_store_no_plain_student_number_or_e_mail(
    client: TestClient, app: Any, inst: Institution, module: Any
) -> None:
    """H-9d: ``learner_ref`` is a keyed hash, the value is sealed; the registrar still finds
    and sees it, and rows from before (plain) keep working until ``rewrap-keys``."""
    body = {
        "module_id": "data-wrangling",
        "learner": {"did": HOLDER, "student_number": "500777", "email": "els@example.nl"},
    }
    answer = client.post(inst.path("/issuances"), json=body, headers=inst.headers)
    assert answer.status_code == 201, answer.text
    credential_id = answer.json()["verifiableCredential"]["id"]
    ctx = app.state.issuer
    with ctx.db.session() as session:
        row = session.exec(
            select(IssuedCredential).where(IssuedCredential.credential_id == credential_id)
        ).one()
        stored = (row.learner_ref or "") + (row.learner_sealed or "")
        row_id, institution_id = row.id, row.institution_id
    assert stored and "500777" not in stored and "els@example" not in stored
    assert _found(client, inst, "500777") == ["500777"]
    shown = client.get(inst.path(f"/credentials/{credential_id}"), headers=inst.headers)
    assert shown.json()["learner_ref"] == "500777"

    # a row written before hashing (plain) is still found and shown, and converted later
    with ctx.db.session() as session:
        old = session.get(IssuedCredential, row_id)
        assert old is not None
        old.learner_ref, old.learner_sealed = "500777", None
    assert _found(client, inst, "500777") == ["500777"]
    assert personal.protect_refs(ctx) == 1
    with ctx.db.session() as session:
        converted = session.get(IssuedCredential, row_id)
        assert converted is not None and converted.learner_ref != "500777"
        assert converted.learner_ref == personal.ref_hash(ctx.keystore, institution_id, "500777")
    assert _found(client, inst, "500777") == ["500777"]


def test_an_offer_shows_its_learner_but_stores_only_a_keyed_hash(
    client: TestClient, app: Any, inst: Institution, module: Any
) -> None:
    body = {"module_id": "data-wrangling", "learner": {"student_number": "500888"}}
    created = client.post(inst.path("/offers"), json=body, headers=inst.headers)
    assert created.status_code == 201, created.text
    assert created.json()["learner_ref"] == "500888"
    with app.state.issuer.db.session() as session:
        row = session.get(Offer, created.json()["id"])
        assert row is not None and row.learner_ref and "500888" not in row.learner_ref
    shown = client.get(inst.path(f"/offers/{created.json()['id']}"), headers=inst.headers)
    assert shown.json()["learner_ref"] == "500888"


def test_a_batch_row_key_is_not_stored_readable_and_re_runs_still_find_their_rows(
    client: TestClient, app: Any, inst: Institution, module: Any
) -> None:
    """H-9d, batches: the row key (by default the student number) is stored as a keyed
    hash; a re-run finds its rows by credential id, also rows stored with a plain key."""
    from tests.issuer.test_batches import upload

    text = "student_number,email,grade\n500301,a@example.nl,8\n500302,b@example.nl,7\n"
    first = upload(client, inst, text, key="privacy-1")
    assert first.status_code in (200, 201), first.text
    assert first.json()["counts"]["issued"] == 2
    with app.state.issuer.db.session() as session:
        rows = session.exec(
            select(IssuedCredential).where(col(IssuedCredential.batch_id).is_not(None))
        ).all()
        keys = [r.row_key or "" for r in rows]
        assert len(set(keys)) == 2
        assert not any("50030" in k or "@example" in k for k in keys)
        rows[0].row_key = "500301"  # as a run before this change stored it
        old_id = rows[0].id
    changed = text.replace("500302,b@example.nl,7", "500302,b@example.nl,6")
    again = upload(client, inst, changed, key="privacy-1").json()
    assert again["counts"] == {"issued": 0, "already_issued": 1, "conflict": 1, "failed": 0}
    # rewrap-keys hashes the old plain key too
    assert personal.protect_refs(app.state.issuer) >= 1
    with app.state.issuer.db.session() as session:
        old = session.get(IssuedCredential, old_id)
        assert old is not None and old.row_key and "50030" not in old.row_key
