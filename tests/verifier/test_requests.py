"""Presentation requests end to end: create → the wallet fetches the request → a holder key
signs a VP with challenge = nonce and domain = client_id → direct_post form → the result is
there for the employer (polling and server-sent events); nonces are single-use everywhere."""

from __future__ import annotations

import base64
import io
import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from credentials.keys import Multikey
from credentials.verify import create_presentation
from tests.support.servers import live_server
from tests.verifier.conftest import ACME_KEY, PUBLIC_URL
from tests.verifier.support import (
    CountingServer,
    microcredential,
    module,
    revocation_entry,
    signed_status_list,
    tampered,
)
from verifier.main import create_app

RULE = {
    "id": "data-track",
    "name": "Data track admission",
    "min_ects": 10,
    "min_eqf_level": 6,
    "required_modules": [
        {"id": "wrangling", "name": "Data Wrangling", "keywords": ["wrangling"]},
    ],
}


def create(client: Any, **body: Any) -> dict[str, Any]:
    body.setdefault("purpose", "Application for the position of data analyst")
    # a requester name needs the requester's key (tests/verifier/conftest.py registers it)
    headers = {"authorization": f"Bearer {ACME_KEY}"} if "client_name" in body else {}
    response = client.post("/requests", json=body, headers=headers)
    assert response.status_code == 201, response.json()
    return response.json()


def local(uri: str) -> str:
    """A link the verifier gave out, as a path for the test client (query kept: the
    ``request_uri`` carries its capability key)."""
    parts = urlsplit(uri)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def fetch_request(client: Any, created: dict[str, Any]) -> dict[str, Any]:
    path = local(created["request_uri"])
    response = client.get(path, headers={"accept": "application/json"})
    assert response.status_code == 200, response.json()
    return response.json()


def answer(
    client: Any, params: dict[str, Any], vps: dict[str, list[dict[str, Any]]], **extra: str
) -> Any:
    form = {"vp_token": json.dumps(vps), "state": params["state"], **extra}
    return client.post(urlsplit(params["response_uri"]).path, data=form)


def result(client: Any, created: dict[str, Any], token: str | None = None) -> Any:
    token = created["result_token"] if token is None else token
    return client.get(
        f"/requests/{created['id']}/result", headers={"authorization": f"Bearer {token}"}
    )


def holder_vp(params: dict[str, Any], holder: Multikey, credentials: list[dict[str, Any]]) -> Any:
    """What a wallet does: challenge = nonce, domain = the full client_id."""
    return create_presentation(
        credentials, holder, challenge=params["nonce"], domain=params["client_id"]
    )


# --------------------------------------------------------------------------- the request


def test_the_request_is_openid4vp_shaped(client: Any) -> None:
    created = create(client, modules=["Data Wrangling with Python"], client_name="Acme BV")
    request_id = created["id"]
    assert created["request_uri"].startswith(f"{PUBLIC_URL}/requests/{request_id}?key=")
    params = fetch_request(client, created)
    response_uri = f"{PUBLIC_URL}/requests/{request_id}/response"
    assert params["response_type"] == "vp_token"
    assert params["response_mode"] == "direct_post"
    assert params["response_uri"] == response_uri
    assert params["client_id"] == f"redirect_uri:{response_uri}"
    assert "redirect_uri" not in params
    assert params["nonce"] == created["nonce"] and len(params["nonce"]) >= 32
    assert params["state"] == created["state"]
    assert params["purpose"] == "Application for the position of data analyst"
    formats = params["client_metadata"]["vp_formats_supported"]["ldp_vc"]
    assert formats["cryptosuite_values"] == ["eddsa-rdfc-2022", "ecdsa-rdfc-2019"]
    assert formats["proof_type_values"] == ["DataIntegrityProof"]
    assert params["client_metadata"]["client_name"] == "Acme BV"
    (query,) = params["dcql_query"]["credentials"]
    assert query["format"] == "ldp_vc"
    assert query["meta"]["type_values"] == [
        [
            "https://www.w3.org/2018/credentials#VerifiableCredential",
            "https://purl.imsglobal.org/spec/vc/ob/vocab.html#OpenBadgeCredential",
        ]
    ]
    assert query["claims"] == [
        {
            "path": ["credentialSubject", "achievement", "name"],
            "values": ["Data Wrangling with Python"],
        }
    ]


