"""Presentation requests answered: the wallet's answer is verified and shown to the employer
(polling and server-sent events); nonces are single-use everywhere, replays, tampering,
expiry and wrong modules are refused or recorded as not accepted."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from credentials.keys import Multikey
from credentials.verify import create_presentation
from tests.support.servers import live_server
from tests.verifier.request_flow import (
    RULE,
    answer,
    create,
    fetch_request,
    holder_vp,
    local,
    result,
)
from tests.verifier.support import (
    CountingServer,
    microcredential,
    module,
    revocation_entry,
    signed_status_list,
    tampered,
)
from verifier.main import create_app


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
