"""The steps of a presentation request as the tests take them: create one (as the employer),
fetch it and answer it (as the wallet), read the result (shared by the request tests)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from credentials.keys import Multikey
from credentials.verify import create_presentation
from tests.verifier.conftest import ACME_KEY

RULE = {
    "id": "data-track",
    "name": "Data track admission",
    "min_ects": 10,
    "min_eqf_level": 6,
    "required_modules": [
        {"id": "wrangling", "name": "Data Wrangling", "keywords": ["wrangling"]},
    ],
}


def create(client: Any, **body: Any) -> dict[str, Any]:
    body.setdefault("purpose", "Application for the position of data analyst")
    # a requester name needs the requester's key (tests/verifier/conftest.py registers it)
    headers = {"authorization": f"Bearer {ACME_KEY}"} if "client_name" in body else {}
    response = client.post("/requests", json=body, headers=headers)
    assert response.status_code == 201, response.json()
    return response.json()


def local(uri: str) -> str:
    """A link the verifier gave out, as a path for the test client (query kept: the
    ``request_uri`` carries its capability key)."""
    parts = urlsplit(uri)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def fetch_request(client: Any, created: dict[str, Any]) -> dict[str, Any]:
    path = local(created["request_uri"])
    response = client.get(path, headers={"accept": "application/json"})
    assert response.status_code == 200, response.json()
    return response.json()


def answer(
    client: Any, params: dict[str, Any], vps: dict[str, list[dict[str, Any]]], **extra: str
) -> Any:
    form = {"vp_token": json.dumps(vps), "state": params["state"], **extra}
    return client.post(urlsplit(params["response_uri"]).path, data=form)


def result(client: Any, created: dict[str, Any], token: str | None = None) -> Any:
    token = created["result_token"] if token is None else token
    return client.get(
        f"/requests/{created['id']}/result", headers={"authorization": f"Bearer {token}"}
    )


def holder_vp(params: dict[str, Any], holder: Multikey, credentials: list[dict[str, Any]]) -> Any:
    """What a wallet does: challenge = nonce, domain = the full client_id."""
    return create_presentation(
        credentials, holder, challenge=params["nonce"], domain=params["client_id"]
    )
