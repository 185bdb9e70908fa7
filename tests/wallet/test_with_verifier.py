"""The wallet and the real verifier app (verifier/), both served on loopback in dev mode:
the wallet answers a verifier's presentation request after consent, and the verifier checks
a share link (which the wallet logs as a microcred verifier check)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from credentials.fetch import FetchPolicy, SafeFetcher
from credentials.keys import Multikey
from servicekit.migrations import upgrade
from servicekit.tokens import token_hash
from tests.support.databases import fresh_database
from tests.support.servers import free_port, live_server
from tests.wallet.conftest import PASSWORD, make_keystore
from tests.wallet.fakes import credential_for
from wallet.config import Settings as WalletSettings
from wallet.main import create_app as create_wallet

verifier_main = pytest.importorskip("verifier.main")
from verifier.config import Settings as VerifierSettings  # noqa: E402


@dataclass
class Live:
    wallet: str
    verifier: str
    headers: dict[str, str]
    did: str
    issuer: Multikey

    def store(self, **changes: object) -> str:
        credential = credential_for(self.issuer, self.did, **changes)
        response = httpx.post(
            f"{self.wallet}/api/credentials/import",
            json={"credential": credential},
            headers=self.headers,
        )
        assert response.status_code == 201, response.text
        return response.json()["id"]


@pytest.fixture
def live(database_url: str, tmp_path: Path) -> Iterator[Live]:
    upgrade("wallet", database_url)
    wallet_port, verifier_port = free_port(), free_port()
    wallet_settings = WalletSettings(
        database_url=database_url,
        public_url=f"http://127.0.0.1:{wallet_port}",
        dev=True,
        data_dir=tmp_path / "wallet",
        password_time_cost=1,
        password_memory_kib=8192,
    )
    wallet_app = create_wallet(
        wallet_settings,
        fetcher=SafeFetcher(FetchPolicy(allow_insecure=True, timeout=30)),
        keystore=make_keystore(),
    )
    with fresh_database(tmp_path, "verifier") as verifier_url:
        upgrade("verifier", verifier_url)
        verifier_app = verifier_main.create_app(
            VerifierSettings(
                database_url=verifier_url,
                public_url=f"http://127.0.0.1:{verifier_port}",
                port=verifier_port,
                dev=True,
                data_dir=tmp_path / "verifier",
                requester_keys={token_hash("employer-key"): "Employer BV"},
            )
        )
        with (
            live_server(wallet_app, wallet_port) as wallet,
            live_server(verifier_app, verifier_port) as verifier,
        ):
            httpx.post(f"{wallet}/api/learners", json={"username": "jan", "password": PASSWORD})
            token = httpx.post(
                f"{wallet}/api/session", json={"username": "jan", "password": PASSWORD}
            ).json()["token"]
            headers = {"Authorization": f"Bearer {token}"}
            did = httpx.get(f"{wallet}/api/learners/me", headers=headers).json()["did"]
            yield Live(wallet, verifier, headers, did, Multikey.generate())


@pytest.mark.parametrize("link", ["request_uri", "openid4vp_uri", "openid4vp_by_reference_uri"])
def test_answering_the_verifiers_request(live: Live, link: str) -> None:
    wanted = live.store()
    live.store(id="https://unidelta.example/modules/ml", name="Machine Learning")
    created = httpx.post(
        f"{live.verifier}/requests",
        json={
            "purpose": "Application: data analyst",
            "modules": ["Data Wrangling with Python"],
            "client_name": "Employer BV",
        },
        headers={"authorization": "Bearer employer-key"},  # a registered requester
    )
    assert created.status_code == 201, created.text
    request = created.json()
    preview = httpx.post(
        f"{live.wallet}/api/requests/preview",
        json={"request": request[link]},
        headers=live.headers,
        timeout=30,
    )
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["verifier"]["name"] == "Employer BV"
    # by reference, the request object is signed by the verifier's did:web key and checked
    signed = link != "openid4vp_uri"
    assert body["verifier"]["signedRequest"] is signed
    verifier_did = "did:web:" + live.verifier.removeprefix("http://").replace(":", "%3A")
    assert body["verifier"]["clientId"] == (
        f"decentralized_identifier:{verifier_did}" if signed else request["client_id"]
    )
    assert body["purpose"] == "Application: data analyst"
    (query,) = body["queries"]
    assert query["selected"] == [wanted] and len(query["matches"]) == 1
    answer = httpx.post(
        f"{live.wallet}/api/requests/respond",
        json={"request": request[link], "credentialIds": [wanted], "consent": True},
        headers=live.headers,
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    result = httpx.get(
        request["result_uri"], headers={"Authorization": f"Bearer {request['result_token']}"}
    ).json()
    assert result["status"] == "completed", result
    assert result["result"]["verified"] is True
    assert result["result"]["matches_request"] is True
    assert result["result"]["summary"]["holder"] == live.did
    again = httpx.post(
        f"{live.wallet}/api/requests/respond",
        json={"request": request[link], "credentialIds": [wanted], "consent": True},
        headers=live.headers,
        timeout=30,
    )
    assert again.status_code in (400, 410, 502), again.text


def test_the_verifier_checks_a_share_link(live: Live) -> None:
    stored = live.store()
    share = httpx.post(
        f"{live.wallet}/api/shares",
        json={"credentialIds": [stored], "expiresIn": 600},
        headers=live.headers,
    ).json()
    checked = httpx.post(f"{live.verifier}/shares/verify", json={"url": share["url"]}, timeout=30)
    assert checked.status_code == 200, checked.text
    assert checked.json()["verified"] is True
    log = httpx.get(f"{live.wallet}/api/shares/{share['id']}/accesses", headers=live.headers)
    assert [(a["client"], a["verifierChecked"]) for a in log.json()] == [
        ("microcred-verifier", True)
    ]
    httpx.delete(f"{live.wallet}/api/shares/{share['id']}", headers=live.headers)
    gone = httpx.post(f"{live.verifier}/shares/verify", json={"url": share["url"]}, timeout=30)
    assert gone.status_code == 400
    assert not gone.json()["verified"]
