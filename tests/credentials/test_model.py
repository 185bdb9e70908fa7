"""Each normative MUST of VC Data Model 2.0 that the data model can check, one test each."""

from __future__ import annotations

import copy

import pytest

from credentials.errors import ConformanceError, MalformedInput
from credentials.model import check_credential, check_presentation, parse_json

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
    ("@context", ["https://www.w3.org/2018/credentials/v1"], "first item"),
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
        ("@context", ["https://www.w3.org/2018/credentials/v1"]),
    ],
)
def test_presentation_violations(field: str, value: object) -> None:
    with pytest.raises(ConformanceError):
        check_presentation({**PRESENTATION, field: value})


def test_presentation_conforms() -> None:
    check_presentation({**PRESENTATION, "verifiableCredential": [GOOD]})


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
