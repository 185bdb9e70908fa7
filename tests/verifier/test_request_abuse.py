"""Issue 14, item 7: presentation requests anyone could forge or burn.

- anyone created requests without limit, under any requester name ("Belastingdienst");
- anyone who knew a request id could decline it (the id opened the request, and with it
  the ``state`` a decline carries).
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlsplit

import pytest

from servicekit.ratelimit import DEFAULT_LIMITS
from tests.verifier.conftest import ACME_KEY
from tests.verifier.request_flow import local

# counts, not speed: the limiters' clock stands still in these tests
pytestmark = pytest.mark.usefixtures("frozen_rate_limits")

PURPOSE = {"purpose": "Tax return"}


def _claims(jwt: str) -> dict[str, Any]:
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_an_anonymous_caller_cannot_name_the_requester(client: Any) -> None:
    response = client.post("/requests", json={**PURPOSE, "client_name": "Belastingdienst"})
    assert response.status_code == 403
    assert response.json()["code"] == "requester_not_verified"
    # without a name it asks as this verifier, never as someone else
    created = client.post("/requests", json=PURPOSE).json()
    params = client.get(
        local(created["request_uri"]), headers={"accept": "application/json"}
    ).json()
    assert params["client_metadata"]["client_name"] == "microcred verifier"


def test_a_registered_requester_is_named_by_its_key_in_the_signed_request(client: Any) -> None:
    bearer = {"authorization": f"Bearer {ACME_KEY}"}
    created = client.post("/requests", json=PURPOSE, headers=bearer).json()
    token = client.get(local(created["request_uri"])).text  # signed by the verifier's did:web
    assert _claims(token)["client_metadata"]["client_name"] == "Acme BV"
    # the key names the requester; it cannot claim another name
    claimed = {**PURPOSE, "client_name": "Belastingdienst"}
    other = client.post("/requests", json=claimed, headers=bearer)
    assert other.status_code == 403
    wrong = client.post("/requests", json=PURPOSE, headers={"authorization": "Bearer guess"})
    assert (wrong.status_code, wrong.json()["code"]) == (401, "requester_key_invalid")


def test_anonymous_creation_is_rate_limited_but_a_registered_requester_is_not(
    client: Any,
) -> None:
    limit = DEFAULT_LIMITS["request"]
    codes = [client.post("/requests", json=PURPOSE).status_code for _ in range(limit + 1)]
    assert codes[:limit] == [201] * limit
    assert codes[limit] == 429
    bearer = {"authorization": f"Bearer {ACME_KEY}"}
    assert client.post("/requests", json=PURPOSE, headers=bearer).status_code == 201


def test_the_request_id_alone_can_neither_read_nor_decline_a_request(client: Any) -> None:
    created = client.post("/requests", json=PURPOSE).json()
    request_id = created["id"]
    # the id (in the result and events URLs, the page address) does not open the request
    for accept in ("application/json", "application/oauth-authz-req+jwt"):
        bare = client.get(f"/requests/{request_id}", headers={"accept": accept})
        assert (bare.status_code, bare.json()["code"]) == (404, "request_not_found")
        guessed = client.get(f"/requests/{request_id}?key=0", headers={"accept": accept})
        assert guessed.status_code == 404
    # so a decline without the state the wallet was given is refused
    declined = client.post(
        f"/requests/{request_id}/response", data={"error": "access_denied", "state": "guess"}
    )
    assert declined.status_code == 400 and declined.json()["code"] == "invalid_state"
    status = client.get(
        f"/requests/{request_id}/result",
        headers={"authorization": f"Bearer {created['result_token']}"},
    ).json()["status"]
    assert status == "pending"
    # the wallet, holding the request_uri (or the QR), can decline
    params = client.get(
        local(created["request_uri"]), headers={"accept": "application/json"}
    ).json()
    path = urlsplit(params["response_uri"]).path
    ok = client.post(path, data={"error": "access_denied", "state": params["state"]})
    assert ok.status_code == 200
