"""The exam board's console pages (issue 17): the case with its reports and the rule line
by line, decisions that ask first, the notice for a module revoked after the award."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.issuer.support import Institution
from tests.issuer.test_console_session import _log_in
from tests.issuer.test_recognition import _answer, _ask, _case_id, _world, served

__all__ = ["served"]  # the live-server fixture, shared with test_recognition


def _csrf(client: TestClient) -> str:
    token = client.cookies.get("mc_issuer_csrf")
    assert token
    return token


def test_board_sees_the_case_and_approves_after_confirming(
    served: TestClient, inst: Institution, other: Institution
) -> None:
    world = _world(served, inst, other)
    request = _ask(world)
    assert _answer(world, request).status_code == 200
    case_id = _case_id(world)
    _log_in(served, inst)

    overview = served.get("/console/recognition")
    assert overview.status_code == 200
    assert 'lang="nl"' in overview.text and "Doorstroomroute Data" in overview.text
    assert f'data-case-id="{case_id}"' in overview.text

    page = served.get(f"/console/recognition/cases/{case_id}")
    assert page.status_code == 200, page.text
    html = page.text
    assert world.holder.controller in html  # the learner as disclosed
    assert html.count('class="credential-report"') == 2  # each credential with its report
    assert "Universiteit Delta" in html and "vertrouwde instelling" in html
    assert "Minimaal 10 ECTS (10 behaald)" in html  # the rule, line by line, in Dutch
    assert re.search(r"Statistiek</span> <span class=\"check-outcome\">voldaan", html)
    assert " met by " not in html  # no English sentence from the rules engine

    path = f"/console/recognition/cases/{case_id}/decide"
    first = served.post(path, data={"decision": "approve", "csrf_token": _csrf(served)})
    assert first.status_code == 200 and "Weet je het zeker?" in first.text
    assert served.get(request.case_uri).json()["state"] == "open"  # nothing happened yet
    done = served.post(
        path,
        data={"decision": "approve", "confirmed": "yes", "csrf_token": _csrf(served)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert served.get(request.case_uri).json()["state"] == "approved"
    # a browser the wallet sends to the case gets a page, not JSON
    status = served.get(request.case_uri, headers={"Accept": "text/html"})
    assert status.headers["content-type"].startswith("text/html")
    assert 'lang="nl"' in status.text and "toegekend" in status.text
    assert 'href="openid-credential-offer://?credential_offer_uri=' in status.text
    events = served.get(
        inst.path("/audit"), params={"action": "recognition.approve"}, headers=inst.headers
    ).json()["events"]
    assert len(events) == 1 and events[0]["details"]["case"] == case_id


def test_declining_needs_a_reason_and_a_confirmation(
    served: TestClient, inst: Institution, other: Institution
) -> None:
    world = _world(served, inst, other)
    request = _ask(world)
    assert _answer(world, request).status_code == 200
    case_id = _case_id(world)
    _log_in(served, inst)
    path = f"/console/recognition/cases/{case_id}/decide"
    assert served.get(f"/console/recognition/cases/{case_id}").status_code == 200
    blank = served.post(path, data={"decision": "decline", "csrf_token": _csrf(served)})
    assert "Geef een reden" in blank.text
    confirm = served.post(
        path, data={"decision": "decline", "reason": "Te oud.", "csrf_token": _csrf(served)}
    )
    assert "er wordt niets uitgegeven" in confirm.text
    assert served.get(request.case_uri).json()["state"] == "open"
    served.post(
        path,
        data={
            "decision": "decline", "reason": "Te oud.", "confirmed": "yes",
            "csrf_token": _csrf(served),
        },
    )  # fmt: skip
    case = served.get(request.case_uri).json()
    assert case["state"] == "declined" and case["reason"] == "Te oud."


def test_a_module_revoked_after_the_award_gives_a_notice(
    served: TestClient, inst: Institution, other: Institution
) -> None:
    world = _world(served, inst, other)
    request = _ask(world)
    assert _answer(world, request).status_code == 200
    case_id = _case_id(world)
    decided = served.post(
        inst.path(f"/recognition/board/{case_id}/decision"),
        json={"decision": "approve"},
        headers=inst.headers,
    )
    assert decided.status_code == 200
    assert served.post(inst.path("/recognition/recheck"), headers=inst.headers).json() == {
        "notices": []
    }
    revoked = served.post(
        other.path("/credentials/status"),
        json={
            "credentialId": world.modules[0]["id"],
            "credentialStatus": {"type": "BitstringStatusListEntry", "status": "revoked"},
            "reason": "fraude",
        },
        headers=other.headers,
    )
    assert revoked.is_success, revoked.text
    notices = served.post(inst.path("/recognition/recheck"), headers=inst.headers).json()
    assert [n["case"] for n in notices["notices"]] == [case_id]
    assert notices["notices"][0]["revoked"][0]["id"] == world.modules[0]["id"]
    # the award itself stays: the board decides
    assert served.get(request.case_uri).json()["state"] == "approved"
    _log_in(served, inst)
    page = served.get(f"/console/recognition/cases/{case_id}").text
    assert "is na de toekenning ingetrokken of geschorst" in served.get("/console/recognition").text
    assert "is na de toekenning ingetrokken of geschorst" in page
    events = served.get(
        inst.path("/audit"), params={"action": "recognition.evidence_revoked"},
        headers=inst.headers,
    ).json()["events"]  # fmt: skip
    assert len(events) == 1


def test_the_recognition_catalogue_has_the_same_keys_in_both_languages() -> None:
    from pathlib import Path

    from servicekit.web import load_messages

    catalogue = load_messages(Path(__file__).resolve().parents[2] / "issuer" / "messages")
    nl = {k for k in catalogue["nl"] if k.startswith("recognition.")}
    en = {k for k in catalogue["en"] if k.startswith("recognition.")}
    assert nl == en and len(nl) > 50


def test_routes_and_trusted_issuers_are_managed_in_the_console(
    client: TestClient, inst: Institution, other: Institution
) -> None:
    from tests.issuer.support import module_spec

    created = client.post(inst.path("/modules"), json=module_spec(), headers=inst.headers)
    assert created.status_code == 201
    _log_in(client, inst)
    assert client.get("/console/recognition").status_code == 200
    rule = (
        "id: vrijstelling-statistiek\n"
        "name: Vrijstelling Statistiek 1\n"
        "accepted_issuers: [trusted]\n"
        "required_modules:\n"
        "  - {id: stat, name: Statistiek, keywords: [statistiek]}\n"
    )
    published = client.post(
        "/console/recognition/routes",
        data={
            "kind": "exemption", "award_module": "data-wrangling", "rule": rule,
            "csrf_token": _csrf(client),
        },
    )  # fmt: skip
    assert published.status_code == 200 and "is gepubliceerd" in published.text
    route = client.get(inst.path("/routes/vrijstelling-statistiek")).json()
    assert route["kind"] == "exemption" and route["award"]["auto_award"] is False
    bad = client.post(
        "/console/recognition/routes",
        data={
            "kind": "route",
            "award_module": "data-wrangling",
            "rule": "id: [",
            "csrf_token": _csrf(client),
        },
    )
    assert "De regel klopt niet" in bad.text

    added = client.post(
        "/console/recognition/issuers",
        data={"did": other.did, "name": "Universiteit Delta", "csrf_token": _csrf(client)},
    )
    assert "toegevoegd" in added.text
    listed = client.get(inst.path("/accepted-issuers"), headers=inst.headers).json()["issuers"]
    assert [i["did"] for i in listed] == [other.did]
    ask = client.post(
        "/console/recognition/issuers/remove", data={"did": other.did, "csrf_token": _csrf(client)}
    )
    assert "Weet je het zeker?" in ask.text
    assert (
        len(client.get(inst.path("/accepted-issuers"), headers=inst.headers).json()["issuers"]) == 1
    )
    client.post(
        "/console/recognition/issuers/remove",
        data={"did": other.did, "confirmed": "yes", "csrf_token": _csrf(client)},
    )
    assert client.get(inst.path("/accepted-issuers"), headers=inst.headers).json()["issuers"] == []
