"""Hostile and random input at every endpoint: a clear 4xx (or a report), never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credentials.keys import Multikey
from tests.verifier.request_flow import local
from tests.verifier.support import microcredential

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
KEYS = st.sampled_from(
    [
        "verifiableCredential",
        "verifiablePresentation",
        "options",
        "credentials",
        "rule",
        "url",
        "@context",
        "type",
        "proof",
        "challenge",
    ]
)
bodies = st.dictionaries(KEYS, json_values, max_size=4) | json_values
ENDPOINTS = [
    "/credentials/verify",
    "/presentations/verify",
    "/admissions/evaluate",
    "/shares/verify",
]
ALLOWED = {200, 400, 404, 413, 422}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(body=bodies)
def test_random_json_never_causes_a_server_error(client: Any, endpoint: str, body: Any) -> None:
    response = client.post(endpoint, content=json.dumps(body).encode())
    assert response.status_code in ALLOWED, (response.status_code, response.text)


# each example creates a request (QR images included): fewer examples keep this quick
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=json_values, field=st.sampled_from(["vp_token", "state", "error"]))
def test_random_answers_to_a_request_never_cause_a_server_error(
    client: Any, value: Any, field: str
) -> None:
    created = client.post("/requests", json={"purpose": "fuzz"}).json()
    params = client.get(
        local(created["request_uri"]), headers={"accept": "application/json"}
    ).json()
    form = {"state": params["state"], "vp_token": "{}"}
    form[field] = json.dumps(value) if not isinstance(value, str) else value
    response = client.post(f"/requests/{created['id']}/response", data=form)
    assert response.status_code in {200, 400, 410}, response.text


@pytest.mark.parametrize(
    "credential_mutation",
    [
        {"@context": [{"@vocab": "https://evil.example/#"}]},
        {"@context": ["https://www.w3.org/ns/credentials/v2", {"@version": 1.1, "name": None}]},
        {"credentialSubject": {"@id": "_:b0"}},
        {"issuer": {"id": "did:web:%00"}},
        {"issuer": "did:web:" + "a" * 5000},
        {"validFrom": "9999-99-99T99:99:99Z"},
        {"proof": {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022"}},
        {"proof": [{"type": "DataIntegrityProof"}] * 20},
        {"credentialStatus": {"type": "BitstringStatusListEntry", "statusListIndex": "-1"}},
        {"credentialStatus": [{"type": "X"}] * 50},
        {"type": ["VerifiableCredential", 7]},
    ],
)
def test_hostile_credential_fields_are_reported_not_crashed(
    client: Any, issuer: Multikey, holder: Multikey, credential_mutation: dict[str, Any]
) -> None:
    credential = {**microcredential(issuer, holder), **credential_mutation}
    if "@context" in credential_mutation and isinstance(credential["@context"], list):
        credential["@context"] = ["https://www.w3.org/ns/credentials/v2", *credential["@context"]]
    response = client.post("/credentials/verify", json={"verifiableCredential": credential})
    assert response.status_code == 400
    assert response.json()["verified"] is False
