"""Recognition from the learner's side (issue 17), over HTTP against the real wallet app:
adopt an institution's route by its address, ask for recognition once it is complete,
consent to the institution's presentation request, follow the case, have the approved
award collected with the same holder key, and see an award's parts (digest-checked) and
share it together with them. The institution is a fake that speaks the contract's
protocol (docs/recognition.md); the real issuer side is tested in tests/issuer."""

from __future__ import annotations

import html
import json
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

import httpx
import pytest

from credentials.evidence import evidence_entry
from credentials.proofs import sign
from credentials.verify import Verifier
from tests.wallet.conftest import Account, WalletHarness

INSTITUTION = "hogeschool.example"
BASE = f"https://{INSTITUTION}/institutions/hr"
ROUTE_URL = f"{BASE}/routes/data"
MODULES = ("urn:module:statistics", "urn:module:python")


def _json(data: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=data)


@dataclass
class FakeInstitution:
    """The institution's side of the contract: route document, recognition endpoint, an
    OpenID4VP request by reference, the response endpoint and the case."""

    endpoint: str = f"{BASE}/routes/data/recognition"
    cases: dict[str, dict[str, Any]] = field(default_factory=dict)
    presented: list[dict[str, Any]] = field(default_factory=list)

    def document(self) -> dict[str, Any]:
        return {
            "id": ROUTE_URL,
            "institution": {"name": "Hogeschool Rijnland", "id": "did:web:hogeschool.example"},
            "name": "Doorstroomroute Data",
            "kind": "route",
            "rule": {
                "id": "doorstroom-data",
                "name": "Doorstroomroute Data",
                "required_modules": [
                    {"id": f"m{n}", "name": m, "achievement_ids": [m]}
                    for n, m in enumerate(MODULES)
                ],
            },
            "award": {"name": "Doorstroomroute Data"},
            "recognition_endpoint": self.endpoint,
        }

    def handle(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url).split("?")[0]
        if url == ROUTE_URL and request.method == "GET":
            return _json(self.document())
        if url == self.endpoint and request.method == "POST":
            return self.open_case()
        for case_id, case in self.cases.items():
            if url == f"{BASE}/cases/{case_id}/request":
                return _json(case["request"])
            if url == f"{BASE}/cases/{case_id}/response" and request.method == "POST":
                return self.respond(case, parse_qs(request.content.decode()))
            if url == f"{BASE}/cases/{case['token']}" and request.method == "GET":
                return _json({k: case[k] for k in ("state", "reason", "credential_offer_uri")})
        return _json({"error": "not_found"}, 404)

    def open_case(self) -> httpx.Response:
        case_id, token = secrets.token_hex(4), secrets.token_urlsafe(16)
        response_uri = f"{BASE}/cases/{case_id}/response"
        request = {
            "response_type": "vp_token",
            "response_mode": "direct_post",
            "client_id": f"redirect_uri:{response_uri}",
            "response_uri": response_uri,
            "nonce": secrets.token_urlsafe(16),
            "state": secrets.token_urlsafe(8),
            "dcql_query": {
                "credentials": [
                    {
                        "id": "route",
                        "format": "ldp_vc",
                        "multiple": True,
                        "meta": {
                            "type_values": [
                                ["https://www.w3.org/2018/credentials#VerifiableCredential"]
                            ]
                        },
                    }
                ]
            },
            "client_metadata": {"client_name": "Hogeschool Rijnland"},
            "purpose": "Erkenning: Doorstroomroute Data",
        }
        self.cases[case_id] = {
            "token": token,
            "request": request,
            "state": "waiting",
            "reason": None,
            "credential_offer_uri": None,
        }
        link = "openid4vp://?" + urlencode(
            {"client_id": request["client_id"], "request_uri": f"{BASE}/cases/{case_id}/request"}
        )
        return _json({"authorization_request": link, "case_uri": f"{BASE}/cases/{token}"}, 201)

    def respond(self, case: dict[str, Any], form: dict[str, list[str]]) -> httpx.Response:
        params = case["request"]
        if (form.get("state") or [""])[0] != params["state"]:
            return _json({"error": "invalid_request"}, 400)
        if "error" in form:  # the learner declined
            return _json({})
        token = json.loads(form["vp_token"][0])
        for vp in token["route"]:
            report, _ = Verifier().verify_presentation(
                vp, challenge=params["nonce"], domain=params["client_id"], check_status=False
            )
            assert report.verified, report.to_dict()
            self.presented.append(vp)
        case["state"] = "open"
        return _json({"redirect_uri": f"{BASE}/cases/{case['token']}"})


