"""Learning routes: the published catalogue (operator CLI), adopting a route or bringing
one's own, and progress from the shared rules engine."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from credentials.keys import Multikey
from tests.wallet.conftest import WalletHarness
from tests.wallet.fakes import credential_for
from wallet.cli import app as cli

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples" / "routes"


def _route(issuer: str) -> dict:
    return {
        "id": "minor-data",
        "name": "Minor Data",
        "min_ects": 15,
        "min_eqf_level": 6,
        "accepted_issuers": [issuer],
        "required_modules": [
            {
                "id": "wrangling",
                "name": "Data Wrangling",
                "achievement_ids": ["https://hsrijnland.example/microcredentials/data-wrangling"],
            },
            {
                "id": "ml",
                "name": "Machine Learning",
                "achievement_ids": ["https://unidelta.example/modules/ml"],
            },
        ],
    }


def test_publish_with_the_cli_and_adopt(wallet: WalletHarness) -> None:
    runner = CliRunner()
    url = wallet.settings.database_url
    result = runner.invoke(
        cli, ["add-route", str(EXAMPLES / "minor-data-science.yaml"), "--database-url", url]
    )
    assert result.exit_code == 0, result.output
    assert "minor-data-science" in runner.invoke(cli, ["routes", "--database-url", url]).output
    account = wallet.signup()
    published = wallet.client.get("/api/routes/published", headers=account.headers).json()
    assert [r["id"] for r in published] == ["minor-data-science"]
    adopted = wallet.client.post(
        "/api/routes", json={"published": "minor-data-science"}, headers=account.headers
    )
    assert adopted.status_code == 201
    assert adopted.json()["source"] == "published"
    assert adopted.json()["satisfied"] is False
    assert adopted.json()["ectsRequired"] == 30
    again = wallet.client.post(
        "/api/routes", json={"published": "minor-data-science"}, headers=account.headers
    )
    assert again.status_code == 409
    bad = runner.invoke(cli, ["add-route", str(EXAMPLES / "nope.yaml"), "--database-url", url])
    assert bad.exit_code == 2
    removed = runner.invoke(cli, ["remove-route", "minor-data-science", "--database-url", url])
    assert removed.exit_code == 0
    assert wallet.client.get("/api/routes/published", headers=account.headers).json() == []
    # the learner keeps the copy they adopted
    assert len(wallet.client.get("/api/routes", headers=account.headers).json()) == 1


def test_progress_counts_verified_credentials(wallet: WalletHarness) -> None:
    account = wallet.signup()
    issuer = wallet.issuer_key.controller
    added = wallet.client.post(
        "/api/routes", json={"route": _route(issuer)}, headers=account.headers
    )
    assert added.status_code == 201, added.text
    route_id = added.json()["id"]
    wrangling = wallet.store(account)
    progress = wallet.client.get(f"/api/routes/{route_id}", headers=account.headers).json()
    assert progress["satisfied"] is False
    assert progress["ectsTotal"] == 7.5
    assert any("Machine Learning" in m for m in progress["missing"])
    assert [c["credential_id"] for c in progress["credentials"] if c["counts"]] == [wrangling]
    wallet.store(
        account, id="https://unidelta.example/modules/ml", name="Machine Learning", ects=7.5
    )
    progress = wallet.client.get(f"/api/routes/{route_id}", headers=account.headers).json()
    assert progress["satisfied"] is True and progress["ectsTotal"] == 15
    listed = wallet.client.get("/api/routes", headers=account.headers).json()
    assert [(r["routeId"], r["satisfied"]) for r in listed] == [("minor-data", True)]


def test_unverified_and_revoked_credentials_do_not_count(wallet: WalletHarness) -> None:
    account = wallet.signup()
    issuer = wallet.internet.issuer
    route = _route(issuer.key.controller)
    route_id = wallet.client.post(
        "/api/routes", json={"route": route}, headers=account.headers
    ).json()["id"]
    credential = credential_for(issuer.key, account.did, status=issuer.status_entry())
    stored = wallet.store(account, credential)
    issuer.revoke(credential)
    wallet.client.get(
        f"/api/credentials/{stored}", params={"refresh": "true"}, headers=account.headers
    )
    forged = credential_for(issuer.key, account.did, id="https://unidelta.example/modules/ml")
    forged["credentialSubject"]["achievement"]["name"] = "Forged"
    wallet.client.post(
        "/api/credentials/import",
        json={"credential": forged, "keepUnverified": True},
        headers=account.headers,
    )
    progress = wallet.client.get(f"/api/routes/{route_id}", headers=account.headers).json()
    codes = sorted(c["code"] for c in progress["credentials"])
    assert codes == ["revoked", "unverified"]
    assert progress["ectsTotal"] == 0


def test_issuers_outside_the_route_do_not_count(wallet: WalletHarness) -> None:
    account = wallet.signup()
    route_id = wallet.client.post(
        "/api/routes",
        json={"route": _route(Multikey.generate().controller)},
        headers=account.headers,
    ).json()["id"]
    wallet.store(account)
    progress = wallet.client.get(f"/api/routes/{route_id}", headers=account.headers).json()
    assert progress["credentials"][0]["code"] == "issuer_not_accepted"


@pytest.mark.parametrize(
    "body",
    [
        {"route": {"id": "x", "name": "X", "min_etcs": 3}},
        {"route": "nope"},
        {},
        {"route": {"id": "x", "name": "X"}, "published": "y"},
        {"published": 3},
    ],
)
def test_bad_route_definitions(wallet: WalletHarness, body: dict) -> None:
    account = wallet.signup()
    response = wallet.client.post("/api/routes", json=body, headers=account.headers)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_route"


def test_remove_a_route(wallet: WalletHarness) -> None:
    account = wallet.signup()
    route_id = wallet.client.post(
        "/api/routes", json={"route": _route("did:web:x.example")}, headers=account.headers
    ).json()["id"]
    assert (
        wallet.client.delete(f"/api/routes/{route_id}", headers=account.headers).status_code == 204
    )
    assert wallet.client.get(f"/api/routes/{route_id}", headers=account.headers).status_code == 404
    unknown = wallet.client.post("/api/routes", json={"published": "nope"}, headers=account.headers)
    assert unknown.status_code == 404


def test_progress_re_checks_a_stale_status_instead_of_trusting_the_stored_one(
    wallet: WalletHarness,
) -> None:
    """Issue 14 item 10: route progress used the last stored status; a credential revoked
    since kept counting until someone opened its detail page."""
    account = wallet.signup()
    issuer = wallet.internet.issuer
    route_id = wallet.client.post(
        "/api/routes", json={"route": _route(issuer.key.controller)}, headers=account.headers
    ).json()["id"]
    credential = credential_for(issuer.key, account.did, status=issuer.status_entry())
    wallet.store(account, credential)
    before = wallet.client.get(f"/api/routes/{route_id}", headers=account.headers).json()
    assert before["ectsTotal"] == 7.5
    issuer.revoke(credential)
    wallet.clock.advance(wallet.settings.status_recheck_seconds + 1)
    after = wallet.client.get(f"/api/routes/{route_id}", headers=account.headers).json()
    assert after["ectsTotal"] == 0
    assert [c["code"] for c in after["credentials"] if "code" in c] == ["revoked"]
