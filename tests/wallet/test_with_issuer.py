"""The wallet against the real issuer app (issuer/), served on loopback in dev mode:
offer → claim → a credential bound to the learner's DID; revoked afterwards → the wallet
shows revoked; a replayed offer is refused (by the wallet, and by the issuer for another
wallet); a PIN offer; an offer made out to another holder DID is refused."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient

from credentials.fetch import FetchPolicy, SafeFetcher
from credentials.keys import Multikey
from credentials.keystore import Kek, Keystore
from servicekit.migrations import upgrade
from tests.support.databases import fresh_database
from tests.support.servers import free_port, live_server
from tests.wallet.conftest import PUBLIC_URL, Account, WalletHarness, make_keystore
from tests.wallet.fakes import Clock, FakeInternet
from wallet.config import Settings as WalletSettings
from wallet.main import create_app as create_wallet

issuer_main = pytest.importorskip("issuer.main")
from issuer.config import Settings as IssuerSettings  # noqa: E402
from issuer.services import institutions  # noqa: E402

MODULE = {
    "id": "data-wrangling",
    "name": "Data Wrangling with Python",
    "description": "Cleaning, joining and reshaping real-world data sets with pandas.",
    "learning_outcomes": ["clean and combine messy tabular data"],
    "ects": 7.5,
    "hours": 210,
    "eqf_level": 6,
    "assessment_type": "practical assignment with oral defence",
    "participation_form": "blended",
    "quality_assurance": {"name": "NVAO accreditation", "url": "https://www.nvao.net/"},
}


@dataclass
class LiveIssuer:
    url: str
    slug: str
    did: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def offer(self, **extra: Any) -> dict[str, Any]:
        body = {"module_id": MODULE["id"], "learner": {"email": "jan@example.nl"}, **extra}
        response = httpx.post(
            f"{self.url}/institutions/{self.slug}/offers",
            json=body,
            headers=self.headers,
            timeout=30,
        )
        assert response.status_code == 201, response.text
        return response.json()

    def revoke(self, credential_id: str) -> None:
        path = f"/institutions/{self.slug}/credentials/{quote(credential_id, safe='')}/revoke"
        response = httpx.post(
            self.url + path,
            json={"reason": "issued in error"},
            headers=self.headers,
            timeout=30,
        )
        assert response.status_code == 200, response.text


@pytest.fixture
def live_issuer(tmp_path: Path) -> Iterator[LiveIssuer]:
    port = free_port()
    with fresh_database(tmp_path, "issuer") as url:
        upgrade("issuer", url)
        settings = IssuerSettings(
            database_url=url,
            public_url=f"http://127.0.0.1:{port}",
            port=port,
            dev=True,
            data_dir=tmp_path / "issuer",
            batch_workers=0,
        )
        app = issuer_main.create_app(
            settings, keystore=Keystore([Kek.from_secret(secrets.token_bytes(32))])
        )
        created = institutions.create(
            app.state.issuer,
            slug="hsr",
            name="Hogeschool Rijnland",
            region="Zuid-Holland",
            identifiers={"BRIN": "99HR"},
        )
        with live_server(app, port) as base:
            issuer = LiveIssuer(base, "hsr", created.did, created.token)
            module = httpx.post(
                f"{base}/institutions/hsr/modules", json=MODULE, headers=issuer.headers, timeout=30
            )
            assert module.status_code == 201, module.text
            yield issuer


def _wallet(
    database_url: str, tmp_path: Path, issuer: LiveIssuer, name: str
) -> Iterator[WalletHarness]:
    upgrade("wallet", database_url)
    settings = WalletSettings(
        database_url=database_url,
        public_url=PUBLIC_URL,
        dev=True,
        data_dir=tmp_path / name,
        known_issuers=[issuer.did],
        password_time_cost=1,
        password_memory_kib=8192,
    )
    clock = Clock()
    fetcher = SafeFetcher(FetchPolicy(allow_insecure=True, timeout=30))
    app = create_wallet(settings, clock=clock, fetcher=fetcher, keystore=make_keystore())
    with TestClient(app, base_url=PUBLIC_URL) as client:
        yield WalletHarness(client, FakeInternet(), clock, settings)


@pytest.fixture
def wallet_live(
    database_url: str, tmp_path: Path, live_issuer: LiveIssuer
) -> Iterator[WalletHarness]:
    yield from _wallet(database_url, tmp_path, live_issuer, "wallet")


def _claim(wallet: WalletHarness, account: Account, offer: str, **extra: Any) -> httpx.Response:
    return wallet.client.post(
        "/api/credentials/offers", json={"offer": offer, **extra}, headers=account.headers
    )


def test_offer_claim_bound_to_my_did_then_revoked(
    wallet_live: WalletHarness, live_issuer: LiveIssuer
) -> None:
    wallet = wallet_live
    account = wallet.signup()
    offer = live_issuer.offer()
    response = _claim(wallet, account, offer["offer_uri"])
    assert response.status_code == 201, response.text
    (received,) = response.json()["credentials"]
    assert received["verified"] is True and received["status"] == "active"
    assert received["warnings"] == []  # a known issuer, a complete microcredential
    detail = wallet.client.get(f"/api/credentials/{received['id']}", headers=account.headers).json()
    credential = detail["credential"]
    assert credential["credentialSubject"]["id"] == account.did
    assert credential["issuer"]["id"] == live_issuer.did
    checks = {c["id"]: c["outcome"] for c in detail["report"]["checks"]}
    assert checks["proof"] == checks["status"] == checks["trust"] == checks["holder"] == "passed"
    assert {e["number"]: e["value"] for e in detail["elements"]}[7].startswith("7.5 ECTS")

    live_issuer.revoke(credential["id"])
    wallet.clock.advance(wallet.settings.status_recheck_seconds + 1)
    detail = wallet.client.get(f"/api/credentials/{received['id']}", headers=account.headers).json()
    assert detail["status"] == "revoked", detail["statusCheck"]
    assert detail["statusCheck"]["rechecked"] is True
    listed = wallet.client.get("/api/credentials", headers=account.headers).json()
    assert listed[0]["status"] == "revoked"


def test_offer_by_value_and_replay(
    wallet_live: WalletHarness, live_issuer: LiveIssuer, database_url: str, tmp_path: Path
) -> None:
    wallet = wallet_live
    account = wallet.signup()
    offer = live_issuer.offer()
    assert _claim(wallet, account, offer["offer_uri_by_value"]).status_code == 201
    replay = _claim(wallet, account, offer["offer_uri_by_value"])
    assert replay.status_code == 409 and replay.json()["code"] == "offer_already_used"
    by_reference = _claim(wallet, account, offer["offer_uri"])
    assert by_reference.status_code in (400, 409), by_reference.text
    assert len(wallet.client.get("/api/credentials", headers=account.headers).json()) == 1
    # another wallet (its own database) replaying the same offer: the issuer refuses it
    with fresh_database(tmp_path, "wallet2") as other_url:
        for other in _wallet(other_url, tmp_path, live_issuer, "wallet2"):
            thief = other.signup()
            stolen = _claim(other, thief, offer["offer_uri_by_value"])
            assert stolen.status_code == 400, stolen.text
            assert stolen.json()["code"] == "offer_rejected"
            assert other.client.get("/api/credentials", headers=thief.headers).json() == []


def test_an_offer_with_a_pin(wallet_live: WalletHarness, live_issuer: LiveIssuer) -> None:
    account = wallet_live.signup()
    offer = live_issuer.offer(pin=True)
    missing = _claim(wallet_live, account, offer["offer_uri"])
    assert missing.status_code == 400 and missing.json()["code"] == "tx_code_required"
    response = _claim(wallet_live, account, offer["offer_uri"], tx_code=offer["pin"])
    assert response.status_code == 201, response.text


def test_an_offer_for_another_wallet_is_refused(
    wallet_live: WalletHarness, live_issuer: LiveIssuer
) -> None:
    account = wallet_live.signup()
    someone_else = Multikey.generate().controller
    offer = live_issuer.offer(learner={"email": "jan@example.nl", "did": someone_else})
    response = _claim(wallet_live, account, offer["offer_uri"])
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "credential_request_refused"
    assert response.json()["issuerError"] == "invalid_proof"
    assert wallet_live.client.get("/api/credentials", headers=account.headers).json() == []


def test_a_claimed_credential_can_be_shared(
    wallet_live: WalletHarness, live_issuer: LiveIssuer
) -> None:
    from credentials.setup import default_verifier

    account = wallet_live.signup()
    (received,) = _claim(wallet_live, account, live_issuer.offer()["offer_uri"]).json()[
        "credentials"
    ]
    share = wallet_live.client.post(
        "/api/shares", json={"credentialIds": [received["id"]]}, headers=account.headers
    ).json()
    vp = wallet_live.client.get(
        "/s/" + share["url"].rsplit("/", 1)[1], headers={"Accept": "application/json"}
    ).json()
    report, _ = default_verifier(allow_insecure=True).verify_presentation(
        vp, challenge=vp["proof"]["challenge"], domain=share["url"]
    )
    assert report.verified, report.to_dict()


def test_a_credential_that_fails_on_arrival_is_kept_and_verified_on_view(
    wallet_live: WalletHarness, live_issuer: LiveIssuer
) -> None:
    """Issue 14.1: a credential collected while the wallet cannot yet check it (here: the
    issuer rotated and the wallet may not re-fetch its DID document yet) is kept as
    "received, not yet verified" and verified when the learner looks at it again."""
    wallet = wallet_live
    account = wallet.signup()
    first = _claim(wallet, account, live_issuer.offer()["offer_uri"])
    assert first.json()["credentials"][0]["verified"] is True  # the DID document is cached
    resolver = wallet.client.app.state.services.checker.verifier.resolver
    resolver.refetch_burst = 0  # no re-fetch budget left for this DID
    rotated = httpx.post(
        f"{live_issuer.url}/institutions/hsr/keys/rotate",
        json={},
        headers=live_issuer.headers,
        timeout=30,
    )
    assert rotated.status_code == 201, rotated.text
    response = _claim(wallet, account, live_issuer.offer()["offer_uri"])
    assert response.status_code == 201, response.text
    (received,) = response.json()["credentials"]
    assert received["verified"] is False
    assert "key-2" in received["pendingReason"]

    resolver.refetch_burst = 3  # the budget refills
    resolver._buckets.clear()
    detail = wallet.client.get(
        f"/api/credentials/{received['id']}?refresh=true", headers=account.headers
    ).json()
    assert detail["verified"] is True, detail["report"]
    assert detail["pendingReason"] is None
    listed = wallet.client.get("/api/credentials", headers=account.headers).json()
    assert [c["verified"] for c in listed] == [True, True]