@pytest.fixture
def institution(wallet: WalletHarness) -> FakeInstitution:
    fake = FakeInstitution()
    wallet.internet.extra[INSTITUTION] = fake.handle
    return fake


def _modules(wallet: WalletHarness, account: Account) -> list[str]:
    return [
        wallet.store(account, id=module_id, name=f"Module {n}", ects=5.0)
        for n, module_id in enumerate(MODULES)
    ]


def _adopt(wallet: WalletHarness, account: Account) -> dict[str, Any]:
    response = wallet.client.post(
        "/api/recognition/routes", json={"url": ROUTE_URL}, headers=account.headers
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_adopted_route_shows_progress_and_its_institution(
    wallet: WalletHarness, institution: FakeInstitution
) -> None:
    account = wallet.signup()
    route = _adopt(wallet, account)
    assert route["institution"]["name"] == "Hogeschool Rijnland"
    assert route["satisfied"] is False
    early = wallet.client.post(
        f"/api/recognition/routes/{route['id']}/request", headers=account.headers
    )
    assert early.status_code == 409
    assert early.json()["code"] == "route_not_complete"
    _modules(wallet, account)
    again = wallet.client.get(f"/api/recognition/routes/{route['id']}", headers=account.headers)
    assert again.json()["satisfied"] is True
    # the rule is the wallet's ordinary route too (the rules engine computes progress)
    mine = wallet.client.get("/api/routes", headers=account.headers).json()
    assert [r["source"] for r in mine] == ["institution"]


def test_route_whose_endpoint_is_elsewhere_is_refused(
    wallet: WalletHarness, institution: FakeInstitution
) -> None:
    account = wallet.signup()
    institution.endpoint = "https://collector.example/steal"
    response = wallet.client.post(
        "/api/recognition/routes", json={"url": ROUTE_URL}, headers=account.headers
    )
    assert response.status_code == 400
    assert response.json()["code"] == "recognition_endpoint_elsewhere"
    assert wallet.client.get("/api/routes", headers=account.headers).json() == []


def test_request_consent_case_and_award_collected_with_the_same_key(
    wallet: WalletHarness, institution: FakeInstitution
) -> None:
    account = wallet.signup()
    held = _modules(wallet, account)
    route = _adopt(wallet, account)
    asked = wallet.client.post(
        f"/api/recognition/routes/{route['id']}/request", headers=account.headers
    )
    assert asked.status_code == 201, asked.text
    case = asked.json()
    assert case["state"] == "awaiting_consent"
    # nothing has left the wallet yet: the learner sees the request first
    assert institution.presented == []
    preview = wallet.client.post(
        "/api/requests/preview",
        json={"request": case["authorizationRequest"]},
        headers=account.headers,
    ).json()
    assert preview["verifier"]["name"] == "Hogeschool Rijnland"
    assert sorted(preview["queries"][0]["selected"]) == sorted(held)
    sent = wallet.client.post(
        "/api/requests/respond",
        json={"request": case["authorizationRequest"], "credentialIds": held, "consent": True},
        headers=account.headers,
    )
    assert sent.status_code == 200, sent.text
    assert len(institution.presented) == 2
    followed = wallet.client.get(f"/api/recognition/cases/{case['id']}", headers=account.headers)
    assert followed.json()["state"] == "open"
    # the exam board asks for more, with a reason the learner sees
    (entry,) = institution.cases.values()
    entry.update(state="more_requested", reason="Stuur ook je cijferlijst.")
    followed = wallet.client.get("/api/recognition/cases", headers=account.headers).json()
    assert followed[0]["state"] == "more_requested"
    assert followed[0]["reason"] == "Stuur ook je cijferlijst."
    # approved: the offer is collected automatically, bound to the DID that presented
    entry.update(
        state="approved", reason=None, credential_offer_uri=wallet.internet.issuer.offer_uri()
    )
    followed = wallet.client.get(f"/api/recognition/cases/{case['id']}", headers=account.headers)
    body = followed.json()
    assert body["state"] == "approved"
    assert body["credentialId"], body
    award = wallet.client.get(f"/api/credentials/{body['credentialId']}", headers=account.headers)
    assert award.status_code == 200
    assert account.did in json.dumps(award.json()["credential"]["credentialSubject"])


def test_declined_case_shows_the_reason_and_no_credential(
    wallet: WalletHarness, institution: FakeInstitution
) -> None:
    account = wallet.signup()
    held = _modules(wallet, account)
    route = _adopt(wallet, account)
    case = wallet.client.post(
        f"/api/recognition/routes/{route['id']}/request", headers=account.headers
    ).json()
    wallet.client.post(
        "/api/requests/respond",
        json={"request": case["authorizationRequest"], "credentialIds": held, "consent": True},
        headers=account.headers,
    )
    (entry,) = institution.cases.values()
    entry.update(state="declined", reason="Statistiek is ouder dan vijf jaar.")
    body = wallet.client.get(f"/api/recognition/cases/{case['id']}", headers=account.headers)
    assert body.json()["state"] == "declined"
    assert body.json()["reason"] == "Statistiek is ouder dan vijf jaar."
    assert body.json()["credentialId"] is None


def test_a_learner_cannot_see_another_learners_case(
    wallet: WalletHarness, institution: FakeInstitution
) -> None:
    owner, other = wallet.signup(), wallet.signup()
    _modules(wallet, owner)
    route = _adopt(wallet, owner)
    case = wallet.client.post(
        f"/api/recognition/routes/{route['id']}/request", headers=owner.headers
    ).json()
    assert (
        wallet.client.get(f"/api/recognition/cases/{case['id']}", headers=other.headers)
    ).status_code == 404
    assert (
        wallet.client.post(f"/api/recognition/routes/{route['id']}/request", headers=other.headers)
    ).status_code == 404


def _page_session(wallet: WalletHarness, account: Account) -> str:
    """Log the test client's browser in as ``account``; returns the CSRF token."""
    from sqlmodel import select

    from wallet.models import Learner

    services = wallet.client.app.state.services  # type: ignore[attr-defined]
    with services.db.session() as session:
        learner = session.exec(select(Learner).where(Learner.username == account.username)).one()
    cookie, _ = services.accounts.issue_token(learner.id, "session")
    wallet.client.cookies.set("microcred_wallet_session", cookie)
    wallet.client.get("/credentials")
    return str(wallet.client.cookies.get("mc_wallet_csrf"))


def _award(wallet: WalletHarness, account: Account, parts: list[dict[str, Any]]) -> dict[str, Any]:
    """A route credential that references ``parts`` by digest, as the contract describes."""
    award = wallet.credential(account, id="urn:route:data", name="Doorstroomroute Data", ects=10.0)
    del award["proof"]
    evidence, related = [], []
    for part in parts:
        e, r = evidence_entry(
            part,
            name=part["credentialSubject"]["achievement"]["name"],
            issuer_id=part["issuer"]["id"],
            issuer_name=part["issuer"].get("name"),
            ects=5.0,
        )
        evidence.append(e)
        related.append(r)
    award["evidence"] = evidence
    award["relatedResource"] = related
    return sign(award, wallet.issuer_key)


def test_award_shows_its_parts_digest_checked_and_shares_them_in_one_link(
    wallet: WalletHarness,
) -> None:
    account = wallet.signup()
    parts = [
        wallet.credential(account, id=m, name=f"Module {n}", ects=5.0)
        for n, m in enumerate(MODULES)
    ]
    held = [wallet.store(account, p) for p in parts]
    award_id = wallet.store(account, _award(wallet, account, parts))
    stack = wallet.client.get(
        f"/api/recognition/credentials/{award_id}/parts", headers=account.headers
    ).json()
    assert stack["modules"] == 2
    assert [p["status"] for p in stack["parts"]] == ["found", "found"]
    assert sorted(stack["shareable"]) == sorted(held)
    # a plain module references nothing
    plain = wallet.client.get(
        f"/api/recognition/credentials/{held[0]}/parts", headers=account.headers
    ).json()
    assert plain["parts"] == []
    # the credential page lists the parts and offers one share of award + parts
    _page_session(wallet, account)
    page = wallet.client.get(f"/credentials/{award_id}")
    assert page.status_code == 200
    assert "Waar deze credential op rust" in page.text
    assert "Gebaseerd op 2 modules van 1 instelling." in page.text
    assert page.text.count('data-part-status="found"') == 2
    for cid in held:
        assert f'name="credential" value="{cid}" checked' in page.text


def test_changed_part_in_the_wallet_is_named_as_not_matching(wallet: WalletHarness) -> None:
    account = wallet.signup()
    parts = [
        wallet.credential(account, id=m, name=f"Module {n}", ects=5.0)
        for n, m in enumerate(MODULES)
    ]
    award = _award(wallet, account, parts)
    wallet.store(account, parts[0])
    # the second module re-issued (another signature, same id): no longer the one recognised
    reissued = dict(parts[1])
    del reissued["proof"]
    reissued["description"] = "heruitgegeven na een correctie"
    wallet.store(account, sign(reissued, wallet.issuer_key))
    award_id = wallet.store(account, award)
    stack = wallet.client.get(
        f"/api/recognition/credentials/{award_id}/parts", headers=account.headers
    ).json()
    statuses = {p["name"]: p["status"] for p in stack["parts"]}
    assert statuses == {"Module 0": "found", "Module 1": "digest_mismatch"}
    assert stack["shareable"] == [stack["parts"][0]["credential"]["id"]]


def test_hub_page_in_dutch(wallet: WalletHarness, institution: FakeInstitution) -> None:
    account = wallet.signup()
    held = _modules(wallet, account)
    csrf = _page_session(wallet, account)
    hub = wallet.client.get("/recognition")
    assert hub.status_code == 200
    assert "Erkenning aanvragen" in hub.text
    adopted = wallet.client.post(
        "/recognition/routes",
        data={"url": ROUTE_URL, "csrf_token": csrf},
        headers={"Origin": "https://wallet.example"},
        follow_redirects=True,
    )
    assert adopted.status_code == 200, adopted.text
    assert "Erkenning aanvragen bij Hogeschool Rijnland" in adopted.text
    route_id = adopted.text.split('data-route="')[1].split('"')[0]
    # the route's own progress page offers the request too
    progress = wallet.client.get(f"/routes/{route_id}")
    assert progress.status_code == 200
    assert "Erkenning aanvragen bij Hogeschool Rijnland" in progress.text
    asked = wallet.client.post(
        f"/recognition/routes/{route_id}/request",
        data={"csrf_token": csrf},
        headers={"Origin": "https://wallet.example"},
        follow_redirects=False,
    )
    assert asked.status_code == 303
    assert asked.headers["location"].startswith(
        "/present?request_uri=" + quote("openid4vp://", safe="")
    )
    consent = wallet.client.get(asked.headers["location"])
    assert consent.status_code == 200
    assert "Hogeschool Rijnland" in consent.text
    # consenting leads back to the case, which the institution now handles
    request_value = consent.text.split('name="request" value="')[1].split('"')[0]
    sent = wallet.client.post(
        "/present/respond",
        data={
            "request": html.unescape(request_value),
            "credential": held,
            "consent": "yes",
            "csrf_token": csrf,
        },
        headers={"Origin": "https://wallet.example"},
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    assert sent.headers["location"].startswith("/recognition/cases/")
    case_page = wallet.client.get(sent.headers["location"])
    assert "In behandeling" in case_page.text
    assert len(institution.presented) == 2
    # the open case's page waits for the institution by itself (poll.js, no inline script)
    poll = case_page.text.split('data-poll-url="')[1].split('"')[0]
    assert wallet.client.get(html.unescape(poll)).json() == {"done": False}
    (entry,) = institution.cases.values()
    entry.update(state="declined", reason="Te oud.")
    moved = wallet.client.get(html.unescape(poll)).json()
    assert moved == {"done": True, "url": sent.headers["location"]}
    refused = wallet.client.post(
        "/recognition/routes",
        data={"url": "ftp://nowhere", "csrf_token": csrf},
        headers={"Origin": "https://wallet.example"},
    )
    assert refused.status_code == 400
    assert "https-link" in refused.text


def test_declining_on_the_consent_screen_sends_nothing_and_the_case_says_so(
    wallet: WalletHarness, institution: FakeInstitution
) -> None:
    account = wallet.signup()
    _modules(wallet, account)
    route = _adopt(wallet, account)
    case = wallet.client.post(
        f"/api/recognition/routes/{route['id']}/request", headers=account.headers
    ).json()
    declined = wallet.client.post(
        "/api/requests/decline",
        json={"request": case["authorizationRequest"]},
        headers=account.headers,
    )
    assert declined.status_code == 200, declined.text
    assert institution.presented == []
    body = wallet.client.get(f"/api/recognition/cases/{case['id']}", headers=account.headers)
    assert body.json()["state"] == "not_sent"


def test_an_institution_answer_pointing_elsewhere_is_refused_and_nothing_is_kept(
    wallet: WalletHarness, institution: FakeInstitution
) -> None:
    account = wallet.signup()
    _modules(wallet, account)
    route = _adopt(wallet, account)
    original = institution.open_case

    def elsewhere() -> httpx.Response:
        answer = original()
        body = json.loads(answer.content)
        body["case_uri"] = "https://collector.example/cases/1"
        return _json(body, 201)

    institution.open_case = elsewhere  # type: ignore[method-assign]
    refused = wallet.client.post(
        f"/api/recognition/routes/{route['id']}/request", headers=account.headers
    )
    assert refused.status_code == 502
    assert refused.json()["code"] == "institution_answer_invalid"
    assert wallet.client.get("/api/recognition/cases", headers=account.headers).json() == []


def test_deleting_the_account_deletes_its_routes_and_cases(
    wallet: WalletHarness, institution: FakeInstitution
) -> None:
    from sqlmodel import select

    from wallet.models import RecognitionCase, RecognitionRoute

    account = wallet.signup()
    _modules(wallet, account)
    route = _adopt(wallet, account)
    wallet.client.post(f"/api/recognition/routes/{route['id']}/request", headers=account.headers)
    services = wallet.client.app.state.services  # type: ignore[attr-defined]
    with services.db.session() as session:
        assert session.exec(select(RecognitionCase)).all()
    deleted = wallet.client.delete("/api/learners/me", headers=account.headers)
    assert deleted.status_code == 204
    with services.db.session() as session:
        assert session.exec(select(RecognitionCase)).all() == []
        assert session.exec(select(RecognitionRoute)).all() == []


def test_page_refusals_are_shown_in_dutch_with_their_status(
    wallet: WalletHarness, institution: FakeInstitution
) -> None:
    account = wallet.signup()
    route = _adopt(wallet, account)
    csrf = _page_session(wallet, account)
    hub = wallet.client.get("/recognition")
    assert "Nog niet voltooid" in hub.text
    assert f'href="/routes/{route["id"]}"' in hub.text
    early = wallet.client.post(
        f"/recognition/routes/{route['id']}/request",
        data={"csrf_token": csrf},
        headers={"Origin": "https://wallet.example"},
    )
    assert early.status_code == 409
    assert "De leerroute is nog niet voltooid." in early.text
    _modules(wallet, account)
    del wallet.internet.extra[INSTITUTION]  # the institution is down
    down = wallet.client.post(
        f"/recognition/routes/{route['id']}/request",
        data={"csrf_token": csrf},
        headers={"Origin": "https://wallet.example"},
    )
    assert down.status_code == 502
    assert "De instelling is nu niet bereikbaar." in down.text


def test_trusted_in_an_institution_rule_is_left_to_the_institution(
    wallet: WalletHarness, institution: FakeInstitution
) -> None:
    """The wallet cannot know the institution's registry of accepted institutions: a rule
    that accepts "trusted" issuers counts any verified one in the wallet, so the learner
    can ask; the exam board decides (tests/issuer covers its side)."""
    document = institution.document()
    document["rule"]["accepted_issuers"] = ["trusted"]
    institution.document = lambda: document  # type: ignore[method-assign]
    account = wallet.signup()
    _modules(wallet, account)  # from an issuer this wallet does not know
    assert _adopt(wallet, account)["satisfied"] is True


def test_one_request_at_a_time_per_route(
    wallet: WalletHarness, institution: FakeInstitution
) -> None:
    account = wallet.signup()
    held = _modules(wallet, account)
    route = _adopt(wallet, account)
    path = f"/api/recognition/routes/{route['id']}/request"
    case = wallet.client.post(path, headers=account.headers).json()
    wallet.client.post(
        "/api/requests/respond",
        json={"request": case["authorizationRequest"], "credentialIds": held, "consent": True},
        headers=account.headers,
    )
    again = wallet.client.post(path, headers=account.headers)
    assert again.status_code == 409
    assert again.json()["code"] == "recognition_pending"
    listed = wallet.client.get(f"/api/recognition/routes/{route['id']}", headers=account.headers)
    assert listed.json()["pendingCase"] == case["id"]
    (entry,) = institution.cases.values()
    entry.update(state="declined", reason="Te oud.")
    # once the institution has decided, the learner may ask again
    assert wallet.client.post(path, headers=account.headers).status_code == 201
