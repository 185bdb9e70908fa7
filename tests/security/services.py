"""The three services in one process, on fresh migrated databases, with no network at all.

Every outbound request of the services goes through ``SafeFetcher``; here it gets a mock
transport (every URL answers 404) and a resolver that maps every host to one public
documentation address, so the services' address policy still runs and nothing leaves the
process. The issuer gets two institutions (to test one institution's token against the
other's data), the wallet a learner, the verifier an admin token.
"""

from __future__ import annotations

import secrets
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from credentials.dids import DidResolver
from credentials.fetch import FetchPolicy, SafeFetcher
from credentials.keystore import Kek, Keystore
from servicekit.migrations import upgrade
from tests.support.databases import fresh_database

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

ISSUER_URL = "https://issuer.example"
WALLET_URL = "https://wallet.example"
VERIFIER_URL = "https://verifier.example"
PASSWORD = "correct horse battery staple"
ISSUER_ADMIN = "issuer-admin-" + "a" * 40
VERIFIER_ADMIN = "verifier-admin-" + "b" * 40


def offline_fetcher() -> SafeFetcher:
    """A SafeFetcher whose every request is answered 404 in-process (TEST-NET-3 address)."""
    transport = httpx.MockTransport(lambda request: httpx.Response(404, json={"error": "none"}))
    return SafeFetcher(FetchPolicy(), transport, resolver=lambda host, port: ["203.0.113.10"])


@dataclass
class Deployment:
    issuer: TestClient
    wallet: TestClient
    verifier: TestClient
    issuer_keystore: Keystore
    wallet_keystore: Keystore
    database_urls: dict[str, str]
    institution: str  # slug
    institution_token: str
    other_institution: str
    other_token: str
    learner_token: str
    learner_did: str

    def client(self, service: str) -> TestClient:
        return {"issuer": self.issuer, "wallet": self.wallet, "verifier": self.verifier}[service]

    def credentials_for(self, service: str) -> dict[str, str]:
        """The Authorization header of the main principal of ``service``."""
        token = {
            "issuer": self.institution_token,
            "wallet": self.learner_token,
            "verifier": VERIFIER_ADMIN,
        }[service]
        return {"Authorization": f"Bearer {token}"}


@contextmanager
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    from issuer.config import Settings as IssuerSettings
    from issuer.main import create_app as issuer_app
    from issuer.services import institutions
    from verifier.config import Settings as VerifierSettings
    from verifier.main import create_app as verifier_app
    from wallet.config import Settings as WalletSettings
    from wallet.main import create_app as wallet_app

    with ExitStack() as stack:
        urls = {}
        for name in ("issuer", "wallet", "verifier"):
            (tmp_path / name).mkdir(exist_ok=True)
            urls[name] = stack.enter_context(fresh_database(tmp_path / name))
            upgrade(name, urls[name])
        issuer_keys = Keystore([Kek.from_secret(secrets.token_bytes(32), "issuer-kek")])
        wallet_keys = Keystore([Kek.from_secret(secrets.token_bytes(32), "wallet-kek")])
        issuer = issuer_app(
            IssuerSettings(
                database_url=urls["issuer"],
                public_url=ISSUER_URL,
                data_dir=tmp_path / "issuer",
                admin_token=ISSUER_ADMIN,
            ),
            keystore=issuer_keys,
            holder_resolver=DidResolver(offline_fetcher()),
        )
        wallet = wallet_app(
            WalletSettings(
                database_url=urls["wallet"],
                public_url=WALLET_URL,
                data_dir=tmp_path / "wallet",
                password_time_cost=1,
                password_memory_kib=8192,
            ),
            keystore=wallet_keys,
            fetcher=offline_fetcher(),
        )
        verifier = verifier_app(
            VerifierSettings(
                database_url=urls["verifier"],
                public_url=VERIFIER_URL,
                data_dir=tmp_path / "verifier",
                admin_token=VERIFIER_ADMIN,
            ),
            fetcher=offline_fetcher(),
            keystore=Keystore([Kek.from_secret(secrets.token_bytes(32), "verifier-kek")]),
        )
        clients = [
            stack.enter_context(TestClient(app, base_url=url))
            for app, url in ((issuer, ISSUER_URL), (wallet, WALLET_URL), (verifier, VERIFIER_URL))
        ]
        first = institutions.create(issuer.state.issuer, slug="hsr", name="Hogeschool Rijnland")
        second = institutions.create(issuer.state.issuer, slug="ud", name="Universiteit Delta")
        created = clients[1].post("/api/learners", json={"username": "jan", "password": PASSWORD})
        assert created.status_code == 201, created.text
        session = clients[1].post("/api/session", json={"username": "jan", "password": PASSWORD})
        assert session.status_code == 200, session.text
        yield Deployment(
            *clients,
            issuer_keystore=issuer_keys,
            wallet_keystore=wallet_keys,
            database_urls=urls,
            institution="hsr",
            institution_token=first.token,
            other_institution="ud",
            other_token=second.token,
            learner_token=session.json()["token"],
            learner_did=created.json()["did"],
        )


def describe(response: Any) -> str:
    return f"{response.status_code} {response.text[:300]}"