def test_the_by_value_uri_and_the_qr_carry_the_same_parameters(client: Any) -> None:
    import zxingcpp
    from PIL import Image

    created = create(client)
    params = fetch_request(client, created)
    uri = created["openid4vp_uri"]
    assert uri.startswith("openid4vp://?")
    decoded = dict(parse_qsl(urlsplit(uri).query))
    for key in ("dcql_query", "client_metadata"):
        decoded[key] = json.loads(decoded[key])
    assert decoded == params
    png = base64.b64decode(created["qrPng"].removeprefix("data:image/png;base64,"))
    (barcode,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert barcode.text == created["qr_uri"] == uri
    assert created["qrSvg"].lstrip().startswith("<svg") or "<svg" in created["qrSvg"]
    by_reference = dict(parse_qsl(urlsplit(created["openid4vp_by_reference_uri"]).query))
    assert by_reference == {
        "client_id": "decentralized_identifier:did:web:verifier.example",
        "request_uri": created["request_uri"],
    }


def _decode(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, payload, _ = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    return (
        json.loads(base64.urlsafe_b64decode(pad(header))),
        json.loads(base64.urlsafe_b64decode(pad(payload))),
    )


@pytest.mark.parametrize(
    "accept",
    [
        None,
        "*/*",
        "application/oauth-authz-req+jwt",
        "application/oauth-authz-req+jwt, application/jwt;q=0.9, text/plain",
        "application/json, application/oauth-authz-req+jwt",  # a tie goes to the JWT
    ],
)
def test_request_uri_serves_a_request_object_signed_by_the_verifiers_did(
    client: Any, accept: str | None
) -> None:
    from credentials.dids import DidResolver
    from credentials.jose import verify_jwt

    created = create(client, client_name="Acme BV")
    headers = {"accept": accept} if accept else {}
    response = client.get(local(created["request_uri"]), headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/oauth-authz-req+jwt")
    assert response.headers["cache-control"] == "no-store"
    did = "did:web:verifier.example"
    header, claims = _decode(response.text)
    assert header["typ"] == "oauth-authz-req+jwt" and header["alg"] == "EdDSA"
    assert header["kid"] == f"{did}#key-1"
    assert claims["client_id"] == f"decentralized_identifier:{did}"
    assert claims["aud"] == "https://self-issued.me/v2"
    assert claims["nonce"] == created["nonce"] and claims["state"] == created["state"]
    assert claims["response_uri"] == created["response_uri"]
    assert claims["exp"] > claims["iat"]
    # the link names the same client id, so a wallet can match it (OpenID4VP §5.10)
    link = dict(parse_qsl(urlsplit(created["openid4vp_by_reference_uri"]).query))
    assert link == {"client_id": claims["client_id"], "request_uri": created["request_uri"]}
    # and the signature verifies with the key in the DID document the verifier publishes
    document = client.get("/.well-known/did.json")
    assert document.status_code == 200 and document.json()["id"] == did
    assert client.get("/did.json").json() == document.json()
    resolver = DidResolver(overrides={did: document.json()})
    _, verified, key = verify_jwt(response.text, resolver)
    assert verified == claims and key.controller == did
    # the key is stored once: a second request is signed by the same key
    again = client.get(local(create(client)["request_uri"]))
    assert _decode(again.text)[0]["kid"] == header["kid"]
    verify_jwt(again.text, resolver)


def test_json_is_served_when_explicitly_asked_for(client: Any) -> None:
    created = create(client)
    for accept in ("application/json", "application/json, */*;q=0.1"):
        response = client.get(local(created["request_uri"]), headers={"accept": accept})
        assert response.headers["content-type"].startswith("application/json")
        assert response.json()["client_id"].startswith("redirect_uri:")


def test_the_verifiers_key_is_stored_wrapped_under_the_kek(client: Any) -> None:
    from sqlmodel import select

    from verifier.models import VerifierKey

    client.get(local(create(client)["request_uri"]))
    services = client.app.state.services
    with services.db.session() as session:
        (row,) = session.exec(select(VerifierKey)).all()
    key = services.identity.key()
    assert row.public_key_multibase == key.public_key_multibase
    assert row.wrapped_secret.startswith("v1.")
    assert key.secret_key_multibase not in row.wrapped_secret


def test_an_answer_bound_to_the_did_client_id_is_accepted(
    client: Any, issuer_key: Multikey, holder: Multikey
) -> None:
    created = create(client, modules=["Data Wrangling with Python"])
    token = client.get(local(created["request_uri"])).text
    _, params = _decode(token)
    vp = holder_vp(params, holder, [microcredential(issuer_key, holder)])
    assert vp["proof"]["domain"].startswith("decentralized_identifier:")
    response = answer(client, params, {"module_1": [vp]})
    assert response.status_code == 200, response.json()
    assert result(client, created).json()["result"]["accepted"] is True


def test_an_answer_bound_to_another_verifiers_did_is_refused(
    client: Any, issuer_key: Multikey, holder: Multikey
) -> None:
    created = create(client, modules=["Data Wrangling with Python"])
    params = fetch_request(client, created)
    other = {**params, "client_id": "decentralized_identifier:did:web:elsewhere.example"}
    vp = holder_vp(other, holder, [microcredential(issuer_key, holder)])
    response = answer(client, params, {"module_1": [vp]})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_presentation"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"purpose": "x", "rule": {"id": "r", "name": "R", "min_etcs": 5}}, 400, "invalid_route"),
        ({"purpose": "x", "expires_in": 10**7}, 400, "invalid_expiry"),
        (
            {"purpose": "x", "credential_types": ["not a type!"]},
            400,
            "invalid_presentation_request",
        ),
        ({"purpose": "x", "modules": [""]}, 400, "invalid_presentation_request"),
        ({"purpose": ""}, 422, "validation_error"),
        ({"purpose": "x", "surprise": True}, 422, "validation_error"),
        ({}, 422, "validation_error"),
    ],
)
def test_bad_requests_are_refused_with_problem_details(
    client: Any, body: dict[str, Any], status: int, code: str
) -> None:
    response = client.post("/requests", json=body)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code


def test_an_unknown_request_is_404(client: Any) -> None:
    assert client.get("/requests/nope").json()["code"] == "request_not_found"
    assert client.post("/requests/nope/response", data={"state": "x"}).status_code == 404


# --------------------------------------------------------------------------- the flow


def test_end_to_end_the_answer_is_verified_and_shown_to_the_employer(
    client: Any, issuer_key: Multikey, holder: Multikey
) -> None:
    created = create(client, modules=["Data Wrangling with Python"])
    assert result(client, created).json()["status"] == "pending"
    params = fetch_request(client, created)
    vp = holder_vp(params, holder, [microcredential(issuer_key, holder)])
    response = answer(client, params, {"module_1": [vp]})
    assert response.status_code == 200, response.json()
    assert response.json() == {}

    shown = result(client, created).json()
    assert shown["status"] == "completed"
    outcome = shown["result"]
    assert outcome["verified"] and outcome["matches_request"] and outcome["accepted"]
    assert outcome["queries"] == [
        {
            "id": "module_1",
            "matched": True,
            "message": "the module Data Wrangling with Python: Data Wrangling with Python",
        }
    ]
    assert outcome["summary"]["holder"] == holder.controller
    (summary,) = outcome["summary"]["credentials"]
    assert summary["module"] == "Data Wrangling with Python" and summary["ects"] == 7.5
    assert outcome["presentations"][0]["query"] == "module_1"
    assert outcome["presentations"][0]["verified"] is True

    with client.stream(
        "GET", f"/requests/{created['id']}/events?token={created['result_token']}"
    ) as events:
        assert events.headers["content-type"].startswith("text/event-stream")
        text = "".join(events.iter_text())
    assert "event: result" in text
    data = json.loads(text.split("event: result\ndata: ", 1)[1].split("\n", 1)[0])
    assert data["status"] == "completed" and data["result"]["accepted"]

    # the request is answered: the wallet cannot fetch it again
    assert client.get(local(created["request_uri"])).status_code == 410


def test_a_replayed_answer_is_refused(client: Any, issuer: Multikey, holder: Multikey) -> None:
    created = create(client)
    params = fetch_request(client, created)
    vps = {"credential": [holder_vp(params, holder, [microcredential(issuer, holder)])]}
    assert answer(client, params, vps).status_code == 200
    replay = answer(client, params, vps)
    assert replay.status_code == 400
    assert replay.json()["code"] == "nonce_replayed"
    assert replay.json()["error"] == "invalid_request"


def test_a_nonce_used_at_one_instance_is_refused_at_another(
    make_client: Any, issuer: Multikey, holder: Multikey
) -> None:
    one, two = make_client(), make_client()
    created = create(one)
    params = fetch_request(two, created)
    vps = {"credential": [holder_vp(params, holder, [microcredential(issuer, holder)])]}
    assert answer(two, params, vps).status_code == 200
    assert answer(one, params, vps).json()["code"] == "nonce_replayed"
    assert result(one, created).json()["status"] == "completed"


def test_concurrent_answers_consume_the_nonce_exactly_once(
    make_client: Any, issuer: Multikey, holder: Multikey
) -> None:
    clients = [make_client() for _ in range(4)]
    created = create(clients[0])
    params = fetch_request(clients[0], created)
    vps = {"credential": [holder_vp(params, holder, [microcredential(issuer, holder)])]}
    codes: list[int] = []
    barrier = threading.Barrier(len(clients))

    def post(client: Any) -> None:
        barrier.wait()
        codes.append(answer(client, params, vps).status_code)

    threads = [threading.Thread(target=post, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [200, 400, 400, 400]


def test_a_wrong_state_is_refused_and_the_request_stays_open(
    client: Any, issuer: Multikey, holder: Multikey
) -> None:
    created = create(client)
    params = fetch_request(client, created)
    vps = {"credential": [holder_vp(params, holder, [microcredential(issuer, holder)])]}
    response = client.post(
        urlsplit(params["response_uri"]).path,
        data={"vp_token": json.dumps(vps), "state": "guessed"},
    )
    assert response.json()["code"] == "invalid_state"
    assert result(client, created).json()["status"] == "pending"
    assert answer(client, params, vps).status_code == 200


def test_a_tampered_answer_is_refused_without_burning_the_nonce(
    client: Any, issuer: Multikey, holder: Multikey
) -> None:
    created = create(client)
    params = fetch_request(client, created)
    genuine = holder_vp(params, holder, [microcredential(issuer, holder)])
    forged = tampered(
        genuine, "verifiableCredential.0.credentialSubject.achievement.creditsAvailable", 60
    )
    response = answer(client, params, {"credential": [forged]})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_presentation"
    assert "proof" in {c["id"] for c in body["report"]["errors"]}
    pending = result(client, created).json()
    assert pending["status"] == "pending" and pending["rejected_attempts"] == 1
    assert answer(client, params, {"credential": [genuine]}).status_code == 200


@pytest.mark.parametrize("mistake", ["other nonce", "domain without prefix", "no domain"])
def test_a_presentation_not_bound_to_this_request_is_refused(
    client: Any, issuer: Multikey, holder: Multikey, mistake: str
) -> None:
    created = create(client)
    params = fetch_request(client, created)
    credential = microcredential(issuer, holder)
    if mistake == "other nonce":
        other = fetch_request(client, create(client))
        vp = create_presentation(
            [credential], holder, challenge=other["nonce"], domain=params["client_id"]
        )
    elif mistake == "domain without prefix":
        vp = create_presentation(
            [credential], holder, challenge=params["nonce"], domain=params["response_uri"]
        )
    else:
        vp = create_presentation([credential], holder, challenge=params["nonce"])
    response = answer(client, params, {"credential": [vp]})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_presentation"
    assert result(client, created).json()["status"] == "pending"


@pytest.mark.parametrize(
    ("vp_token", "fragment"),
    [
        ("not json", "not valid JSON"),
        ("[]", "JSON object keyed"),
        ('{"someone_elses_query": [{}]}', "unknown query"),
        ('{"credential": []}', "empty array"),
    ],
)
def test_malformed_vp_tokens_are_refused(client: Any, vp_token: str, fragment: str) -> None:
    created = create(client)
    params = fetch_request(client, created)
    response = client.post(
        urlsplit(params["response_uri"]).path, data={"vp_token": vp_token, "state": params["state"]}
    )
    assert response.status_code == 400
    assert fragment in response.json()["detail"]


def test_one_presentation_per_query_unless_multiple(
    client: Any, issuer: Multikey, holder: Multikey
) -> None:
    created = create(client)
    params = fetch_request(client, created)
    vp = holder_vp(params, holder, [microcredential(issuer, holder)])
    response = answer(client, params, {"credential": [vp, vp]})
    assert "exactly one presentation" in response.json()["detail"]


def test_an_answer_after_expiry_is_refused(
    make_client: Any, issuer: Multikey, holder: Multikey
) -> None:
    class Clock:
        now = datetime.now(UTC)

        def __call__(self) -> datetime:
            return self.now

    clock = Clock()
    client = make_client(clock=clock)
    created = create(client, expires_in=120)
    params = fetch_request(client, created)
    vps = {"credential": [holder_vp(params, holder, [microcredential(issuer, holder)])]}
    clock.now += timedelta(seconds=121)
    assert client.get(local(created["request_uri"])).json()["code"] == "request_expired"
    response = answer(client, params, vps)
    assert (response.status_code, response.json()["code"]) == (410, "request_expired")
    assert result(client, created).json()["status"] == "expired"


def test_a_wallet_error_declines_the_request(client: Any) -> None:
    created = create(client)
    params = fetch_request(client, created)
    response = client.post(
        urlsplit(params["response_uri"]).path,
        data={
            "error": "access_denied",
            "error_description": "the learner said no",
            "state": params["state"],
        },
    )
    assert response.status_code == 200
    shown = result(client, created).json()
    assert shown["status"] == "declined"
    assert shown["result"] == {"error": "access_denied", "error_description": "the learner said no"}


def test_the_result_needs_the_result_token(client: Any) -> None:
    created = create(client)
    assert result(client, created, token="wrong").status_code == 401
    assert client.get(f"/requests/{created['id']}/result").status_code == 401
    assert client.get(f"/requests/{created['id']}/events").status_code == 401
    by_query = client.get(f"/requests/{created['id']}/result?token={created['result_token']}")
    assert by_query.status_code == 200


def test_an_answer_with_the_wrong_module_is_recorded_but_not_accepted(
    client: Any, issuer: Multikey, holder: Multikey
) -> None:
    created = create(client, modules=["Statistics for Data Science"])
    params = fetch_request(client, created)
    vp = holder_vp(params, holder, [microcredential(issuer, holder)])
    assert answer(client, params, {"module_1": [vp]}).status_code == 200
    outcome = result(client, created).json()["result"]
    assert outcome["verified"] is True
    assert outcome["matches_request"] is False and outcome["accepted"] is False
    assert outcome["queries"][0]["message"].endswith("answered, but no verified credential fits")


def test_a_module_asked_by_achievement_id_matches_on_the_id(
    client: Any, issuer: Multikey, holder: Multikey
) -> None:
    achievement = module(achievement_id="https://hsrijnland.example/m/42")
    created = create(client, modules=["https://hsrijnland.example/m/42"])
    params = fetch_request(client, created)
    vp = holder_vp(params, holder, [microcredential(issuer, holder, achievement=achievement)])
    assert answer(client, params, {"module_1": [vp]}).status_code == 200
    assert result(client, created).json()["result"]["accepted"] is True


def test_a_revoked_credential_in_an_answer_is_shown_as_not_verified(
    make_client: Any, server: CountingServer, issuer: Multikey, holder: Multikey
) -> None:
    client = make_client(dev=True, public_url="http://localhost:8003")
    url = server.url("/status/1")
    server.serve("/status/1", signed_status_list(issuer, url, set_indexes=(9,)))
    created = create(client)
    params = fetch_request(client, created)
    credential = microcredential(issuer, holder, status=[revocation_entry(url, 9)])
    assert (
        answer(
            client, params, {"credential": [holder_vp(params, holder, [credential])]}
        ).status_code
        == 200
    )
    outcome = result(client, created).json()["result"]
    assert outcome["verified"] is False and outcome["accepted"] is False
    codes = {c["id"]: c["code"] for c in outcome["presentations"][0]["errors"]}
    assert codes == {"credential[0].status": "revoked"}


def test_a_rule_request_evaluates_the_rule_over_the_answer(
    client: Any, issuer: Multikey, holder: Multikey
) -> None:
    created = create(client, rule=RULE)
    params = fetch_request(client, created)
    (query,) = params["dcql_query"]["credentials"]
    assert query["id"] == "route" and query["multiple"] is True
    first = microcredential(issuer, holder)
    second = microcredential(
        issuer, holder, achievement=module("Statistics for Data Science", ects=5)
    )
    vps = [holder_vp(params, holder, [first]), holder_vp(params, holder, [second])]
    assert answer(client, params, {"route": vps}).status_code == 200
    rule = result(client, created).json()["result"]["rule"]
    assert rule["satisfied"] is True
    assert rule["ects_total"] == 12.5
    explained = {e["requirement"]: e for e in rule["explanations"]}
    assert explained["min_ects"]["met"] and explained["min_ects"]["message"] == "12.5 of 10 ECTS"
    assert explained["module:wrangling"]["met"]


def test_server_sent_events_deliver_the_result_as_soon_as_it_arrives(
    settings_for: Any, issuer: Multikey, holder: Multikey
) -> None:
    app = create_app(settings_for())
    with live_server(app) as base, httpx.Client(base_url=base, timeout=20) as http:
        created = http.post("/requests", json={"purpose": "test"}).json()
        params = http.get(
            local(created["request_uri"]), headers={"accept": "application/json"}
        ).json()
        vps = {"credential": [holder_vp(params, holder, [microcredential(issuer, holder)])]}
        lines: list[str] = []
        connected = threading.Event()

        def listen() -> None:
            url = f"/requests/{created['id']}/events?token={created['result_token']}"
            with http.stream("GET", url) as events:
                for line in events.iter_lines():
                    lines.append(line)
                    if line.startswith("event: status"):
                        connected.set()

        listener = threading.Thread(target=listen)
        listener.start()
        assert connected.wait(10), lines
        posted = http.post(
            f"/requests/{created['id']}/response",
            data={"vp_token": json.dumps(vps), "state": params["state"]},
        )
        assert posted.status_code == 200
        listener.join(10)
        assert not listener.is_alive()
    assert "event: result" in lines
    data = json.loads(lines[lines.index("event: result") + 1].removeprefix("data: "))
    assert data["status"] == "completed" and data["result"]["accepted"]


def test_after_a_kek_rotation_the_verifiers_key_is_rewrapped_and_kept(
    settings_for: Any,
) -> None:
    import secrets

    from fastapi.testclient import TestClient
    from sqlmodel import select

    from credentials.keystore import Kek, Keystore
    from verifier.models import VerifierKey

    old = Kek.from_secret(secrets.token_bytes(32), "old")
    new = Kek.from_secret(secrets.token_bytes(32), "new")
    kids = []
    for keks in ([old], [new, old], [new]):
        app = create_app(settings_for(), keystore=Keystore(keks))
        with TestClient(app) as client:
            document = client.get("/.well-known/did.json").json()
            kids.append(document["verificationMethod"][0]["publicKeyMultibase"])
            with app.state.services.db.session() as session:
                (row,) = session.exec(select(VerifierKey)).all()
            assert row.wrapped_secret.startswith(f"v1.{keks[0].id}.")
    assert kids[0] == kids[1] == kids[2]
