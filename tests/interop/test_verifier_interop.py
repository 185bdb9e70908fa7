"""The verifier service against the independent reference implementation (Digital Bazaar):
microcredentials and presentations signed there verify here over HTTP, in both
cryptosuites; tampered ones fail with the failing check named; a presentation signed there
answers an OpenID4VP-shaped request here."""

from __future__ import annotations

import copy
import json
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from credentials.microcredential import (
    IssuerProfile,
    Learner,
    ModuleDefinition,
    QualityAssurance,
    Result,
    build_credential,
)
from interop.reference import ReferenceImplementation
from servicekit.migrations import upgrade
from verifier.config import Settings
from verifier.main import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.interop

AWARDED = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)


@pytest.fixture
def client(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("MICROCRED_DEV", "MICROCRED_PUBLIC_URL", "MICROCRED_TRUST_REGISTRY"):
        monkeypatch.delenv(name, raising=False)
    upgrade("verifier", database_url)
    settings = Settings(
        database_url=database_url, data_dir=tmp_path, public_url="https://verifier.example"
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def unsigned_microcredential(issuer: str, holder: str) -> dict[str, Any]:
    return build_credential(
        IssuerProfile(
            id=issuer,
            name="Hogeschool Rijnland",
            url="https://hsrijnland.example",
            country_code="NL",
        ),
        ModuleDefinition(
            id="https://hsrijnland.example/microcredentials/data-wrangling",
            name="Data Wrangling with Python",
            description="Cleaning, joining and reshaping real-world data sets.",
            learning_outcomes=("clean and combine messy tabular data",),
            ects=7.5,
            eqf_level=6,
            assessment_type="practical assignment",
            participation_form="online",
            quality_assurance=QualityAssurance(name="NVAO", url="https://www.nvao.net/"),
        ),
        Learner(did=holder),
        result=Result(grade="8", awarded_date=AWARDED),
        valid_from=AWARDED,
    )


@pytest.fixture(params=["ed25519", "p256"])
def signed(request: pytest.FixtureRequest, reference: ReferenceImplementation) -> dict[str, Any]:
    issuer_key = reference.generate_key(request.param)
    holder_key = reference.generate_key("ed25519")
    credential = reference.sign(
        unsigned_microcredential(issuer_key["controller"], holder_key["controller"]), issuer_key
    )
    return {"credential": credential, "holder_key": holder_key}


def errors(body: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["code"] for c in body["errors"]}


def test_a_credential_signed_by_the_reference_verifies_here(client: Any, signed: dict) -> None:
    credential = signed["credential"]
    assert credential["proof"]["cryptosuite"] in ("eddsa-rdfc-2022", "ecdsa-rdfc-2019")
    response = client.post("/credentials/verify", json={"verifiableCredential": credential})
    assert response.status_code == 200, response.json()["errors"]
    body = response.json()
    assert body["verified"] is True
    assert body["summary"]["module"] == "Data Wrangling with Python"
    assert body["summary"]["ects"] == 7.5


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("credentialSubject", "achievement", "name"), "Brain Surgery"),
        (("credentialSubject", "id"), "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"),
        (("issuer", "name"), "Another Institution"),
        (("validFrom",), "2020-01-01T00:00:00Z"),
        (("awardedDate",), "2020-01-01T00:00:00Z"),
        (("proof", "proofValue"), "z" + "4" * 87),
    ],
)
def test_a_tampered_reference_credential_fails_here_with_the_check_named(
    client: Any, signed: dict, path: tuple[str, ...], value: Any
) -> None:
    credential = copy.deepcopy(signed["credential"])
    node = credential
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    response = client.post("/credentials/verify", json={"verifiableCredential": credential})
    assert response.status_code == 400
    assert "proof" in errors(response.json())


def test_a_reference_presentation_verifies_here_once(
    client: Any, signed: dict, reference: ReferenceImplementation
) -> None:
    challenge = client.post("/challenges").json()["challenge"]
    domain = "https://employer.example"
    vp = reference.present(
        signed["holder_key"], challenge=challenge, domain=domain, credentials=[signed["credential"]]
    )
    body = {"verifiablePresentation": vp, "options": {"challenge": challenge, "domain": domain}}
    response = client.post("/presentations/verify", json=body)
    assert response.status_code == 200, response.json()["errors"]
    checks = {c["id"]: c["outcome"] for c in response.json()["checks"]}
    assert checks["holder"] == checks["credential[0].holder_binding"] == "passed"
    replay = client.post("/presentations/verify", json=body)
    assert errors(replay.json()) == {"challenge": "challenge_replayed"}


def test_a_tampered_reference_presentation_fails_here(
    client: Any, signed: dict, reference: ReferenceImplementation
) -> None:
    vp = reference.present(
        signed["holder_key"], challenge="c-1", domain="d", credentials=[signed["credential"]]
    )
    # ECTS inflation (creditsAvailable: a term the OB 3.0 context defines, so the proof fails)
    vp["verifiableCredential"][0]["credentialSubject"]["achievement"]["creditsAvailable"] = 30
    response = client.post(
        "/presentations/verify",
        json={"verifiablePresentation": vp, "options": {"challenge": "c-1", "domain": "d"}},
    )
    assert response.status_code == 400
    assert {"proof", "credential[0].proof"} <= set(errors(response.json()))


def test_a_reference_wallet_answers_a_presentation_request(
    client: Any, signed: dict, reference: ReferenceImplementation
) -> None:
    created = client.post(
        "/requests", json={"purpose": "Interop", "modules": ["Data Wrangling with Python"]}
    ).json()
    parts = urlsplit(created["request_uri"])
    path = f"{parts.path}?{parts.query}"  # the request_uri carries its capability key
    params = client.get(path, headers={"accept": "application/json"}).json()
    vp = reference.present(
        signed["holder_key"],
        challenge=params["nonce"],
        domain=params["client_id"],
        credentials=[signed["credential"]],
    )
    form = {"vp_token": json.dumps({"module_1": [vp]}), "state": params["state"]}
    path = urlsplit(params["response_uri"]).path
    assert client.post(path, data=form).status_code == 200
    shown = client.get(
        f"/requests/{created['id']}/result",
        headers={"authorization": f"Bearer {created['result_token']}"},
    ).json()
    assert shown["status"] == "completed" and shown["result"]["accepted"] is True
    assert client.post(path, data=form).json()["code"] == "nonce_replayed"
