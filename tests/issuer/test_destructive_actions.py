"""Issue 16 point 6 (issuer side): revoking, suspending and cancelling an offer each ask
first, saying what happens; the reason goes to the learner through the public status
notice (``GET /credentials/status-notice?id=``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi.testclient import TestClient

from tests.issuer.oid4vci_wallet import create_offer
from tests.issuer.support import Institution
from tests.issuer.test_cohort_delivery import log_in
from tests.issuer.test_status import issue

NOTICE = "/credentials/status-notice"


def status_of(client: TestClient, credential_id: str) -> str:
    return str(client.get(NOTICE, params={"id": credential_id}).json()["status"])


def post_status(client: TestClient, csrf: str, credential_id: str, **form: str) -> Any:
    return client.post(
        "/console/credential/status",
        data={"csrf_token": csrf, "credential_id": credential_id, **form},
        follow_redirects=False,
    )


def test_revoking_asks_first_and_needs_a_reason_the_learner_then_reads(
    client: TestClient, inst: Institution
) -> None:
    credential = issue(client, inst)
    cid = credential["id"]
    csrf = log_in(client, inst)
    page = client.get("/console/credential", params={"id": cid}).text
    assert f"/console/credential/confirm?id={quote(cid, safe='/')}&amp;action=revoke" in page

    confirm = client.get("/console/credential/confirm", params={"id": cid, "action": "revoke"})
    assert confirm.status_code == 200
    assert "voorgoed ongeldig" in confirm.text and "niet ongedaan maken" in confirm.text
    assert "De student ziet deze reden in zijn wallet" in confirm.text
    assert status_of(client, cid) == "active"  # asking changed nothing

    # a post that skips the confirmation step only shows that step
    skipped = post_status(client, csrf, cid, action="revoke", reason="fraude")
    assert skipped.status_code == 200 and "data-confirm" in skipped.text
    assert status_of(client, cid) == "active"
    # confirmed without a reason: asked again, nothing changed
    bare = post_status(client, csrf, cid, action="revoke", confirmed="1", reason="  ")
    assert bare.status_code == 400 and "Geef een reden op" in bare.text
    assert status_of(client, cid) == "active"

    done = post_status(
        client, csrf, cid, action="revoke", confirmed="1", reason="Toets opnieuw beoordeeld"
    )
    assert done.status_code == 303
    notice = client.get(NOTICE, params={"id": cid})
    assert notice.status_code == 200
    assert notice.headers["access-control-allow-origin"] == "*"
    body = notice.json()
    assert body["credential_id"] == cid
    assert body["status"] == "revoked"
    assert body["reason"] == "Toets opnieuw beoordeeld"
    assert body["since"]
    assert set(body) == {"credential_id", "status", "reason", "since"}  # nothing personal


def test_suspending_asks_first_and_its_reason_is_published_until_lifted(
    client: TestClient, inst: Institution
) -> None:
    cid = issue(client, inst)["id"]
    csrf = log_in(client, inst)
    confirm = client.get("/console/credential/confirm", params={"id": cid, "action": "suspend"})
    assert "totdat je de schorsing opheft" in confirm.text
    done = post_status(client, csrf, cid, action="suspend", confirmed="1", reason="Onderzoek")
    assert done.status_code == 303
    body = client.get(NOTICE, params={"id": cid}).json()
    assert (body["status"], body["reason"]) == ("suspended", "Onderzoek")
    lifted = post_status(client, csrf, cid, action="unsuspend")  # restoring asks nothing
    assert lifted.status_code == 303
    body = client.get(NOTICE, params={"id": cid}).json()
    assert (body["status"], body["reason"]) == ("active", None)


def test_the_notice_of_an_unknown_credential_is_a_404_problem(client: TestClient) -> None:
    answer = client.get(NOTICE, params={"id": "urn:uuid:00000000-0000-4000-8000-000000000000"})
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["code"] == "unknown_credential"


def test_cancelling_an_offer_asks_first(client: TestClient, inst: Institution, module: Any) -> None:
    offer = create_offer(client, inst)
    csrf = log_in(client, inst)
    page = client.get(f"/console/offers/{offer['id']}").text
    assert f'href="/console/offers/{offer["id"]}/cancel"' in page
    assert f'action="/console/offers/{offer["id"]}/cancel"' not in page  # no one-click form
    confirm = client.get(f"/console/offers/{offer['id']}/cancel")
    assert confirm.status_code == 200 and "werken daarna niet meer" in confirm.text
    assert (
        client.get(inst.path(f"/offers/{offer['id']}"), headers=inst.headers).json()["state"]
        == "offered"
    )
    done = client.post(
        f"/console/offers/{offer['id']}/cancel",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert done.status_code == 303
    state = client.get(inst.path(f"/offers/{offer['id']}"), headers=inst.headers).json()
    assert state["state"] == "cancelled"
