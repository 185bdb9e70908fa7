"""VC Data Model 2.0 structure: parsing untrusted JSON and the normative MUSTs.

JSON-LD processing only says what a document means; the data model says which documents
are credentials at all. These checks run before any cryptography so that a malformed
document gets a precise reason ("issuer must be a URL") instead of a vague proof failure,
and resource limits stop hostile input before pyld spends time on it.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from .errors import ConformanceError, MalformedInput
from .proofs import parse_datetime

VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
MAX_DEPTH = 48
MAX_NODES = 100_000
MAX_BYTES = 5 * 1024 * 1024
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+$")


def parse_json(data: bytes | str, *, max_bytes: int = MAX_BYTES) -> Any:
    """Parse untrusted JSON: size-capped, duplicate keys refused, limits checked."""
    if len(data) > max_bytes:
        raise MalformedInput(
            f"the document is larger than {max_bytes} bytes", code="document_too_large"
        )
    try:
        value = json.loads(
            data,
            object_pairs_hook=_no_duplicates,
            parse_constant=_no_constant,
            parse_float=_finite_float,
        )
    except RecursionError:
        raise MalformedInput("the JSON is nested too deeply", code="too_deep") from None
    except (ValueError, UnicodeDecodeError) as exc:
        if isinstance(exc, MalformedInput):
            raise
        raise MalformedInput(f"not valid JSON: {exc}", code="invalid_json") from None
    check_limits(value)
    return value


def _no_constant(name: str) -> Any:
    # Python's json accepts NaN and Infinity; JSON (RFC 8259) does not, nor does anyone else
    raise MalformedInput(f"{name} is not a JSON number", code="invalid_json")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        # "1e400" is valid JSON syntax but would become Infinity: refuse rather than round
        raise MalformedInput(f"the number {text[:40]} is out of range", code="number_out_of_range")
    return value


def _no_constants(name: str) -> Any:
    """JSON has no NaN or Infinity; Python's parser accepts them unless told not to."""
    raise MalformedInput(f"{name} is not valid JSON", code="invalid_json")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise MalformedInput(f"duplicate JSON key {key!r}", code="duplicate_key")
        out[key] = value
    return out


