"""Issuing: VC-API ``credentials/issue`` and "issue a module to a learner"; every refusal is
a problem answer that leaves the database as it was."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from credentials.microcredential import identity_matches
from issuer.models import IssuedCredential, StatusSlot
from issuer.services import urls
from tests.issuer.support import (
    Institution,
    make_institution,
    problem,
    snapshot,
    unsigned_badge,
    verifier,
)
from tests.support.servers import live_server

HOLDER = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"


def issue(client: TestClient, inst: Institution, credential: Any, **extra: Any) -> Any:
    return client.post(
        inst.path("/credentials/issue"),
        json={"credential": credential, **extra},
        headers=inst.headers,
    )


def test_vc_api_issues_a_microcredential_that_verifies_against_the_running_issuer(
    client: TestClient, app: Any, inst: Institution, port: int
) -> None:
    response = issue(client, inst, unsigned_badge(inst.did))
    assert response.status_code == 201, response.text
    credential = response.json()["verifiableCredential"]
    assert credential["id"].startswith("urn:uuid:")
    assert credential["issuer"]["id"] == inst.did
    assert credential["issuer"]["name"] == "Hogeschool Rijnland"
    assert credential["proof"]["type"] == "DataIntegrityProof"
    assert credential["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    assert credential["proof"]["verificationMethod"] == f"{inst.did}#key-1"
    revocation, suspension = credential["credentialStatus"]
    assert revocation["type"] == suspension["type"] == "BitstringStatusListEntry"
    assert (revocation["statusPurpose"], suspension["statusPurpose"]) == (
        "revocation",
        "suspension",
    )
    assert revocation["statusListIndex"] == suspension["statusListIndex"]
    list_id = revocation["statusListCredential"].split("/")[-2]
    assert revocation["statusListCredential"] == urls.status_list_url(
        f"http://127.0.0.1:{port}", "hsr", list_id, "revocation"
    )
    # did:web and the status list are fetched over HTTP from the running issuer
    with live_server(app, port):
        report = verifier().verify_credential(credential)
    assert report.verified, report.to_dict()
    outcomes = {c.id: c.outcome for c in report.checks}
    assert outcomes["proof"] == outcomes["issuer"] == outcomes["schema"] == "passed"
    assert report.to_dict()["profile"] == {
        "name": "eu-microcredential",
        "complete": True,
        "missing": [],
        "missingElements": [],
        "elements": 11,
        "problems": [],
    }
    assert credential["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert [c.outcome for c in report.checks if c.id == "status"] == ["passed", "passed"]
    # stored as issued, with its slot
    stored = client.get(inst.path(f"/credentials/{credential['id']}"), headers=inst.headers)
    assert stored.json()["verifiableCredential"] == credential
    assert stored.json()["status"] == "active"
    assert stored.json()["learner_ref"] == HOLDER


def test_the_issuer_fills_in_id_issuer_and_dates(client: TestClient, inst: Institution) -> None:
    for issuer in (
        None,
        inst.did,
        {"id": inst.did, "name": "Wrong name", "image": "https://x/i.png"},
    ):
        credential = unsigned_badge(issuer)
        for name in ("validFrom", "awardedDate"):
            credential.pop(name)
        answer = issue(client, inst, credential)
        assert answer.status_code == 201, answer.text
        signed = answer.json()["verifiableCredential"]
        assert signed["issuer"]["id"] == inst.did
        assert signed["issuer"]["name"] == "Hogeschool Rijnland"  # the institution's own
        assert signed["validFrom"] == signed["awardedDate"]
        if isinstance(issuer, dict):
            assert signed["issuer"]["image"] == "https://x/i.png"


def test_options_credential_id_is_used(client: TestClient, inst: Institution) -> None:
    wanted = "urn:uuid:11111111-2222-4333-8444-555555555555"
    answer = issue(client, inst, unsigned_badge(inst.did), options={"credentialId": wanted})
    assert answer.json()["verifiableCredential"]["id"] == wanted


def test_a_plain_vc_is_issued_with_the_did_as_issuer(client: TestClient, inst: Institution) -> None:
    plain = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "credentialSubject": {"id": HOLDER},
    }
    answer = issue(client, inst, plain)
    assert answer.status_code == 201, answer.text
    signed = answer.json()["verifiableCredential"]
    assert signed["issuer"] == inst.did
    assert len(signed["credentialStatus"]) == 2


def refused(
    client: TestClient,
    app: Any,
    inst: Institution,
    credential: Any,
    status: int,
    code: str,
    **extra: Any,
) -> dict[str, Any]:
    before = snapshot(app)
    answer = problem(issue(client, inst, credential, **extra), status, code)
    assert snapshot(app) == before
    return answer


def test_another_issuer_is_refused(
    client: TestClient, app: Any, inst: Institution, other: Institution
) -> None:
    answer = refused(client, app, inst, unsigned_badge(other.did), 400, "issuer_mismatch")
    assert answer["field"] == "issuer"
    refused(
        client, app, inst, unsigned_badge({"id": other.did, "name": "X"}), 400, "issuer_mismatch"
    )


def test_an_incomplete_open_badge_is_issued_over_vc_api(
    client: TestClient, app: Any, inst: Institution, port: int
) -> None:
    """The VC-API signs any conforming OB 3.0 credential: the EU profile is the module
    path's rule. The verifier then reports the missing element, as a warning."""
    credential = unsigned_badge(inst.did)
    achievement = credential["credentialSubject"]["achievement"]
    achievement["alignment"] = [
        a for a in achievement["alignment"] if a["targetType"] != "ext:AssessmentType"
    ]
    achievement["achievementType"] = "Badge"
    answer = issue(client, inst, credential)
    assert answer.status_code == 201, answer.text
    signed = answer.json()["verifiableCredential"]
    with live_server(app, port):
        report = verifier().verify_credential(signed)
    assert report.verified, report.to_dict()
    assert report.outcome_of("schema").outcome == "warning"
    assert report.to_dict()["profile"]["missing"] == ["title", "assessment"]


