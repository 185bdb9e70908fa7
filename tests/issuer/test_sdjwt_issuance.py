"""Issue 19 at the issuer: one offer collected as dc+sd-jwt; one credential, two formats;
the Token Status List follows the same revoke and suspend actions."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi.testclient import TestClient

from credentials.sdjwt import core, jose, vc
from tests.issuer.oid4vci_wallet import (
    CONFIGURATION,
    SDJWT_CONFIGURATION,
    Wallet,
    code_of,
    create_offer,
)
from tests.issuer.support import Clock, Institution
from tests.issuer.test_status import set_status
from tests.support.servers import live_server

AUDIENCE = "https://verifier.example"


def _collect(http: httpx.Client, wallet: Wallet, created: dict[str, Any], issuer: str) -> str:
    offer = wallet.offer(created["offer_uri"])
    assert offer["credential_configuration_ids"] == [CONFIGURATION, SDJWT_CONFIGURATION]
    meta, server = wallet.metadata(issuer)
    configuration = meta["credential_configurations_supported"][SDJWT_CONFIGURATION]
    assert configuration["format"] == "dc+sd-jwt"
    assert configuration["vct"] == f"{issuer}/vct/microcredential"
    assert meta["credential_configurations_supported"][CONFIGURATION]["format"] == "ldp_vc"
    token = wallet.token(server["token_endpoint"], code_of(offer), created.get("pin"))
    assert token.status_code == 200, token.text
    nonce = wallet.nonce(meta["nonce_endpoint"])
    answer = wallet.credential(
        meta["credential_endpoint"],
        token.json()["access_token"],
        {
            "credential_configuration_id": SDJWT_CONFIGURATION,
            "proofs": {"jwt": [wallet.proof(issuer, nonce)]},
        },
    )
    assert answer.status_code == 200, answer.text
    [item] = answer.json()["credentials"]
    return item["credential"]


def _verifier(http: httpx.Client, issuer: str) -> vc.SdJwtVcVerifier:
    return vc.SdJwtVcVerifier(
        keys=vc.IssuerKeys(fetch_json=lambda url: http.get(url).json()),
        fetch_status=lambda url: http.get(url).text,
        known_vcts=[f"{issuer}/vct/microcredential"],
    )


def test_an_offer_collected_as_sd_jwt_vc_is_one_credential_with_a_token_status_list(
    client: TestClient, app: Any, inst: Institution, module: Any, clock: Clock, port: int
) -> None:
    created = create_offer(client, inst, pin=True)
    issuer = f"http://127.0.0.1:{port}/institutions/hsr"
    with live_server(app, port), httpx.Client() as http:
        wallet = Wallet(http, clock, algorithm="P-256")
        token = _collect(http, wallet, created, issuer)
        sd_jwt = core.SdJwt.parse(token)
        assert sd_jwt.header["typ"] == "dc+sd-jwt"
        assert sd_jwt.payload["cnf"]["jwk"]["crv"] == "P-256"
        # the type metadata and the issuer metadata are published where the drafts say
        doc = http.get(sd_jwt.payload["vct"]).json()
        assert {d["lang"] for d in doc["display"]} == {"nl", "en"}
        meta = http.get(f"http://127.0.0.1:{port}/.well-known/jwt-vc-issuer/institutions/hsr")
        assert meta.json()["issuer"] == issuer
        status_uri = sd_jwt.payload["status"]["status_list"]["uri"]
        listed = http.get(status_uri)
        assert listed.headers["content-type"].startswith("application/statuslist+jwt")

        def present() -> str:
            return core.present(
                sd_jwt,
                {"learner.email", "result.grade"},
                wallet.key,
                audience=AUDIENCE,
                nonce="n-1",
            )

        report = _verifier(http, issuer).verify(present(), audience=AUDIENCE, nonce="n-1")
        assert report.verified, report.to_dict()
        claims = report.summary["claims"]
        assert claims["learner"]["email"] == "jan@example.nl"
        assert claims["result"]["grade"] == "8"
        credential_id = claims["jti"]
        # the registrar sees the one credential the offer issued
        state = client.get(inst.path(f"/offers/{created['id']}"), headers=inst.headers).json()
        assert state["state"] == "issued" and state["credential_id"] == credential_id
        stored = client.get(inst.path(f"/credentials/{credential_id}"), headers=inst.headers)
        assert stored.status_code == 200
        trail = client.get(
            inst.path("/audit"), params={"credential_id": credential_id}, headers=inst.headers
        ).json()
        actions = sorted(e["action"] for e in trail["events"])
        assert actions == ["credential.deliver_sd_jwt", "credential.issue"], trail
        # a routine key rotation: the SD-JWT VC and its (newly signed) status list still
        # verify, through the retired key in the jwks and the new key of the status list
        rotated = client.post(inst.path("/keys/rotate"), json={}, headers=inst.headers)
        assert rotated.status_code == 201, rotated.text
        report = _verifier(http, issuer).verify(present(), audience=AUDIENCE, nonce="n-1")
        assert report.verified, report.to_dict()
        # the same suspend and revoke actions reach the SD-JWT VC's status list
        assert set_status(client, inst, credential_id, "suspended").status_code == 200
        report = _verifier(http, issuer).verify(present(), audience=AUDIENCE, nonce="n-1")
        assert report.outcome_of("status").code == "suspended"  # type: ignore[union-attr]
        assert set_status(client, inst, credential_id, "revoked").status_code == 200
        report = _verifier(http, issuer).verify(present(), audience=AUDIENCE, nonce="n-1")
        assert report.outcome_of("status").code == "revoked"  # type: ignore[union-attr]
        assert not report.verified


def test_an_unknown_configuration_is_still_refused(
    client: TestClient, inst: Institution, module: Any, clock: Clock, port: int
) -> None:
    created = create_offer(client, inst)
    wallet = Wallet(client, clock)
    token = wallet.token(inst.path("/token"), code_of(created["credential_offer"]))
    nonce = wallet.nonce(inst.path("/nonce"))
    issuer = f"http://127.0.0.1:{port}/institutions/{inst.slug}"
    answer = wallet.credential(
        inst.path("/credential"),
        token.json()["access_token"],
        {
            "credential_configuration_id": "MicroCredential_mso_mdoc",
            "proofs": {"jwt": [wallet.proof(issuer, nonce)]},
        },
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "unknown_credential_configuration"


def test_a_compromised_key_takes_its_sd_jwt_vcs_down(
    client: TestClient, app: Any, inst: Institution, module: Any, clock: Clock, port: int
) -> None:
    created = create_offer(client, inst)
    issuer = f"http://127.0.0.1:{port}/institutions/hsr"
    with live_server(app, port), httpx.Client() as http:
        wallet = Wallet(http, clock, algorithm="P-256")
        sd_jwt = core.SdJwt.parse(_collect(http, wallet, created, issuer))
        rotated = client.post(
            inst.path("/keys/rotate"), json={"compromised": True}, headers=inst.headers
        )
        assert rotated.status_code == 201, rotated.text
        shown = core.present(sd_jwt, set(), wallet.key, audience=AUDIENCE, nonce="n")
        report = _verifier(http, issuer).verify(shown, audience=AUDIENCE, nonce="n")
        assert report.outcome_of("proof").code == "key_unresolved"  # type: ignore[union-attr]


def test_the_token_status_list_is_signed_once_until_it_changes(
    client: TestClient, inst: Institution, clock: Clock
) -> None:
    """The Token Status List is cached: the same token while nothing changed (and less than
    half its ttl has passed); a revoke is in the very next answer; an old one is re-signed."""
    from credentials.sdjwt.status import TokenStatusList
    from tests.issuer.test_status import issue

    credential = issue(client, inst)
    entry = credential["credentialStatus"][0]
    base = "/" + entry["statusListCredential"].split("/", 3)[3].rsplit("/", 1)[0]
    index = int(entry["statusListIndex"])

    def served() -> str:
        answer = client.get(f"{base}/token")
        assert answer.status_code == 200, answer.text
        return answer.text

    def value(token: str) -> int:
        _, payload = jose.decode(token)
        return TokenStatusList.decode(payload["status_list"]).get(index)

    first = served()
    clock.advance(5)  # a new signature would carry another iat
    assert served() == first  # not signed again
    assert value(first) == 0
    assert set_status(client, inst, credential["id"], "revoked").status_code == 200
    after = served()
    assert after != first and value(after) == 1  # revoked: at once, not after the cache
    clock.advance(31)  # more than half of status_max_age (60 s)
    again = served()
    assert again != after and value(again) == 1
    assert jose.decode(again)[1]["iat"] == jose.decode(after)[1]["iat"] + 31
