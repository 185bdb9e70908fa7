"""OpenID4VP 1.0 requests for SD-JWT VCs (issue 19): DCQL with vct and claims, or either
format; KB-JWT nonce/audience/freshness, disclosures, status; the same result shape."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest

from credentials.keys import Multikey
from credentials.sdjwt import core, jose, vc
from credentials.sdjwt.status import INVALID
from tests.credentials.sdjwt_support import SdJwtIssuer
from tests.verifier.request_flow import create, fetch_request, result
from tests.verifier.support import CountingServer


@pytest.fixture
def sd_issuer(server: CountingServer) -> SdJwtIssuer:
    issuer = SdJwtIssuer(iss=server.url("/hbo"), status_uri=server.url("/hbo/status/1/token"))
    _serve(issuer, server)
    return issuer


def _serve(issuer: SdJwtIssuer, server: CountingServer) -> None:
    issuer.publish()
    for url, document in issuer.documents.items():
        body = document.encode() if isinstance(document, str) else document
        server.serve(urlsplit(url).path, body)


def _present(token: str, holder: Multikey, params: dict[str, Any], **kw: Any) -> str:
    return core.present(
        core.SdJwt.parse(token),
        kw.get("keep", {"learner.given_name", "result.grade"}),
        holder,
        audience=kw.get("audience", params["client_id"]),
        nonce=kw.get("nonce", params["nonce"]),
    )


def _answer(client: Any, params: dict[str, Any], vps: dict[str, list[str]]) -> Any:
    form = {"vp_token": json.dumps(vps), "state": params["state"]}
    return client.post(urlsplit(params["response_uri"]).path, data=form)


def test_a_dcql_request_for_the_sd_jwt_vc_is_answered_and_shown(
    dev_client: Any, sd_issuer: SdJwtIssuer
) -> None:
    holder = Multikey.generate("P-256")
    token, _ = sd_issuer.issue(holder)
    title = sd_issuer.claims()["title"]
    created = create(dev_client, formats=["dc+sd-jwt"], vct_values=[sd_issuer.vct], modules=[title])
    params = fetch_request(dev_client, created)
    (query,) = params["dcql_query"]["credentials"]
    assert query == {
        "id": "module_1_sd_jwt",
        "format": "dc+sd-jwt",
        "meta": {"vct_values": [sd_issuer.vct]},
        "claims": [{"path": ["title"], "values": [title]}],
    }
    assert "dc+sd-jwt" in params["client_metadata"]["vp_formats_supported"]
    answer = _answer(dev_client, params, {"module_1_sd_jwt": [_present(token, holder, params)]})
    assert answer.status_code == 200, answer.json()
    outcome = result(dev_client, created).json()["result"]
    assert outcome["verified"] and outcome["accepted"], outcome
    [shown] = outcome["summary"]["credentials"]
    assert shown["module"] == title and shown["format"] == "dc+sd-jwt"
    assert shown["claims"]["learner"] == {"given_name": "Jan"}
    checks = {
        c["id"]: c["outcome"] for c in outcome["presentations"][0]["credentials"][0]["checks"]
    }
    for check in ("proof", "disclosures", "vct", "key_binding", "status"):
        assert checks[check] == "passed", checks
    # the employer view renders it like any credential (module title, verdict)
    dev_client.cookies.set("mc_verifier_result", created["result_token"])
    page = dev_client.get(f"/check/request/{created['id']}/result")
    dev_client.cookies.clear()
    assert page.status_code == 200 and title in page.text
    assert sd_issuer.claims()["awarding_body"]["name"] in page.text  # from the card only
    # tamper: the same answer again (a reused nonce) is refused
    again = _answer(dev_client, params, {"module_1_sd_jwt": [_present(token, holder, params)]})
    assert again.status_code == 400 and again.json()["code"] == "nonce_replayed"


def test_either_format_is_one_credential_set(dev_client: Any, sd_issuer: SdJwtIssuer) -> None:
    holder = Multikey.generate("Ed25519")
    token, _ = sd_issuer.issue(holder)
    created = create(dev_client, formats=["ldp_vc", "dc+sd-jwt"], vct_values=[sd_issuer.vct])
    params = fetch_request(dev_client, created)
    ids = [q["id"] for q in params["dcql_query"]["credentials"]]
    assert ids == ["credential", "credential_sd_jwt"]
    assert params["dcql_query"]["credential_sets"] == [
        {"options": [["credential"], ["credential_sd_jwt"]], "required": True}
    ]
    answer = _answer(dev_client, params, {"credential_sd_jwt": [_present(token, holder, params)]})
    assert answer.status_code == 200, answer.json()
    outcome = result(dev_client, created).json()["result"]
    assert outcome["accepted"] and outcome["matches_request"], outcome


def test_tamper_a_kb_jwt_for_another_audience_is_refused_without_burning_the_nonce(
    dev_client: Any, sd_issuer: SdJwtIssuer
) -> None:
    holder = Multikey.generate("P-256")
    token, _ = sd_issuer.issue(holder)
    created = create(dev_client, formats=["dc+sd-jwt"], vct_values=[sd_issuer.vct])
    params = fetch_request(dev_client, created)
    wrong = _present(token, holder, params, audience="x509_san_dns:other.example")
    refused = _answer(dev_client, params, {"credential_sd_jwt": [wrong]})
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_presentation"
    assert "audience" in refused.json()["detail"]
    stale_nonce = _present(token, holder, params, nonce="a-nonce-from-another-request")
    refused = _answer(dev_client, params, {"credential_sd_jwt": [stale_nonce]})
    assert refused.status_code == 400 and "nonce" in refused.json()["detail"]
    ok = _answer(dev_client, params, {"credential_sd_jwt": [_present(token, holder, params)]})
    assert ok.status_code == 200


def test_tamper_revoked_unknown_vct_and_foreign_disclosure_are_not_accepted(
    dev_client: Any, sd_issuer: SdJwtIssuer, server: CountingServer
) -> None:
    holder = Multikey.generate("P-256")
    revoked, index = sd_issuer.issue(holder)
    sd_issuer.set_status(index, INVALID)
    _serve(sd_issuer, server)
    claims = sd_issuer.claims()
    claims["vct"] = sd_issuer.vct + "-diploma"
    unknown = vc.issue_sd_jwt_vc(
        claims, sd_issuer.key, holder_jwk=jose.jwk_of(holder), kid=sd_issuer.kid
    )
    good, _ = sd_issuer.issue(holder)
    for token, check, code in (
        (revoked, "status", "revoked"),
        (unknown, "vct", "unknown_vct"),
        (good, "disclosures", "disclosure_not_in_sd"),
    ):
        created = create(dev_client, formats=["dc+sd-jwt"], vct_values=[sd_issuer.vct])
        params = fetch_request(dev_client, created)
        sd = core.select(core.SdJwt.parse(token), set())
        if check == "disclosures":
            sd.disclosures.append(core.Disclosure.make("given_name", "Piet"))
        sd.kb_jwt = core.key_binding_jwt(
            sd, holder, audience=params["client_id"], nonce=params["nonce"]
        )
        answer = _answer(dev_client, params, {"credential_sd_jwt": [sd.serialize()]})
        assert answer.status_code == 200, answer.json()
        outcome = result(dev_client, created).json()["result"]
        assert not outcome["verified"] and not outcome["accepted"], (check, outcome)
        [report] = outcome["presentations"][0]["credentials"]
        failed = {(c["id"], c["code"]) for c in report["errors"]}
        assert (check, code) in failed, report


def test_a_pasted_sd_jwt_vc_is_checked_on_the_page_and_by_vc_api(
    dev_client: Any, sd_issuer: SdJwtIssuer
) -> None:
    import re

    holder = Multikey.generate("P-256")
    token, _ = sd_issuer.issue(holder)
    page = dev_client.get("/")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf
    shown = dev_client.post(
        "/check/credential", data={"document": token, "csrf_token": csrf.group(1)}
    )
    assert shown.status_code == 200
    assert sd_issuer.claims()["awarding_body"]["name"] in shown.text
    answer = dev_client.post("/credentials/verify", json={"verifiableCredential": token})
    assert answer.status_code == 200, answer.text
    assert answer.json()["verified"] is True, answer.json()
    assert answer.json()["format"].startswith("SD-JWT VC")


def test_a_bare_dc_sd_jwt_body_is_verified(dev_client: Any, sd_issuer: SdJwtIssuer) -> None:
    """``POST /credentials/verify`` with ``Content-Type: application/dc+sd-jwt`` and the
    SD-JWT VC as the body: the same report as the string in ``verifiableCredential``; a
    tampered one fails with its reason (it was "unsupported format" by media type)."""
    holder = Multikey.generate("P-256")
    token, _ = sd_issuer.issue(holder)
    answer = dev_client.post(
        "/credentials/verify",
        content=token.encode(),
        headers={"Content-Type": "application/dc+sd-jwt"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["verified"] is True and answer.json()["format"].startswith("SD-JWT VC")
    jwt, *rest = token.split("~")
    head, payload, signature = jwt.split(".")
    forged = ".".join([head, payload, ("A" if signature[0] != "A" else "B") + signature[1:]])
    bad = dev_client.post(
        "/credentials/verify",
        content="~".join([forged, *rest]).encode(),
        headers={"Content-Type": "application/dc+sd-jwt; charset=ascii"},
    )
    assert bad.status_code == 400, bad.text
    assert {c["id"]: c.get("code") for c in bad.json()["checks"] if c["outcome"] == "failed"}[
        "proof"
    ] == "invalid_signature"