def test_an_issuer_object_under_the_vc2_context_alone_is_signed_as_sent(
    client: TestClient, app: Any, inst: Institution, port: int
) -> None:
    """The institution's OB profile fields (address, url) are OB terms: they are not
    merged into an issuer object the credential's contexts cannot define."""
    plain = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": {"id": inst.did, "name": "Registrar of Hogeschool Rijnland"},
        "credentialSubject": {"id": HOLDER},
    }
    answer = issue(client, inst, plain)
    assert answer.status_code == 201, answer.text
    signed = answer.json()["verifiableCredential"]
    assert signed["issuer"] == {"id": inst.did, "name": "Registrar of Hogeschool Rijnland"}
    without_id = copy.deepcopy(plain)
    without_id["issuer"] = {"name": "Registrar"}
    answer = issue(client, inst, without_id)
    assert answer.status_code == 201, answer.text
    assert answer.json()["verifiableCredential"]["issuer"] == {"id": inst.did, "name": "Registrar"}
    with live_server(app, port):
        report = verifier().verify_credential(signed)
    assert report.verified, report.to_dict()
    assert report.outcome_of("schema").outcome == "skipped"
    assert "profile" not in report.to_dict()


def test_an_undefined_term_is_refused_not_dropped(
    client: TestClient, app: Any, inst: Institution
) -> None:
    credential = unsigned_badge(inst.did)
    credential["credentialSubject"]["favouriteColour"] = "blue"
    answer = refused(client, app, inst, credential, 400, "undefined_term")
    assert "favouriteColour" in answer["detail"]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (
            lambda c: c.update(credentialStatus={"type": "BitstringStatusListEntry"}),
            "status_not_allowed",
        ),
        (lambda c: c.update(proof={"type": "DataIntegrityProof"}), "already_signed"),
        (lambda c: c.update({"@context": ["https://example.org/ctx"]}), "non_conformant"),
        (lambda c: c.update(type=["OpenBadgeCredential"]), "non_conformant"),
        (lambda c: c.update(id="not a url"), "non_conformant"),
        (lambda c: c.update(validFrom="yesterday"), "non_conformant"),
        (lambda c: c.update(credentialSubject={}), "non_conformant"),
    ],
)
def test_malformed_credentials_are_refused(
    client: TestClient, app: Any, inst: Institution, change: Any, code: str
) -> None:
    credential = unsigned_badge(inst.did)
    change(credential)
    refused(client, app, inst, credential, 400, code)


def test_unknown_contexts_are_refused(client: TestClient, app: Any, inst: Institution) -> None:
    plain = {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://evil.example/ctx"],
        "type": ["VerifiableCredential"],
        "credentialSubject": {"id": HOLDER},
    }
    refused(client, app, inst, plain, 400, "unknown_context")


