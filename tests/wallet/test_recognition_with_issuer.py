"""Recognition end to end over HTTP, the wallet against the real issuer (issue 17): the
learner follows the institution's published route, asks for recognition, consents to the
institution's signed OpenID4VP request, the exam board approves (issuer API), and the
wallet collects the route credential with the same key; the award's parts are found in
the wallet by digest, one of them from an issuer outside microcred."""

from __future__ import annotations

from typing import Any

import httpx

from tests.wallet.conftest import Account, WalletHarness
from tests.wallet.test_with_issuer import (  # noqa: F401 (fixtures)
    MODULE,
    LiveIssuer,
    live_issuer,
    wallet_live,
)

OUTSIDE_MODULE = "https://open-leren.example/modules/statistiek"


def _setup_route(issuer: LiveIssuer, outside_did: str) -> str:
    award = {**MODULE, "id": "doorstroom-data", "name": "Doorstroomroute Data", "ects": 10}
    answer = httpx.post(
        f"{issuer.url}/institutions/{issuer.slug}/modules", json=award, headers=issuer.headers
    )
    assert answer.status_code == 201, answer.text
    for did, name in ((issuer.did, "Hogeschool Rijnland"), (outside_did, "Open Leren")):
        added = httpx.post(
            f"{issuer.url}/institutions/{issuer.slug}/accepted-issuers",
            json={"did": did, "name": name},
            headers=issuer.headers,
        )
        assert added.status_code == 201, added.text
    own = httpx.get(f"{issuer.url}/institutions/{issuer.slug}/modules/{MODULE['id']}").json()
    rule = {
        "id": "doorstroom-data",
        "name": "Doorstroomroute Data",
        "required_modules": [
            {
                "id": "wrangling",
                "name": "Data Wrangling",
                "achievement_ids": [own["achievement_id"]],
            },
            {"id": "statistiek", "name": "Statistiek", "achievement_ids": [OUTSIDE_MODULE]},
        ],
    }
    published = httpx.post(
        f"{issuer.url}/institutions/{issuer.slug}/routes",
        json={"kind": "route", "rule": rule, "award_module": "doorstroom-data"},
        headers=issuer.headers,
    )
    assert published.status_code == 201, published.text
    return f"{issuer.url}/institutions/{issuer.slug}/routes/doorstroom-data"


def _hold_modules(wallet: WalletHarness, account: Account, issuer: LiveIssuer) -> list[str]:
    offer = issuer.offer()
    claimed = wallet.client.post(
        "/api/credentials/offers", json={"offer": offer["offer_uri"]}, headers=account.headers
    )
    assert claimed.status_code == 201, claimed.text
    outside = wallet.credential(account, id=OUTSIDE_MODULE, name="Statistiek", ects=5.0)
    return [claimed.json()["credentials"][0]["id"], wallet.store(account, outside)]


def _board(issuer: LiveIssuer, decision: dict[str, Any]) -> None:
    base = f"{issuer.url}/institutions/{issuer.slug}/recognition"
    cases = httpx.get(f"{base}/cases", headers=issuer.headers).json()["cases"]
    decided = httpx.post(
        f"{base}/board/{cases[0]['id']}/decision", json=decision, headers=issuer.headers
    )
    assert decided.status_code == 200, decided.text


def _ask_and_send(wallet: WalletHarness, account: Account, url: str, held: list[str]) -> str:
    adopted = wallet.client.post(
        "/api/recognition/routes", json={"url": url}, headers=account.headers
    )
    assert adopted.status_code == 201, adopted.text
    assert adopted.json()["satisfied"] is True, adopted.json()["missing"]
    asked = wallet.client.post(
        f"/api/recognition/routes/{adopted.json()['id']}/request", headers=account.headers
    )
    assert asked.status_code == 201, asked.text
    case = asked.json()
    preview = wallet.client.post(
        "/api/requests/preview",
        json={"request": case["authorizationRequest"]},
        headers=account.headers,
    )
    assert preview.status_code == 200, preview.text
    assert preview.json()["verifier"]["signedRequest"] is True
    picked = sorted({cid for q in preview.json()["queries"] for cid in q["selected"]})
    assert picked == sorted(held)
    sent = wallet.client.post(
        "/api/requests/respond",
        json={"request": case["authorizationRequest"], "credentialIds": picked, "consent": True},
        headers=account.headers,
    )
    assert sent.status_code == 200, sent.text
    return str(case["id"])


def test_route_recognised_and_the_award_collected_with_its_parts(
    wallet_live: WalletHarness,  # noqa: F811
    live_issuer: LiveIssuer,  # noqa: F811
) -> None:
    wallet = wallet_live
    account = wallet.signup()
    held = _hold_modules(wallet, account, live_issuer)
    url = _setup_route(live_issuer, wallet.issuer_key.controller)
    case_id = _ask_and_send(wallet, account, url, held)
    case = wallet.client.get(f"/api/recognition/cases/{case_id}", headers=account.headers).json()
    assert case["state"] == "open", case
    _board(live_issuer, {"decision": "approve"})
    case = wallet.client.get(f"/api/recognition/cases/{case_id}", headers=account.headers).json()
    assert case["state"] in ("approved", "awarded"), case
    assert case["credentialId"], case
    award = wallet.client.get(
        f"/api/credentials/{case['credentialId']}", headers=account.headers
    ).json()
    assert award["credential"]["credentialSubject"]["id"] == account.did
    stack = wallet.client.get(
        f"/api/recognition/credentials/{case['credentialId']}/parts", headers=account.headers
    ).json()
    assert [p["status"] for p in stack["parts"]] == ["found", "found"], stack
    assert (stack["modules"], stack["institutions"]) == (2, 2)
    assert sorted(stack["shareable"]) == sorted(held)


def test_a_declined_case_shows_the_reason_and_brings_no_credential(
    wallet_live: WalletHarness,  # noqa: F811
    live_issuer: LiveIssuer,  # noqa: F811
) -> None:
    wallet = wallet_live
    account = wallet.signup()
    held = _hold_modules(wallet, account, live_issuer)
    url = _setup_route(live_issuer, wallet.issuer_key.controller)
    case_id = _ask_and_send(wallet, account, url, held)
    _board(live_issuer, {"decision": "decline", "reason": "Statistiek is te oud."})
    case = wallet.client.get(f"/api/recognition/cases/{case_id}", headers=account.headers).json()
    assert case["state"] == "declined"
    assert case["reason"] == "Statistiek is te oud."
    assert case["credentialId"] is None
    assert len(wallet.client.get("/api/credentials", headers=account.headers).json()) == 2
