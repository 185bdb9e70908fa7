"""Receiving by OpenID4VCI offer (pre-authorised code, jwt key proof) from a fake issuer;
bad offers are refused with a clear problem and store nothing."""

from __future__ import annotations

import json
from urllib.parse import quote

import httpx
import pytest

from credentials.keys import Multikey
from tests.wallet.conftest import Account, WalletHarness


def _offer(
    wallet: WalletHarness, account: Account, offer: object, **extra: object
) -> httpx.Response:
    return wallet.client.post(
        "/api/credentials/offers", json={"offer": offer, **extra}, headers=account.headers
    )


def _count(wallet: WalletHarness, account: Account) -> int:
    return len(wallet.client.get("/api/credentials", headers=account.headers).json())


def test_offer_by_value_is_claimed_and_bound_to_my_did(wallet: WalletHarness) -> None:
    account = wallet.signup()
    issuer = wallet.internet.issuer
    response = _offer(wallet, account, issuer.offer_uri())
    assert response.status_code == 201, response.text
    (received,) = response.json()["credentials"]
    assert received["source"] == "offer" and received["verified"] is True
    assert received["status"] == "active"
    assert issuer.issued[0]["credentialSubject"]["id"] == account.did
    detail = wallet.client.get(f"/api/credentials/{received['id']}", headers=account.headers)
    assert detail.json()["credential"] == issuer.issued[0]
    # the flow the spec describes: metadata, AS metadata, token, nonce, credential
    assert issuer.requests[:5] == [
        "GET /.well-known/openid-credential-issuer/institutions/hbo",
        "GET /.well-known/oauth-authorization-server/institutions/hbo",
        "POST /institutions/hbo/token",
        "POST /institutions/hbo/nonce",
        "POST /institutions/hbo/credential",
    ]


def test_offer_by_reference(wallet: WalletHarness) -> None:
    account = wallet.signup()
    offer = wallet.internet.issuer.offer()
    wallet.internet.extra["offers.example"] = lambda request: httpx.Response(200, json=offer)
    uri = "openid-credential-offer://?credential_offer_uri=" + quote("https://offers.example/o/1")
    assert _offer(wallet, account, uri).status_code == 201


def test_offer_as_an_https_link(wallet: WalletHarness) -> None:
    account = wallet.signup()
    uri = wallet.internet.issuer.offer_uri()
    wallet.internet.extra["offers.example"] = lambda request: httpx.Response(200, text=uri)
    assert _offer(wallet, account, "https://offers.example/qr/1").status_code == 201
    universal = "https://wallet.example/offer?credential_offer=" + quote(
        json.dumps(wallet.internet.issuer.offer())
    )
    assert _offer(wallet, account, universal).status_code == 201
    assert _count(wallet, account) == 2


def test_a_replayed_offer_is_refused(wallet: WalletHarness) -> None:
    account = wallet.signup()
    uri = wallet.internet.issuer.offer_uri()
    assert _offer(wallet, account, uri).status_code == 201
    again = _offer(wallet, account, uri)
    assert again.status_code == 409
    assert again.json()["code"] == "offer_already_used"
    thief = wallet.signup()
    assert _offer(wallet, thief, uri).status_code == 409
    assert _count(wallet, account) == 1 and _count(wallet, thief) == 0