def test_bad_requests_are_problems(client: TestClient, app: Any, inst: Institution) -> None:
    before = snapshot(app)
    path = inst.path("/credentials/issue")
    headers = {**inst.headers, "Content-Type": "application/json"}
    problem(client.post(path, content=b'{"credential": ', headers=headers), 400, "invalid_json")
    problem(client.post(path, content=b'{"a": 1, "a": 2}', headers=headers), 400, "duplicate_key")
    problem(client.post(path, content=b"[]", headers=headers), 400, "invalid_request")
    problem(
        client.post(path, json={"credential": "x"}, headers=inst.headers), 400, "invalid_credential"
    )
    problem(
        client.post(path, json={"credential": {}, "options": []}, headers=inst.headers),
        400,
        "invalid_request",
    )
    text = {**inst.headers, "Content-Type": "text/plain"}
    problem(client.post(path, content=b"{}", headers=text), 415, "unsupported_media_type")
    big = {"credential": unsigned_badge(inst.did), "padding": "x" * (1024 * 1024)}
    problem(client.post(path, json=big, headers=inst.headers), 413, "body_too_large")
    assert snapshot(app) == before


def test_a_duplicate_credential_id_is_409(client: TestClient, app: Any, inst: Institution) -> None:
    credential = unsigned_badge(inst.did)
    credential["id"] = "urn:uuid:6b1c1a3e-0f9e-4a8a-9d5e-1b2c3d4e5f60"
    assert issue(client, inst, credential).status_code == 201
    refused(client, app, inst, credential, 409, "duplicate_credential_id")


def test_an_idempotency_key_replays_and_refuses_reuse(
    client: TestClient, app: Any, inst: Institution
) -> None:
    body = {"credential": unsigned_badge(inst.did)}
    headers = {**inst.headers, "Idempotency-Key": "sis-42"}
    path = inst.path("/credentials/issue")
    first = client.post(path, json=body, headers=headers)
    assert first.status_code == 201
    before = snapshot(app)
    again = client.post(path, json=body, headers=headers)
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    other = copy.deepcopy(body)
    other["credential"]["name"] = "Something else"
    problem(client.post(path, json=other, headers=headers), 409, "idempotency_key_reused")
    assert snapshot(app) == before


def test_status_indexes_are_random_unique_and_a_full_list_opens_a_new_one(
    client: TestClient, app: Any, inst: Institution
) -> None:
    app.state.issuer.settings.status_list_capacity = 5  # tests only: a tiny list
    indexes = []
    for _ in range(7):
        signed = issue(client, inst, unsigned_badge(inst.did)).json()["verifiableCredential"]
        entry = signed["credentialStatus"][0]
        indexes.append(
            (entry["statusListCredential"].split("/")[-2], int(entry["statusListIndex"]))
        )
    lists = {list_id for list_id, _ in indexes}
    assert len(lists) == 2
    assert len(set(indexes)) == 7
    assert all(0 <= index < 5 for _, index in indexes)
    with app.state.issuer.db.session() as session:
        assert len(session.exec(select(StatusSlot)).all()) == 7


def test_random_indexes_spread_over_the_whole_list(client: TestClient, inst: Institution) -> None:
    indexes = [
        int(
            issue(client, inst, unsigned_badge(inst.did)).json()["verifiableCredential"][
                "credentialStatus"
            ][0]["statusListIndex"]
        )
        for _ in range(6)
    ]
    assert indexes != sorted(indexes) or max(indexes) > 1000  # not handed out in order


# ---------------------------------------------------------------- issue a module to a learner


def issue_module(client: TestClient, inst: Institution, **body: Any) -> Any:
    body.setdefault("module_id", "data-wrangling")
    return client.post(inst.path("/issuances"), json=body, headers=inst.headers)


def test_a_module_is_issued_to_a_learner_by_email_and_student_number(
    client: TestClient, app: Any, inst: Institution, module: dict[str, Any], port: int
) -> None:
    response = issue_module(
        client,
        inst,
        learner={"email": "Jan.Jansen@Example.nl", "student_number": "500123"},
        result={"grade": "8,5", "awarded_date": "2026-06-30", "status": "Completed"},
    )
    assert response.status_code == 201, response.text
    credential = response.json()["verifiableCredential"]
    subject = credential["credentialSubject"]
    assert "id" not in subject
    email, student = subject["identifier"]
    assert identity_matches(email, "jan.jansen@example.nl")
    assert student["identityType"] == "sisSourcedId" and identity_matches(student, "500123")
    assert "500123" not in str(credential) and "jansen" not in str(credential).lower()
    assert subject["achievement"]["id"] == module["achievement_id"]
    assert subject["result"][0]["value"] == "8,5"
    assert credential["awardedDate"] == "2026-06-30T00:00:00Z"
    with live_server(app, port):
        report = verifier().verify_credential(credential)
    assert report.verified, report.to_dict()
    listed = client.get(inst.path("/credentials?learner=500123"), headers=inst.headers).json()
    assert [c["credentialId"] for c in listed["credentials"]] == [credential["id"]]


