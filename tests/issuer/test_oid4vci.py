"""OpenID4VCI 1.0 pre-authorised code flow, driven like a wallet with a test key."""

from __future__ import annotations

import io
import json
import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import zxingcpp
from fastapi.testclient import TestClient
from PIL import Image

from credentials.jose import sign_jwt
from credentials.keys import Multikey
from tests.issuer.oid4vci_wallet import (
    CONFIGURATION,
    PRE_AUTH,
    SDJWT_CONFIGURATION,
    Wallet,
    code_of,
    create_offer,
    flow_until_token,
    request_body,
)
from tests.issuer.support import Clock, Institution, problem, snapshot
from tests.support.servers import live_server


def test_the_whole_flow_with_a_pin_against_the_running_issuer(
    client: TestClient, app: Any, inst: Institution, module: Any, clock: Clock, port: int
) -> None:
    created = create_offer(client, inst, pin=True)
    assert created["state"] == "offered" and created["pin_required"]
    pin = created["pin"]
    assert len(pin) == 6 and pin.isdigit()
    issuer = f"http://127.0.0.1:{port}/institutions/hsr"
    with live_server(app, port), httpx.Client() as http:
        wallet = Wallet(http, clock)
        offer = wallet.offer(created["offer_uri"])
        assert offer["credential_issuer"] == issuer
        assert offer["credential_configuration_ids"] == [CONFIGURATION, SDJWT_CONFIGURATION]
        assert offer["grants"][PRE_AUTH]["tx_code"]["length"] == 6
        meta, server = wallet.metadata(issuer)
        configuration = meta["credential_configurations_supported"][CONFIGURATION]
        assert configuration["format"] == "ldp_vc"
        assert configuration["credential_definition"]["type"] == [
            "VerifiableCredential",
            "OpenBadgeCredential",
        ]
        assert configuration["proof_types_supported"]["jwt"]
        assert server["pre-authorized_grant_anonymous_access_supported"] is True
        assert server["issuer"] == issuer

        token = wallet.token(server["token_endpoint"], code_of(offer), pin)
        assert token.status_code == 200, token.text
        assert token.headers["cache-control"] == "no-store"
        access = token.json()
        assert access["token_type"] == "Bearer" and access["expires_in"] > 0
        nonce = wallet.nonce(meta["nonce_endpoint"])
        answer = wallet.credential(
            meta["credential_endpoint"],
            access["access_token"],
            {
                "credential_configuration_id": CONFIGURATION,
                "proofs": {"jwt": [wallet.proof(issuer, nonce)]},
            },
        )
        assert answer.status_code == 200, answer.text
        [item] = answer.json()["credentials"]
        credential = item["credential"]
        assert credential["credentialSubject"]["id"] == wallet.did
        assert credential["credentialSubject"]["result"][0]["value"] == "8"
        from tests.issuer.support import verifier

        report = verifier().verify_credential(credential)
        assert report.verified, report.to_dict()
    state = client.get(inst.path(f"/offers/{created['id']}"), headers=inst.headers).json()
    assert state["state"] == "issued" and state["credential_id"] == credential["id"]
    stored = client.get(inst.path(f"/credentials/{credential['id']}"), headers=inst.headers).json()
    assert stored["holder"] == wallet.did and stored["source"] == "offer"
    assert stored["learner_ref"] == "500123"


