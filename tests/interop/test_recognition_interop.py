"""A recognition award (issue 17) verifies in Digital Bazaar's ``vc`` and DCC's
``verifier-core`` (interop/outside.mjs: npm packages with their stock loaders), with the
module credentials it references.

The issuer runs over https on 127.0.0.1 as in test_outside_verifiers.py. The whole flow is
the real one: modules issued by two institutions, the learner's OpenID4VP answer to the
route owner, the exam board's approval, the award collected over OpenID4VCI.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from credentials.dids import DidResolver
from credentials.evidence import check_stack
from credentials.fetch import FetchPolicy, SafeFetcher
from issuer.services.recognition import assessment
from tests.interop.outside import OutsideStacks
from tests.interop.test_outside_verifiers import assert_dcc_accepts, start_issuer
from tests.interop.tls import (
    LocalTls,
    LoopbackHttpsTransport,
    live_https_server,
    microcred_verifier,
)
from tests.issuer.support import Clock, make_institution
from tests.issuer.test_recognition import _answer, _ask, _case_id, _collect, _world
from tests.support.databases import fresh_database

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.interop


@pytest.fixture(scope="module")
def award(
    tmp_path_factory: pytest.TempPathFactory, local_tls: LocalTls
) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    data_dir = Path(tmp_path_factory.mktemp("recognition-issuer"))
    with fresh_database(data_dir) as database_url:
        app, port = start_issuer(database_url, data_dir, local_tls)
        # the issuer's own verifier reaches the loopback https server like microcred's does
        # in these tests (dev mode would try http): the one test seam of the service
        assessment._VERIFIERS[app.state.issuer] = microcred_verifier(local_tls)
        inst = make_institution(app, "hsr")
        other = make_institution(app, "unidelta", name="Universiteit Delta")
        with live_https_server(app, port, local_tls), TestClient(app) as client:
            world = _world(client, inst, other)
            resolver = DidResolver(
                SafeFetcher(
                    FetchPolicy(allow_insecure=True),
                    LoopbackHttpsTransport(local_tls.client_context()),
                )
            )
            request = _ask(world, resolver)
            answered = _answer(world, request)
            assert answered.status_code == 200, answered.text
            path = inst.path(f"/recognition/board/{_case_id(world)}/decision")
            decided = client.post(path, json={"decision": "approve"}, headers=inst.headers)
            assert decided.status_code == 200, decided.text
            offer = client.get(request.case_uri).json()["offer_uri"]
            (collected,) = _collect(world, Clock(), offer, world.holder)
            assert collected.status_code == 200, collected.text
            credential = collected.json()["credentials"][0]["credential"]
            # the stack and microcred's own verdict first, then the outside stacks
            assert check_stack(credential, world.modules).complete
            assert microcred_verifier(local_tls).verify_credential(credential).verified
            yield credential, world.modules


def test_the_award_verifies_in_digital_bazaar_vc(
    award: tuple[dict[str, Any], list[dict[str, Any]]], outside: OutsideStacks
) -> None:
    credential, modules = award
    result = outside.db_verify(credential)
    assert result.verified, result
    for module in modules:
        assert outside.db_verify(module).verified


def test_the_award_verifies_in_dcc_verifier_core(
    award: tuple[dict[str, Any], list[dict[str, Any]]], outside: OutsideStacks
) -> None:
    credential, modules = award
    assert_dcc_accepts(outside.dcc_verify(credential))
    for module in modules:
        assert_dcc_accepts(outside.dcc_verify(module))
