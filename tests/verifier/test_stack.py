"""Checking a stack (issue 17, Build 5) through the verifier's API and pages: a route
credential shared with the module credentials it stands on verifies as a tree; one module
changed fails its digest check, named; a module revoked after the award is a warning that
names it and leaves the route credential valid; presented alone, the route credential
verifies on its own and the page says the modules were not shown. Share links are served
by a local server, so these run in dev mode."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from credentials.evidence import evidence_entry
from credentials.keys import Multikey
from credentials.proofs import sign
from credentials.verify import create_presentation
from tests.verifier.support import (
    CountingServer,
    microcredential,
    module,
    revocation_entry,
    signed_status_list,
)


@pytest.fixture
def mbo() -> Multikey:
    return Multikey.generate("ed25519")


def _parts(
    hbo: Multikey, mbo: Multikey, holder: Multikey, status: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    return [
        microcredential(
            mbo, holder, name="Techniek College", achievement=module("Python basis"), status=status
        ),
        microcredential(hbo, holder, achievement=module("Statistiek 1", ects=5)),
        microcredential(hbo, holder, achievement=module("Data Wrangling", ects=5)),
    ]


def _award(hbo: Multikey, holder: Multikey, parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The route credential as the contract shapes it: evidence + relatedResource."""
    award = microcredential(hbo, holder, achievement=module("Doorstroomroute Data", ects=17.5))
    del award["proof"]
    award["evidence"], award["relatedResource"] = [], []
    for part in parts:
        evidence, related = evidence_entry(
            part,
            name=part["credentialSubject"]["achievement"]["name"],
            issuer_id=part["issuer"]["id"],
            issuer_name=part["issuer"]["name"],
            ects=part["credentialSubject"]["achievement"].get("ects"),
        )
        award["evidence"].append(evidence)
        award["relatedResource"].append(related)
    return sign(award, hbo)


def _share(server: CountingServer, path: str, holder: Multikey, credentials: list[Any]) -> str:
    url = server.url(path)
    server.serve(path, create_presentation(credentials, holder, challenge="c-1234", domain=url))
    return url


def _page(client: Any, path: str, **data: str) -> Any:
    """A form post from the verifier's own page (CSRF token and origin)."""
    client.get("/")
    data["csrf_token"] = client.cookies.get("mc_verifier_csrf")
    return client.post(path, data=data, headers={"Origin": "http://localhost:8003"})


def _stack(response: Any) -> dict[str, Any]:
    (stack,) = response.json()["stacks"]
    return stack


def test_route_with_its_modules_verifies_as_a_tree(
    dev_client: Any, server: CountingServer, issuer: Multikey, mbo: Multikey, holder: Multikey
) -> None:
    parts = _parts(issuer, mbo, holder)
    url = _share(server, "/s/stack", holder, [_award(issuer, holder, parts), *parts])
    response = dev_client.post("/shares/verify", json={"url": url})
    assert response.status_code == 200, response.json()["errors"]
    stack = _stack(response)
    assert stack["verdict"] == "complete"
    assert (stack["modules"], stack["institutions"]) == (3, 2)
    assert stack["title"] == "Doorstroomroute Data"
    assert [p["status"] for p in stack["parts"]] == ["verified"] * 3
    assert stack["warnings"] == []
    page = _page(dev_client, "/check/share", url=url)
    assert page.status_code == 200
    headline = (
        "Doorstroomroute Data — Hogeschool Rijnland, gebaseerd op 3 modules van 2 instellingen"
    )
    assert headline in page.text
    assert 'data-stack-verdict="complete"' in page.text


def test_one_module_changed_fails_its_digest_check_named(
    dev_client: Any, server: CountingServer, issuer: Multikey, mbo: Multikey, holder: Multikey
) -> None:
    parts = _parts(issuer, mbo, holder)
    award = _award(issuer, holder, parts)
    # the issuer re-signed a changed module (a valid credential, but not the one recognised)
    changed = copy.deepcopy(parts[1])
    del changed["proof"]
    changed["credentialSubject"]["achievement"]["description"] = "herzien"
    changed = sign(changed, issuer)
    url = _share(server, "/s/changed", holder, [award, parts[0], changed, parts[2]])
    response = dev_client.post("/shares/verify", json={"url": url})
    stack = _stack(response)
    assert stack["verdict"] == "broken"
    statuses = {p["name"]: p["status"] for p in stack["parts"]}
    assert statuses == {
        "Python basis": "verified",
        "Statistiek 1": "digest_mismatch",
        "Data Wrangling": "verified",
    }
    page = _page(dev_client, "/check/share", url=url)
    assert 'data-stack-verdict="broken"' in page.text
    assert "Statistiek 1" in page.text
    assert "dit is niet de credential die de instelling erkende" in page.text