def test_an_offer_used_elsewhere_is_refused_by_the_issuer(wallet: WalletHarness) -> None:
    account = wallet.signup()
    offer = wallet.internet.issuer.offer()
    code = offer["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]
    wallet.internet.issuer.codes[code["pre-authorized_code"]]["used"] = True
    response = _offer(wallet, account, offer)
    assert response.status_code == 400
    assert response.json()["code"] == "offer_rejected"
    assert response.json()["issuerError"] == "invalid_grant"
    assert _count(wallet, account) == 0


def test_a_transaction_code_is_asked_for_and_sent(wallet: WalletHarness) -> None:
    account = wallet.signup()
    uri = wallet.internet.issuer.offer_uri(tx_code="493536")
    missing = _offer(wallet, account, uri)
    assert missing.status_code == 400
    assert missing.json()["code"] == "tx_code_required"
    assert missing.json()["txCode"] == {"inputMode": "numeric", "length": 6}
    wrong = _offer(wallet, account, uri, tx_code="000000")
    assert wrong.status_code == 400 and wrong.json()["code"] == "offer_rejected"
    other = wallet.internet.issuer.offer_uri(tx_code="123456")
    assert _offer(wallet, account, other, txCode="123456").status_code == 201


@pytest.mark.parametrize(
    ("offer", "code"),
    [
        ("", "invalid_offer"),
        ("hello world", "invalid_offer"),
        ("openid-credential-offer://?credential_offer=%7Bnot-json", "invalid_offer"),
        ("openid-credential-offer://?nothing=1", "invalid_offer"),
        ("openid4vp://?client_id=x", "invalid_offer"),
        ('{"credential_issuer": "https://issuer.example/institutions/hbo"}', "invalid_offer"),
        (
            {
                "credential_issuer": "ftp://issuer.example",
                "credential_configuration_ids": ["x"],
                "grants": {},
            },
            "invalid_offer",
        ),
        (
            {
                "credential_issuer": "https://issuer.example/institutions/hbo",
                "credential_configuration_ids": ["x"],
                "grants": {"authorization_code": {"issuer_state": "s"}},
            },
            "unsupported_grant",
        ),
        (
            {
                "credential_issuer": "https://issuer.example/institutions/hbo?x=1",
                "credential_configuration_ids": ["x"],
                "grants": {},
            },
            "invalid_offer",
        ),
        (["not", "an", "offer"], "invalid_offer"),
    ],
)
def test_malformed_offers_are_refused(wallet: WalletHarness, offer: object, code: str) -> None:
    account = wallet.signup()
    response = _offer(wallet, account, offer)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == code
    assert response.json()["detail"]
    assert _count(wallet, account) == 0


def test_an_offer_pointing_at_a_private_address_is_refused(wallet: WalletHarness) -> None:
    account = wallet.signup()
    offer = wallet.internet.issuer.offer()
    offer["credential_issuer"] = "https://169.254.169.254/latest"
    response = _offer(wallet, account, offer)
    assert response.status_code == 400
    assert response.json()["code"] == "offer_url_refused"
    offer["credential_issuer"] = "http://issuer.example/institutions/hbo"
    assert _offer(wallet, account, offer).status_code == 400


def test_a_credential_bound_to_another_wallet_is_refused(wallet: WalletHarness) -> None:
    account = wallet.signup()
    wallet.internet.issuer.bind_to = Multikey.generate().controller
    response = _offer(wallet, account, wallet.internet.issuer.offer_uri(), keepUnverified=True)
    assert response.status_code == 400
    assert response.json()["code"] == "credential_bound_to_another_holder"
    assert _count(wallet, account) == 0


def test_an_offer_for_another_kind_of_wallet_is_refused(wallet: WalletHarness) -> None:
    account = wallet.signup()
    wallet.internet.issuer.format = "mso_mdoc"  # dc+sd-jwt is collected since issue 19
    response = _offer(wallet, account, wallet.internet.issuer.offer_uri())
    assert response.status_code == 400
    assert response.json()["code"] == "unsupported_credential_format"
    assert "another kind of wallet" in response.json()["detail"]
    assert _count(wallet, account) == 0


def test_an_sd_jwt_offer_that_brings_no_sd_jwt_vc_is_refused(wallet: WalletHarness) -> None:
    """A dc+sd-jwt-only offer is collected as SD-JWT VC; an issuer that answers it with
    something else is refused with its reason and nothing is stored."""
    account = wallet.signup()
    wallet.internet.issuer.format = "dc+sd-jwt"
    response = _offer(wallet, account, wallet.internet.issuer.offer_uri())
    assert response.status_code == 400
    assert response.json()["code"] == "unsupported_credential_format"
    assert "no SD-JWT VC" in response.json()["detail"]
    assert _count(wallet, account) == 0


def test_an_offer_in_two_formats_is_collected_once_as_ldp_vc(wallet: WalletHarness) -> None:
    account = wallet.signup()
    wallet.internet.issuer.also_sd_jwt = True
    response = _offer(wallet, account, wallet.internet.issuer.offer_uri())
    assert response.status_code in (200, 201), response.json()
    assert len(wallet.internet.issuer.issued) == 1
    assert _count(wallet, account) == 1


def test_a_failing_credential_from_an_offer_is_kept_as_received_not_verified(
    wallet: WalletHarness,
) -> None:
    """Issue 14.1: the issuer hands a credential over once; a wallet that refused it lost
    it for good (the issuer recorded it as delivered). Now it is kept, with the reason."""
    from sqlmodel import select

    from servicekit.web import LANG_COOKIE
    from wallet.models import Learner as LearnerRow

    account = wallet.signup()
    wallet.internet.issuer.tamper = True
    kept = _offer(wallet, account, wallet.internet.issuer.offer_uri())
    assert kept.status_code == 201, kept.text
    (received,) = kept.json()["credentials"]
    assert received["verified"] is False
    assert received["pendingReason"] and received["report"]["errors"]
    assert _count(wallet, account) == 1
    detail = wallet.client.get(f"/api/credentials/{received['id']}", headers=account.headers)
    assert detail.json()["pendingReason"] == received["pendingReason"]

    services = wallet.client.app.state.services
    with services.db.session() as session:
        learner = session.exec(
            select(LearnerRow).where(LearnerRow.username == account.username)
        ).one()
    cookie, _ = services.accounts.issue_token(learner.id, "session")
    wallet.client.cookies.set("microcred_wallet_session", cookie)
    try:
        for lang, text in (
            ("nl", "Ontvangen, nog niet geverifieerd"),
            ("en", "Received, not yet verified"),
        ):
            wallet.client.cookies.set(LANG_COOKIE, lang)
            assert text in wallet.client.get("/credentials").text
            assert text in wallet.client.get(f"/credentials/{received['id']}").text
    finally:
        wallet.client.cookies.clear()


def test_an_unreachable_issuer_is_a_502(wallet: WalletHarness) -> None:
    account = wallet.signup()
    offer = wallet.internet.issuer.offer()
    offer["credential_issuer"] = "https://nowhere.example"
    response = _offer(wallet, account, offer)
    assert response.status_code == 502
    assert response.json()["code"] == "issuer_unreachable"


def test_metadata_for_another_issuer_is_refused(wallet: WalletHarness) -> None:
    account = wallet.signup()
    issuer = wallet.internet.issuer
    wallet.internet.extra["mirror.example"] = issuer.handle
    offer = issuer.offer()
    offer["credential_issuer"] = "https://mirror.example/institutions/hbo"
    response = _offer(wallet, account, offer)
    assert response.status_code == 502
    assert response.json()["code"] == "issuer_metadata_mismatch"


def test_revoked_after_receipt_shows_revoked(wallet: WalletHarness) -> None:
    account = wallet.signup()
    issuer = wallet.internet.issuer
    (received,) = _offer(wallet, account, issuer.offer_uri()).json()["credentials"]
    issuer.revoke(issuer.issued[0])
    detail = wallet.client.get(
        f"/api/credentials/{received['id']}", params={"refresh": "true"}, headers=account.headers
    ).json()
    assert detail["status"] == "revoked"
