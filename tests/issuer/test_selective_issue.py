"""Issue 18: a module issued with selective disclosure (ecdsa-sd-2023), over the API."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from credentials import disclosure, ecdsa_sd
from credentials.documents import DocumentLoader
from tests.issuer.support import Institution, make_institution, module_spec, problem, verifier
from tests.support.servers import live_server

LEARNER = {"email": "jan@example.nl", "student_number": "500123"}
RESULT = {"grade": "8,5", "awarded_date": "2026-06-30", "status": "Completed"}


def sd_module(client: TestClient, inst: Institution) -> dict[str, Any]:
    spec = module_spec(proof_suite="ecdsa-sd-2023")
    response = client.post(inst.path("/modules"), json=spec, headers=inst.headers)
    assert response.status_code == 201, response.text
    return response.json()


def issue(client: TestClient, inst: Institution, module: dict[str, Any]) -> Any:
    body = {"module_id": module["id"], "learner": LEARNER, "result": RESULT}
    return client.post(inst.path("/issuances"), json=body, headers=inst.headers)


def test_a_selective_module_issues_a_base_proof_with_the_mandatory_pointers(
    client: TestClient, app: Any, port: int
) -> None:
    inst = make_institution(app, "roc", name="ROC Noordkust", key_type="p256")
    module = sd_module(client, inst)
    response = issue(client, inst, module)
    assert response.status_code == 201, response.text
    credential = response.json()["verifiableCredential"]
    proof = credential["proof"]
    assert proof["cryptosuite"] == "ecdsa-sd-2023"
    base = ecdsa_sd.parse_base(proof["proofValue"])
    assert base.mandatory_pointers == disclosure.mandatory_pointers(credential)
    assert {"/issuer", "/validFrom", "/credentialStatus", "/credentialSubject/achievement"} <= set(
        base.mandatory_pointers
    )
    assert [f.key for f in disclosure.disclosable_fields(credential)] == [
        "grade",
        "email",
        "student_number",
    ]
    with live_server(app, port):
        report = verifier().verify_credential(credential)
        assert report.verified, report.to_dict()
        # the learner leaves out the grade and her identities: still verifies, with status
        reveal = ecdsa_sd.derive(
            credential, disclosure.selective_pointers(credential, set()), DocumentLoader()
        )
        assert "result" not in reveal["credentialSubject"]
        assert "8,5" not in str(reveal)
        assert reveal["credentialSubject"]["achievement"] == (
            credential["credentialSubject"]["achievement"]
        )
        derived = verifier().verify_credential(reveal)
    assert derived.verified, derived.to_dict()
    assert derived.outcome_of("status").outcome == "passed"


def test_selective_disclosure_needs_a_p256_institution_key(
    client: TestClient, inst: Institution
) -> None:
    module = sd_module(client, inst)  # the default institution signs with Ed25519
    problem(issue(client, inst, module), 409, "selective_disclosure_needs_p256")


def test_an_unknown_proof_suite_is_refused_at_the_catalogue(
    client: TestClient, inst: Institution
) -> None:
    spec = module_spec(proof_suite="bbs-2023")
    response = client.post(inst.path("/modules"), json=spec, headers=inst.headers)
    assert response.status_code == 422


def test_the_console_module_form_carries_the_choice() -> None:
    from issuer.routes.pages.catalogue import _module_body

    form = {"name": "M", "description": "D", "participation_form": "online"}
    assert "proof_suite" not in _module_body(form)
    assert _module_body({**form, "proof_suite": "ecdsa-sd-2023"})["proof_suite"] == (
        "ecdsa-sd-2023"
    )
    template = (
        __import__("pathlib").Path(__file__).resolve().parents[2]
        / "issuer/templates/modules.html"
    ).read_text()
    assert 'name="proof_suite"' in template and 'value="ecdsa-sd-2023"' in template


def test_a_reissued_selective_credential_stays_selective(client: TestClient, app: Any) -> None:
    inst = make_institution(app, "roc", name="ROC Noordkust", key_type="p256")
    original = issue(client, inst, sd_module(client, inst)).json()["verifiableCredential"]
    rotated = client.post(
        inst.path("/keys/rotate"), json={"compromised": True}, headers=inst.headers
    )
    assert rotated.status_code == 201, rotated.text
    answer = client.post(inst.path("/keys/1/reissue"), headers=inst.headers).json()
    assert answer["counts"]["reissued"] == 1, answer
    (replacement,) = answer["replacements"]
    stored = client.get(
        inst.path(f"/credentials/{replacement['replaced_by']}"), headers=inst.headers
    ).json()["verifiableCredential"]
    assert stored["proof"]["cryptosuite"] == "ecdsa-sd-2023"
    assert stored["id"] != original["id"]
    assert ecdsa_sd.parse_base(stored["proof"]["proofValue"]).mandatory_pointers == (
        disclosure.mandatory_pointers(stored)
    )
