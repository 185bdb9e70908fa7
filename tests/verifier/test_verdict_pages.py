"""Issue 16, points 4 and 5: verdicts that answer the question, and whose credential it is.

Over HTTP against the real verifier app: a headline's reason comes from the credential the
headline is about; a tampered credential's values are not shown as facts; a pasted
credential says it proves nothing about who sent it; the sharing checks appear once; the
holder is named as a person only when the learner disclosed a name.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

from fastapi.testclient import TestClient

from credentials.keys import Multikey
from credentials.microcredential import Learner
from credentials.proofs import sign
from credentials.verify import create_presentation
from servicekit.web import LANG_COOKIE
from tests.credentials.microcred_samples import HBO, sample_credential


def _credential(issuer: Multikey, holder: Multikey, **subject: Any) -> dict[str, Any]:
    credential = sample_credential(
        issuer=replace(HBO, id=issuer.controller), learner=Learner(did=holder.controller)
    )
    credential["credentialSubject"].update(subject)
    signed: dict[str, Any] = sign(credential, issuer)
    return signed


def _tampered(credential: dict[str, Any]) -> dict[str, Any]:
    forged = json.loads(json.dumps(credential))
    forged["credentialSubject"]["achievement"]["name"] = "Vervalste master"
    return forged


def _paste(client: TestClient, document: Any, lang: str = "nl") -> str:
    client.cookies.set(LANG_COOKIE, lang)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text)
    assert token
    answer = client.post(
        "/check/credential",
        data={"document": json.dumps(document), "csrf_token": token.group(1)},
    )
    assert answer.status_code == 200, answer.text[-1500:]
    return answer.text


def _verdict_section(page: str) -> str:
    found = re.search(r'<section class="verdict.*?</section>', page, re.S)
    assert found, page[:2000]
    return found.group(0)


def test_the_headline_reason_comes_from_the_failing_credential(
    dev_client: TestClient, issuer: Multikey, holder: Multikey
) -> None:
    genuine = _credential(issuer, holder)
    forged = _tampered(_credential(issuer, holder))
    presentation = create_presentation([genuine, forged], holder, challenge="c", domain="d")
    page = _paste(dev_client, presentation)
    verdict = _verdict_section(page)
    assert 'data-verdict="failed"' in verdict
    # the reason is the forged card's own failure, said in Dutch
    assert "De digitale handtekening klopt niet" in verdict
    # and the headline does not name the genuine credential as if it were the subject
    assert "verdict-subject" not in verdict and "Vervalste master" not in verdict
    cards = re.findall(r'data-trustworthy="(true|false)"', page)
    assert cards == ["true", "false"]
    assert "<del>Vervalste master</del>" in page  # struck through, behind the fold
    assert page.count("Controles van het delen") == 1


def test_a_pasted_credential_proves_nothing_about_its_sender(
    dev_client: TestClient, issuer: Multikey, holder: Multikey
) -> None:
    page = _paste(dev_client, _credential(issuer, holder))
    assert "data-pasted" in page and "bewijst niets over wie hem stuurde" in page
    assert "de houder van sleutel did:key:" in page  # no person: a key, and it is said
    english = _paste(dev_client, _credential(issuer, holder), lang="en")
    assert '<html lang="en">' in english and "proves nothing about who sent it" in english


def test_a_disclosed_name_names_the_holder_as_a_person(
    dev_client: TestClient, issuer: Multikey, holder: Multikey
) -> None:
    named = _credential(
        issuer,
        holder,
        identifier=[
            {
                "type": "IdentityObject",
                "identityType": "name",
                "hashed": False,
                "identityHash": "Jan de Vries",
            }
        ],
    )
    page = _paste(dev_client, named)
    assert re.search(r"Op naam van</dt><dd class=\"holder-name\">Jan de Vries<", page)
    hashed = _credential(
        issuer,
        holder,
        identifier=[
            {
                "type": "IdentityObject",
                "identityType": "name",
                "hashed": True,
                "identityHash": "sha256$" + "0" * 64,
                "salt": "x",
            }
        ],
    )
    assert "holder-name" not in _paste(dev_client, hashed)  # a hash names nobody


def test_a_withdrawn_share_link_reads_withdrawn(dev_client: TestClient) -> None:
    token = re.search(r'name="csrf_token" value="([^"]+)"', dev_client.get("/").text)
    assert token
    page = dev_client.post(
        "/check/share",
        data={"url": "http://127.0.0.1:9/s/gone", "csrf_token": token.group(1)},
    ).text
    verdict = _verdict_section(page)
    # an unreachable link is not a withdrawn one: it must not say "ingetrokken"
    assert 'data-verdict="failed"' in verdict and "Link ingetrokken" not in verdict


def test_a_share_link_answering_410_reads_link_withdrawn_or_expired(
    dev_client: TestClient, server: Any
) -> None:
    url = server.serve("/s/revoked", {"code": "share_revoked"}, status=410)
    token = re.search(r'name="csrf_token" value="([^"]+)"', dev_client.get("/").text)
    assert token
    page = dev_client.post("/check/share", data={"url": url, "csrf_token": token.group(1)}).text
    verdict = _verdict_section(page)
    assert 'data-verdict="withdrawn"' in verdict
    assert "Link ingetrokken of verlopen" in verdict and "Niet geldig" not in verdict
    assert "HTTP 410" not in page  # the engine's sentence stays off the page


def test_a_request_with_a_rule_leads_with_the_rule(
    dev_client: TestClient, issuer: Multikey, holder: Multikey, monkeypatch: Any
) -> None:
    """The request's result page: "Voldoet niet aan de regel: 8 van 10 ECTS" first, then
    whether the credentials themselves are genuine; the rule's lines in Dutch."""
    services = dev_client.app.state.services  # type: ignore[attr-defined]
    genuine = _credential(issuer, holder)
    answer = create_presentation([genuine], holder, challenge="c", domain="d")
    verified = services.vcapi.verify_presentation(answer, {}).to_dict()
    state = {
        "status": "completed",
        "purpose": "Toelating minor Data",
        "completed_at": "2026-12-04T12:00:00Z",
        "expires_at": "2026-12-04T13:00:00Z",
        "request": {"modules": [], "rule": {"name": "Minor Data"}},
        "result": {
            "presentations": [verified],
            "matches_request": True,
            "queries": [{"id": "route", "matched": True, "message": "credentials for X: Y"}],
            "rule": {
                "satisfied": False,
                "route": {"id": "r", "name": "Minor Data", "min_ects": 10},
                "ects_total": 8,
                "explanations": [
                    {"requirement": "min_ects", "met": False, "message": "8 of 10 ECTS"}
                ],
                "credentials": [],
                "rejected": [],
            },
        },
    }
    monkeypatch.setattr(services.requests, "result", lambda request_id, token: state)
    dev_client.cookies.set("mc_verifier_result", "token")
    page = dev_client.get("/check/request/some-id/result").text
    verdict = _verdict_section(page)
    assert 'data-answer="not_met"' in verdict
    assert re.search(r"<h1>.*Voldoet niet aan de regel: 8 van 10 ECTS.*</h1>", verdict, re.S)
    assert 'class="verdict-authenticity"' in verdict  # authenticity comes second
    assert "Echt en geldig" not in verdict  # no green "genuine" over a failed rule
    assert "8 van 10 ECTS" in page and "8 of 10 ECTS" not in page
    assert "credentials voor Minor Data" in page and "credentials for X" not in page
