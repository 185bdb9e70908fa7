"""Issue 14, drill "key rotation" (S-14.1 in docs/security.md), against real servers.

The issuer, the wallet and the verifier each run as a real HTTP server (uvicorn on
loopback, dev mode so that http://127.0.0.1 DIDs resolve). The verifier and the wallet
have verified a credential of the institution before the rotation, so both hold its DID
document in their caches (300 s) — the situation in which the old code failed every
credential of the institution for about five minutes and the wallet threw away what it
collected in that window. The drill then:

1. rotates the key (routine) and verifies the old credential at once, and a new one;
2. collects an offer within one second of the rotation (signed with the new key);
3. rotates again because the key leaked (``compromised``), re-issues what the leaked key
   signed, and collects the replacement.

It counts every verification that should pass and every credential the issuer handed
over: zero failed, zero lost; the issuer's offer states say the wallet holds each one.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from credentials.fetch import FetchPolicy, SafeFetcher
from credentials.keystore import Kek, Keystore
from servicekit.migrations import upgrade
from tests.support.databases import fresh_database
from tests.support.servers import free_port, live_server

PASSWORD = "correct horse battery staple 14"
MODULE = {
    "id": "key-hygiene",
    "name": "Key hygiene for institutions",
    "description": "Rotating signing keys without an outage.",
    "learning_outcomes": ["rotate a signing key"],
    "ects": 2.5,
    "hours": 70,
    "eqf_level": 6,
    "assessment_type": "practical assignment",
    "participation_form": "online",
    "quality_assurance": {"name": "NVAO accreditation", "url": "https://www.nvao.net/"},
}


@dataclass
class Drill:
    issuer: httpx.Client
    wallet: httpx.Client
    verifier: httpx.Client
    did: str
    learner: dict[str, str] = field(default_factory=dict)
    should_pass: list[tuple[str, int, str]] = field(default_factory=list)
    handed_over: list[str] = field(default_factory=list)  # credential ids the issuer sent

    def offer(self) -> dict[str, Any]:
        response = self.issuer.post(
            "/institutions/hsr/offers",
            json={"module_id": MODULE["id"], "learner": {"email": "jan@example.nl"}},
        )
        assert response.status_code == 201, response.text
        return response.json()

    def collect(self, offer: dict[str, Any]) -> dict[str, Any]:
        response = self.wallet.post(
            "/api/credentials/offers", json={"offer": offer["offer_uri"]}, headers=self.learner
        )
        assert response.status_code == 201, response.text
        (received,) = response.json()["credentials"]
        self.handed_over.append(received["credentialId"])
        return received

    def document(self, wallet_id: str) -> dict[str, Any]:
        response = self.wallet.get(f"/api/credentials/{wallet_id}", headers=self.learner)
        assert response.status_code == 200, response.text
        return response.json()

    def verify(self, label: str, credential: dict[str, Any]) -> dict[str, Any]:
        """Verify at the verifier; the outcome counts as one that should pass."""
        response = self.verifier.post(
            "/credentials/verify", json={"verifiableCredential": credential}
        )
        failed = [c["code"] for c in response.json().get("checks", []) if c["outcome"] == "failed"]
        self.should_pass.append((label, response.status_code, ",".join(failed)))
        return response.json()

    def rotate(self, *, compromised: bool = False) -> float:
        response = self.issuer.post(
            "/institutions/hsr/keys/rotate", json={"compromised": compromised}
        )
        assert response.status_code == 201, response.text
        return time.monotonic()

    def offer_state(self, offer_id: str) -> str:
        response = self.issuer.get(f"/institutions/hsr/offers/{offer_id}")
        assert response.status_code == 200, response.text
        return str(response.json()["state"])


@contextlib.contextmanager
def drill(tmp_path: Path) -> Iterator[Drill]:
    from issuer.config import Settings as IssuerSettings
    from issuer.main import create_app as issuer_app
    from issuer.services import institutions
    from verifier.config import Settings as VerifierSettings
    from verifier.main import create_app as verifier_app
    from wallet.config import Settings as WalletSettings
    from wallet.main import create_app as wallet_app

    def fetcher() -> SafeFetcher:
        return SafeFetcher(FetchPolicy(allow_insecure=True, timeout=30))

    def keystore() -> Keystore:
        return Keystore([Kek.from_secret(secrets.token_bytes(32))])

    with contextlib.ExitStack() as stack:
        urls = {}
        for name in ("issuer", "wallet", "verifier"):
            (tmp_path / name).mkdir()
            urls[name] = stack.enter_context(fresh_database(tmp_path / name))
            upgrade(name, urls[name])
        port = free_port()
        issuer = issuer_app(
            IssuerSettings(
                database_url=urls["issuer"],
                public_url=f"http://127.0.0.1:{port}",
                port=port,
                dev=True,
                data_dir=tmp_path / "issuer",
                batch_workers=0,
            ),
            keystore=keystore(),
        )
        created = institutions.create(issuer.state.issuer, slug="hsr", name="Hogeschool Rijnland")
        issuer_url = stack.enter_context(live_server(issuer, port))
        wallet = wallet_app(
            WalletSettings(
                database_url=urls["wallet"],
                public_url="http://127.0.0.1:8002",
                dev=True,
                data_dir=tmp_path / "wallet",
                known_issuers=[created.did],
                password_time_cost=1,
                password_memory_kib=8192,
            ),
            keystore=keystore(),
            fetcher=fetcher(),
        )
        verifier = verifier_app(
            VerifierSettings(
                database_url=urls["verifier"],
                public_url="http://127.0.0.1:8003",
                dev=True,
                data_dir=tmp_path / "verifier",
            ),
            fetcher=fetcher(),
        )
        clients = [
            stack.enter_context(httpx.Client(base_url=url, timeout=60))
            for url in (
                issuer_url,
                stack.enter_context(live_server(wallet)),
                stack.enter_context(live_server(verifier)),
            )
        ]
        clients[0].headers["Authorization"] = f"Bearer {created.token}"
        module = clients[0].post("/institutions/hsr/modules", json=MODULE)
        assert module.status_code == 201, module.text
        account = {"username": "jan", "password": PASSWORD}
        assert clients[1].post("/api/learners", json=account).status_code == 201
        session = clients[1].post("/api/session", json=account)
        assert session.status_code == 200, session.text
        found = Drill(*clients, did=created.did)
        found.learner = {"Authorization": f"Bearer {session.json()['token']}"}
        yield found


def test_rotation_and_compromise_without_an_outage_or_a_lost_credential(
    tmp_path: Path,
) -> None:
    with drill(tmp_path) as d:
        # -- before: one credential collected and verified (both caches now hold the DID)
        opening = d.offer()
        first = d.collect(opening)
        assert first["verified"] is True, first
        old = d.document(first["id"])["credential"]
        assert d.verify("before rotation", old)["verified"] is True
        pending = d.offer()  # made out before the rotation, collected right after it

        # -- 1. routine rotation: the old credential and a new one verify at once
        rotated_at = d.rotate()
        collecting_at = time.monotonic()
        second = d.collect(pending)  # 2. collected within one second of the rotation
        collected_at = time.monotonic()
        assert collecting_at - rotated_at < 1.0
        print(  # the drill's numbers, shown with -s
            f"rotation drill: collect started {1000 * (collecting_at - rotated_at):.1f} ms "
            f"after the rotation, took {1000 * (collected_at - collecting_at):.0f} ms"
        )
        assert second["verified"] is True, second["report"]
        new = d.document(second["id"])["credential"]
        assert new["proof"]["verificationMethod"].endswith("#key-2")
        d.verify("old credential right after rotation", old)
        d.verify("new credential right after rotation", new)

        # -- 3. the new key leaks: rotate, re-issue what it signed, collect the replacement
        d.rotate(compromised=True)
        report = d.issuer.post("/institutions/hsr/keys/2/reissue")
        assert report.status_code == 200, report.text
        (replacement,) = report.json()["replacements"]
        assert replacement["delivery"] == "offer"
        third = d.collect(replacement["offer"])
        assert third["verified"] is True, third["report"]
        reissued = d.document(third["id"])["credential"]
        assert reissued["proof"]["verificationMethod"].endswith("#key-3")
        d.verify("re-issued credential right after compromise", reissued)
        d.verify("first credential (key-1, retired) after compromise", old)

        # what the leaked key signed no longer verifies (revoked, and its key withdrawn)
        leaked = d.verifier.post("/credentials/verify", json={"verifiableCredential": new})
        assert leaked.json()["verified"] is False

        # -- zero failed verifications that should pass
        failed = [entry for entry in d.should_pass if entry[1] != 200 or entry[2]]
        assert failed == [], failed
        assert len(d.should_pass) == 5

        # -- zero credentials lost: the wallet holds all it was handed, and shows them
        held = d.wallet.get("/api/credentials", headers=d.learner).json()
        assert sorted(c["credentialId"] for c in held) == sorted(d.handed_over)
        assert all(c["verified"] for c in held), held

        # -- the issuer's offer states say the wallet holds each one
        offer_ids = [opening["id"], pending["id"], replacement["offer"]["id"]]
        states = [d.offer_state(o) for o in offer_ids]
        assert states == ["accepted"] * 3, states

