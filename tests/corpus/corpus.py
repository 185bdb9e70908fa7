"""The corpus of published credentials: its manifest, and microcred's verdict on one file.

``MANIFEST.json`` records for every file where it was published (repository, commit, path,
licence), what DCC's ``verifier-core`` said about its signature, and what microcred should
say: ``verified_proof`` true / false (with the refusal ``code``) / null (cannot be decided
offline: the key or a context is not published with the sample; ``code`` is then the
honest "could not resolve" refusal, never "invalid signature"). See SOURCES.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from credentials.dids import DidResolver
from credentials.report import VerificationReport
from credentials.verify import Verifier

CORPUS = Path(__file__).parent
# the checks that decide "structure and proof": what the 95 % criterion is about. Issuer
# binding, validity, status and trust are reported separately.
PROOF_LAYER = frozenset(
    {"structure", "format", "context", "proof_purpose", "verification_method", "proof"}
)


@cache
def manifest() -> dict[str, Any]:
    return json.loads((CORPUS / "MANIFEST.json").read_text())


def entries(kind: str = "credential") -> list[dict[str, Any]]:
    return [e for e in manifest()["entries"] if e["kind"] == kind]


def load(entry: dict[str, Any]) -> Any:
    return json.loads((CORPUS / entry["file"]).read_text())


@cache
def published_did_documents() -> dict[str, dict[str, Any]]:
    """The did:web documents published beside the samples, by DID (resolved offline)."""
    documents = (load(e) for e in entries("did-document"))
    return {d["id"]: d for d in documents}


def corpus_verifier() -> Verifier:
    """The core verifier, with the published DID documents preloaded and status off."""
    return Verifier(resolver=DidResolver(overrides=published_did_documents()))


@dataclass(frozen=True)
class ProofVerdict:
    accepted: bool
    refusal: str | None  # the code of the first failed structure/proof check

    @classmethod
    def of(cls, report: VerificationReport) -> ProofVerdict:
        failed = [c for c in report.checks if c.outcome == "failed" and c.id in PROOF_LAYER]
        signed = any(c.id == "proof" and c.outcome == "passed" for c in report.checks)
        return cls(not failed and signed, failed[0].code if failed else None)


def dcc_accepted(entry: dict[str, Any]) -> bool:
    """DCC verifier-core reported valid_signature true (offline, or with the DID documents)."""
    dcc = entry.get("dcc") or {}
    return bool(
        dcc.get("valid_signature") or dcc.get("valid_signature_with_published_did_documents")
    )
