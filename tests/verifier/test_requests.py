"""Presentation requests end to end: create → the wallet fetches the request → a holder key
signs a VP with challenge = nonce and domain = client_id → direct_post form → the result is
there for the employer (polling and server-sent events); nonces are single-use everywhere."""

from __future__ import annotations

import base64
import io
import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from credentials.keys import Multikey
from tests.verifier.conftest import PUBLIC_URL
from tests.verifier.request_flow import (
    answer,
    create,
    fetch_request,
    holder_vp,
    local,
    result,
)
from tests.verifier.support import (
    microcredential,
)


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
    (barcode,) = zxingcpp.read_barcodes(
        Image.open(io.BytesIO(png)), formats=zxingcpp.BarcodeFormat.QRCode
    )
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
