"""Answering a verifier's OpenID4VP request: preview exactly what would be shared, then
post only after consent (fake verifier; the real one is built in verifier/)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.wallet.conftest import Account, WalletHarness
from tests.wallet.fakes import VERIFIER_HOST

VC = "https://www.w3.org/2018/credentials#VerifiableCredential"
OB = "https://purl.imsglobal.org/spec/vc/ob/vocab.html#OpenBadgeCredential"
MODULE_ID = "https://hsrijnland.example/microcredentials/data-wrangling"


def dcql(*queries: dict[str, Any]) -> dict[str, Any]:
    return {"credentials": list(queries)}


def query(query_id: str = "badge", **extra: Any) -> dict[str, Any]:
    return {"id": query_id, "format": "ldp_vc", "meta": {"type_values": [[VC, OB]]}, **extra}


def by_module(module_id: str, query_id: str = "module_1") -> dict[str, Any]:
    return query(
        query_id,
        claims=[{"path": ["credentialSubject", "achievement", "id"], "values": [module_id]}],
    )


def _preview(wallet: WalletHarness, account: Account, request: str) -> Any:
    return wallet.client.post(
        "/api/requests/preview", json={"request": request}, headers=account.headers
    )


def _respond(
    wallet: WalletHarness, account: Account, request: str, ids: list[str], consent: bool = True
) -> Any:
    return wallet.client.post(
        "/api/requests/respond",
        json={"request": request, "credentialIds": ids, "consent": consent},
        headers=account.headers,
    )


def test_preview_shows_who_asks_what_matches_and_what_is_shared(wallet: WalletHarness) -> None:
    account = wallet.signup()
    wanted = wallet.store(account)
    wallet.store(account, id="https://unidelta.example/modules/ml", name="Machine Learning")
    link = wallet.internet.verifier.create(dcql(by_module(MODULE_ID)), purpose="Job application")
    preview = _preview(wallet, account, link)
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["verifier"]["name"] == "Employer BV"
    assert body["verifier"]["host"] == VERIFIER_HOST
    assert body["verifier"]["clientId"].startswith("redirect_uri:https://verifier.example/")
    assert body["purpose"] == "Job application"
    (q,) = body["queries"]
    assert q["required"] is True and q["multiple"] is False
    assert [m["id"] for m in q["matches"]] == [wanted]
    assert q["selected"] == [wanted]
    match = q["matches"][0]
    assert match["requestedClaims"] == [
        {
            "path": ["credentialSubject", "achievement", "id"],
            "values": [MODULE_ID],
            "value": MODULE_ID,
        }
    ]
    paths = {f["path"]: f["value"] for f in match["sharedFields"]}
    assert paths["credentialSubject.achievement.name"] == "Data Wrangling with Python"
    assert paths["credentialSubject.id"] == account.did
    assert not any(p.startswith("proof") for p in paths)
    assert account.did in body["disclosure"] and body["satisfiable"] is True
    assert wallet.internet.verifier.answers == {}  # a preview sends nothing


def test_respond_after_consent_posts_a_bound_presentation(wallet: WalletHarness) -> None:
    account = wallet.signup()
    wanted = wallet.store(account)
    link = wallet.internet.verifier.create(dcql(by_module(MODULE_ID)))
    response = _respond(wallet, account, link, [wanted])
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "sent"
    request_id = link.rsplit("/", 1)[1]
    answer = wallet.internet.verifier.answers[request_id]
    params = wallet.internet.verifier.requests[request_id]
    (vp,) = answer["vp_token"]["module_1"]
    assert vp["proof"]["challenge"] == params["nonce"]
    assert vp["proof"]["domain"] == params["client_id"]
    assert vp["holder"] == account.did
    assert all(r.verified for r in answer["reports"]["module_1"])
    disclosures = wallet.client.get("/api/disclosures", headers=account.headers).json()
    assert [(d["outcome"], d["credentialIds"], d["verifierName"]) for d in disclosures] == [
        ("sent", [wanted], "Employer BV")
    ]
    # the request is answered: the verifier says it is gone, nothing is posted twice
    again = _respond(wallet, account, link, [wanted])
    assert again.status_code == 410 and again.json()["code"] == "request_gone"


def test_by_value_request_uri(wallet: WalletHarness) -> None:
    account = wallet.signup()
    wanted = wallet.store(account)
    link = wallet.internet.verifier.create(dcql(query()))
    uri = wallet.internet.verifier.by_value(link)
    assert uri.startswith("openid4vp://?")
    preview = _preview(wallet, account, uri).json()
    assert preview["queries"][0]["selected"] == [wanted]
    assert _respond(wallet, account, uri, [wanted]).status_code == 200


def test_nothing_is_sent_without_consent(wallet: WalletHarness) -> None:
    account = wallet.signup()
    wanted = wallet.store(account)
    link = wallet.internet.verifier.create(dcql(query()))
    response = _respond(wallet, account, link, [wanted], consent=False)
    assert response.status_code == 400 and response.json()["code"] == "consent_required"
    assert wallet.internet.verifier.answers == {}
    assert wallet.client.get("/api/disclosures", headers=account.headers).json() == []


def test_only_requested_credentials_can_be_sent(wallet: WalletHarness) -> None:
    account = wallet.signup()
    wanted = wallet.store(account)
    other = wallet.store(account, id="https://unidelta.example/modules/ml", name="ML")
    link = wallet.internet.verifier.create(dcql(by_module(MODULE_ID)))
    extra = _respond(wallet, account, link, [wanted, other])
    assert extra.status_code == 400 and extra.json()["code"] == "credential_not_requested"
    assert extra.json()["credentialIds"] == [other]
    wrong = _respond(wallet, account, link, [other])
    assert wrong.status_code == 400
    assert wallet.internet.verifier.answers == {}


def test_multiple_and_optional_queries(wallet: WalletHarness) -> None:
    account = wallet.signup()
    first = wallet.store(account)
    second = wallet.store(account, id="https://unidelta.example/modules/ml", name="ML")
    request = dcql(query("route", multiple=True), by_module("https://nowhere.example/x", "extra"))
    request["credential_sets"] = [
        {"options": [["route"]]},
        {"options": [["extra"]], "required": False},
    ]
    link = wallet.internet.verifier.create(request)
    preview = _preview(wallet, account, link).json()
    route, extra = preview["queries"]
    assert sorted(route["selected"]) == sorted([first, second])
    assert extra["required"] is False and extra["matches"] == []
    assert preview["satisfiable"] is True
    assert _respond(wallet, account, link, [first, second]).status_code == 200
    token = wallet.internet.verifier.answers[link.rsplit("/", 1)[1]]["vp_token"]
    assert list(token) == ["route"] and len(token["route"]) == 2


def test_decline(wallet: WalletHarness) -> None:
    account = wallet.signup()
    link = wallet.internet.verifier.create(dcql(query()))
    response = wallet.client.post(
        "/api/requests/decline", json={"request": link}, headers=account.headers
    )
    assert response.status_code == 200 and response.json()["status"] == "declined"
    assert wallet.internet.verifier.answers[link.rsplit("/", 1)[1]] == {"declined": "access_denied"}


def _tampered(wallet: WalletHarness, **changes: Any) -> str:
    link = wallet.internet.verifier.create(dcql(query()))
    params = wallet.internet.verifier.requests[link.rsplit("/", 1)[1]]
    params.update(changes)
    return link


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"response_mode": "fragment"}, "unsupported_response_mode"),
        ({"response_type": "code"}, "invalid_presentation_request"),
        (
            {"client_id": "redirect_uri:https://evil.example/collect"},
            "invalid_presentation_request",
        ),
        ({"client_id": "verifier.example"}, "unsupported_client_id"),
        ({"redirect_uri": "https://verifier.example/cb"}, "invalid_presentation_request"),
        ({"nonce": "short"}, "invalid_presentation_request"),
        ({"dcql_query": {"credentials": []}}, "invalid_presentation_request"),
        (
            {"dcql_query": {"credentials": [{"id": "a b", "format": "ldp_vc", "meta": {}}]}},
            "invalid_presentation_request",
        ),
        ({"response_uri": "http://verifier.example/plain"}, "invalid_presentation_request"),
    ],
)
def test_bad_requests_are_refused(wallet: WalletHarness, changes: dict, code: str) -> None:
    account = wallet.signup()
    response = _preview(wallet, account, _tampered(wallet, **changes))
    assert response.status_code == 400, response.text
    assert response.json()["code"] == code


def test_presentation_exchange_is_not_supported(wallet: WalletHarness) -> None:
    account = wallet.signup()
    link = wallet.internet.verifier.create(dcql(query()))
    params = wallet.internet.verifier.requests[link.rsplit("/", 1)[1]]
    params.pop("dcql_query")
    params["presentation_definition"] = {"id": "x", "input_descriptors": []}
    response = _preview(wallet, account, link)
    assert response.json()["code"] == "unsupported_query_language"


def test_unknown_or_garbage_requests(wallet: WalletHarness) -> None:
    account = wallet.signup()
    gone = _preview(wallet, account, f"https://{VERIFIER_HOST}/requests/unknown")
    assert gone.status_code == 410
    garbage = _preview(wallet, account, "openid4vp://?dcql_query=" + json.dumps("x"))
    assert garbage.status_code == 400
    assert _preview(wallet, account, "not a link").status_code == 400


def _signed_request_object(typ: str, *, signer_did: str | None = None) -> tuple[str, Any]:
    from credentials.dids import DidResolver
    from credentials.jose import sign_jwt
    from credentials.keys import Multikey

    did = "did:web:verifier.example"
    key = Multikey.generate(controller=signer_did or did, id=f"{signer_did or did}#key-1")
    document = {
        "id": did,
        "verificationMethod": [key.to_public_dict()],
        "authentication": [key.id],
    }
    claims = {
        "client_id": f"decentralized_identifier:{did}",
        "response_type": "vp_token",
        "response_mode": "direct_post",
        "response_uri": "https://verifier.example/requests/1/response",
        "nonce": "n-0S6_WzA2Mj-nonce",
        "dcql_query": dcql(query()),
    }
    token = sign_jwt({"typ": typ, "kid": key.id}, claims, key)
    return token, DidResolver(overrides={did: document})


def test_a_signed_request_object_is_checked_typ_signer_and_signature() -> None:
    from wallet.services.openid4vp import RequestError, _request_object

    token, resolver = _signed_request_object("oauth-authz-req+jwt")
    claims, signed = _request_object(token, resolver)
    assert signed and claims["client_id"] == "decentralized_identifier:did:web:verifier.example"
    wrong_typ, resolver = _signed_request_object("JWT")
    with pytest.raises(RequestError, match="typ"):
        _request_object(wrong_typ, resolver)
    forged, resolver = _signed_request_object("oauth-authz-req+jwt", signer_did="did:web:x.example")
    with pytest.raises(RequestError):
        _request_object(forged, resolver)
    header, payload, _ = token.split(".")
    with pytest.raises(RequestError):
        _request_object(f"{header}.{payload}.AAAA", resolver)