def test_a_module_is_issued_to_a_holder_did(
    client: TestClient, inst: Institution, module: Any
) -> None:
    response = issue_module(client, inst, learner={"did": HOLDER})
    credential = response.json()["verifiableCredential"]
    assert credential["credentialSubject"]["id"] == HOLDER
    assert "result" not in credential["credentialSubject"]


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"learner": {}}, 422, "validation_error", "learner.email"),
        ({"learner": {"email": "not-an-address"}}, 422, "validation_error", "learner.email"),
        ({"learner": {"did": "did:nope"}}, 422, "validation_error", "learner.did"),
        (
            {"learner": {"email": "a@b.nl"}, "result": {"grade": "4"}},
            422,
            "validation_error",
            "result.grade",
        ),
        (
            {"learner": {"email": "a@b.nl"}, "result": {"grade": "11"}},
            422,
            "validation_error",
            "result.grade",
        ),
        (
            {"learner": {"email": "a@b.nl"}, "result": {"awarded_date": "2026-02-30"}},
            422,
            "validation_error",
            "result.awarded_date",
        ),
        (
            {"learner": {"email": "a@b.nl"}, "result": {"awarded_date": "2026-06-30T10:00:00"}},
            422,
            "validation_error",
            "result.awarded_date",
        ),
        ({"learner": {"email": "a@b.nl"}, "module_id": "nope"}, 404, "unknown_module", None),
    ],
)
def test_bad_issuance_requests_change_nothing(
    client: TestClient,
    app: Any,
    inst: Institution,
    module: Any,
    body: dict[str, Any],
    status: int,
    code: str,
    field: str | None,
) -> None:
    before = snapshot(app)
    answer = problem(issue_module(client, inst, **body), status, code)
    if field:
        assert answer["errors"][0]["field"] == field
    assert snapshot(app) == before


def test_module_issuance_is_idempotent_with_a_key(
    client: TestClient, app: Any, inst: Institution, module: Any
) -> None:
    body = {"module_id": "data-wrangling", "learner": {"email": "a@b.nl"}}
    headers = {**inst.headers, "Idempotency-Key": "row-7"}
    first = client.post(inst.path("/issuances"), json=body, headers=headers)
    before = snapshot(app)
    again = client.post(inst.path("/issuances"), json=body, headers=headers)
    assert again.status_code == 200 and again.json() == first.json()
    body["learner"]["email"] = "c@d.nl"
    problem(
        client.post(inst.path("/issuances"), json=body, headers=headers),
        409,
        "idempotency_key_reused",
    )
    assert snapshot(app) == before


def test_credentials_of_another_institution_are_not_visible(
    client: TestClient, app: Any, inst: Institution
) -> None:
    signed = issue(client, inst, unsigned_badge(inst.did)).json()["verifiableCredential"]
    other = make_institution(app, "third", name="Third")
    problem(
        client.get(other.path(f"/credentials/{signed['id']}"), headers=other.headers),
        404,
        "unknown_credential",
    )
    with app.state.issuer.db.session() as session:
        assert len(session.exec(select(IssuedCredential)).all()) == 1


VC_V1 = "https://www.w3.org/2018/credentials/v1"


def test_a_vcdm_1_1_credential_is_signed_as_1_1(
    client: TestClient, app: Any, inst: Institution, port: int
) -> None:
    """Conformance suites still send VCDM 1.1: it is signed as 1.1 (issuanceDate kept, the
    status and Data Integrity contexts added so that every signed term is defined)."""
    import contexts

    assert VC_V1 in contexts.manifest()  # shipped (contexts/MANIFEST.json): never skipped
    credential = {
        "@context": [VC_V1, "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": inst.did, "type": ["Profile"], "name": "Hogeschool Rijnland"},
        "issuanceDate": "2025-06-30T12:00:00Z",
        "credentialSubject": {
            "id": HOLDER,
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://hsrijnland.example/microcredentials/x",
                "type": ["Achievement"],
                "name": "X",
                "description": "X",
                "criteria": {"narrative": "X"},
            },
        },
    }
    answer = issue(client, inst, credential)
    assert answer.status_code == 201, answer.text
    signed = answer.json()["verifiableCredential"]
    assert signed["@context"] == [
        VC_V1,
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        "https://www.w3.org/ns/credentials/status/v1",
        "https://w3id.org/security/data-integrity/v2",
    ]
    assert signed["issuanceDate"] == "2025-06-30T12:00:00Z" and "validFrom" not in signed
    assert signed["proof"]["type"] == "DataIntegrityProof"
    with live_server(app, port):
        report = verifier().verify_credential(signed)
    assert report.verified, report.to_dict()
    assert report.to_dict()["profile"]["complete"] is False
