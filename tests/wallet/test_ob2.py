"""The wallet and Open Badges 2.0: import a hosted edubadges assertion from a file or by its
URL (fetched through the wallet's safe fetcher from a local host), see it read and checked,
count it in a learning route; production mode refuses a private address unfetched."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from credentials.fetch import FetchPolicy, SafeFetcher
from credentials.ob2 import sign_ob2
from tests.support.badge_host import ASSERTION, ISSUER, REVOCATIONS, BadgeHost, badge_host
from tests.wallet.conftest import PUBLIC_URL, WalletHarness, make_keystore, make_settings
from tests.wallet.fakes import Clock, FakeInternet
from wallet.main import create_app

ROUTE = {
    "id": "minor-ds",
    "name": "Minor Data Science",
    "min_ects": 5,
    "required_modules": [{"id": "stats", "name": "Statistics", "keywords": ["statistics"]}],
}


@pytest.fixture
def host() -> Iterator[BadgeHost]:
    with badge_host() as running:
        yield running


def _wallet(database_url: str, tmp_path: Path, *, dev: bool) -> Iterator[WalletHarness]:
    settings = make_settings(database_url, tmp_path, dev=dev)
    clock = Clock()
    fetcher = SafeFetcher(FetchPolicy(allow_insecure=dev))
    app = create_app(settings, clock=clock, fetcher=fetcher, keystore=make_keystore())
    with TestClient(app, base_url=PUBLIC_URL) as client:
        yield WalletHarness(client, FakeInternet(), clock, settings)


@pytest.fixture
def dev_wallet(database_url: str, tmp_path: Path) -> Iterator[WalletHarness]:
    yield from _wallet(database_url, tmp_path, dev=True)


@pytest.fixture
def production_wallet(database_url: str, tmp_path: Path) -> Iterator[WalletHarness]:
    yield from _wallet(database_url, tmp_path, dev=False)


def _import(wallet: WalletHarness, headers: dict[str, str], **body: Any) -> Any:
    return wallet.client.post("/api/credentials/import", json=body, headers=headers)


@pytest.mark.parametrize("how", ["file", "url"])
def test_import_a_hosted_badge(dev_wallet: WalletHarness, host: BadgeHost, how: str) -> None:
    account = dev_wallet.signup()
    assertion = host.publish_edubadges()
    if how == "file":
        response = _import(dev_wallet, account.headers, credential=assertion)
    else:
        response = _import(dev_wallet, account.headers, url=host.url(ASSERTION))
    assert response.status_code == 201, response.text
    stored = response.json()
    assert stored["verified"] is True
    assert stored["title"] == "Statistics for Data Science"
    assert stored["ects"] == 5.0 and stored["level"] == 6
    assert stored["institution"]["id"] == host.url(ISSUER)
    assert any("only as trustworthy as the server" in w for w in stored["warnings"])
    detail = dev_wallet.client.get(
        f"/api/credentials/{stored['id']}", headers=account.headers
    ).json()
    # stored as verified: BadgeClass and Issuer embedded, so it reads without the network
    assert detail["credential"]["badge"]["issuer"]["name"].startswith("Universiteit van")
    assert detail["view"]["hours"] == 140.0 and detail["view"]["language"] == "en"
    assert detail["report"]["summary"]["format"] == "Open Badges 2.0 · hosted"


def test_a_hosted_badge_counts_in_a_route_until_revoked(
    dev_wallet: WalletHarness, host: BadgeHost
) -> None:
    account = dev_wallet.signup()
    stored = _import(dev_wallet, account.headers, credential=host.publish_edubadges()).json()
    route = dev_wallet.client.post("/api/routes", json={"route": ROUTE}, headers=account.headers)
    assert route.status_code == 201, route.text
    assert route.json()["satisfied"] is True and route.json()["ectsTotal"] == 5.0
    listing = host.fixture("revocations")
    listing["revokedAssertions"].append(host.url(ASSERTION))
    host.serve(REVOCATIONS, listing)
    detail = dev_wallet.client.get(
        f"/api/credentials/{stored['id']}", params={"refresh": "true"}, headers=account.headers
    ).json()
    assert detail["status"] == "revoked", detail["statusCheck"]
    progress = dev_wallet.client.get(
        f"/api/routes/{route.json()['id']}", headers=account.headers
    ).json()
    assert progress["satisfied"] is False
    assert [c["code"] for c in progress["credentials"]] == ["revoked"]


def test_a_tampered_badge_is_not_stored(dev_wallet: WalletHarness, host: BadgeHost) -> None:
    account = dev_wallet.signup()
    assertion = {**host.publish_edubadges(), "issuedOn": "2020-02-02T00:00:00Z"}
    response = _import(dev_wallet, account.headers, credential=assertion)
    assert response.status_code == 400
    assert response.json()["code"] == "credential_not_verified"
    assert "differs from the one its host serves" in response.json()["detail"]
    assert dev_wallet.client.get("/api/credentials", headers=account.headers).json() == []


def test_import_a_signed_badge(dev_wallet: WalletHarness, host: BadgeHost) -> None:
    account = dev_wallet.signup()
    host.publish_edubadges()
    key = rsa.generate_private_key(65537, 2048)
    key_url = host.url("/keys/1")
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    host.serve(
        "/keys/1",
        {
            "type": "CryptographicKey",
            "id": key_url,
            "owner": host.url(ISSUER),
            "publicKeyPem": pem.decode(),
        },
    )
    host.serve(ISSUER, {**host.fixture("issuer"), "publicKey": [key_url]})
    assertion = {
        **host.fixture("assertion"),
        "id": f"urn:uuid:{uuid.uuid4()}",
        "verification": {"type": "SignedBadge", "creator": key_url},
    }
    response = _import(dev_wallet, account.headers, credential=sign_ob2(assertion, key))
    assert response.status_code == 201, response.text
    assert response.json()["verified"] is True and response.json()["ects"] == 5.0


def test_production_refuses_a_private_assertion_url(
    production_wallet: WalletHarness, host: BadgeHost
) -> None:
    account = production_wallet.signup()
    host.publish_edubadges()
    for url in (host.url(ASSERTION), host.url(ASSERTION).replace("http:", "https:")):
        response = _import(production_wallet, account.headers, url=url)
        assert response.status_code == 400, response.text
        assert response.json()["code"] in ("fetch_refused_scheme", "fetch_refused_address")
    assert response.json()["code"] == "fetch_refused_address"
    assert "loopback" in response.json()["detail"]
    assert host.requests == []


def test_a_redirect_loop_and_a_huge_response_are_refused(
    dev_wallet: WalletHarness, host: BadgeHost
) -> None:
    account = dev_wallet.signup()
    host.redirect("/loop", "/loop")
    response = _import(dev_wallet, account.headers, url=host.url("/loop"))
    assert response.status_code == 400
    assert response.json()["code"] == "fetch_too_many_redirects"
    host.huge("/badge.png", 20 * 1024 * 1024)
    response = _import(dev_wallet, account.headers, url=host.url("/badge.png"))
    assert response.status_code == 400
    assert response.json()["code"] == "fetch_too_large"
    assert "exceeds the limit" in response.json()["detail"]


def test_the_receive_page_fetches_a_badge_by_its_link(
    dev_wallet: WalletHarness, host: BadgeHost
) -> None:
    from sqlmodel import select

    from wallet.models import Learner

    dev_wallet.signup("pagejan")
    services = dev_wallet.client.app.state.services
    with services.db.session() as session:
        learner = session.exec(select(Learner).where(Learner.username == "pagejan")).one()
    cookie, _ = services.accounts.issue_token(learner.id, "session")
    dev_wallet.client.cookies.set("microcred_wallet_session", cookie)
    page = dev_wallet.client.get("/receive")
    assert page.status_code == 200 and 'action="/receive/badge"' in page.text
    csrf = dev_wallet.client.cookies.get("mc_wallet_csrf")
    host.publish_edubadges()
    answer = dev_wallet.client.post(
        "/receive/badge",
        data={"url": host.url(ASSERTION), "csrf_token": csrf},
        headers={"Origin": PUBLIC_URL},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"].startswith("/credentials/")
    detail = dev_wallet.client.get(answer.headers["location"])
    assert detail.status_code == 200 and "Statistics for Data Science" in detail.text
    missing = dev_wallet.client.post(
        "/receive/badge",
        data={"url": host.url("/public/assertions/nope"), "csrf_token": csrf},
        headers={"Origin": PUBLIC_URL},
    )
    # the refusal by its code, in the page's language (issue 16): not the fetcher's English
    assert missing.status_code == 400 and "antwoordde met HTTP 404" in missing.text
    assert "could not be fetched" not in missing.text
