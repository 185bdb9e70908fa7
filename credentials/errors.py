"""The one exception hierarchy of the credential core.

Every error the core raises carries a stable machine-readable ``code`` (used verbatim in
RFC 9457 problem details, CLI messages and verification reports) and a human message.
Foreign exceptions (pyld, cryptography, httpx) are translated at the module that calls
them, so callers never need to know which library did the work::

    MicrocredError
    ├── MalformedInput            input is not a usable document (not JSON, too deep, wrong shape)
    │   └── ConformanceError      a normative MUST of VCDM 2.0 / Data Integrity is violated
    ├── DocumentLoaderError       a URL the loader will not serve (unknown context, bad DID URL)
    ├── CanonicalizationError     JSON-LD processing failed
    │   └── UndefinedTermError    a term no loaded context defines (would be dropped or vague)
    ├── KeyFormatError            a key or multibase value cannot be decoded
    ├── UnsupportedError          unknown cryptosuite, key type or DID method
    ├── DidResolutionError        a DID cannot be resolved (network, policy, not found)
    ├── FetchError                outbound HTTP refused or failed (policy, size, timeout)
    ├── InvalidProof              a proof does not verify — deliberately opaque
    ├── StatusListError           a status list cannot be decoded or an index is out of range
    └── SchemaError               the microcredential profile schema rejects a document
"""

from __future__ import annotations


class MicrocredError(Exception):
    """Base of all core errors; ``code`` is stable, ``message`` is for people."""

    code: str = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message


class MalformedInput(MicrocredError):
    code = "malformed_input"


class ConformanceError(MalformedInput):
    code = "non_conformant"


class DocumentLoaderError(MicrocredError):
    code = "document_not_allowed"


class CanonicalizationError(MicrocredError):
    code = "jsonld_error"


class UndefinedTermError(CanonicalizationError):
    code = "undefined_term"


class KeyFormatError(MicrocredError):
    code = "invalid_key"


class UnsupportedError(MicrocredError):
    code = "unsupported"


class DidResolutionError(MicrocredError):
    code = "did_resolution_failed"


class FetchError(MicrocredError):
    code = "fetch_failed"


class InvalidProof(MicrocredError):
    """Raised for every cryptographic failure alike; the report says which check failed."""

    code = "invalid_proof"

    def __init__(self, message: str = "the proof does not verify", **kwargs: str | None) -> None:
        super().__init__(message, **kwargs)


class StatusListError(MicrocredError):
    code = "status_list_invalid"


class SchemaError(MicrocredError):
    code = "schema_invalid"

    def __init__(self, message: str, *, field: str = "", code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.field = field