def test_module_revoked_after_the_award_is_a_warning_naming_it(
    dev_client: Any, server: CountingServer, issuer: Multikey, mbo: Multikey, holder: Multikey
) -> None:
    status_url = server.url("/status/mbo")
    server.serve("/status/mbo", signed_status_list(mbo, status_url))
    parts = _parts(issuer, mbo, holder, status=[revocation_entry(status_url, 7)])
    award = _award(issuer, holder, parts)
    # after the award, the mbo revokes its module
    server.serve("/status/mbo", signed_status_list(mbo, status_url, set_indexes=(7,)))
    url = _share(server, "/s/revoked", holder, [award, *parts])
    response = dev_client.post("/shares/verify", json={"url": url})
    stack = _stack(response)
    assert stack["verdict"] == "complete"  # the route credential is not invalidated
    assert stack["awardVerified"] is True
    assert stack["warnings"] == [{"code": "module_revoked", "name": "Python basis"}]
    assert [p["status"] for p in stack["parts"]] == ["revoked", "verified", "verified"]
    reports = response.json()["credentials"]
    assert reports[0]["verified"] is True  # the award's own report
    page = _page(dev_client, "/check/share", url=url)
    assert "Let op: Python basis is na de toekenning ingetrokken" in page.text
    # the headline is the award's (genuine; these test issuers are not in the registry),
    # not "revoked"; the revoked module's own card still says so
    assert 'data-verdict="untrusted"' in page.text
    assert page.text.count('class="card credential-card" data-state="revoked"') == 1


def test_route_credential_alone_verifies_and_says_the_modules_were_not_shown(
    dev_client: Any, server: CountingServer, issuer: Multikey, mbo: Multikey, holder: Multikey
) -> None:
    award = _award(issuer, holder, _parts(issuer, mbo, holder))
    url = _share(server, "/s/alone", holder, [award])
    response = dev_client.post("/shares/verify", json={"url": url})
    assert response.status_code == 200, response.json()["errors"]
    stack = _stack(response)
    assert stack["verdict"] == "alone"
    assert [p["status"] for p in stack["parts"]] == ["missing"] * 3
    page = _page(dev_client, "/check/share", url=url)
    assert "De onderliggende modules zijn niet getoond" in page.text
    pasted = _page(dev_client, "/check/credential", document=json.dumps(award))
    assert 'data-stack-verdict="alone"' in pasted.text


def test_a_plain_module_has_no_stack(
    dev_client: Any, server: CountingServer, issuer: Multikey, holder: Multikey
) -> None:
    url = _share(server, "/s/plain", holder, [microcredential(issuer, holder)])
    response = dev_client.post("/shares/verify", json={"url": url})
    assert response.json()["stacks"] == []
    assert "stack-tree" not in _page(dev_client, "/check/share", url=url).text


def test_employer_asks_for_the_route_certificate_and_the_answer_verifies(
    dev_client: Any, issuer: Multikey, mbo: Multikey, holder: Multikey
) -> None:
    """ "The route certificate" is asked by its name (DCQL on the achievement name)."""
    dev_client.get("/check/request")
    created = dev_client.post(
        "/check/request",
        data={
            "ask": "route",
            "route_name": "Doorstroomroute Data",
            "purpose": "Sollicitatie data-analist",
            "csrf_token": dev_client.cookies.get("mc_verifier_csrf"),
        },
        headers={"Origin": "http://localhost:8003"},
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    request_id = created.headers["location"].rsplit("/", 1)[1]
    services = dev_client.app.state.services
    params = services.requests.parameters(request_id)
    (query,) = params["dcql_query"]["credentials"]
    assert query["claims"] == [
        {"path": ["credentialSubject", "achievement", "name"], "values": ["Doorstroomroute Data"]}
    ]
    award = _award(issuer, holder, _parts(issuer, mbo, holder))
    vp = create_presentation([award], holder, challenge=params["nonce"], domain=params["client_id"])
    form = {"vp_token": json.dumps({query["id"]: [vp]}), "state": params["state"]}
    answered = dev_client.post(f"/requests/{request_id}/response", data=form)
    assert answered.status_code == 200, answered.text
    page = dev_client.get(f"/check/request/{request_id}/result")
    assert page.status_code == 200
    # genuine; its issuer is just not in this verifier's trust registry
    assert 'data-verdict="untrusted"' in page.text
    assert 'data-stack-verdict="alone"' in page.text
    assert "De onderliggende modules zijn niet getoond" in page.text


def test_a_revoked_module_does_not_hide_another_failure(
    dev_client: Any, server: CountingServer, issuer: Multikey, mbo: Multikey, holder: Multikey
) -> None:
    status_url = server.url("/status/mbo")
    server.serve("/status/mbo", signed_status_list(mbo, status_url, set_indexes=(7,)))
    parts = _parts(issuer, mbo, holder, status=[revocation_entry(status_url, 7)])
    _share(server, "/s/original", holder, [_award(issuer, holder, parts), *parts])
    server.routes["/s/lifted"] = server.routes["/s/original"]  # served at another URL
    page = _page(dev_client, "/check/share", url=server.url("/s/lifted"))
    assert 'data-verdict="untrusted"' not in page.text
    assert 'data-verdict="verified"' not in page.text
