"""Offer states follow what the wallet holds, and a crash cannot leave one in ``issuing``
(issue 14.1).

Before: ``issued`` was recorded when the credential left the issuer, whatever the wallet
did with it; a wallet that threw it away left the institution believing the learner had
it, and ``reissue`` thought the offer done. An offer whose issuing process died stayed in
``issuing`` forever.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import col

from issuer.models import Offer
from issuer.services import oid4vci_flow
from tests.issuer.oid4vci_wallet import CONFIGURATION, Wallet, code_of, flow_until_token
from tests.issuer.support import Clock, Institution


def collect(
    client: TestClient, inst: Institution, clock: Clock, port: int
) -> tuple[dict[str, Any], str, dict[str, Any], Wallet]:
    """An offer collected over the protocol: (offer, access token, response, wallet)."""
    wallet, created, access = flow_until_token(client, inst, clock)
    nonce = wallet.nonce(inst.path("/nonce"))
    issuer = f"http://127.0.0.1:{port}/institutions/{inst.slug}"
    body = {
        "credential_configuration_id": CONFIGURATION,
        "proofs": {"jwt": [wallet.proof(issuer, nonce)]},
    }
    answer = wallet.credential(inst.path("/credential"), access, body)
    assert answer.status_code == 200, answer.text
    return created, access, answer.json(), wallet


def state(client: TestClient, inst: Institution, offer_id: str) -> str:
    response = client.get(inst.path(f"/offers/{offer_id}"), headers=inst.headers)
    return str(response.json()["state"])


def notify(client: TestClient, inst: Institution, access: str, body: Any) -> Any:
    return client.post(
        inst.path("/notification"), json=body, headers={"Authorization": f"Bearer {access}"}
    )


def test_the_wallet_says_whether_it_holds_the_credential(
    client: TestClient, inst: Institution, module: Any, clock: Clock, port: int
) -> None:
    meta = client.get(f"/.well-known/openid-credential-issuer/institutions/{inst.slug}").json()
    assert meta["notification_endpoint"].endswith(f"/institutions/{inst.slug}/notification")
    created, access, answer, _ = collect(client, inst, clock, port)
    assert state(client, inst, created["id"]) == "issued"  # sent, not yet confirmed
    notification_id = answer["notification_id"]

    wrong = notify(client, inst, access, {"notification_id": "x", "event": "credential_accepted"})
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_notification_id")
    bad = notify(client, inst, access, {"notification_id": notification_id, "event": "maybe"})
    assert (bad.status_code, bad.json()["error"]) == (400, "invalid_notification_request")
    stranger = notify(
        client, inst, "not-a-token", {"notification_id": notification_id, "event": "x"}
    )
    assert stranger.status_code == 401

    ok = notify(
        client, inst, access, {"notification_id": notification_id, "event": "credential_accepted"}
    )
    assert ok.status_code == 204, ok.text
    assert state(client, inst, created["id"]) == "accepted"


def test_a_replacement_the_wallet_could_not_keep_is_offered_again_by_reissue(
    client: TestClient, inst: Institution, module: Any, clock: Clock, port: int
) -> None:
    *_, wallet = collect(client, inst, clock, port)  # signed with key-1
    rotated = client.post(
        inst.path("/keys/rotate"), json={"compromised": True}, headers=inst.headers
    )
    assert rotated.status_code == 201, rotated.text
    first = client.post(inst.path("/keys/1/reissue"), headers=inst.headers).json()
    assert first["counts"]["offered"] == 1
    replacement = first["replacements"][0]["offer"]

    offer = wallet.offer(replacement["offer_uri"])
    token = wallet.token(inst.path("/token"), code_of(offer), replacement.get("pin"))
    access = token.json()["access_token"]
    nonce = wallet.nonce(inst.path("/nonce"))
    body = {
        "credential_configuration_id": CONFIGURATION,
        "proofs": {"jwt": [wallet.proof(f"http://127.0.0.1:{port}/institutions/hsr", nonce)]},
    }
    response = wallet.credential(inst.path("/credential"), access, body)
    assert response.status_code == 200, response.text
    answer = response.json()
    failed = notify(
        client,
        inst,
        access,
        {
            "notification_id": answer["notification_id"],
            "event": "credential_failure",
            "event_description": "the proof did not verify",
        },
    )
    assert failed.status_code == 204
    assert state(client, inst, replacement["id"]) == "failed"

    again = client.post(inst.path("/keys/1/reissue"), headers=inst.headers).json()
    assert again["counts"]["offered"] == 1, again  # before: "done", the learner had nothing


def test_offers_stuck_in_issuing_are_swept_back(
    client: TestClient, app: Any, inst: Institution, module: Any, clock: Clock
) -> None:
    ctx = app.state.issuer
    _, created, _ = flow_until_token(client, inst, clock)
    with ctx.db.session() as session:  # the process died between "issuing" and "issued"
        session.execute(update(Offer).where(col(Offer.id) == created["id"]).values(state="issuing"))
    assert oid4vci_flow.sweep_stuck(ctx, older_than=300) == []  # could still be in flight
    clock.advance(301)
    assert oid4vci_flow.sweep_stuck(ctx, older_than=300) == [created["id"]]
    assert state(client, inst, created["id"]) == "redeemed"
    cancelled = client.delete(inst.path(f"/offers/{created['id']}"), headers=inst.headers)
    assert cancelled.status_code == 200, cancelled.text  # the institution can act on it now
