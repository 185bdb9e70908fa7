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


@pytest.mark.parametrize("entry", list(contexts.manifest().values()), ids=lambda e: e.url)
def test_manifest_hash_matches_file(entry: contexts.ContextEntry) -> None:
    assert entry.matches_hash(), f"{entry.file} changed; rerun scripts/update_contexts.py"
    assert entry.source
    json.loads(entry.read_bytes())


@pytest.mark.parametrize("url", REQUIRED)
def test_required_contexts_are_shipped(url: str) -> None:
    assert url in contexts.manifest()
    assert "@context" in DocumentLoader().load(url)


def test_registry_sources_are_recorded_with_versions() -> None:
    npm = [e for e in contexts.manifest().values() if e.source.startswith("npm:")]
    assert len(npm) >= 5
    assert all("@" in e.source.removeprefix("npm:@") for e in npm)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/context.jsonld",
        "http://www.w3.org/ns/credentials/v2",
        "https://www.w3.org/2018/credentials/v1",
        "file:///etc/passwd",
    ],
)
def test_any_other_url_is_refused_and_named(url: str) -> None:
    with pytest.raises(DocumentLoaderError) as info:
        DocumentLoader().load(url)
    assert url in str(info.value)
