"""VC Data Model structure (2.0 and 1.1): parsing untrusted JSON and the normative MUSTs.

JSON-LD processing only says what a document means; the data model says which documents
are credentials at all. These checks run before any cryptography so that a malformed
document gets a precise reason ("issuer must be a URL") instead of a vague proof failure,
and resource limits stop hostile input before pyld spends time on it.

Both data models are accepted, told apart by the first ``@context`` item: VC 2.0
(``validFrom``/``validUntil`` as dateTimeStamps) and VCDM 1.1 (``issuanceDate`` required,
``expirationDate`` optional, XML Schema dateTimes), because most credentials in circulation
are 1.1. ``relatedResource`` integrity (VCDM 2.0 §5.3) is checked here too: the shape is a
MUST of the structure, the digest of a resource microcred holds offline (a shipped context)
is compared with the file's bytes by :func:`related_resource_checks`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
from typing import Any, NoReturn

import contexts

from . import multibase
from .dates import parse_datetime, parse_xsd_datetime
from .errors import ConformanceError, KeyFormatError, MalformedInput
from .report import Check

VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
VC_V1_CONTEXT = "https://www.w3.org/2018/credentials/v1"
DATA_MODELS = {VC_V2_CONTEXT: "2.0", VC_V1_CONTEXT: "1.1"}
MAX_DEPTH = 48
MAX_NODES = 100_000
MAX_BYTES = 5 * 1024 * 1024
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+$")
_SRI = re.compile(r"^(sha256|sha384|sha512)-([A-Za-z0-9+/]+={0,2})$")
_SRI_HASHES = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}
# multihash prefixes (varint code, digest length) of the digests microcred can recompute
_MULTIHASH = {
    b"\x12\x20": hashlib.sha256,
    b"\x20\x30": hashlib.sha384,
    b"\x13\x40": hashlib.sha512,
}


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
    """Whether ``value`` is a string shaped like an absolute URL (a scheme and a body)."""
    return isinstance(value, str) and bool(_URL.match(value))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def issuer_id(credential: dict[str, Any]) -> str | None:
    """The issuer's id, whether ``issuer`` is a string or an object; None when absent."""
    issuer = credential.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else None


def subject_ids(credential: dict[str, Any]) -> list[str]:
    """The ids of the credential's subjects that have one, in order."""
    subjects = credential.get("credentialSubject")
    return [
        s["id"] for s in _as_list(subjects) if isinstance(s, dict) and isinstance(s.get("id"), str)
    ]


def _fail(field: str, message: str) -> NoReturn:
    raise ConformanceError(f"{field}: {message}", code="non_conformant")


def data_model(document: Any) -> str | None:
    """``"2.0"`` or ``"1.1"`` from the first ``@context`` item, None for neither."""
    if not isinstance(document, dict):
        return None
    ctx = document.get("@context")
    first = ctx[0] if isinstance(ctx, list) and ctx else None
    return DATA_MODELS.get(first) if isinstance(first, str) else None


def _check_context(document: dict[str, Any]) -> str:
    ctx = document.get("@context")
    if not isinstance(ctx, list) or not ctx:
        _fail("@context", "must be an ordered set (a JSON array)")
    version = DATA_MODELS.get(ctx[0]) if isinstance(ctx[0], str) else None
    if version is None:
        _fail(
            "@context",
            f"the first item must be {VC_V2_CONTEXT} (VC 2.0) or {VC_V1_CONTEXT} (VCDM 1.1)",
        )
    for item in ctx[1:]:
        if not (is_url(item) or isinstance(item, dict)):
            _fail("@context", "items must be URLs or objects")
    return version


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


def _check_language_values(document: dict[str, Any], prefix: str = "") -> None:
    """``name``/``description``: strings or language value objects (VCDM 2.0 §4.6)."""
    for name in ("name", "description"):
        field = prefix + name
        if name not in document:
            continue
        for value in _as_list(document[name]):
            if isinstance(value, str):
                continue
            if not (isinstance(value, dict) and isinstance(value.get("@value"), str)):
                _fail(field, "must be a string or language value objects")
            if "@language" in value and not (
                isinstance(value["@language"], str) and value["@language"]
            ):
                _fail(f"{field}.@language", "must be a language tag (BCP 47)")
            if "@direction" in value and value["@direction"] not in ("ltr", "rtl"):
                _fail(f"{field}.@direction", "must be ltr or rtl")


def _check_dates_v2(credential: dict[str, Any]) -> None:
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


def _check_dates_v1(credential: dict[str, Any]) -> None:
    if "issuanceDate" not in credential:
        _fail("issuanceDate", "is required (VCDM 1.1)")
    for field in ("issuanceDate", "expirationDate"):
        if field in credential:
            try:
                parse_xsd_datetime(credential[field])
            except ValueError:
                _fail(field, "must be an XML Schema dateTime")


def _check_related_resources(credential: dict[str, Any]) -> None:
    """VCDM 2.0 §5.3: objects with a unique ``id`` and at least one digest."""
    if "relatedResource" not in credential:
        return
    seen: set[str] = set()
    for entry in _as_list(credential["relatedResource"]):
        if not isinstance(entry, dict):
            _fail("relatedResource", "entries must be objects")
        ident = entry.get("id")
        if not isinstance(ident, str) or not is_url(ident):
            _fail("relatedResource.id", "every entry must have an id URL")
        if ident in seen:
            _fail("relatedResource.id", f"{ident} appears more than once; ids must be unique")
        seen.add(ident)
        if "digestSRI" not in entry and "digestMultibase" not in entry:
            _fail("relatedResource", f"{ident} has neither digestSRI nor digestMultibase")
        if "digestSRI" in entry and not all(
            _SRI.match(part) for part in _sri_parts(entry["digestSRI"])
        ):
            _fail("relatedResource.digestSRI", "must be an SRI hash expression (sha384-…)")
        if "digestMultibase" in entry:
            try:
                multibase.decode(entry["digestMultibase"])
            except KeyFormatError:
                _fail("relatedResource.digestMultibase", "must be a multibase value")
        if "mediaType" in entry and not isinstance(entry["mediaType"], str):
            _fail("relatedResource.mediaType", "must be a string")


