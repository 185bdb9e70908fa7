"""POST /credentials/verify: 200 with the report when verified, 400 with the same shape
when a required check fails or the body is unusable, 413 over the size limit."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest

from credentials.errors import MalformedInput
from credentials.keys import Multikey
from credentials.proofs import sign
from tests.verifier.support import microcredential, tampered


def verify(client: Any, credential: Any) -> Any:
    return client.post("/credentials/verify", json={"verifiableCredential": credential})


def failed(body: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["code"] for c in body["errors"]}


def assert_report_shape(body: dict[str, Any]) -> None:
    assert set(body) >= {"verified", "checks", "warnings", "errors", "summary"}
    for check in body["checks"]:
        assert set(check) == {"id", "outcome", "code", "message"}
        assert check["outcome"] in ("passed", "failed", "warning", "skipped")
    assert body["errors"] == [c for c in body["checks"] if c["outcome"] == "failed"]
    assert body["warnings"] == [c for c in body["checks"] if c["outcome"] == "warning"]


def test_a_valid_microcredential_verifies_with_every_check_reported(
    client: Any, issuer_key: Multikey, holder: Multikey
) -> None:
    response = verify(client, microcredential(issuer_key, holder))
    assert response.status_code == 200, response.json()
    body = response.json()
    assert_report_shape(body)
    assert body["verified"] is True and body["errors"] == []
    passed = {c["id"] for c in body["checks"] if c["outcome"] == "passed"}
    assert {"structure", "context", "proof", "verification_method", "issuer", "validity"} <= passed
    assert {"schema"} <= passed
    summary = body["summary"]
    assert summary["module"] == "Data Wrangling with Python"
    assert summary["ects"] == 7.5 and summary["eqfLevel"] == 6
    assert summary["holder"] == holder.controller
    assert summary["awarded"] == "2025-06-30T12:00:00Z"
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("path", "value", "check"),
    [
        ("credentialSubject.achievement.name", "Brain Surgery", "proof"),
        ("credentialSubject.achievement.creditsAvailable", 60, "proof"),
        (
            "credentialSubject.id",
            "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
            "proof",
        ),
        ("credentialSubject.result.0.value", "10", "proof"),
        ("issuer.name", "Universiteit van Amsterdam", "proof"),
        ("issuer.address.addressCountry", "Germany", "proof"),
        ("validFrom", "2020-01-01T00:00:00Z", "proof"),
        ("awardedDate", "2020-01-01T00:00:00Z", "proof"),
        ("proof.proofValue", "z" + "3" * 87, "proof"),
        ("proof.created", "2020-01-01T00:00:00Z", "proof"),
    ],
)
def test_tampering_fails_with_the_check_named(
    client: Any, issuer_key: Multikey, holder: Multikey, path: str, value: Any, check: str
) -> None:
    forged = tampered(microcredential(issuer_key, holder), path, value)
    response = verify(client, forged)
    assert response.status_code == 400
    body = response.json()
    assert_report_shape(body)
    assert body["verified"] is False
    assert check in failed(body), body["errors"]


def test_a_swapped_issuer_fails_the_issuer_and_proof_checks(
    client: Any, issuer: Multikey, holder: Multikey
) -> None:
    other = Multikey.generate()
    forged = tampered(microcredential(issuer, holder), "issuer.id", other.controller)
    body = verify(client, forged).json()
    assert not body["verified"]
    assert "proof" in failed(body)


def test_signed_by_a_key_that_is_not_the_issuers_fails_the_issuer_check(
    client: Any, holder: Multikey
) -> None:
    institution, impostor = Multikey.generate(), Multikey.generate()
    credential = microcredential(institution, holder)
    credential.pop("proof")
    from credentials.proofs import sign

    forged = sign(credential, impostor)
    response = verify(client, forged)
    assert response.status_code == 400
    assert failed(response.json())["issuer"] == "issuer_mismatch"


def test_an_expired_credential_fails_the_validity_check(
    client: Any, issuer: Multikey, holder: Multikey
) -> None:
    from datetime import UTC, datetime

    credential = microcredential(issuer, holder, valid_until=datetime(2025, 12, 31, tzinfo=UTC))
    response = verify(client, credential)
    assert response.status_code == 400
    assert failed(response.json()) == {"validity": "expired"}


def test_an_unknown_context_url_is_a_400_naming_the_context_check(
    client: Any, issuer: Multikey, holder: Multikey
) -> None:
    credential = microcredential(issuer, holder)
    credential["@context"] = [*credential["@context"], "https://evil.example/context.jsonld"]
    response = verify(client, credential)
    assert response.status_code == 400
    assert failed(response.json()) == {"context": "unknown_context"}


@pytest.mark.parametrize("suite", ["eddsa-2099", "Ed25519Signature2020", ""])
def test_an_unsupported_cryptosuite_is_a_400_naming_the_proof(
    client: Any, issuer: Multikey, holder: Multikey, suite: str
) -> None:
    credential = tampered(microcredential(issuer, holder), "proof.cryptosuite", suite)
    response = verify(client, credential)
    assert response.status_code == 400
    assert "proof" in failed(response.json())


def test_a_credential_without_proof_is_a_400(
    client: Any, issuer: Multikey, holder: Multikey
) -> None:
    credential = microcredential(issuer, holder)
    credential.pop("proof")
    assert failed(verify(client, credential).json())["proof"] == "proof_missing"


def test_a_non_conformant_credential_fails_the_structure_check(
    client: Any, issuer: Multikey, holder: Multikey
) -> None:
    credential = microcredential(issuer, holder)
    credential["@context"] = list(reversed(credential["@context"]))
    body = verify(client, credential).json()
    assert failed(body) == {"structure": "non_conformant"}


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "invalid_json"),
        (b"not json", "invalid_json"),
        (b"[1, 2, 3]", "invalid_request"),
        (b'"a string"', "invalid_request"),
        (b'{"verifiableCredential": 1, "verifiableCredential": 2}', "duplicate_key"),
        (b'{"credential": {}}', "invalid_request"),
        (b'{"verifiableCredential": {}, "options": []}', "invalid_request"),
        (b"\xff\xfe\x00garbage", "invalid_json"),
        (b"[" * 5000 + b"]" * 5000, "too_deep"),
        (b'{"verifiableCredential": NaN}', "invalid_json"),
    ],
)
def test_malformed_bodies_get_the_same_report_shape_with_a_failed_structure_check(
    client: Any, content: bytes, code: str
) -> None:
    response = client.post(
        "/credentials/verify", content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    body = response.json()
    assert_report_shape(body)
    assert body["verified"] is False
    assert failed(body) == {"structure": code}


@pytest.mark.parametrize("value", [None, 42, "a string", [], [{}], {}])
def test_a_credential_that_is_not_an_object_is_a_structure_failure(client: Any, value: Any) -> None:
    body = verify(client, value).json()
    assert failed(body) == {"structure": "non_conformant"}


def test_options_are_accepted(client: Any, issuer: Multikey, holder: Multikey) -> None:
    response = client.post(
        "/credentials/verify",
        json={
            "verifiableCredential": microcredential(issuer, holder),
            "options": {"returnResults": True},
        },
    )
    assert response.status_code == 200


def test_a_50_mb_body_is_refused_with_413_problem(client: Any) -> None:
    body = b'{"verifiableCredential": "' + b"a" * (50 * 1024 * 1024) + b'"}'
    response = client.post(
        "/credentials/verify", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "body_too_large"


def test_a_body_just_over_the_configured_limit_is_413(make_client: Any) -> None:
    client = make_client(max_body=10_000)
    content = json.dumps({"verifiableCredential": {"x": "a" * 10_000}}).encode()
    assert client.post("/credentials/verify", content=content).status_code == 413


def test_the_same_document_verified_twice_gives_the_same_answer(
    client: Any, issuer: Multikey, holder: Multikey
) -> None:
    credential = microcredential(issuer, holder)
    first = verify(client, copy.deepcopy(credential)).json()
    second = verify(client, credential).json()
    assert first["checks"] == second["checks"]


# --------------------------------------------------------------------------- issue 13


def _jwt(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'ES256', 'typ': 'vc+jwt'})}.{part(claims)}.c2lnbmF0dXJl"


JWT_VC = _jwt({"iss": "did:example:i", "vc": {"type": ["VerifiableCredential"]}})


def assert_unsupported(response: Any) -> None:
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "unsupported_format"
    assert body["status"] == 400 and body["detail"].startswith("unsupported format: ")
    assert failed(body) == {"format": "unsupported_format"}
    assert body["verified"] is False


@pytest.mark.parametrize("suite", ["bbs-2023"])
def test_a_selective_disclosure_proof_is_an_unsupported_format(
    client: Any, issuer: Multikey, holder: Multikey, suite: str
) -> None:
    credential = tampered(microcredential(issuer, holder), "proof.cryptosuite", suite)
    response = verify(client, credential)
    assert_unsupported(response)
    assert response.json()["format"] == f"VC 2.0 · {suite}"


def test_a_jwt_secured_credential_is_an_unsupported_format(client: Any) -> None:
    assert_unsupported(verify(client, JWT_VC))
    enveloped = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "data:application/vc+jwt," + JWT_VC,
        "type": "EnvelopedVerifiableCredential",
    }
    assert_unsupported(verify(client, enveloped))


def test_a_body_announced_or_sent_as_a_jwt_is_an_unsupported_format(client: Any) -> None:
    announced = client.post(
        "/credentials/verify",
        content=JWT_VC.encode(),
        headers={"Content-Type": "application/vc+jwt"},
    )
    assert_unsupported(announced)
    bare = client.post(
        "/credentials/verify",
        content=JWT_VC.encode(),
        headers={"Content-Type": "application/json"},
    )
    assert_unsupported(bare)


def test_the_report_names_the_format(client: Any, issuer: Multikey, holder: Multikey) -> None:
    body = verify(client, microcredential(issuer, holder)).json()
    suite = "eddsa-rdfc-2022" if issuer.algorithm == "Ed25519" else "ecdsa-rdfc-2019"
    assert body["format"] == f"VC 2.0 · {suite}"


def _inline(issuer: Multikey, holder: Multikey) -> dict[str, Any]:
    document = {k: v for k, v in microcredential(issuer, holder).items() if k != "proof"}
    document["@context"] = [*document["@context"], {"note": "https://vocab.example/#note"}]
    document["note"] = "an issuer's own term, defined inline"
    return sign(document, issuer, strict=False)


def test_the_vc_api_accepts_inline_contexts_by_default(
    client: Any, issuer: Multikey, holder: Multikey
) -> None:
    response = verify(client, _inline(issuer, holder))
    assert response.status_code == 200, response.json()["errors"]
    codes = {(c["id"], c["code"]) for c in response.json()["warnings"]}
    assert ("context", "inline_context") in codes


def test_a_request_can_ask_for_a_stricter_policy_but_not_an_unknown_one(
    client: Any, issuer: Multikey, holder: Multikey
) -> None:
    body = {"verifiableCredential": _inline(issuer, holder)}
    strict = client.post(
        "/credentials/verify", json={**body, "options": {"policies": ["no-inline-contexts"]}}
    )
    assert strict.status_code == 400
    assert failed(strict.json()) == {"policy": "policy_inline_context"}
    typo = client.post("/credentials/verify", json={**body, "options": {"policies": ["strict"]}})
    assert typo.status_code == 400 and failed(typo.json()) == {"structure": "unknown_policy"}


def test_deployment_policies_apply_to_the_vc_api(
    make_client: Any, issuer: Multikey, holder: Multikey, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MICROCRED_VERIFIER_POLICIES", "no-inline-contexts")
    response = verify(make_client(), _inline(issuer, holder))
    assert response.status_code == 400
    assert failed(response.json()) == {"policy": "policy_inline_context"}


def test_the_employer_page_keeps_its_stricter_default_and_names_the_policy(
    client: Any, issuer: Multikey, holder: Multikey
) -> None:
    """The pages call the verification service without policies: its page policies."""
    services = client.app.state.services
    result = services.verification.verify_credential(_inline(issuer, holder))
    assert not result.verified
    [refusal] = result.report.failed
    assert (refusal.id, refusal.code) == ("policy", "policy_inline_context")
    assert refusal.message.startswith("policy no-inline-contexts: ")


def test_an_unknown_policy_name_in_the_settings_is_refused(settings_for: Any) -> None:
    with pytest.raises(MalformedInput):
        settings_for(page_policies="no-inline-contexts,holder-is-subjekt")


def test_typed_extension_points_conform_at_the_vc_api(
    client: Any, issuer: Multikey, holder: Multikey
) -> None:
    """VCDM 2.0 §5: typed credentialStatus (of a method microcred does not know),
    termsOfUse, evidence, refreshService and credentialSchema are conforming: 200, with the
    unknown status method a warning (``status_unknown``), never a failure."""
    document = {k: v for k, v in microcredential(issuer, holder).items() if k != "proof"}
    document.update(
        credentialStatus={"id": "https://status.example/1", "type": "CredentialStatusList2017"},
        termsOfUse={"type": "TrustFrameworkPolicy", "id": "https://policy.example/tf"},
        evidence=[{"id": "https://evidence.example/1", "type": ["Evidence"]}],
        refreshService={"id": "https://refresh.example/1", "type": "ManualRefreshService2018"},
        credentialSchema={"id": "https://schema.example/s.json", "type": "JsonSchema"},
    )
    response = verify(client, sign(document, issuer, strict=False))
    assert response.status_code == 200, response.json()["errors"]
    codes = {(c["id"], c["code"]) for c in response.json()["warnings"]}
    assert ("status", "status_unknown") in codes
