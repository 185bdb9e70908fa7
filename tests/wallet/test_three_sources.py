"""Issue 13, Must show: a learning route completed in the wallet from three sources, and the
same file passing an admission rule at the verifier.

The three credentials:

1. a module credential from a microcred institution: the real issuer app (issuer/) on
   loopback, claimed by the wallet through its OpenID4VCI offer;
2. an Open Badges 3.0 credential from an issuer that never heard of microcred: a did:key
   issuer signing a plain OB 3.0 shape (VC 2.0 + OB 3.0.3 contexts only, ``creditsAvailable``
   and an EQF alignment) with the core's ``sign``;
3. an Open Badges 2.0 hosted badge, edubadges-shaped, served by a local badge host
   (tests/support/badge_host.py) and imported by its assertion URL.

The wallet's export is written to a file; the verifier service reads that file's
credentials and evaluates the same route as an admission rule.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from credentials.fetch import FetchPolicy, SafeFetcher
from credentials.keys import Multikey
from servicekit.migrations import upgrade
from tests.support.badge_host import ASSERTION, ISSUER, BadgeHost, badge_host
from tests.verifier.support import dev_verifier
from tests.wallet.conftest import PUBLIC_URL, Account, WalletHarness, make_keystore
from tests.wallet.fakes import Clock, FakeInternet
from tests.wallet.test_open_world_import import FOREIGN_ACHIEVEMENT, foreign_ob3
from tests.wallet.test_with_issuer import LiveIssuer, live_issuer  # noqa: F401 (fixture)
from wallet.config import Settings as WalletSettings
from wallet.main import create_app as create_wallet


def plain_ob3(issuer: Multikey, holder_did: str) -> dict[str, Any]:
    """An OB 3.0 credential as any OB 3.0 issuer makes it: no microcred context or terms."""
    issued = (datetime.now(UTC) - timedelta(days=30)).replace(microsecond=0)
    return foreign_ob3(issuer, holder_did, issued=issued.isoformat().replace("+00:00", "Z"))


def route(microcred_issuer: str, foreign_issuer: str, badge_issuer: str) -> dict[str, Any]:
    return {
        "id": "minor-data-science",
        "name": "Minor Data Science",
        "min_ects": 17.5,
        "min_eqf_level": 6,
        "accepted_issuers": [microcred_issuer, foreign_issuer, badge_issuer],
        "required_modules": [
            {"id": "wrangling", "name": "Data Wrangling", "keywords": ["data wrangling"]},
            {"id": "ml", "name": "Machine Learning", "achievement_ids": [FOREIGN_ACHIEVEMENT]},
            {"id": "stats", "name": "Statistics", "keywords": ["statistics"]},
        ],
    }


@pytest.fixture
def host() -> Iterator[BadgeHost]:
    with badge_host() as running:
        yield running


@pytest.fixture
def wallet(
    database_url: str,
    tmp_path: Path,
    live_issuer: LiveIssuer,  # noqa: F811 (the fixture imported above)
) -> Iterator[WalletHarness]:
    upgrade("wallet", database_url)
    settings = WalletSettings(
        database_url=database_url,
        public_url=PUBLIC_URL,
        dev=True,  # the issuer and the badge host are on loopback
        data_dir=tmp_path / "wallet",
        known_issuers=[live_issuer.did],
        password_time_cost=1,
        password_memory_kib=8192,
    )
    fetcher = SafeFetcher(FetchPolicy(allow_insecure=True, timeout=30))
    app = create_wallet(settings, clock=Clock(), fetcher=fetcher, keystore=make_keystore())
    with TestClient(app, base_url=PUBLIC_URL) as client:
        yield WalletHarness(client, FakeInternet(), Clock(), settings)


@pytest.fixture
def verifier(tmp_path: Path) -> Iterator[TestClient]:
    with dev_verifier(tmp_path) as client:
        yield client


def _receive_all(
    wallet: WalletHarness, account: Account, issuer: LiveIssuer, host: BadgeHost
) -> dict[str, str]:
    offer = issuer.offer()
    claimed = wallet.client.post(
        "/api/credentials/offers", json={"offer": offer["offer_uri"]}, headers=account.headers
    )
    assert claimed.status_code == 201, claimed.text
    foreign = wallet.client.post(
        "/api/credentials/import",
        json={"credential": plain_ob3(FOREIGN_KEY, account.did)},
        headers=account.headers,
    )
    assert foreign.status_code == 201, foreign.text
    host.publish_edubadges()
    badge = wallet.client.post(
        "/api/credentials/import", json={"url": host.url(ASSERTION)}, headers=account.headers
    )
    assert badge.status_code == 201, badge.text
    return {
        "microcred": claimed.json()["credentials"][0]["id"],
        "ob3": foreign.json()["id"],
        "ob2": badge.json()["id"],
    }


FOREIGN_KEY = Multikey.generate()


def test_a_route_from_three_sources_and_the_same_file_at_the_verifier(
    wallet: WalletHarness,
    live_issuer: LiveIssuer,  # noqa: F811
    host: BadgeHost,
    verifier: TestClient,
    tmp_path: Path,
) -> None:
    account = wallet.signup()
    ids = _receive_all(wallet, account, live_issuer, host)
    stored = wallet.client.get("/api/credentials", headers=account.headers).json()
    listed = {c["id"]: c for c in stored}
    assert all(listed[i]["verified"] for i in ids.values()), listed
    assert (listed[ids["ob3"]]["ects"], listed[ids["ob3"]]["level"]) == (5, 6)
    assert (listed[ids["ob2"]]["ects"], listed[ids["ob2"]]["level"]) == (5, 6)

    rule = route(live_issuer.did, FOREIGN_KEY.controller, host.url(ISSUER))
    added = wallet.client.post("/api/routes", json={"route": rule}, headers=account.headers)
    assert added.status_code == 201, added.text
    progress = added.json()
    assert progress["satisfied"] is True, progress
    assert progress["ectsTotal"] == 17.5
    counted = {c["credential_id"]: c["fills"] for c in progress["credentials"] if c["counts"]}
    assert counted == {
        ids["microcred"]: ["module:wrangling"],
        ids["ob3"]: ["module:ml"],
        ids["ob2"]: ["module:stats"],
    }

    # the same file: the wallet's export, written out and read back
    export = wallet.client.get("/api/export", headers=account.headers)
    assert export.status_code == 200
    path = tmp_path / "microcred-wallet-export.json"
    path.write_bytes(export.content)
    documents = [entry["credential"] for entry in json.loads(path.read_text())["credentials"]]
    assert len(documents) == 3

    response = verifier.post("/admissions/evaluate", json={"credentials": documents, "rule": rule})
    assert response.status_code == 200, response.text
    outcome = response.json()
    assert outcome["rejected"] == [], outcome["rejected"]
    assert outcome["satisfied"] is True, outcome
    assert outcome["ects_total"] == 17.5
    formats = sorted(
        (r.get("summary") or {}).get("format", "VC") for r in outcome["verification"]["credentials"]
    )
    assert "Open Badges 2.0 · hosted" in formats

    # a file that lost one source no longer passes
    short = verifier.post(
        "/admissions/evaluate", json={"credentials": documents[:2], "rule": rule}
    ).json()
    assert short["satisfied"] is False

