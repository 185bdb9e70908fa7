"""Each normative MUST of VC Data Model 2.0 that the data model can check, one test each."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from credentials.errors import ConformanceError, MalformedInput
from credentials.model import (
    check_credential,
    check_presentation,
    data_model,
    parse_json,
    parse_xsd_datetime,
)

V2 = "https://www.w3.org/ns/credentials/v2"
GOOD = {
    "@context": [V2],
    "id": "urn:uuid:0d5d7f3e-52c4-4f64-a1a4-1f4e1b5f2a10",
    "type": ["VerifiableCredential"],
    "issuer": "did:example:issuer",
    "validFrom": "2026-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:subject", "name": "Learner"},
}


def with_(path: str, value: object) -> dict:
    doc = copy.deepcopy(GOOD)
    if value is ...:
        doc.pop(path)
    else:
        doc[path] = value
    return doc


def test_good_credential_conforms() -> None:
    check_credential(GOOD)


BAD = [
    ("@context", ..., "@context"),
    ("@context", V2, "ordered set"),
    ("@context", ["https://www.w3.org/ns/credentials/examples/v2"], "first item"),
    ("@context", ["https://www.w3.org/2018/credentials/v1"], "issuanceDate"),  # a 1.1 MUST
    ("@context", [V2, 42], "URLs or objects"),
    ("id", "not a url", "id"),
    ("id", ["urn:a", "urn:b"], "id"),
    ("type", ..., "type"),
    ("type", ["OpenBadgeCredential"], "VerifiableCredential"),
    ("type", ["VerifiableCredential", ""], "non-empty"),
    ("issuer", ..., "issuer"),
    ("issuer", "example issuer", "issuer"),
    ("issuer", {"name": "No id"}, "issuer.id"),
    ("credentialSubject", ..., "credentialSubject"),
    ("credentialSubject", {}, "credentialSubject"),
    ("credentialSubject", [], "credentialSubject"),
    ("credentialSubject", ["did:example:s"], "credentialSubject"),
    ("validFrom", "2026-01-01", "validFrom"),
    ("validFrom", "2026-01-01T00:00:00", "validFrom"),
    ("validUntil", "2025-01-01T00:00:00Z", "validUntil"),
    ("credentialStatus", {"id": "https://s.example/1#5"}, "credentialStatus"),
    (
        "credentialStatus",
        {"type": "BitstringStatusListEntry", "id": "no url"},
        "credentialStatus.id",
    ),
    ("credentialSchema", {"type": "JsonSchema"}, "credentialSchema"),
    ("evidence", [{"id": "urn:x"}], "evidence"),
    ("termsOfUse", "free", "termsOfUse"),
    ("name", {"lang": "en"}, "name"),
    ("name", {"@value": "Module", "@direction": "up"}, "@direction"),
    ("issuer", {"id": "did:example:issuer", "name": ["A", 42]}, "issuer.name"),
    ("description", {"@value": "Module", "@language": ""}, "@language"),
    ("relatedResource", "https://www.w3.org/ns/credentials/v2", "relatedResource"),
    ("relatedResource", {"digestSRI": "sha384-abc"}, "relatedResource.id"),
    ("relatedResource", {"id": "https://r.example/a"}, "neither digestSRI nor digestMultibase"),
    ("relatedResource", {"id": "https://r.example/a", "digestSRI": "md5-abc"}, "digestSRI"),
    (
        "relatedResource",
        {"id": "https://r.example/a", "digestMultibase": "not multibase"},
        "digestMultibase",
    ),
    (
        "relatedResource",
        [
            {"id": "https://r.example/a", "digestSRI": "sha384-abc"},
            {"id": "https://r.example/a", "digestSRI": "sha256-abc"},
        ],
        "unique",
    ),
]


@pytest.mark.parametrize(("field", "value", "expected"), BAD)
def test_violations_are_named(field: str, value: object, expected: str) -> None:
    with pytest.raises(ConformanceError) as info:
        check_credential(with_(field, value))
    assert expected in str(info.value)


def test_credential_must_be_an_object() -> None:
    with pytest.raises(ConformanceError):
        check_credential(["not", "an", "object"])


PRESENTATION = {"@context": [V2], "type": ["VerifiablePresentation"], "holder": "did:example:h"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("type", ["VerifiableCredential"]),
        ("holder", "not a url"),
        ("verifiableCredential", ["a string"]),
        ("@context", ["https://www.w3.org/ns/credentials/examples/v2"]),
    ],
)
def test_presentation_violations(field: str, value: object) -> None:
    with pytest.raises(ConformanceError):
        check_presentation({**PRESENTATION, field: value})


def test_presentation_conforms() -> None:
    check_presentation({**PRESENTATION, "verifiableCredential": [GOOD]})


# VCDM 1.1: the credentials in circulation --------------------------------------------------

V1 = "https://www.w3.org/2018/credentials/v1"
GOOD_V1 = {
    "@context": [V1, "https://w3id.org/security/suites/ed25519-2020/v1"],
    "id": "http://example.edu/credentials/3732",
    "type": ["VerifiableCredential"],
    "issuer": {"id": "did:example:issuer", "name": "Example University"},
    "issuanceDate": "2010-01-01T19:23:24Z",
    "expirationDate": "2030-01-01T19:23:24.123Z",
    "credentialSubject": {"id": "did:example:subject"},
}


def test_a_vcdm_1_1_credential_conforms() -> None:
    check_credential(GOOD_V1)
    check_credential({**GOOD_V1, "issuanceDate": "2010-01-01T19:23:24"})  # no zone: UTC
    assert data_model(GOOD_V1) == "1.1" and data_model(GOOD) == "2.0"


def test_a_vcdm_1_1_date_without_zone_reads_as_utc() -> None:
    assert parse_xsd_datetime("2010-01-01T19:23:24") == datetime(2010, 1, 1, 19, 23, 24, tzinfo=UTC)


BAD_V1 = [
    ("issuanceDate", ..., "issuanceDate"),
    ("issuanceDate", "2010-01-01", "issuanceDate"),
    ("expirationDate", "tomorrow", "expirationDate"),
    ("issuer", ..., "issuer"),
    ("credentialSubject", ..., "credentialSubject"),
    ("type", ["OpenBadgeCredential"], "VerifiableCredential"),
    (
        "credentialStatus",
        {"type": "StatusList2021Entry", "statusListIndex": "1"},
        "credentialStatus",
    ),
    ("refreshService", {"type": "ManualRefreshService2018"}, "refreshService"),
    ("credentialSchema", {"id": "https://s.example/schema.json"}, "credentialSchema"),
]


@pytest.mark.parametrize(("field", "value", "expected"), BAD_V1)
def test_vcdm_1_1_violations_are_named(field: str, value: object, expected: str) -> None:
    doc = copy.deepcopy(GOOD_V1)
    if value is ...:
        doc.pop(field)
    else:
        doc[field] = value
    with pytest.raises(ConformanceError) as info:
        check_credential(doc)
    assert expected in str(info.value)


def test_a_vcdm_1_1_presentation_conforms() -> None:
    check_presentation(
        {"@context": [V1], "type": ["VerifiablePresentation"], "verifiableCredential": [GOOD_V1]}
    )


def test_typed_extension_points_conform() -> None:
    """termsOfUse, evidence, refreshService, credentialSchema and a typed status are
    conforming, whatever their type (VCDM 2.0 §5)."""
    check_credential(
        {
            **GOOD,
            "credentialStatus": {"type": "1EdTechRevocationList", "id": "https://r.example/l"},
            "termsOfUse": {"type": "TrustFrameworkPolicy", "trustFramework": "EU"},
            "evidence": [{"type": ["Evidence"], "id": "https://e.example/1"}],
            "refreshService": {"type": "VerifiableCredentialRefreshService2021"},
            "credentialSchema": {"id": "https://s.example/s.json", "type": "JsonSchema"},
            "relatedResource": [
                {"id": "https://r.example/a", "digestSRI": "sha384-" + "A" * 64},
                {"id": "https://r.example/b", "digestMultibase": "uEiD" + "A" * 40},
            ],
        }
    )


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"{not json", "invalid_json"),
        (b'{"a": 1, "a": 2}', "duplicate_key"),
        (b"[" * 5000 + b"]" * 5000, "too_deep"),
        (b"[" + b"0," * 200_000 + b"0]", "too_large"),
        (b"\xff\xfe", "invalid_json"),
        (b'{"ects": NaN}', "invalid_json"),
        (b'{"ects": Infinity}', "invalid_json"),
    ],
)
def test_parse_json_refuses_hostile_input(data: bytes, code: str) -> None:
    with pytest.raises(MalformedInput) as info:
        parse_json(data)
    assert info.value.code == code


def test_parse_json_size_cap() -> None:
    with pytest.raises(MalformedInput) as info:
        parse_json(b" " * 100 + b"{}", max_bytes=50)
    assert info.value.code == "document_too_large"
