"""A learner sees and touches only their own data: every route that takes an id answers
404 for another learner's id (the same answer as for an id that does not exist)."""

from __future__ import annotations

import pytest

from tests.wallet.conftest import Account, WalletHarness


@pytest.fixture
def owner_and_intruder(wallet: WalletHarness) -> tuple[Account, Account, dict[str, str]]:
    owner, intruder = wallet.signup("owner"), wallet.signup("intruder")
    credential = wallet.store(owner)
    share = wallet.client.post(
        "/api/shares", json={"credentialIds": [credential]}, headers=owner.headers
    ).json()["id"]
    route = wallet.client.post(
        "/api/routes", json={"route": {"id": "r", "name": "R"}}, headers=owner.headers
    ).json()["id"]
    link = wallet.internet.verifier.create(
        {
            "credentials": [
                {
                    "id": "badge",
                    "format": "ldp_vc",
                    "meta": {
                        "type_values": [
                            ["https://www.w3.org/2018/credentials#VerifiableCredential"]
                        ]
                    },
                }
            ]
        }
    )
    wallet.client.post("/api/requests/decline", json={"request": link}, headers=owner.headers)
    disclosure = wallet.client.get("/api/disclosures", headers=owner.headers).json()[0]["id"]
    ids = {"credential": credential, "share": share, "route": route, "disclosure": disclosure}
    return owner, intruder, ids


ROUTES = [
    ("GET", "/api/credentials/{credential}", None),
    ("DELETE", "/api/credentials/{credential}", None),
    ("GET", "/api/shares/{share}", None),
    ("DELETE", "/api/shares/{share}", None),
    ("GET", "/api/shares/{share}/accesses", None),
    ("GET", "/api/routes/{route}", None),
    ("DELETE", "/api/routes/{route}", None),
    ("GET", "/api/disclosures/{disclosure}", None),
    ("POST", "/api/shares", {"credentialIds": ["{credential}"]}),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_another_learners_ids_are_not_found(
    wallet: WalletHarness, owner_and_intruder: tuple, method: str, path: str, body: object
) -> None:
    owner, intruder, ids = owner_and_intruder
    url = path.format(**ids)
    json_body = None
    if body is not None:
        json_body = {"credentialIds": [ids["credential"]]}
    response = wallet.client.request(method, url, json=json_body, headers=intruder.headers)
    assert response.status_code == 404, (url, response.text)
    missing = wallet.client.request(
        method,
        path.format(**{k: "00000000-0000-4000-8000-000000000000" for k in ids}),
        json=json_body and {"credentialIds": ["00000000-0000-4000-8000-000000000000"]},
        headers=intruder.headers,
    )
    assert missing.status_code == 404
    assert missing.json()["detail"] == response.json()["detail"]
    # and the owner still has it all
    assert (
        wallet.client.get(
            f"/api/credentials/{ids['credential']}", headers=owner.headers
        ).status_code
        == 200
    )
    assert (
        wallet.client.get(f"/api/shares/{ids['share']}", headers=owner.headers).status_code == 200
    )


def test_lists_show_only_my_own(wallet: WalletHarness, owner_and_intruder: tuple) -> None:
    owner, intruder, _ = owner_and_intruder
    for path in ("/api/credentials", "/api/shares", "/api/routes", "/api/disclosures"):
        assert wallet.client.get(path, headers=intruder.headers).json() == [], path
        assert len(wallet.client.get(path, headers=owner.headers).json()) == 1, path
    exported = wallet.client.get("/api/export", headers=intruder.headers).json()
    assert exported["credentials"] == exported["shares"] == exported["routes"] == []


def test_a_request_cannot_be_answered_with_another_learners_credential(
    wallet: WalletHarness, owner_and_intruder: tuple
) -> None:
    _, intruder, ids = owner_and_intruder
    link = wallet.internet.verifier.create(
        {
            "credentials": [
                {
                    "id": "badge",
                    "format": "ldp_vc",
                    "meta": {
                        "type_values": [
                            ["https://www.w3.org/2018/credentials#VerifiableCredential"]
                        ]
                    },
                }
            ]
        }
    )
    response = wallet.client.post(
        "/api/requests/respond",
        json={"request": link, "credentialIds": [ids["credential"]], "consent": True},
        headers=intruder.headers,
    )
    assert response.status_code == 404
    preview = wallet.client.post(
        "/api/requests/preview", json={"request": link}, headers=intruder.headers
    ).json()
    assert preview["queries"][0]["matches"] == []
