"""microcred's wallet services with an SD-JWT VC (issue 19), against the running issuer and
verifier: collect the dc+sd-jwt configuration, check it, show the choices, answer a DCQL
request with the learner's chosen disclosures."""

from __future__ import annotations

import httpx
import pytest

from credentials.dids import DidResolver
from credentials.fetch import FetchPolicy, SafeFetcher
from credentials.keys import Multikey
from tests.interop.test_oid4vc_clients import (  # noqa: F401  (fixtures)
    LiveIssuer,
    issuer,
    live_verifier,
)
from wallet.services import sdjwt
from wallet.services.openid4vci import Openid4vciClient
from wallet.services.openid4vp import read_request


@pytest.fixture
def fetcher() -> SafeFetcher:
    return SafeFetcher(FetchPolicy(allow_insecure=True))


def test_the_wallet_collects_shows_and_presents_an_sd_jwt_vc(
    issuer: LiveIssuer,  # noqa: F811
    live_verifier: str,  # noqa: F811
    fetcher: SafeFetcher,
) -> None:
    key = Multikey.generate("P-256")
    offer = issuer.offer(pin=True)
    client = Openid4vciClient(fetcher, allow_insecure=True)
    got = sdjwt.collect(client, offer["offer_uri"], key, tx_code=offer["pin"])
    assert got.configuration_id == "MicroCredential_dc_sd_jwt"
    assert got.report.verified, got.report.to_dict()
    paths = {c["path"] for c in sdjwt.choices(got.token)}
    assert {"learner.email", "learner.student_number", "result.grade"} <= paths

    created = httpx.post(
        f"{live_verifier}/requests",
        json={
            "purpose": "Application",
            "formats": ["ldp_vc", "dc+sd-jwt"],
            "vct_values": [got.report.summary["vct"]],
        },
    ).json()
    request = read_request(
        created["openid4vp_by_reference_uri"], fetcher, DidResolver(fetcher), allow_insecure=True
    )
    assert request.signed
    form = sdjwt.answer(request, got.token, key, {"result.grade"})
    posted = httpx.post(request.response_uri, data=form)
    assert posted.status_code == 200, posted.text
    shown = httpx.get(
        created["result_uri"], headers={"Authorization": f"Bearer {created['result_token']}"}
    ).json()["result"]
    assert shown["accepted"], shown
    [credential] = shown["summary"]["credentials"]
    assert credential["grade"] == "8" and "learner" not in credential["claims"]
