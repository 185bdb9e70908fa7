"""Issue 14 item 10: the issuer refuses to sign what is wrong from the start.

* a credential whose ``validUntil`` has passed (it would fail every verification);
* a learner DID ``did:example:…`` (reserved for documentation, resolves nowhere) from the
  API or a CSV row.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.issuer.support import Institution, problem, snapshot, unsigned_badge

PAST = "2001-01-01T00:00:00Z"
HOLDER = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"


def test_a_module_credential_already_expired_is_refused(
    client: TestClient, app: Any, inst: Institution, module: Any
) -> None:
    before = snapshot(app)
    body = {"module_id": "data-wrangling", "learner": {"did": HOLDER}, "valid_until": PAST}
    answer = client.post(inst.path("/issuances"), json=body, headers=inst.headers)
    assert problem(answer, 400, "already_expired")["field"] == "valid_until"
    offer = client.post(inst.path("/offers"), json=body, headers=inst.headers)
    problem(offer, 400, "already_expired")
    assert snapshot(app) == before


def test_a_vc_api_credential_already_expired_is_refused(
    client: TestClient, app: Any, inst: Institution
) -> None:
    credential = {**unsigned_badge(inst.did), "validUntil": PAST}
    before = snapshot(app)
    answer = client.post(
        inst.path("/credentials/issue"), json={"credential": credential}, headers=inst.headers
    )
    problem(answer, 400, "already_expired")
    assert snapshot(app) == before
    credential["validUntil"] = "2999-01-01T00:00:00Z"
    ok = client.post(
        inst.path("/credentials/issue"), json={"credential": credential}, headers=inst.headers
    )
    assert ok.status_code == 201, ok.text


def test_a_did_example_learner_is_refused_by_the_api_and_in_a_csv(
    client: TestClient, app: Any, inst: Institution, module: Any
) -> None:
    body = {"module_id": "data-wrangling", "learner": {"did": "did:example:jan"}}
    answer = client.post(inst.path("/issuances"), json=body, headers=inst.headers)
    assert answer.status_code in (400, 422), answer.text
    assert answer.json()["errors"][0]["field"] == "learner.did"
    csv = f"did,grade\ndid:example:jan,8\n{HOLDER},8\n"
    headers = {**inst.headers, "Content-Type": "text/csv", "Idempotency-Key": "ex"}
    report = client.post(
        inst.path("/batches?module_id=data-wrangling"), content=csv.encode(), headers=headers
    ).json()
    rows = {r["row"]: r for r in report["rows"]}
    assert rows[2]["status"] == "failed" and rows[2]["error"]["field"] == "did"
    assert rows[3]["status"] == "issued"
