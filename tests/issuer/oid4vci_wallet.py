"""Just enough of an OpenID4VCI wallet for the issuer's tests: a test key, key proofs, the
protocol steps, and offers made through the issuer's API (shared by the OID4VCI, offer
state, key compromise and SD-JWT issuance tests)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient

from credentials.jose import sign_jwt
from credentials.keys import Multikey
from tests.issuer.support import Clock, Institution

PRE_AUTH = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
CONFIGURATION = "MicroCredential_ldp_vc"
SDJWT_CONFIGURATION = "MicroCredential_dc_sd_jwt"


class Wallet:
    """Just enough of a wallet: a did:key, key proofs, and the protocol steps."""

    def __init__(self, http: Any, clock: Clock, algorithm: str = "ed25519") -> None:
        self.http = http
        self.clock = clock
        self.key = Multikey.generate(algorithm)
        self.did = self.key.controller

    def proof(self, audience: str, nonce: str | None, **changes: Any) -> str:
        signer = changes.pop("key", None) or self.key  # another key: a forged proof
        header = {"typ": changes.pop("typ", "openid4vci-proof+jwt"), "kid": self.key.id}
        claims: dict[str, Any] = {"aud": audience, "iat": int(self.clock.now.timestamp())}
        if nonce is not None:
            claims["nonce"] = nonce
        claims.update(changes)
        return sign_jwt(header, claims, signer)

    def offer(self, offer_uri: str) -> dict[str, Any]:
        assert offer_uri.startswith("openid-credential-offer://?")
        query = parse_qs(urlsplit(offer_uri).query)
        assert list(query) == ["credential_offer_uri"]
        response = self.http.get(query["credential_offer_uri"][0])
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        return response.json()

    def metadata(self, issuer: str) -> tuple[dict[str, Any], dict[str, Any]]:
        parts = urlsplit(issuer)
        origin = f"{parts.scheme}://{parts.netloc}"
        issuer_meta = self.http.get(f"{origin}/.well-known/openid-credential-issuer{parts.path}")
        assert issuer_meta.status_code == 200, issuer_meta.text
        meta = issuer_meta.json()
        assert meta["credential_issuer"] == issuer
        # the draft-13 location serves the same document
        assert self.http.get(f"{issuer}/.well-known/openid-credential-issuer").json() == meta
        server = self.http.get(f"{origin}/.well-known/oauth-authorization-server{parts.path}")
        assert server.status_code == 200
        return meta, server.json()

    def token(self, endpoint: str, code: str, pin: str | None = None) -> Any:
        form = {"grant_type": PRE_AUTH, "pre-authorized_code": code}
        if pin is not None:
            form["tx_code"] = pin
        return self.http.post(endpoint, data=form)

    def nonce(self, endpoint: str) -> str:
        response = self.http.post(endpoint)
        assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
        return response.json()["c_nonce"]

    def credential(self, endpoint: str, access_token: str, body: dict[str, Any]) -> Any:
        return self.http.post(
            endpoint, json=body, headers={"Authorization": f"Bearer {access_token}"}
        )


def create_offer(client: TestClient, inst: Institution, **changes: Any) -> dict[str, Any]:
    body = {
        "module_id": "data-wrangling",
        "learner": {"email": "jan@example.nl", "student_number": "500123"},
        "result": {"grade": "8", "awarded_date": "2026-06-30"},
        **changes,
    }
    response = client.post(inst.path("/offers"), json=body, headers=inst.headers)
    assert response.status_code == 201, response.text
    return response.json()


def code_of(offer: dict[str, Any]) -> str:
    return offer["grants"][PRE_AUTH]["pre-authorized_code"]


def flow_until_token(
    client: TestClient, inst: Institution, clock: Clock, **offer: Any
) -> tuple[Wallet, dict[str, Any], str]:
    created = create_offer(client, inst, **offer)
    wallet = Wallet(client, clock)
    code = code_of(created["credential_offer"])
    token = wallet.token(inst.path("/token"), code, created.get("pin"))
    assert token.status_code == 200, token.text
    return wallet, created, token.json()["access_token"]


def request_body(wallet: Wallet, inst: Institution, port: int, nonce: str) -> dict[str, Any]:
    issuer = f"http://127.0.0.1:{port}/institutions/{inst.slug}"
    return {
        "credential_configuration_id": CONFIGURATION,
        "proofs": {"jwt": [wallet.proof(issuer, nonce)]},
    }
