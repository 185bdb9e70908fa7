"""Recognition at the issuer (issue 17), over HTTP against the real app: publish a route, a
wallet asks for recognition and answers the OpenID4VP request, the exam board decides,
and the award is collected over OpenID4VCI by the holder who presented.

A live server serves the same app, so the institutions' did:web documents and status
lists resolve as they would in production.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from credentials.dids import DidResolver
from credentials.evidence import check_stack, credential_digest
from credentials.fetch import FetchPolicy, SafeFetcher
from credentials.jose import verify_jwt
from credentials.keys import Multikey
from credentials.setup import default_verifier
from credentials.verify import create_presentation
from tests.issuer.oid4vci_wallet import Wallet, code_of
from tests.issuer.support import Clock, Institution, module_spec, problem, snapshot
from tests.support.servers import live_server

ROUTE_SLUG = "doorstroom-data"


@pytest.fixture
def served(app: Any, port: int, client: TestClient) -> Iterator[TestClient]:
    with live_server(app, port):
        yield client


def _module(client: TestClient, inst: Institution, slug: str, name: str, ects: float) -> str:
    spec = module_spec(id=slug, name=name, ects=ects)
    response = client.post(inst.path("/modules"), json=spec, headers=inst.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["achievement_id"])


def _issue(client: TestClient, inst: Institution, module: str, holder: str) -> dict[str, Any]:
    body = {
        "module_id": module,
        "learner": {"did": holder, "email": "jan@example.nl"},
        "result": {"grade": "8", "awarded_date": "2026-01-30"},
    }
    response = client.post(inst.path("/issuances"), json=body, headers=inst.headers)
    assert response.status_code == 201, response.text
    return dict(response.json()["verifiableCredential"])


@dataclass
class World:
    client: TestClient
    inst: Institution
    other: Institution
    holder: Multikey
    modules: list[dict[str, Any]]
    route: dict[str, Any]


def _world(
    client: TestClient,
    inst: Institution,
    other: Institution,
    *,
    auto: bool = False,
    trust_other: bool = True,
) -> World:
    stats = _module(client, other, "statistiek", "Statistiek voor data", 5)
    sql = _module(client, inst, "sql-basis", "SQL basis", 5)
    _module(client, inst, ROUTE_SLUG, "Doorstroomroute Data (mbo → hbo)", 10)
    for institution, name in ((inst, "Hogeschool Rijnland"), (other, "Universiteit Delta")):
        if institution is inst or trust_other:
            added = client.post(
                inst.path("/accepted-issuers"),
                json={"did": institution.did, "name": name},
                headers=inst.headers,
            )
            assert added.status_code == 201, added.text
    rule = {
        "id": ROUTE_SLUG,
        "name": "Doorstroomroute Data",
        "accepted_issuers": ["trusted"],
        "min_ects": 10,
        "required_modules": [
            {"id": "statistiek", "name": "Statistiek", "achievement_ids": [stats]},
            {"id": "sql", "name": "SQL", "achievement_ids": [sql]},
        ],
    }
    published = client.post(
        inst.path("/routes"),
        json={"kind": "route", "rule": rule, "award_module": ROUTE_SLUG, "auto_award": auto},
        headers=inst.headers,
    )
    assert published.status_code == 201, published.text
    holder = Multikey.generate("Ed25519")
    modules = [
        _issue(client, other, "statistiek", holder.controller),
        _issue(client, inst, "sql-basis", holder.controller),
    ]
    route = client.get(inst.path(f"/routes/{ROUTE_SLUG}")).json()
    return World(client, inst, other, holder, modules, route)


@dataclass
class Request:
    client_id: str
    response_uri: str
    nonce: str
    state: str
    case_uri: str
    claims: dict[str, Any]


def _ask(world: World, resolver: DidResolver | None = None) -> Request:
    """The wallet's side: start, fetch and check the signed request object."""
    started = world.client.post(world.route["recognition_endpoint"], json={})
    assert started.status_code == 201, started.text
    body = started.json()
    query = parse_qs(urlsplit(body["authorization_request"]).query)
    assert body["authorization_request"].startswith("openid4vp://?")
    client_id, request_uri = query["client_id"][0], query["request_uri"][0]
    fetched = world.client.get(request_uri)
    assert fetched.status_code == 200, fetched.text
    assert fetched.headers["content-type"].startswith("application/oauth-authz-req+jwt")
    resolver = resolver or DidResolver(SafeFetcher(FetchPolicy(allow_insecure=True)))
    header, claims, key = verify_jwt(fetched.text, resolver)
    assert header["typ"] == "oauth-authz-req+jwt"
    assert client_id == claims["client_id"] == f"decentralized_identifier:{world.inst.did}"
    assert key.controller == world.inst.did
    assert claims["response_mode"] == "direct_post" and claims["dcql_query"]["credentials"]
    return Request(
        client_id, claims["response_uri"], claims["nonce"], claims["state"], body["case_uri"],
        claims,
    )  # fmt: skip