def check_limits(value: Any, *, max_depth: int = MAX_DEPTH, max_nodes: int = MAX_NODES) -> None:
    """Refuse documents deeper or larger than any real credential (iteratively: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    nodes = 0
    while stack:
        item, depth = stack.pop()
        nodes += 1
        if depth > max_depth:
            raise MalformedInput(f"the document is nested deeper than {max_depth}", code="too_deep")
        if nodes > max_nodes:
            raise MalformedInput(f"the document has more than {max_nodes} values", code="too_large")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


def is_url(value: object) -> bool:
    return isinstance(value, str) and bool(_URL.match(value))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def issuer_id(credential: dict[str, Any]) -> str | None:
    issuer = credential.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else None


def subject_ids(credential: dict[str, Any]) -> list[str]:
    subjects = credential.get("credentialSubject")
    return [
        s["id"] for s in _as_list(subjects) if isinstance(s, dict) and isinstance(s.get("id"), str)
    ]


def _fail(field: str, message: str) -> None:
    raise ConformanceError(f"{field}: {message}", code="non_conformant")


def _check_context(document: dict[str, Any]) -> None:
    ctx = document.get("@context")
    if not isinstance(ctx, list) or not ctx:
        _fail("@context", "must be an ordered set (a JSON array)")
    if ctx[0] != VC_V2_CONTEXT:
        _fail("@context", f"the first item must be {VC_V2_CONTEXT}")
    for item in ctx[1:]:
        if not (is_url(item) or isinstance(item, dict)):
            _fail("@context", "items must be URLs or objects")


def _check_type(document: dict[str, Any], required: str) -> None:
    types = document.get("type")
    if not types:
        _fail("type", "is required")
    types = _as_list(types)
    if not all(isinstance(t, str) and t for t in types):
        _fail("type", "values must be non-empty strings")
    if required not in types:
        _fail("type", f"must include {required}")


def _check_id(document: dict[str, Any], field: str = "id") -> None:
    if field in document and not is_url(document[field]):
        _fail(field, "must be a single URL")


def _check_typed_objects(document: dict[str, Any], field: str, *, need_id: bool = False) -> None:
    if field not in document:
        return
    for entry in _as_list(document[field]):
        if not isinstance(entry, dict):
            _fail(field, "entries must be objects")
        if not entry.get("type"):
            _fail(field, "every entry must have a type")
        if need_id and not is_url(entry.get("id")):
            _fail(field, "every entry must have an id URL")
        elif "id" in entry and not is_url(entry["id"]):
            _fail(f"{field}.id", "must be a URL")


def _check_language_values(document: dict[str, Any]) -> None:
    for field in ("name", "description"):
        if field not in document:
            continue
        for value in _as_list(document[field]):
            if isinstance(value, str):
                continue
            if not (isinstance(value, dict) and isinstance(value.get("@value"), str)):
                _fail(field, "must be a string or language value objects")


def check_credential(credential: Any) -> None:
    """Raise ``ConformanceError`` for the first VCDM 2.0 MUST the credential violates."""
    if not isinstance(credential, dict):
        raise ConformanceError("a verifiable credential must be a JSON object")
    _check_context(credential)
    _check_id(credential)
    _check_type(credential, "VerifiableCredential")
    issuer = credential.get("issuer")
    if issuer is None:
        _fail("issuer", "is required")
    if isinstance(issuer, dict):
        if not is_url(issuer.get("id")):
            _fail("issuer.id", "must be a URL")
    elif not is_url(issuer):
        _fail("issuer", "must be a URL or an object with an id URL")
    subjects = credential.get("credentialSubject")
    if subjects is None or subjects == [] or subjects == {}:
        _fail("credentialSubject", "is required and must not be empty")
    for subject in _as_list(subjects):
        if not isinstance(subject, dict) or not subject:
            _fail("credentialSubject", "every subject must be a non-empty object")
        _check_id(subject)
    for field in ("validFrom", "validUntil"):
        if field in credential:
            try:
                parse_datetime(credential[field])
            except ValueError:
                _fail(field, "must be an XML Schema dateTimeStamp with a time zone")
    if (
        "validFrom" in credential
        and "validUntil" in credential
        and parse_datetime(credential["validUntil"]) < parse_datetime(credential["validFrom"])
    ):
        _fail("validUntil", "must not be before validFrom")
    _check_typed_objects(credential, "credentialStatus")
    _check_typed_objects(credential, "credentialSchema", need_id=True)
    for field in ("evidence", "termsOfUse", "refreshService"):
        _check_typed_objects(credential, field)
    _check_language_values(credential)


def check_presentation(presentation: Any) -> None:
    """Raise ``ConformanceError`` for the first VCDM 2.0 MUST the presentation violates."""
    if not isinstance(presentation, dict):
        raise ConformanceError("a verifiable presentation must be a JSON object")
    _check_context(presentation)
    _check_id(presentation)
    _check_type(presentation, "VerifiablePresentation")
    holder = presentation.get("holder")
    if holder is not None:
        holder_value = holder.get("id") if isinstance(holder, dict) else holder
        if not is_url(holder_value):
            _fail("holder", "must be a URL or an object with an id URL")
    credentials = presentation.get("verifiableCredential", [])
    for credential in _as_list(credentials):
        if not isinstance(credential, dict):
            _fail("verifiableCredential", "entries must be credential objects")


def holder_id(presentation: dict[str, Any]) -> str | None:
    holder = presentation.get("holder")
    if isinstance(holder, dict):
        holder = holder.get("id")
    return holder if isinstance(holder, str) else None


def embedded_credentials(presentation: dict[str, Any]) -> list[dict[str, Any]]:
    value = presentation.get("verifiableCredential", [])
    return [c for c in _as_list(value) if isinstance(c, dict)]
