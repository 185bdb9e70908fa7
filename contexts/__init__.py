"""The JSON-LD context documents microcred serves offline, as data.

``MANIFEST.json`` maps each context URL to its file, the registry package it came from and
its sha256. Nothing here touches the network; ``credentials.documents`` builds the loader.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class ContextEntry:
    url: str
    file: str
    source: str
    sha256: str

    @property
    def path(self) -> Path:
        return HERE / self.file

    def read_bytes(self) -> bytes:
        return self.path.read_bytes()

    def matches_hash(self) -> bool:
        return hashlib.sha256(self.read_bytes()).hexdigest() == self.sha256


@cache
def manifest() -> dict[str, ContextEntry]:
    """URL -> entry, read once per process."""
    raw = json.loads((HERE / "MANIFEST.json").read_text())
    return {
        e["url"]: ContextEntry(url=e["url"], file=e["file"], source=e["source"], sha256=e["sha256"])
        for e in raw["contexts"]
    }


@cache
def load(url: str) -> dict:
    """The parsed context document for ``url``; KeyError when it is not shipped."""
    return json.loads(manifest()[url].read_bytes())


CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3P0 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"
DID_V1 = "https://www.w3.org/ns/did/v1"
MICROCRED_V1 = "https://w3id.org/microcred/v1"

__all__ = [
    "CREDENTIALS_V2",
    "DATA_INTEGRITY_V2",
    "DID_V1",
    "MICROCRED_V1",
    "MULTIKEY_V1",
    "OB_V3P0",
    "ContextEntry",
    "load",
    "manifest",
]