def _answer(
    world: World,
    request: Request,
    *,
    nonce: str | None = None,
    key: Multikey | None = None,
    credentials: list[dict[str, Any]] | None = None,
) -> Any:
    vp = create_presentation(
        credentials if credentials is not None else world.modules,
        key or world.holder,
        challenge=nonce or request.nonce,
        domain=request.client_id,
    )
    query_id = request.claims["dcql_query"]["credentials"][0]["id"]
    return world.client.post(
        request.response_uri,
        data={"vp_token": json.dumps({query_id: [vp]}), "state": request.state},
    )


def _case_id(world: World) -> str:
    cases = world.client.get(world.inst.path("/recognition/cases"), headers=world.inst.headers)
    assert cases.status_code == 200, cases.text
    return str(cases.json()["cases"][0]["id"])


def _collect(world: World, clock: Clock, offer_uri: str, *keys: Multikey) -> list[Any]:
    """Redeem the offer once, then ask for the credential with a proof by each key."""
    wallet = Wallet(world.client, clock)
    offer = wallet.offer(offer_uri)
    meta, server = wallet.metadata(offer["credential_issuer"])
    token = wallet.token(server["token_endpoint"], code_of(offer))
    assert token.status_code == 200, token.text
    answers = []
    for key in keys:
        wallet.key, wallet.did = key, key.controller
        nonce = wallet.nonce(meta["nonce_endpoint"])
        answers.append(
            wallet.credential(
                meta["credential_endpoint"],
                token.json()["access_token"],
                {
                    "credential_configuration_id": "MicroCredential_ldp_vc",
                    "proofs": {"jwt": [wallet.proof(offer["credential_issuer"], nonce)]},
                },
            )
        )
    return answers


def test_route_request_approval_and_award_with_evidence(
    served: TestClient, inst: Institution, other: Institution, clock: Clock
) -> None:
    world = _world(served, inst, other)
    listed = served.get(inst.path("/routes")).json()["routes"]
    assert [r["slug"] for r in listed] == [ROUTE_SLUG]
    assert world.route["institution"]["id"] == inst.did and world.route["kind"] == "route"
    assert world.route["award"]["achievement"]["name"].startswith("Doorstroomroute Data")

    request = _ask(world)
    answered = _answer(world, request)
    assert answered.status_code == 200, answered.text
    assert answered.json() == {"redirect_uri": request.case_uri}
    case = served.get(request.case_uri).json()
    assert case["state"] == "open" and case["credential_offer_uri"] is None
    assert case["route"] == {
        "name": "Doorstroomroute Data", "kind": "route", "institution": "Hogeschool Rijnland",
    }  # fmt: skip

    case_id = _case_id(world)
    detail = served.get(inst.path(f"/recognition/board/{case_id}"), headers=inst.headers).json()
    assert detail["learner"]["did"] == world.holder.controller
    assert detail["evaluation"]["satisfied"] is True and detail["trusted_only"] is True
    assert [c["verified"] and c["bound"] and c["trusted"] for c in detail["credentials"]] == [
        True, True,
    ]  # fmt: skip
    assert {c["issuer_name"] for c in detail["credentials"]} == {
        "Hogeschool Rijnland", "Universiteit Delta",
    }  # fmt: skip

    decided = served.post(
        inst.path(f"/recognition/board/{case_id}/decision"),
        json={"decision": "approve"},
        headers=inst.headers,
    )
    assert decided.status_code == 200, decided.text
    case = served.get(request.case_uri).json()
    assert case["state"] == "approved" and case["credential_offer_uri"]

    # a proof by another key than the presenting holder's is refused; the holder's works
    stranger, collected = _collect(
        world, clock, case["offer_uri"], Multikey.generate("Ed25519"), world.holder
    )
    assert stranger.status_code == 400 and stranger.json()["error"] == "invalid_proof"
    assert collected.status_code == 200, collected.text
    award = collected.json()["credentials"][0]["credential"]
    assert served.get(request.case_uri).json()["state"] == "awarded"

    assert award["credentialSubject"]["id"] == world.holder.controller
    assert award["@context"][:2] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    ids = [m["id"] for m in world.modules]
    assert [e["id"] for e in award["evidence"]] == ids
    assert [r["digestMultibase"] for r in award["relatedResource"]] == [
        credential_digest(m) for m in world.modules
    ]
    assert award["evidence"][0]["description"] == f"5 ECTS — Universiteit Delta ({other.did})"
    stack = check_stack(award, world.modules)
    assert stack.complete and (stack.modules, stack.institutions) == (2, 2)
    report = default_verifier(allow_insecure=True).verify_credential(award)
    assert report.verified, report.to_dict()


