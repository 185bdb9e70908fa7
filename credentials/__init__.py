"""microcred's credential core: data model, proofs, keys and DIDs, status lists, the
document loader, the microcredential profile, the rules engine and the verification report.

The high-level surface is ``sign``, ``create_presentation`` and ``Verifier`` (or
``default_verifier`` with the project's fetch, status and profile policy); the pieces below
them are importable from their own modules. Nothing here imports a web framework or a
database.
"""

from .canonical import canonicalize
from .dids import DidResolver, did_web_from_url, did_web_url
from .documents import DocumentLoader
from .errors import (
    CanonicalizationError,
    ConformanceError,
    DidResolutionError,
    DocumentLoaderError,
    FetchError,
    InvalidProof,
    KeyFormatError,
    MalformedInput,
    MicrocredError,
    SchemaError,
    StatusListError,
    UndefinedTermError,
    UnsupportedError,
)
from .fetch import FetchPolicy, SafeFetcher
from .keys import Multikey
from .microcredential import build_credential, read_microcredential
from .model import check_credential, check_presentation, parse_json
from .proofs import sign
from .report import Check, VerificationReport
from .rules import Route, evaluate
from .schema import validate_microcredential
from .setup import default_verifier
from .status_list import StatusList
from .verify import Verifier, create_presentation

__all__ = [
    "CanonicalizationError",
    "Check",
    "ConformanceError",
    "DidResolutionError",
    "DidResolver",
    "DocumentLoader",
    "DocumentLoaderError",
    "FetchError",
    "FetchPolicy",
    "InvalidProof",
    "KeyFormatError",
    "MalformedInput",
    "MicrocredError",
    "Multikey",
    "Route",
    "SafeFetcher",
    "SchemaError",
    "StatusList",
    "StatusListError",
    "UndefinedTermError",
    "UnsupportedError",
    "VerificationReport",
    "Verifier",
    "build_credential",
    "canonicalize",
    "check_credential",
    "check_presentation",
    "create_presentation",
    "default_verifier",
    "did_web_from_url",
    "did_web_url",
    "evaluate",
    "parse_json",
    "read_microcredential",
    "sign",
    "validate_microcredential",
]
