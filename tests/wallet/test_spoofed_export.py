"""Issue 14, item 3: a spoofed export made the wallet vouch for another learner's credential.

Importing learner A's credential directly is refused (bound to another DID). Wrapped in a
hand-made "export" whose ``learner.did`` is A's DID, it used to be stored as verified, and
the public share page vouched for it. An import now proves possession of the key of every
DID it claims (the export is signed by the exporting wallet's holder key).
"""

from __future__ import annotations

import copy
from typing import Any

from tests.wallet.conftest import WalletHarness


def _fake_export(victim_did: str, credential: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": "microcred-wallet-export",
        "version": 1,
        "learner": {"username": "a", "did": victim_did},
        "credentials": [{"id": "x", "credential": credential}],
        "shares": [],
        "routes": [],
    }


def _only(wallet: WalletHarness, account: Any) -> dict[str, Any]:
    (listed,) = wallet.client.get("/api/credentials", headers=account.headers).json()
    return wallet.client.get(f"/api/credentials/{listed['id']}", headers=account.headers).json()


def _page(wallet: WalletHarness, account: Any, credential_id: str) -> str:
    share = wallet.client.post(
        "/api/shares",
        json={"credentialIds": [credential_id], "expiresIn": 600},
        headers=account.headers,
    ).json()
    return wallet.client.post("/s/" + share["url"].rsplit("/", 1)[1]).text  # the button


def test_a_hand_made_export_claiming_another_learners_did_is_not_vouched_for(
    wallet: WalletHarness,
) -> None:
    victim = wallet.signup("victim")
    credential = wallet.credential(victim)  # A's genuine credential, bound to A's DID
    attacker = wallet.signup("attacker")
    direct = wallet.client.post(
        "/api/credentials/import", json={"credential": credential}, headers=attacker.headers
    )
    assert direct.status_code >= 400  # refused directly, as before
    spoofed = wallet.client.post(
        "/api/import", json=_fake_export(victim.did, credential), headers=attacker.headers
    )
    assert spoofed.status_code == 201, spoofed.text
    detail = _only(wallet, attacker)
    assert detail["verified"] is False
    holder = next(c for c in detail["report"]["checks"] if c["id"] == "holder")
    assert (holder["outcome"], holder["code"]) == ("failed", "previous_did_not_proven")
    page = _page(wallet, attacker, detail["id"])
    assert 'data-verdict="verified"' not in page
    assert 'data-verdict="failed"' in page and "data-holder-warning" in page


def test_a_signed_export_from_the_learners_own_wallet_keeps_its_credentials_verified(
    wallet: WalletHarness,
) -> None:
    old = wallet.signup("exporter")
    wallet.store(old)
    bundle = wallet.client.get("/api/export", headers=old.headers).json()
    assert bundle["proof"]["proofPurpose"] == "authentication"
    new = wallet.signup("importer")
    assert wallet.client.post("/api/import", json=bundle, headers=new.headers).status_code == 201
    detail = _only(wallet, new)
    assert detail["verified"] is True
    holder = next(c for c in detail["report"]["checks"] if c["id"] == "holder")
    assert holder["code"] == "bound_to_previous_did"


def test_a_signed_export_edited_to_claim_another_did_proves_nothing(
    wallet: WalletHarness,
) -> None:
    victim = wallet.signup("victim")
    credential = wallet.credential(victim)
    attacker = wallet.signup("attacker")
    bundle = wallet.client.get("/api/export", headers=attacker.headers).json()
    forged = copy.deepcopy(bundle)  # the attacker's own signature, the victim's DID and badge
    forged["learner"]["did"] = victim.did
    forged["credentials"] = [{"id": "x", "credential": credential}]
    fresh = wallet.signup("fresh")
    assert wallet.client.post("/api/import", json=forged, headers=fresh.headers).status_code == 201
    assert _only(wallet, fresh)["verified"] is False