def test_replayed_and_foreign_nonce_presentations_are_refused(
    served: TestClient, inst: Institution, other: Institution
) -> None:
    world = _world(served, inst, other)
    request = _ask(world)
    foreign = _answer(world, request, nonce="another-request-nonce-123")
    body = problem(foreign, 400, "invalid_presentation")
    assert body["error"] == "invalid_request"
    wrong_holder = _answer(world, request, key=Multikey.generate("Ed25519"))
    # signed by someone else than the modules' subject: nothing is bound, nothing counts
    assert problem(wrong_holder, 400, "holder_not_subject")["error"] == "invalid_request"
    # the junk did not burn the nonce: the genuine answer still works, once
    assert _answer(world, request).status_code == 200
    replay = _answer(world, request)
    assert problem(replay, 400, "nonce_replayed")["error"] == "invalid_request"
    assert (
        len(served.get(inst.path("/recognition/cases"), headers=inst.headers).json()["cases"]) == 1
    )


def test_a_declined_case_produces_no_credential(
    served: TestClient, inst: Institution, other: Institution, app: Any
) -> None:
    world = _world(served, inst, other)
    request = _ask(world)
    assert _answer(world, request).status_code == 200
    case_id = _case_id(world)
    path = inst.path(f"/recognition/board/{case_id}/decision")
    no_reason = served.post(path, json={"decision": "decline"}, headers=inst.headers)
    problem(no_reason, 400, "reason_required")
    before = snapshot(app)
    declined = served.post(
        path,
        json={"decision": "decline", "reason": "Statistiek is ouder dan vijf jaar."},
        headers=inst.headers,
    )
    assert declined.status_code == 200, declined.text
    case = served.get(request.case_uri).json()
    assert case["state"] == "declined" and case["reason"] == "Statistiek is ouder dan vijf jaar."
    assert case["credential_offer_uri"] is None
    after = snapshot(app)
    assert after["issued_credentials"] == before["issued_credentials"]
    assert after["offers"] == before["offers"]
    problem(
        served.post(path, json={"decision": "approve"}, headers=inst.headers), 409, "case_decided"
    )
    assert snapshot(app)["offers"] == before["offers"]


def test_auto_award_closes_the_case_with_a_recorded_reason(
    served: TestClient, inst: Institution, other: Institution, clock: Clock
) -> None:
    world = _world(served, inst, other, auto=True)
    request = _ask(world)
    assert _answer(world, request).status_code == 200
    case = served.get(request.case_uri).json()
    assert case["state"] == "approved" and case["reason_code"] == "auto_award"
    events = served.get(
        inst.path("/audit"), params={"action": "recognition.auto_award"}, headers=inst.headers
    ).json()["events"]
    assert len(events) == 1 and events[0]["actor"] == "system:auto-award"
    assert events[0]["reason"] == "auto_award"
    assert any("Statistiek" in g for g in events[0]["details"]["grounds"])
    (collected,) = _collect(world, clock, case["offer_uri"], world.holder)
    assert collected.status_code == 200, collected.text


def test_no_auto_award_when_an_issuer_is_not_trusted(
    served: TestClient, inst: Institution, other: Institution
) -> None:
    world = _world(served, inst, other, auto=True, trust_other=False)
    request = _ask(world)
    assert _answer(world, request).status_code == 200
    assert served.get(request.case_uri).json()["state"] == "open"
    detail = served.get(
        inst.path(f"/recognition/board/{_case_id(world)}"), headers=inst.headers
    ).json()
    assert detail["evaluation"]["satisfied"] is False  # "trusted" means the registry


def test_bad_routes_and_unknown_cases_are_problems(
    served: TestClient, inst: Institution, other: Institution
) -> None:
    bad = served.post(
        inst.path("/routes"),
        json={"rule": {"id": "x"}, "award_module": "nope"},
        headers=inst.headers,
    )
    problem(bad, 400, "invalid_route")
    problem(served.get(inst.path("/routes/nope")), 404, "unknown_route")
    problem(served.get(inst.path("/recognition/cases/not-a-token")), 404, "case_not_found")
    problem(served.post(inst.path("/routes/nope/recognition"), json={}), 404, "unknown_route")


