"""ecdsa-sd-2023 proof values and JSON pointers: the bytes a proof carries, and what it selects.

The base and derived ``proofValue`` (a multibase header and a CBOR array, VC DI ECDSA
§3.5.2-§3.5.8) are parsed strictly: every component's type and size is checked and a
value with bytes after its CBOR is refused, so one signature has one encoding. JSON
pointers (RFC 6901) select what is mandatory and what the holder discloses.
``credentials.ecdsa_sd`` does the RDF work and the signing.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import io
import re
from dataclasses import dataclass
from typing import Any

import cbor2

from . import multibase
from .errors import MicrocredError
from .keys import Multikey

BASE_HEADER = bytes([0xD9, 0x5D, 0x00])

DERIVED_HEADER = bytes([0xD9, 0x5D, 0x01])

#: Most JSON pointers a proof may carry (mandatory + selective): a credential has tens of
#: fields; thousands of pointers are only a way to make a verifier or wallet work.
MAX_POINTERS = 256

#: Most non-mandatory statements (= signatures) a proof may carry, for the same reason.
MAX_STATEMENTS = 4096


class SdError(MicrocredError):
    """A selective-disclosure input (pointer, proof value) that cannot be used."""

    code = "sd_invalid"


#: Codes of a statement or base signature that does not verify. The verifier reports
#: every ``SdError`` as the one opaque ``invalid_proof`` (as for the other suites); for these
#: it keeps the message, which names the statement at fault and says nothing about how the
#: proof value is encoded. The other codes (``parse_base``, ``parse_derived``, ``derive``)
#: stay precise for whoever debugs their own proofs.
SIGNATURE_CODES = frozenset({"sd_base_signature", "sd_statement_signature", "sd_signature_count"})


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hmac_label(key: bytes, canonical_label: str) -> str:
    """The HMAC-based replacement for a canonical blank-node label (``c14nN`` → ``u…``)."""
    return "u" + _b64url(hmac.new(key, canonical_label.encode(), hashlib.sha256).digest())


def ephemeral_public_bytes(key: Multikey) -> bytes:
    """The multikey bytes (0x8024 ‖ compressed point) of a proof-scoped P-256 key."""
    return multibase.decode(key.public_key_multibase)


@dataclass
class BaseProof:
    base_signature: bytes
    public_key: bytes
    hmac_key: bytes
    signatures: list[bytes]
    mandatory_pointers: list[str]


@dataclass
class DerivedProof:
    base_signature: bytes
    public_key: bytes
    signatures: list[bytes]
    label_map: dict[str, str]  # c14nN -> uXXXX
    mandatory_indexes: list[int]


def serialize_base(proof: BaseProof) -> str:
    body = cbor2.dumps(
        [
            proof.base_signature,
            proof.public_key,
            proof.hmac_key,
            list(proof.signatures),
            list(proof.mandatory_pointers),
        ]
    )
    return "u" + _b64url(BASE_HEADER + body)


def serialize_derived(proof: DerivedProof) -> str:
    compressed = {}
    for c14n, label in proof.label_map.items():
        compressed[int(c14n.removeprefix("c14n"))] = _unb64url(label[1:])
    body = cbor2.dumps(
        [
            proof.base_signature,
            proof.public_key,
            list(proof.signatures),
            dict(sorted(compressed.items())),
            list(proof.mandatory_indexes),
        ]
    )
    return "u" + _b64url(DERIVED_HEADER + body)


def _decode_proof_value(value: object, header: bytes) -> list[Any]:
    if not isinstance(value, str) or not value.startswith("u"):
        raise SdError(
            "an ecdsa-sd-2023 proofValue is a base64url multibase string ('u…')",
            code="sd_proof_value_malformed",
        )
    try:
        raw = _unb64url(value[1:])
    except (ValueError, TypeError):
        raise SdError("the proofValue is not base64url", code="sd_proof_value_malformed") from None
    if raw[:3] != header:
        kind = "derived" if header == DERIVED_HEADER else "base"
        other = {BASE_HEADER: "a base proof", DERIVED_HEADER: "a derived proof"}.get(raw[:3])
        raise SdError(
            f"expected a {kind} proof (header {header.hex()})"
            + (f", got {other}" if other else ", got an unknown header"),
            code="sd_base_proof_presented" if raw[:3] == BASE_HEADER else "sd_proof_value_header",
        )
    stream = io.BytesIO(raw[3:])
    try:
        decoded = cbor2.CBORDecoder(stream).decode()
    except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError, RecursionError):
        raise SdError(
            "the proofValue is not the expected CBOR", code="sd_proof_value_cbor"
        ) from None
    if stream.tell() != len(raw) - 3:
        # ``cbor2.loads`` ignores trailing bytes: a proof value with a byte appended would
        # still verify, so the same signature would have many encodings (malleability)
        raise SdError("the proofValue has bytes after its CBOR", code="sd_proof_value_cbor")
    if not isinstance(decoded, list) or len(decoded) != 5:
        raise SdError(
            "the proofValue's CBOR is not an array of five components",
            code="sd_proof_value_cbor",
        )
    return decoded


def _bytes(value: object, size: int | None, what: str) -> bytes:
    if not isinstance(value, bytes) or (size is not None and len(value) != size):
        need = f"{size} bytes" if size else "a byte string"
        raise SdError(f"{what} must be {need}", code="sd_proof_value_cbor")
    return value


def _signature_list(value: object) -> list[bytes]:
    if not isinstance(value, list) or len(value) > MAX_STATEMENTS:
        raise SdError("signatures must be a list of 64-byte strings", code="sd_proof_value_cbor")
    return [_bytes(s, 64, "each signature") for s in value]


def _public_key(value: object) -> bytes:
    key = _bytes(value, 35, "the proof-scoped public key")
    if key[:2] != multibase.P256_PUB:
        raise SdError("the proof-scoped key must be a P-256 multikey", code="sd_proof_value_cbor")
    return key


def parse_base(value: object) -> BaseProof:
    """The components of a base ``proofValue`` (header 0xd95d00), or ``SdError``."""
    sig, pub, key, sigs, pointers = _decode_proof_value(value, BASE_HEADER)
    if not isinstance(pointers, list) or not all(isinstance(p, str) for p in pointers):
        raise SdError("mandatoryPointers must be a list of strings", code="sd_proof_value_cbor")
    check_pointers(pointers)
    return BaseProof(
        _bytes(sig, 64, "the base signature"),
        _public_key(pub),
        _bytes(key, 32, "the HMAC key"),
        _signature_list(sigs),
        pointers,
    )


def parse_derived(value: object) -> DerivedProof:
    """The components of a derived ``proofValue`` (header 0xd95d01), or ``SdError``."""
    sig, pub, sigs, labels, indexes = _decode_proof_value(value, DERIVED_HEADER)
    if not isinstance(labels, dict) or len(labels) > MAX_STATEMENTS:
        raise SdError("the label map must be a CBOR map", code="sd_proof_value_cbor")
    label_map = {}
    for k, v in labels.items():
        if not isinstance(k, int) or isinstance(k, bool) or k < 0:
            raise SdError("label map keys must be integers", code="sd_proof_value_cbor")
        label_map[f"c14n{k}"] = "u" + _b64url(_bytes(v, 32, "each label"))
    if (
        not isinstance(indexes, list)
        or len(indexes) > MAX_STATEMENTS
        or not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in indexes)
    ):
        raise SdError("mandatoryIndexes must be a list of integers", code="sd_proof_value_cbor")
    return DerivedProof(
        _bytes(sig, 64, "the base signature"),
        _public_key(pub),
        _signature_list(sigs),
        label_map,
        list(indexes),
    )


def parse_pointer(pointer: object) -> list[str | int]:
    """RFC 6901 pointer → path segments (digit-only segments become array indexes)."""
    if not isinstance(pointer, str) or not pointer.startswith("/"):
        raise SdError(f"malformed JSON pointer {pointer!r}", code="sd_pointer_malformed")
    paths: list[str | int] = []
    for raw in pointer[1:].split("/"):
        if re.search(r"~(?![01])", raw):
            raise SdError(f"malformed JSON pointer {pointer!r}", code="sd_pointer_malformed")
        seg = raw.replace("~1", "/").replace("~0", "~")
        paths.append(int(seg) if seg.isdigit() and seg.isascii() else seg)
    return paths


def check_pointers(pointers: list[Any]) -> None:
    """Size limit, shape and no duplicates, before any work is done on them."""
    if not isinstance(pointers, list):
        raise SdError("pointers must be a list", code="sd_pointer_malformed")
    if len(pointers) > MAX_POINTERS:
        raise SdError(
            f"at most {MAX_POINTERS} JSON pointers are accepted", code="sd_too_many_pointers"
        )
    for p in pointers:
        parse_pointer(p)
    if len(set(pointers)) != len(pointers):
        dupes = sorted({p for p in pointers if pointers.count(p) > 1})
        raise SdError(f"duplicate JSON pointers: {', '.join(dupes)}", code="sd_pointer_duplicate")


class _Sparse(dict[int, Any]):
    """A selected array whose unselected entries are still holes (index → value)."""


def _initial_selection(source: Any) -> dict[str, Any]:
    selection: dict[str, Any] = {}
    if isinstance(source, dict):
        node_id = source.get("id")
        if isinstance(node_id, str) and not node_id.startswith("_:"):
            selection["id"] = node_id
        if "type" in source:
            selection["type"] = copy.deepcopy(source["type"])
    return selection


def _step(parent: Any, path: str | int, pointer: str) -> Any:
    if isinstance(parent, list) and isinstance(path, int) and path < len(parent):
        return parent[path]
    if isinstance(parent, dict) and str(path) in parent:
        return parent[str(path)]
    raise SdError(f"JSON pointer {pointer} points at nothing", code="sd_pointer_not_found")


def _key(parent: Any, path: str | int) -> str | int:
    return path if isinstance(parent, _Sparse) else str(path)


def select_json_ld(pointers: list[str], document: dict[str, Any]) -> dict[str, Any] | None:
    """The part of ``document`` the pointers select, with ids and types to anchor it."""
    if not pointers:
        return None
    selection = {"@context": copy.deepcopy(document.get("@context"))}
    selection.update(_initial_selection(document))
    for pointer in pointers:
        paths = parse_pointer(pointer)
        value: Any = document
        selected_parent: Any = selection
        selected: Any = selection
        for path in paths:
            selected_parent = selected
            value = _step(value, path, pointer)
            key = _key(selected_parent, path)
            selected = selected_parent.get(key) if isinstance(selected_parent, dict) else None
            if selected is None:
                selected = _Sparse() if isinstance(value, list) else _initial_selection(value)
                selected_parent[key] = selected
        if not paths:
            raise SdError("the empty JSON pointer selects nothing", code="sd_pointer_malformed")
        key = _key(selected_parent, paths[-1])
        if isinstance(value, dict):
            selected.update(copy.deepcopy(value))
        else:
            selected_parent[key] = copy.deepcopy(value)
    return _densify(selection)


def _densify(value: Any) -> Any:
    if isinstance(value, _Sparse):
        return [_densify(value[i]) for i in sorted(value)]
    if isinstance(value, dict):
        return {k: _densify(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_densify(v) for v in value]
    return value
