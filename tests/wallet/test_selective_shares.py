"""Issue 18: sharing an ecdsa-sd-2023 credential without the grade (or with it)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from credentials import disclosure
from credentials.keys import Multikey
from credentials.microcredential import Learner
from credentials.proofs import sign
from credentials.verify import Verifier
from microcred.samples import HBO, sample_credential
from tests.wallet.conftest import Account, WalletHarness


def sd_credential(holder_did: str) -> dict[str, Any]:
    issuer = Multikey.generate("P-256")
    unsigned = sample_credential(
        issuer=replace(HBO, id=issuer.controller),
        learner=Learner(did=holder_did, identity="jan@example.nl", salt="00ff00ff"),
    )
    return sign(
        unsigned,
        issuer,
        cryptosuite="ecdsa-sd-2023",
        mandatory_pointers=disclosure.mandatory_pointers(unsigned),
    )


def share(wallet: WalletHarness, account: Account, ids: list[str], **extra: Any) -> Any:
    return wallet.client.post(
        "/api/shares",
        json={"credentialIds": ids, "expiresIn": 3600, **extra},
        headers=account.headers,
    )


def fetch(wallet: WalletHarness, url: str, accept: str = "application/json") -> Any:
    headers = {"Accept": accept, "User-Agent": "employer-app/1"}
    if accept == "text/html":  # a person: the page's button shows the credentials
        return wallet.client.post(urlsplit(url).path, headers=headers)
    return wallet.client.get(urlsplit(url).path, headers=headers)


def test_a_share_without_the_grade_hands_over_a_derived_credential(
    wallet: WalletHarness,
) -> None:
    account = wallet.signup()
    cid = wallet.store(account, sd_credential(account.did))
    created = share(wallet, account, [cid], disclose={cid: []})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["disclosure"] == {cid: []}
    response = fetch(wallet, body["url"])
    assert response.status_code == 200
    assert b"\"8.5\"" not in response.content and b"\"result\"" not in response.content
    assert b"identityHash" not in response.content
    vp = response.json()
    credential = vp["verifiableCredential"][0]
    assert credential["credentialSubject"]["achievement"]["name"] == "Data Wrangling with Python"
    report, _ = Verifier().verify_presentation(
        vp, challenge=vp["proof"]["challenge"], domain=body["url"], check_status=False
    )
    assert report.verified, report.to_dict()
    page = fetch(wallet, body["url"], accept="text/html")
    assert "cijfer niet gedeeld" in page.text
    assert "studentnummer" not in page.text or "niet gedeeld" in page.text
    assert "8.5" not in page.text
    # the share log says what went to whom
    log = wallet.client.get(
        f"/api/shares/{body['id']}/accesses", headers=account.headers
    ).json()
    assert [(a["client"], a["disclosed"]) for a in log] == [
        ("software", {cid: []}),
        ("browser", {cid: []}),
    ]


def test_a_ticked_grade_travels(wallet: WalletHarness) -> None:
    account = wallet.signup()
    cid = wallet.store(account, sd_credential(account.did))
    body = share(wallet, account, [cid], disclose={cid: ["grade"]}).json()
    response = fetch(wallet, body["url"])
    subject = response.json()["verifiableCredential"][0]["credentialSubject"]
    assert subject["result"][0]["value"] == "8.5"
    assert "identifier" not in subject
    assert "cijfer niet gedeeld" not in fetch(wallet, body["url"], accept="text/html").text


def test_disclosure_input_is_checked(wallet: WalletHarness) -> None:
    account = wallet.signup()
    cid = wallet.store(account, sd_credential(account.did))
    plain = wallet.store(account)
    for disclose, code in (
        ({cid: ["shoe_size"]}, "unknown_disclosure_field"),
        ({cid: ["grade", "grade"]}, "invalid_disclosure"),
        ({"other": ["grade"]}, "invalid_disclosure"),
        ({plain: ["grade"]}, "not_selectively_disclosable"),
    ):
        response = share(wallet, account, [cid, plain], disclose=disclose)
        assert response.status_code == 400, (disclose, response.text)
        assert response.json()["code"] == code


# --- OpenID4VP: a DCQL request pre-selects exactly the claims it asks for ---------------------

VC = "https://www.w3.org/2018/credentials#VerifiableCredential"
OB = "https://purl.imsglobal.org/spec/vc/ob/vocab.html#OpenBadgeCredential"
MODULE_ID = "https://hsrijnland.example/microcredentials/data-wrangling"


def dcql_asking(*paths: list[str]) -> dict[str, Any]:
    claims = [{"path": ["credentialSubject", "achievement", "id"], "values": [MODULE_ID]}]
    claims += [{"path": p} for p in paths]
    return {
        "credentials": [
            {
                "id": "module_1",
                "format": "ldp_vc",
                "meta": {"type_values": [[VC, OB]]},
                "claims": claims,
            }
        ]
    }


def test_a_dcql_request_for_the_grade_preselects_exactly_the_grade(wallet: WalletHarness) -> None:
    account = wallet.signup()
    cid = wallet.store(account, sd_credential(account.did))
    link = wallet.internet.verifier.create(dcql_asking(["credentialSubject", "result"]))
    preview = wallet.client.post(
        "/api/requests/preview", json={"request": link}, headers=account.headers
    ).json()
    (match,) = preview["queries"][0]["matches"]
    assert [f["key"] for f in match["disclosable"]] == ["grade", "email"]
    assert match["preselected"] == ["grade"]
    # the learner agrees as pre-selected: the grade goes, the hashed e-mail does not
    response = wallet.client.post(
        "/api/requests/respond",
        json={"request": link, "credentialIds": [cid], "consent": True},
        headers=account.headers,
    )
    assert response.status_code == 200, response.text
    answer = wallet.internet.verifier.answers[link.rsplit("/", 1)[1]]
    (vp,) = answer["vp_token"]["module_1"]
    subject = vp["verifiableCredential"][0]["credentialSubject"]
    assert subject["result"][0]["value"] == "8.5" and "identifier" not in subject
    assert all(r.verified for r in answer["reports"]["module_1"])
    log = wallet.client.get("/api/disclosures", headers=account.headers).json()
    assert [(d["verifierName"], d["disclosed"]) for d in log] == [("Employer BV", {cid: ["grade"]})]


def test_a_dcql_request_for_the_module_only_preselects_nothing(wallet: WalletHarness) -> None:
    account = wallet.signup()
    cid = wallet.store(account, sd_credential(account.did))
    link = wallet.internet.verifier.create(dcql_asking())
    preview = wallet.client.post(
        "/api/requests/preview", json={"request": link}, headers=account.headers
    ).json()
    assert preview["queries"][0]["matches"][0]["preselected"] == []
    response = wallet.client.post(
        "/api/requests/respond",
        json={"request": link, "credentialIds": [cid], "consent": True, "disclose": {cid: []}},
        headers=account.headers,
    )
    assert response.status_code == 200, response.text
    (vp,) = wallet.internet.verifier.answers[link.rsplit("/", 1)[1]]["vp_token"]["module_1"]
    assert "result" not in vp["verifiableCredential"][0]["credentialSubject"]
