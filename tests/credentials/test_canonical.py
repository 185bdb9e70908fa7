"""Canonicalisation policing: offline contexts only, no silently dropped or vague terms."""

from __future__ import annotations

import pytest

from credentials.canonical import canonicalize
from credentials.errors import CanonicalizationError, DocumentLoaderError, UndefinedTermError

V2 = "https://www.w3.org/ns/credentials/v2"


def credential(**extra: object) -> dict:
    base = {
        "@context": [V2],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "credentialSubject": {"id": "did:example:subject"},
    }
    base.update(extra)
    return base


def test_unknown_context_url_is_refused_and_named() -> None:
    doc = credential()
    doc["@context"] = [V2, "https://evil.example/context.jsonld"]
    with pytest.raises(DocumentLoaderError) as info:
        canonicalize(doc)
    assert "https://evil.example/context.jsonld" in str(info.value)
    assert info.value.code == "unknown_context"


def test_undefined_term_is_refused_and_named() -> None:
    doc = credential(credentialSubject={"id": "did:example:s", "favouriteColour": "blue"})
    with pytest.raises(UndefinedTermError) as info:
        canonicalize(doc)
    assert "favouriteColour" in str(info.value)


def test_undefined_terms_vocab_is_strictly_refused() -> None:
    doc = credential(favouriteColour="blue")
    doc["@context"] = [V2, "https://www.w3.org/ns/credentials/undefined-terms/v2"]
    with pytest.raises(UndefinedTermError, match="favouriteColour"):
        canonicalize(doc)
    # non-strict mode accepts the vague meaning (verification warns instead)
    assert "undefined-term#favouriteColour" in canonicalize(doc, strict=False)


def test_inline_vocab_injection_cannot_reach_the_network() -> None:
    doc = credential()
    doc["@context"] = [V2, {"@import": "https://evil.example/x"}]
    with pytest.raises((DocumentLoaderError, CanonicalizationError)):
        canonicalize(doc)


def test_protected_term_redefinition_is_an_error() -> None:
    doc = credential()
    doc["@context"] = [V2, {"name": "https://evil.example/name"}]
    doc["name"] = "A harmless looking name"
    with pytest.raises(CanonicalizationError):
        canonicalize(doc)


def test_deep_nesting_is_a_clear_error() -> None:
    deep: dict = {"id": "did:example:s"}
    node = deep
    for _ in range(3000):
        node["name"] = {"name": "x"}
        node = node["name"]
    with pytest.raises(CanonicalizationError):
        canonicalize(credential(credentialSubject=deep), strict=False)


def test_undefined_type_is_refused_like_the_reference_does() -> None:
    doc = credential(type=["VerifiableCredential", "NotAType"])
    with pytest.raises(UndefinedTermError, match="NotAType"):
        canonicalize(doc)