def test_foreign_ob3_and_vcdm11_credentials_count(
    served: TestClient, inst: Institution, other: Institution
) -> None:
    """An OB 3.0 credential of an institution outside microcred (its own did:key) and a VCDM
    1.1 credential count like the issuer's own, when their issuers are trusted."""
    from dataclasses import replace

    from credentials.microcredential import Learner
    from credentials.proofs import sign
    from microcred.samples import FOREIGN, module, sample_credential

    holder = Multikey.generate("Ed25519")
    outsider = Multikey.generate("Ed25519")
    foreign_id = "https://hochschule-nord.example/module/statistik"
    foreign = sign(
        sample_credential(
            issuer=replace(FOREIGN, id=outsider.controller),
            achievement=module(id=foreign_id, name="Statistik"),
            learner=Learner(did=holder.controller, identity="jan@example.nl"),
            credential_id="urn:uuid:7d3c7c1e-1111-4a8a-9d5e-1b2c3d4e5f60",
        ),
        outsider,
    )
    legacy_id = "https://unidelta.example/achievements/data-literacy"
    legacy = served.post(
        other.path("/credentials/issue"),
        json={
            "credential": {
                "@context": [
                    "https://www.w3.org/2018/credentials/v1",
                    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
                ],
                "type": ["VerifiableCredential", "OpenBadgeCredential"],
                "issuer": other.did,
                "issuanceDate": "2026-01-15T09:00:00Z",
                "credentialSubject": {
                    "id": holder.controller,
                    "type": ["AchievementSubject"],
                    "achievement": {
                        "id": legacy_id,
                        "type": ["Achievement"],
                        "name": "Data Literacy",
                        "description": "Reading and presenting quantitative data.",
                        "criteria": {"narrative": "Passed the final assessment."},
                    },
                },
            }
        },
        headers=other.headers,
    )
    assert legacy.status_code == 201, legacy.text
    legacy_credential = legacy.json()["verifiableCredential"]
    _module(served, inst, ROUTE_SLUG, "Erkenning statistiek", 5)
    for did, name in ((outsider.controller, "Hochschule Nord"), (other.did, "Universiteit Delta")):
        added = served.post(
            inst.path("/accepted-issuers"), json={"did": did, "name": name}, headers=inst.headers
        )
        assert added.status_code == 201
    rule = {
        "id": "vrijstelling-statistiek",
        "name": "Vrijstelling Statistiek 1",
        "accepted_issuers": ["trusted"],
        "required_modules": [
            {"id": "stat", "name": "Statistiek", "achievement_ids": [foreign_id]},
            {"id": "lit", "name": "Data literacy", "achievement_ids": [legacy_id]},
        ],
    }
    published = served.post(
        inst.path("/routes"),
        json={"kind": "exemption", "rule": rule, "award_module": ROUTE_SLUG},
        headers=inst.headers,
    )
    assert published.status_code == 201, published.text
    world = World(served, inst, other, holder, [foreign, legacy_credential], published.json())
    request = _ask(world)
    assert _answer(world, request).status_code == 200
    detail = served.get(
        inst.path(f"/recognition/board/{_case_id(world)}"), headers=inst.headers
    ).json()
    assert [c["format"] for c in detail["credentials"]][1].startswith("VCDM 1.1")
    assert all(c["verified"] and c["bound"] and c["trusted"] for c in detail["credentials"])
    assert detail["evaluation"]["satisfied"] is True
    assert detail["route"]["kind"] == "exemption"
    assert [e["id"] for e in detail["evidence"]] == [foreign["id"], legacy_credential["id"]]
    assert detail["credentials"][0]["issuer_name"] == "Hochschule Nord"


def test_an_approval_that_cannot_offer_leaves_the_case_open(
    served: TestClient, inst: Institution, other: Institution
) -> None:
    world = _world(served, inst, other)
    request = _ask(world)
    assert _answer(world, request).status_code == 200
    case_id = _case_id(world)
    archived = served.delete(inst.path(f"/modules/{ROUTE_SLUG}"), headers=inst.headers)
    assert archived.status_code == 200, archived.text
    path = inst.path(f"/recognition/board/{case_id}/decision")
    refused = served.post(path, json={"decision": "approve"}, headers=inst.headers)
    problem(refused, 409, "module_archived")
    case = served.get(request.case_uri).json()
    assert case["state"] == "open" and case["credential_offer_uri"] is None
