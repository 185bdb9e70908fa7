"""Other vendors' wallet libraries against microcred's real issuer and verifier.

The OpenWallet Foundation's ``@openid4vc/openid4vci`` / ``openid4vp`` (0.4.6) and Sphereon's
``@sphereon/oid4vci-client`` (0.16.0), installed from the npm registry (interop/package.json),
drive ``interop/oid4vc.mjs`` as a wallet would: collect an offer from the issuer served by
uvicorn on 127.0.0.1 (pre-authorised code with and without a tx_code, key proof with
``kid`` = did:key and with a bare ``jwk``), and fetch, verify and answer the verifier's
request object signed for its ``decentralized_identifier:`` client id.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from credentials.did_jwk import did_jwk_for
from credentials.keys import Multikey
from credentials.verify import create_presentation
from interop.reference import REPO_ROOT, node_executable
from servicekit.migrations import upgrade
from servicekit.tokens import token_hash
from tests.issuer.support import build_app, make_institution, module_spec, verifier
from tests.support.databases import fresh_database
from tests.support.servers import free_port, live_server
from tests.verifier.support import microcredential

pytestmark = pytest.mark.interop

HARNESS = REPO_ROOT / "interop" / "oid4vc.mjs"
MODULES = REPO_ROOT / "interop" / "node_modules"
PACKAGES = ("@openid4vc/openid4vci", "@openid4vc/openid4vp", "@sphereon/oid4vci-client")


@pytest.fixture(scope="module")
def node() -> str:
    """Node and the libraries; a skip unless MICROCRED_REQUIRE_INTEROP=1 (CI) demands them."""
    executable = node_executable()
    problem = None
    if executable is None:
        problem = "node not found on PATH"
    else:
        for package in PACKAGES:
            if not (MODULES / package / "package.json").exists():
                problem = f"{package} is not installed (run ./scripts/setup)"
    if problem is not None:
        if os.environ.get("MICROCRED_REQUIRE_INTEROP"):
            pytest.fail(problem)
        pytest.skip(problem)
    assert executable is not None
    return executable


def wallet(node: str, op: str, **fields: Any) -> dict[str, Any]:
    """One harness run: ``{"ok": true, "result": …}`` or ``{"ok": false, "error", "oauth"}``."""
    done = subprocess.run(
        [node, str(HARNESS)],
        input=json.dumps({"op": op, **fields}),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


# --------------------------------------------------------------------------- OpenID4VCI


@dataclass
class LiveIssuer:
    client: TestClient
    headers: dict[str, str]
    path: Any

    def offer(self, *, pin: bool) -> dict[str, Any]:
        body = {
            "module_id": "data-wrangling",
            "learner": {"email": "jan@example.nl", "student_number": "500123"},
            "result": {"grade": "8", "awarded_date": "2026-06-30"},
            "pin": pin,
        }
        response = self.client.post(self.path("/offers"), json=body, headers=self.headers)
        assert response.status_code == 201, response.text
        return response.json()

    def state(self, offer: dict[str, Any]) -> str:
        answer = self.client.get(self.path(f"/offers/{offer['id']}"), headers=self.headers)
        return answer.json()["state"]


@pytest.fixture
def issuer(database_url: str, tmp_path: Path) -> Iterator[LiveIssuer]:
    port = free_port()
    app = build_app(database_url, port, tmp_path)
    inst = make_institution(app)
    with live_server(app, port), TestClient(app) as client:
        created = client.post(inst.path("/modules"), json=module_spec(), headers=inst.headers)
        assert created.status_code in (200, 201), created.text
        yield LiveIssuer(client, inst.headers, inst.path)


@pytest.mark.parametrize(
    ("binding", "alg", "pin"),
    [
        ("did", "EdDSA", False),
        ("did", "ES256", True),
        ("jwk", "EdDSA", True),
        ("jwk", "ES256", False),
    ],
)
def test_the_openwallet_client_collects_an_offer(
    node: str, issuer: LiveIssuer, binding: str, alg: str, pin: bool
) -> None:
    offer = issuer.offer(pin=pin)
    answer = wallet(
        node, "collect", offer=offer["offer_uri"], txCode=offer["pin"], binding=binding, alg=alg
    )
    assert answer["ok"], answer
    result = answer["result"]
    assert result["issuerVersion"] == "V1"  # it read the metadata as OpenID4VCI 1.0
    header = result["proofHeader"]
    assert header["typ"] == "openid4vci-proof+jwt" and header["alg"] == alg
    subject = result["credential"]["credentialSubject"]["id"]
    if binding == "jwk":
        assert "jwk" in header and "kid" not in header
        assert subject == did_jwk_for(result["jwk"])
    else:
        assert header["kid"].startswith("did:key:")
        assert subject == result["holder"]
    report = verifier().verify_credential(result["credential"])
    assert report.verified, report.to_dict()
    assert issuer.state(offer) == "issued"


def test_a_tx_code_for_an_offer_without_one_is_refused_to_the_openwallet_client(
    node: str, issuer: LiveIssuer
) -> None:
    offer = issuer.offer(pin=False)
    answer = wallet(node, "collect", offer=offer["offer_uri"], txCode="123456")
    assert not answer["ok"]
    assert answer["oauth"]["error"] == "invalid_request", answer
    assert issuer.state(offer) == "offered"  # not burnt: collecting without it still works
    assert wallet(node, "collect", offer=offer["offer_uri"])["ok"]


@pytest.mark.parametrize(("alg", "pin"), [("EdDSA", False), ("ES256", True)])
def test_the_sphereon_client_collects_an_offer(
    node: str, issuer: LiveIssuer, alg: str, pin: bool
) -> None:
    offer = issuer.offer(pin=pin)
    answer = wallet(
        node, "sphereonCollect", offer=offer["offer_uri"], txCode=offer["pin"], alg=alg
    )
    assert answer["ok"], answer
    credential = answer["result"]["credential"]
    assert credential["credentialSubject"]["id"] == answer["result"]["holder"]
    report = verifier().verify_credential(credential)
    assert report.verified, report.to_dict()
    assert issuer.state(offer) == "issued"


# --------------------------------------------------------------------------- OpenID4VP


@pytest.fixture
def live_verifier(tmp_path: Path) -> Iterator[str]:
    from verifier.config import Settings
    from verifier.main import create_app

    port = free_port()
    with fresh_database(tmp_path, "verifier") as url:
        upgrade("verifier", url)
        app = create_app(
            Settings(
                database_url=url,
                public_url=f"http://127.0.0.1:{port}",
                port=port,
                dev=True,
                data_dir=tmp_path / "verifier",
                requester_keys={token_hash("employer-key"): "Employer BV"},
            )
        )
        with live_server(app, port) as base:
            yield base


def create_request(base: str) -> dict[str, Any]:
    response = httpx.post(
        f"{base}/requests",
        json={"purpose": "Application: data analyst", "client_name": "Employer BV"},
        headers={"authorization": "Bearer employer-key"},  # a registered requester
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_the_openwallet_client_verifies_the_signed_request_object_and_answers_it(
    node: str, live_verifier: str
) -> None:
    created = create_request(live_verifier)
    resolved = wallet(node, "resolveRequest", uri=created["openid4vp_by_reference_uri"])
    assert resolved["ok"], resolved
    request = resolved["result"]
    did = "did:web:" + live_verifier.removeprefix("http://").replace(":", "%3A")
    assert request["signed"] is True
    assert request["client"]["prefix"] == "decentralized_identifier"
    assert request["client"]["identifier"] == did
    assert request["signer"] == {"method": "did", "didUrl": f"{did}#key-1"}
    assert request["jarHeader"]["typ"] == "oauth-authz-req+jwt"
    payload = request["payload"]
    assert payload["nonce"] == created["nonce"] and payload["state"] == created["state"]

    holder = Multikey.generate()
    vp = create_presentation(
        [microcredential(Multikey.generate(), holder)],
        holder,
        challenge=payload["nonce"],
        domain=request["client"]["effective"],  # decentralized_identifier:did:web:…
    )
    [query] = request["dcql"]["credentials"]
    posted = wallet(node, "submitResponse", payload=payload, vpToken={query["id"]: [vp]})
    assert posted["ok"], posted
    assert posted["result"]["status"] == 200, posted
    shown = httpx.get(
        created["result_uri"], headers={"Authorization": f"Bearer {created['result_token']}"}
    ).json()
    assert shown["status"] == "completed", shown
    assert shown["result"]["verified"] is True
    assert shown["result"]["summary"]["holder"] == holder.controller


def test_the_openwallet_client_reads_the_unsigned_request_by_value(
    node: str, live_verifier: str
) -> None:
    created = create_request(live_verifier)
    resolved = wallet(node, "resolveRequest", uri=created["openid4vp_uri"])
    assert resolved["ok"], resolved
    request = resolved["result"]
    assert request["signed"] is False and request["client"]["prefix"] == "redirect_uri"
    assert request["payload"]["client_id"] == f"redirect_uri:{created['response_uri']}"


def test_a_request_object_that_does_not_verify_is_refused_by_the_openwallet_client(
    node: str, live_verifier: str
) -> None:
    """The library really checks the signature against the verifier's DID document: the same
    request object passed by value verifies, with a damaged signature it is refused."""
    created = create_request(live_verifier)
    token = httpx.get(created["request_uri"]).text
    client_id = dict(parse_qsl(urlsplit(created["openid4vp_by_reference_uri"]).query))["client_id"]
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{'A' * 8}{signature[8:]}"
    for request, accepted in ((token, True), (forged, False)):
        uri = "openid4vp://?" + urlencode({"client_id": client_id, "request": request})
        answer = wallet(node, "resolveRequest", uri=uri)
        assert answer["ok"] is accepted, answer