def _sri_parts(value: Any) -> list[str]:
    parts = value.split() if isinstance(value, str) else []
    return parts or [""]


def related_resource_checks(credential: dict[str, Any]) -> list[Check]:
    """Compare each ``relatedResource`` digest microcred can recompute offline.

    The resources a verifier holds without fetching are the shipped contexts: a digest of
    one of them is computed over the file's bytes (VCDM 2.0 §5.3, "Integrity of Related
    Resources") and a mismatch is an error. Other resources would need a fetch, which a
    credential must never cause; they are reported as not checked.
    """
    entries = [e for e in _as_list(credential.get("relatedResource")) if isinstance(e, dict)]
    if not entries:
        return []
    shipped = contexts.manifest()
    checks: list[Check] = []
    for entry in entries:
        ident = entry.get("id")
        if not isinstance(ident, str) or ident not in shipped:
            continue
        data = shipped[ident].read_bytes()
        problem = _digest_problem(entry, data)
        if problem:
            checks.append(Check.failed("related_resource", "digest_mismatch", problem))
        else:
            checks.append(Check.passed("related_resource", f"the digest of {ident} matches"))
    if not checks:
        return [
            Check.skipped(
                "related_resource",
                "no related resource is available offline; their digests were not checked",
                code="related_resource_not_checked",
            )
        ]
    return checks


def _digest_problem(entry: dict[str, Any], data: bytes) -> str:
    ident = entry.get("id")
    if "digestSRI" in entry:
        for part in _sri_parts(entry["digestSRI"]):
            match = _SRI.match(part)
            if match is None:
                return f"{ident}: digestSRI is not an SRI hash expression"
            expected = base64.b64encode(_SRI_HASHES[match.group(1)](data).digest()).decode()
            if match.group(2) != expected:
                return f"{ident}: the {match.group(1)} digestSRI does not match the resource"
    if "digestMultibase" in entry:
        try:
            digest = multibase.decode(entry["digestMultibase"])
        except (KeyFormatError, binascii.Error, ValueError):
            return f"{ident}: digestMultibase is not a multibase value"
        algorithm = _MULTIHASH.get(digest[:2])
        if algorithm is not None and len(digest) == 2 + digest[1]:
            ok = digest[2:] == algorithm(data).digest()
        else:  # a bare digest without a multihash header: compare by length
            bare = {32: hashlib.sha256, 48: hashlib.sha384, 64: hashlib.sha512}.get(len(digest))
            ok = bare is not None and digest == bare(data).digest()
        if not ok:
            return f"{ident}: digestMultibase does not match the resource"
    return ""


def check_credential(credential: Any) -> None:
    """Raise ``ConformanceError`` for the first VCDM 2.0 / 1.1 MUST the credential violates."""
    if not isinstance(credential, dict):
        raise ConformanceError("a verifiable credential must be a JSON object")
    version = _check_context(credential)
    _check_id(credential)
    _check_type(credential, "VerifiableCredential")
    issuer = credential.get("issuer")
    if issuer is None:
        _fail("issuer", "is required")
    if isinstance(issuer, dict):
        if not is_url(issuer.get("id")):
            _fail("issuer.id", "must be a URL")
        if version == "2.0":
            _check_language_values(issuer, "issuer.")
    elif not is_url(issuer):
        _fail("issuer", "must be a URL or an object with an id URL")
    subjects = credential.get("credentialSubject")
    if subjects is None or subjects == [] or subjects == {}:
        _fail("credentialSubject", "is required and must not be empty")
    for subject in _as_list(subjects):
        if not isinstance(subject, dict) or not subject:
            _fail("credentialSubject", "every subject must be a non-empty object")
        _check_id(subject)
    if version == "1.1":
        _check_dates_v1(credential)
        # VCDM 1.1 §4.9 / §5.6: a status and a refresh service name themselves with an id
        _check_typed_objects(credential, "credentialStatus", need_id=True)
        _check_typed_objects(credential, "refreshService", need_id=True)
    else:
        _check_dates_v2(credential)
        _check_typed_objects(credential, "credentialStatus")
        _check_typed_objects(credential, "refreshService")
    _check_typed_objects(credential, "credentialSchema", need_id=True)
    for field in ("evidence", "termsOfUse"):
        _check_typed_objects(credential, field)
    if version == "2.0":  # names and descriptions are VC 2.0 terms (§4.6)
        _check_language_values(credential)
    _check_related_resources(credential)


def check_presentation(presentation: Any) -> None:
    """Raise ``ConformanceError`` for the first VCDM 2.0 / 1.1 MUST the presentation violates."""
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
    """The presentation's holder id (string or object form); None when absent."""
    holder = presentation.get("holder")
    if isinstance(holder, dict):
        holder = holder.get("id")
    return holder if isinstance(holder, str) else None


def embedded_credentials(presentation: dict[str, Any]) -> list[dict[str, Any]]:
    """The credential objects a presentation carries (enveloped strings are skipped)."""
    value = presentation.get("verifiableCredential", [])
    return [c for c in _as_list(value) if isinstance(c, dict)]