def test_the_draft13_proof_form_is_accepted(
    client: TestClient, inst: Institution, module: Any, clock: Clock, port: int
) -> None:
    wallet, _, access = flow_until_token(client, inst, clock)
    nonce = wallet.nonce(inst.path("/nonce"))
    issuer = f"http://127.0.0.1:{port}/institutions/hsr"
    body = {
        "format": "ldp_vc",
        "credential_definition": {"type": ["VerifiableCredential", "OpenBadgeCredential"]},
        "proof": {"proof_type": "jwt", "jwt": wallet.proof(issuer, nonce)},
    }
    answer = wallet.credential(inst.path("/credential"), access, body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["credential"]["credentialSubject"]["id"] == wallet.did
    assert answer.json()["credentials"][0]["credential"] == answer.json()["credential"]


def test_the_token_responses_c_nonce_works_for_draft13_wallets(
    client: TestClient, inst: Institution, module: Any, clock: Clock, port: int
) -> None:
    created = create_offer(client, inst)
    wallet = Wallet(client, clock)
    token = wallet.token(inst.path("/token"), code_of(created["credential_offer"])).json()
    body = request_body(wallet, inst, port, token["c_nonce"])
    assert (
        wallet.credential(inst.path("/credential"), token["access_token"], body).status_code == 200
    )


def test_a_pre_authorised_code_works_once(
    client: TestClient, inst: Institution, module: Any, clock: Clock
) -> None:
    created = create_offer(client, inst)
    wallet = Wallet(client, clock)
    code = code_of(created["credential_offer"])
    assert wallet.token(inst.path("/token"), code).status_code == 200
    again = wallet.token(inst.path("/token"), code)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert again.headers["cache-control"] == "no-store"
    # and the offer URI is gone
    handle = created["credential_offer_uri"].rsplit("/", 1)[1]
    problem(client.get(inst.path(f"/credential-offers/{handle}")), 410, "offer_used")


def test_two_wallets_racing_for_one_code_get_one_token(
    client: TestClient, app: Any, inst: Institution, module: Any, clock: Clock
) -> None:
    created = create_offer(client, inst)
    code = code_of(created["credential_offer"])
    results: list[int] = []
    start = threading.Barrier(6)

    def redeem() -> None:
        with TestClient(app) as own:
            start.wait()
            results.append(Wallet(own, clock).token(inst.path("/token"), code).status_code)

    threads = [threading.Thread(target=redeem) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200, 400, 400, 400, 400, 400]


def test_an_expired_offer_is_refused(
    client: TestClient, app: Any, inst: Institution, module: Any, clock: Clock
) -> None:
    created = create_offer(client, inst, expires_in=120)
    clock.advance(121)
    handle = created["credential_offer_uri"].rsplit("/", 1)[1]
    problem(client.get(inst.path(f"/credential-offers/{handle}")), 410, "offer_expired")
    problem(client.get(inst.path(f"/credential-offers/{handle}/qr.png")), 410, "offer_expired")
    before = snapshot(app)
    answer = Wallet(client, clock).token(inst.path("/token"), code_of(created["credential_offer"]))
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"
    assert snapshot(app) == before
    state = client.get(inst.path(f"/offers/{created['id']}"), headers=inst.headers).json()
    assert state["state"] == "expired"


def test_a_wrong_pin_is_refused_and_too_many_burn_the_offer(
    client: TestClient, inst: Institution, module: Any, clock: Clock
) -> None:
    created = create_offer(client, inst, pin=True)
    wallet = Wallet(client, clock)
    code = code_of(created["credential_offer"])
    missing = wallet.token(inst.path("/token"), code)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    wrong = "0" * 6 if created["pin"] != "0" * 6 else "1" * 6
    for _ in range(5):
        answer = wallet.token(inst.path("/token"), code, wrong)
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"
    # burnt: even the right PIN no longer works
    late = wallet.token(inst.path("/token"), code, created["pin"])
    assert late.status_code == 400 and late.json()["error"] == "invalid_grant"
    state = client.get(inst.path(f"/offers/{created['id']}"), headers=inst.headers).json()
    assert state["state"] == "burnt"


def test_a_concurrent_burst_of_pin_guesses_gets_no_more_than_the_limit_evaluated(
    client: TestClient, app: Any, inst: Institution, module: Any, clock: Clock
) -> None:
    """Issue 14 item 8: 7 of a burst were evaluated against a limit of 5; now at most 5."""
    created = create_offer(client, inst, pin=True)
    code = code_of(created["credential_offer"])
    wrong = "0" * 6 if created["pin"] != "0" * 6 else "1" * 6
    answers: list[str] = []
    start = threading.Barrier(16)

    def guess() -> None:
        with TestClient(app) as own:
            start.wait()
            answer = Wallet(own, clock).token(inst.path("/token"), code, wrong)
            answers.append(answer.json().get("error_description", ""))

    threads = [threading.Thread(target=guess) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == 16
    evaluated = [a for a in answers if "PIN" in a and "wrong" in a]
    assert len(evaluated) <= 5
    state = client.get(inst.path(f"/offers/{created['id']}"), headers=inst.headers).json()
    assert state["state"] == "burnt"


def test_the_right_pin_after_a_wrong_one_works(
    client: TestClient, inst: Institution, module: Any, clock: Clock
) -> None:
    created = create_offer(client, inst, pin=True, pin_length=4)
    wallet = Wallet(client, clock)
    code = code_of(created["credential_offer"])
    wrong = "9999" if created["pin"] != "9999" else "0000"
    assert wallet.token(inst.path("/token"), code, wrong).status_code == 400
    assert wallet.token(inst.path("/token"), code, created["pin"]).status_code == 200


def test_wrong_access_tokens_are_401(
    client: TestClient, inst: Institution, module: Any, clock: Clock, port: int
) -> None:
    wallet, _, access = flow_until_token(client, inst, clock)
    body = request_body(wallet, inst, port, wallet.nonce(inst.path("/nonce")))
    for token in ("at_wrong", ""):
        answer = wallet.credential(inst.path("/credential"), token, body)
        assert answer.status_code == 401 and answer.json()["error"] == "invalid_token"
        assert answer.headers["www-authenticate"].startswith("Bearer")
    none = client.post(inst.path("/credential"), json=body)
    assert none.status_code == 401
    # the token is good for one credential
    assert wallet.credential(inst.path("/credential"), access, body).status_code == 200
    body = request_body(wallet, inst, port, wallet.nonce(inst.path("/nonce")))
    replay = wallet.credential(inst.path("/credential"), access, body)
    assert replay.status_code == 401 and replay.json()["error"] == "invalid_token"


def test_an_access_token_expires(
    client: TestClient, inst: Institution, module: Any, clock: Clock, port: int
) -> None:
    wallet, _, access = flow_until_token(client, inst, clock)
    clock.advance(601)
    body = request_body(wallet, inst, port, wallet.nonce(inst.path("/nonce")))
    assert wallet.credential(inst.path("/credential"), access, body).status_code == 401


def test_an_access_token_of_another_institution_is_401(
    client: TestClient, inst: Institution, other: Institution, module: Any, clock: Clock, port: int
) -> None:
    wallet, _, access = flow_until_token(client, inst, clock)
    body = request_body(wallet, other, port, wallet.nonce(other.path("/nonce")))
    assert wallet.credential(other.path("/credential"), access, body).status_code == 401


@pytest.mark.parametrize(
    ("mutate", "error"),
    [
        (lambda w, iss, n: w.proof("https://other.example", n), "invalid_proof"),
        (lambda w, iss, n: w.proof(iss, n, typ="JWT"), "invalid_proof"),
        (
            lambda w, iss, n: w.proof(iss, n, iat=int(w.clock.now.timestamp()) - 3600),
            "invalid_proof",
        ),
        (
            lambda w, iss, n: w.proof(iss, n, iat=int(w.clock.now.timestamp()) + 3600),
            "invalid_proof",
        ),
        (lambda w, iss, n: w.proof(iss, None), "invalid_nonce"),
        (lambda w, iss, n: w.proof(iss, "made-up-nonce"), "invalid_nonce"),
        (lambda w, iss, n: w.proof(iss, n, key=Multikey.generate()), "invalid_proof"),
        (lambda w, iss, n: w.proof(iss, n)[:-4] + "AAAA", "invalid_proof"),
        (lambda w, iss, n: "not.a.jwt", "invalid_proof"),
    ],
)
def test_bad_key_proofs_are_refused(
    client: TestClient,
    app: Any,
    inst: Institution,
    module: Any,
    clock: Clock,
    port: int,
    mutate: Any,
    error: str,
) -> None:
    wallet, _, access = flow_until_token(client, inst, clock)
    issuer = f"http://127.0.0.1:{port}/institutions/hsr"
    nonce = wallet.nonce(inst.path("/nonce"))
    body = {
        "credential_configuration_id": CONFIGURATION,
        "proofs": {"jwt": [mutate(wallet, issuer, nonce)]},
    }
    before = snapshot(app)
    answer = wallet.credential(inst.path("/credential"), access, body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == error
    assert snapshot(app) == before
    # the token still works with a good proof
    body = request_body(wallet, inst, port, wallet.nonce(inst.path("/nonce")))
    assert wallet.credential(inst.path("/credential"), access, body).status_code == 200


def test_a_nonce_is_single_use_and_expires(
    client: TestClient, inst: Institution, module: Any, clock: Clock, port: int
) -> None:
    wallet, _, access = flow_until_token(client, inst, clock)
    nonce = wallet.nonce(inst.path("/nonce"))
    clock.advance(301)
    stale = wallet.credential(
        inst.path("/credential"), access, request_body(wallet, inst, port, nonce)
    )
    assert stale.json()["error"] == "invalid_nonce"
    fresh = wallet.nonce(inst.path("/nonce"))
    assert (
        wallet.credential(
            inst.path("/credential"), access, request_body(wallet, inst, port, fresh)
        ).status_code
        == 200
    )
    wallet2, _, access2 = flow_until_token(client, inst, clock)
    reused = wallet2.credential(
        inst.path("/credential"), access2, request_body(wallet2, inst, port, fresh)
    )
    assert reused.json()["error"] == "invalid_nonce"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (
            {"credential_configuration_id": "Other", "proofs": {"jwt": ["x"]}},
            "unknown_credential_configuration",
        ),
        (
            {"credential_identifier": "abc", "proofs": {"jwt": ["x"]}},
            "unknown_credential_identifier",
        ),
        ({"proofs": {"jwt": ["x"]}}, "invalid_credential_request"),
        (
            {"format": "jwt_vc_json", "proof": {"proof_type": "jwt", "jwt": "x"}},
            "unsupported_credential_format",
        ),
        ({"credential_configuration_id": CONFIGURATION}, "invalid_proof"),
        (
            {"credential_configuration_id": CONFIGURATION, "proofs": {"jwt": ["a", "b"]}},
            "invalid_proof",
        ),
        (
            {"credential_configuration_id": CONFIGURATION, "proofs": {"ldp_vp": [{}]}},
            "invalid_proof",
        ),
        (
            {
                "credential_configuration_id": CONFIGURATION,
                "proof": {"proof_type": "cwt", "cwt": "x"},
            },
            "invalid_proof",
        ),
    ],
)
def test_bad_credential_requests_are_oauth_errors(
    client: TestClient,
    inst: Institution,
    module: Any,
    clock: Clock,
    body: dict[str, Any],
    error: str,
) -> None:
    wallet, _, access = flow_until_token(client, inst, clock)
    answer = wallet.credential(inst.path("/credential"), access, body)
    assert answer.status_code == 400 and answer.json()["error"] == error, answer.text


def test_token_endpoint_errors(client: TestClient, inst: Institution, module: Any) -> None:
    as_json = client.post(inst.path("/token"), json={"grant_type": PRE_AUTH})
    assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"
    grant = client.post(inst.path("/token"), data={"grant_type": "authorization_code", "code": "x"})
    assert grant.json()["error"] == "unsupported_grant_type"
    missing = client.post(inst.path("/token"), data={"grant_type": PRE_AUTH})
    assert missing.json()["error"] == "invalid_request"
    unknown = client.post(
        inst.path("/token"), data={"grant_type": PRE_AUTH, "pre-authorized_code": "nope"}
    )
    assert unknown.json()["error"] == "invalid_grant"


def test_the_offer_comes_by_reference_by_value_and_as_qr_images(
    client: TestClient, inst: Institution, module: Any
) -> None:
    created = create_offer(client, inst)
    by_value = parse_qs(urlsplit(created["offer_uri_by_value"]).query)["credential_offer"][0]
    assert json.loads(by_value) == created["credential_offer"]
    uri = parse_qs(urlsplit(created["offer_uri"]).query)["credential_offer_uri"][0]
    assert client.get(uri).json() == created["credential_offer"]
    assert len(code_of(created["credential_offer"])) >= 43  # ≥ 256 bits, base64url
    png = client.get(created["qr_png"])
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    decoded = [
        r.text
        for r in zxingcpp.read_barcodes(
            Image.open(io.BytesIO(png.content)), formats=zxingcpp.BarcodeFormat.QRCode
        )
    ]
    assert decoded == [created["offer_uri"]]
    svg = client.get(created["qr_svg"])
    assert svg.headers["content-type"].startswith("image/svg+xml") and "<svg" in svg.text
    problem(client.get(inst.path("/credential-offers/not-a-handle")), 404, "unknown_offer")


def test_bad_offers_are_refused(
    client: TestClient, app: Any, inst: Institution, module: Any
) -> None:
    before = snapshot(app)
    base = {"module_id": "data-wrangling", "learner": {"email": "jan@example.nl"}}
    for body, status, code in (
        ({**base, "expires_in": 10**9}, 422, "validation_error"),
        ({**base, "pin_length": 2}, 422, "validation_error"),
        ({**base, "module_id": "nope"}, 404, "unknown_module"),
        ({**base, "result": {"grade": "2"}}, 422, "validation_error"),
    ):
        problem(client.post(inst.path("/offers"), json=body, headers=inst.headers), status, code)
    assert snapshot(app) == before


def test_an_offer_can_be_cancelled(
    client: TestClient, inst: Institution, module: Any, clock: Clock
) -> None:
    created = create_offer(client, inst)
    cancelled = client.delete(inst.path(f"/offers/{created['id']}"), headers=inst.headers)
    assert cancelled.json()["state"] == "cancelled"
    answer = Wallet(client, clock).token(inst.path("/token"), code_of(created["credential_offer"]))
    assert answer.json()["error"] == "invalid_grant"
    problem(
        client.delete(inst.path(f"/offers/{created['id']}"), headers=inst.headers),
        409,
        "offer_not_cancellable",
    )


def test_an_offer_for_a_did_needs_that_did(
    client: TestClient, inst: Institution, module: Any, clock: Clock, port: int
) -> None:
    owner = Multikey.generate()
    wallet, _, access = flow_until_token(client, inst, clock, learner={"did": owner.controller})
    body = request_body(wallet, inst, port, wallet.nonce(inst.path("/nonce")))
    answer = wallet.credential(inst.path("/credential"), access, body)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_proof"


def test_a_tx_code_for_an_offer_without_one_is_invalid_request(
    client: TestClient, inst: Institution, module: Any, clock: Clock
) -> None:
    created = create_offer(client, inst)  # no PIN
    wallet = Wallet(client, clock)
    code = code_of(created["credential_offer"])
    answer = wallet.token(inst.path("/token"), code, "123456")
    assert answer.status_code == 400
    body = answer.json()
    assert body["error"] == "invalid_request" and body["error_description"]
    # the code is not burnt by the malformed request: without the tx_code it works
    assert wallet.token(inst.path("/token"), code).status_code == 200


@pytest.mark.parametrize("algorithm", ["ed25519", "p256"])
def test_a_wallet_without_a_did_gets_a_credential_bound_to_its_jwk(
    client: TestClient, inst: Institution, module: Any, clock: Clock, port: int, algorithm: str
) -> None:
    from credentials.did_jwk import did_jwk_for, public_jwk
    from credentials.dids import DidResolver
    from credentials.verify import create_presentation

    meta = client.get(f"/.well-known/openid-credential-issuer{inst.path('')}").json()
    configuration = meta["credential_configurations_supported"][CONFIGURATION]
    assert {"jwk", "did:jwk"} <= set(configuration["cryptographic_binding_methods_supported"])
    assert configuration["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"] == [
        "EdDSA",
        "ES256",
    ]

    wallet, _, access = flow_until_token(client, inst, clock)
    key = Multikey.generate(algorithm)
    jwk = {**public_jwk(key), "use": "sig"}
    issuer = f"http://127.0.0.1:{port}/institutions/{inst.slug}"
    claims = {"aud": issuer, "iat": int(clock.now.timestamp())}
    claims["nonce"] = wallet.nonce(inst.path("/nonce"))
    proof = sign_jwt({"typ": "openid4vci-proof+jwt", "jwk": jwk}, claims, key)
    assert "kid" not in json.loads(base64url_decode(proof.split(".")[0]))
    body = {"credential_configuration_id": CONFIGURATION, "proofs": {"jwt": [proof]}}
    answer = wallet.credential(inst.path("/credential"), access, body)
    assert answer.status_code == 200, answer.text
    credential = answer.json()["credentials"][0]["credential"]
    holder = credential["credentialSubject"]["id"]
    assert holder == did_jwk_for(jwk) and holder.startswith("did:jwk:")
    # holder binding can be checked: the did:jwk resolves to the wallet's key, which signs a VP
    resolver = DidResolver()
    vm = resolver.verification_method(f"{holder}#0")
    assert vm["type"] == "JsonWebKey2020" and vm["publicKeyJwk"]["x"] == jwk["x"]
    assert resolver.is_authorised(f"{holder}#0", "authentication")
    bound = Multikey(key.algorithm, key.public_key, key.private_key, holder, f"{holder}#0")
    vp = create_presentation([credential], bound, challenge="c-123", domain="example")
    assert vp["holder"] == holder


def base64url_decode(text: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.mark.parametrize(
    ("header", "error"),
    [
        ({"jwk": {"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}}, "invalid_proof"),
        ({"jwk": {"kty": "RSA", "n": "AQAB", "e": "AQAB"}}, "invalid_proof"),
        ({"jwk": "not an object"}, "invalid_proof"),
    ],
)
def test_bad_jwk_proofs_are_refused(
    client: TestClient,
    inst: Institution,
    module: Any,
    clock: Clock,
    port: int,
    header: dict[str, Any],
    error: str,
) -> None:
    wallet, _, access = flow_until_token(client, inst, clock)
    key = Multikey.generate()
    issuer = f"http://127.0.0.1:{port}/institutions/{inst.slug}"
    claims = {"aud": issuer, "iat": int(clock.now.timestamp())}
    claims["nonce"] = wallet.nonce(inst.path("/nonce"))
    proof = sign_jwt({"typ": "openid4vci-proof+jwt", **header}, claims, key)
    body = {"credential_configuration_id": CONFIGURATION, "proofs": {"jwt": [proof]}}
    answer = wallet.credential(inst.path("/credential"), access, body)
    assert answer.status_code == 400 and answer.json()["error"] == error, answer.text


def test_a_jwk_proof_with_a_private_key_or_another_key_is_refused(
    client: TestClient, inst: Institution, module: Any, clock: Clock, port: int
) -> None:
    from credentials.did_jwk import public_jwk

    wallet, _, access = flow_until_token(client, inst, clock)
    key, other = Multikey.generate(), Multikey.generate()
    issuer = f"http://127.0.0.1:{port}/institutions/{inst.slug}"
    for jwk in ({**public_jwk(key), "d": "secret"}, public_jwk(other)):
        claims = {"aud": issuer, "iat": int(clock.now.timestamp())}
        claims["nonce"] = wallet.nonce(inst.path("/nonce"))
        proof = sign_jwt({"typ": "openid4vci-proof+jwt", "jwk": jwk}, claims, key)
        body = {"credential_configuration_id": CONFIGURATION, "proofs": {"jwt": [proof]}}
        answer = wallet.credential(inst.path("/credential"), access, body)
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_proof"
