"""The ``ecdsa-sd-2023`` selective-disclosure cryptosuite (VC DI ECDSA v1.0 §3.4).

Three parties, three operations:

- the issuer makes a *base proof*: every N-Quad of the credential that is not mandatory is
  signed on its own with a proof-scoped (ephemeral) P-256 key, the mandatory quads are
  hashed together, and the issuer's key signs proof hash ‖ ephemeral public key ‖
  mandatory hash. Blank-node labels are replaced by HMAC-derived ones so that a holder
  who discloses part of the credential does not leak the shape of the rest;
- the holder *derives* a proof over the mandatory pointers plus the selective pointers
  she chose: the reveal document keeps only those, and the proof keeps only their
  signatures and the label map the verifier needs;
- the verifier checks a derived proof: re-canonicalise the reveal document, relabel with
  the disclosed label map, split mandatory / non-mandatory by the disclosed indexes, and
  check every signature.

The canonicalisation fast path (``credentials._fastrdf``) serves the verifier: its output
is RDFC-1.0 with ``_:c14nN`` labels, which is exactly what the derived proof's label map is
keyed by. Base proofs and derivation need the map from *input* blank nodes (of the
skolemised document) to canonical labels, which the fast path does not expose, so they go
through pyld's expansion and a bounded URDNA2015 run here.

Errors are ``MicrocredError`` with a stable code (``sd_*``); the verifier reports them as
checks, never as exceptions escaping to a caller.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

from pyld import jsonld
from pyld.nquads import parse_nquads, unescape

from . import _fastrdf, multibase
from ._urdna import BoundedURDNA2015
from .canonical import canonicalize
from .documents import DocumentLoader
from .ecdsa_sd_values import (
    BASE_HEADER,
    DERIVED_HEADER,
    MAX_POINTERS,
    MAX_STATEMENTS,
    SIGNATURE_CODES,
    BaseProof,
    DerivedProof,
    SdError,
    _unb64url,
    check_pointers,
    ephemeral_public_bytes,
    hmac_label,
    parse_base,
    parse_derived,
    parse_pointer,
    select_json_ld,
    serialize_base,
    serialize_derived,
)
from .errors import CanonicalizationError, MicrocredError
from .keys import Multikey

NAME = "ecdsa-sd-2023"
SKOLEM_PREFIX = "urn:bnid:"
_SKOLEM_IRI = re.compile(r"<urn:bnid:([^>]+)>")


# ---------------------------------------------------------------------- encodings


# ------------------------------------------------------------------ proof values


# ------------------------------------------------------------------ JSON pointers


# ------------------------------------------------------ skolemising and canonicalising


def _jsonld_options(loader: DocumentLoader) -> dict[str, Any]:
    return {"documentLoader": loader, "base": "", "safe": False}


def _skolemize_expanded(value: Any, counter: list[int]) -> Any:
    if isinstance(value, list):
        return [_skolemize_expanded(v, counter) for v in value]
    if not isinstance(value, dict):
        return value
    if "@value" in value:
        return value
    out = {k: _skolemize_expanded(v, counter) for k, v in value.items()}
    if "@list" in value or "@set" in value:
        return out
    node_id = out.get("@id")
    if node_id is None:
        out["@id"] = f"{SKOLEM_PREFIX}b{counter[0]}"
        counter[0] += 1
    elif isinstance(node_id, str) and node_id.startswith("_:"):
        out["@id"] = SKOLEM_PREFIX + node_id[2:]
    return out


def _translate(exc: BaseException) -> MicrocredError:
    if isinstance(exc, MicrocredError):
        return exc
    cause = getattr(exc, "details", None)
    if isinstance(cause, dict) and isinstance(cause.get("cause"), MicrocredError):
        return cause["cause"]
    return CanonicalizationError(f"invalid JSON-LD: {str(exc).splitlines()[0][:200]}")


def _skolemize_compact(value: Any, counter: list[int]) -> Any:
    """Name every JSON object that looks like a node object, in place of expanding.

    Only a guess (a term with ``@json`` type or a map container would fool it), so
    :func:`canonicalize_and_group` checks the result against the document's own canonical
    form and takes the spec's expand–skolemise–compact route when they differ.
    """
    if isinstance(value, list):
        return [_skolemize_compact(v, counter) for v in value]
    if not isinstance(value, dict) or "@value" in value:
        return value
    out = {k: (v if k == "@context" else _skolemize_compact(v, counter)) for k, v in value.items()}
    if "@list" in value or "@set" in value:
        return out
    id_key = "@id" if "@id" in out else "id"
    node_id = out.get(id_key)
    if node_id is None:
        out[id_key] = f"{SKOLEM_PREFIX}b{counter[0]}"
        counter[0] += 1
    elif isinstance(node_id, str) and node_id.startswith("_:"):
        out[id_key] = SKOLEM_PREFIX + node_id[2:]
    return out


def skolemize(document: dict[str, Any], loader: DocumentLoader) -> dict[str, Any]:
    """The compact document with every blank node named ``urn:bnid:…`` (spec §3.4.x)."""
    with _fastrdf._lock:
        try:
            expanded = jsonld.expand(document, _jsonld_options(loader))
            skolemized = _skolemize_expanded(expanded, [0])
            return jsonld.compact(
                skolemized, {"@context": document.get("@context")}, _jsonld_options(loader)
            )
        except (jsonld.JsonLdError, ValueError, TypeError, KeyError) as exc:
            raise _translate(exc) from None


def deskolemized_nquads(document: dict[str, Any], loader: DocumentLoader) -> list[str]:
    """N-Quads (one string per quad, ``\\n``-terminated) with skolem IRIs as blank nodes.

    A skolemised document has no blank nodes, so its RDFC-1.0 form is just its quads,
    sorted: the canonicalisation fast path makes them (falling back to pyld by itself).
    """
    text = canonicalize(document, loader, strict=False)
    return [_SKOLEM_IRI.sub(r"_:\1", line) + "\n" for line in text.splitlines() if line]


_TERM = r"(?:<([^>]*)>|(_:[A-Za-z0-9_][A-Za-z0-9_.-]*))"
_QUAD = re.compile(
    rf"^{_TERM} <([^>]*)> (?:{_TERM}|\"((?:[^\"\\]|\\.)*)\"(?:\^\^<([^>]*)>|@([A-Za-z0-9-]+))?)"
    rf"(?: {_TERM})? \.$"
)
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


def _term(iri: str | None, bnode: str | None) -> dict[str, str]:
    return (
        {"type": "IRI", "value": iri}
        if iri is not None
        else {"type": "blank node", "value": bnode or ""}
    )


def _dataset(nquads: list[str]) -> dict[str, list[dict[str, Any]]]:
    """pyld's dataset shape from N-Quads that are already unique (our own canonical output):
    pyld's parser also de-duplicates, quadratically, which was half of a base proof's time.
    A line this does not read goes through pyld's parser."""
    dataset: dict[str, list[dict[str, Any]]] = {}
    for line in nquads:
        m = _QUAD.match(line.rstrip("\n"))
        if m is None:
            return parse_nquads("".join(nquads))
        s_iri, s_bn, pred, o_iri, o_bn, lit, dtype, lang, g_iri, g_bn = m.groups()
        if o_iri is not None or o_bn is not None:
            obj = _term(o_iri, o_bn)
        else:
            obj = {"type": "literal", "value": unescape(lit)}
            if lang is not None:
                obj.update(datatype=_RDF_LANGSTRING, language=lang)
            else:
                obj["datatype"] = dtype or _XSD_STRING
        triple = {"subject": _term(s_iri, s_bn), "predicate": _term(pred, None), "object": obj}
        graph = g_iri if g_iri is not None else g_bn
        dataset.setdefault(graph or "@default", []).append(triple)
    return dataset


def canonical_id_map(nquads: list[str]) -> tuple[list[str], dict[str, str]]:
    """RDFC-1.0 of ``nquads``: the canonical quads and input label → ``c14nN`` map."""
    algorithm = BoundedURDNA2015()
    dataset = _dataset(nquads)
    canonical = algorithm.main(dataset, {"format": "application/n-quads"})
    mapping = {
        old.removeprefix("_:"): new.removeprefix("_:")
        for old, new in algorithm.canonical_issuer.existing.items()
    }
    return canonical.splitlines(keepends=True), mapping


def relabel(line: str, mapping: dict[str, str]) -> str:
    """One N-Quad with its blank-node labels replaced (subject, object, graph positions).

    A literal cannot be mistaken for a label: every label is a whole space-separated token
    outside quotes, at the start, right after the predicate IRI, or last before `` .``.
    """
    subject, rest = line.split(" ", 1)
    if subject.startswith("_:"):
        subject = "_:" + _mapped(subject[2:], mapping)
    predicate, rest = rest.split(" ", 1)
    if rest.startswith("_:"):
        label, rest = rest.split(" ", 1)
        rest = "_:" + _mapped(label[2:], mapping) + " " + rest
    body = rest[: -len(" .\n")] if rest.endswith(" .\n") else rest.rstrip("\n")[:-2]
    head, _, last = body.rpartition(" ")
    if head and last.startswith("_:") and '"' not in last:
        body = head + " _:" + _mapped(last[2:], mapping)
    return f"{subject} {predicate} {body} .\n"


def _mapped(label: str, mapping: dict[str, str]) -> str:
    try:
        return mapping[label]
    except KeyError:
        raise SdError(
            f"blank node _:{label} has no label in the proof's label map",
            code="sd_label_map_incomplete",
        ) from None


@dataclass
class Groups:
    """The credential's relabelled canonical quads and, per group, the indexes it covers."""

    nquads: list[str]
    label_map: dict[str, str]  # input (skolem) label -> HMAC label
    matching: dict[str, list[int]]
    selections: dict[str, list[str]]  # deskolemised N-Quads of each group's selection


def canonicalize_and_group(
    document: dict[str, Any],
    hmac_key: bytes,
    groups: dict[str, list[str]],
    loader: DocumentLoader,
) -> Groups:
    """Spec "canonicalizeAndGroup" with the HMAC label map factory."""
    skolemized = _skolemize_compact(document, [0])
    all_quads = deskolemized_nquads(skolemized, loader)
    canonical, c14n_map = canonical_id_map(all_quads)
    if "".join(canonical) != canonicalize(document, loader, strict=False):
        # the quick skolemisation changed the graph: do it the spec's way
        skolemized = skolemize(document, loader)
        all_quads = deskolemized_nquads(skolemized, loader)
        _, c14n_map = canonical_id_map(all_quads)
    label_map = {inp: hmac_label(hmac_key, c14n) for inp, c14n in c14n_map.items()}
    nquads = sorted(relabel(q, label_map) for q in all_quads)
    index = {q: i for i, q in enumerate(nquads)}
    matching: dict[str, list[int]] = {}
    selections: dict[str, list[str]] = {}
    for name, pointers in groups.items():
        selection = select_json_ld(pointers, skolemized)
        quads = deskolemized_nquads(selection, loader) if selection else []
        selections[name] = quads
        relabelled = {relabel(q, label_map) for q in quads}
        matching[name] = sorted(index[q] for q in relabelled if q in index)
    return Groups(nquads, label_map, matching, selections)


# --------------------------------------------------------------------- operations


def proof_hash(proof_config: dict[str, Any], loader: DocumentLoader) -> bytes:
    return hashlib.sha256(canonicalize(proof_config, loader, strict=False).encode()).digest()


def _check_issuer_key(key: Multikey) -> None:
    if key.algorithm != "P-256":
        raise MicrocredError(
            f"ecdsa-sd-2023 signs with P-256 keys, not {key.algorithm}", code="wrong_key_type"
        )


def create_base_proof_value(
    document: dict[str, Any],
    proof_config: dict[str, Any],
    key: Multikey,
    mandatory_pointers: list[str],
    loader: DocumentLoader,
    *,
    hmac_key: bytes | None = None,
    proof_key: Multikey | None = None,
) -> str:
    """The issuer's base ``proofValue`` (spec §3.4.x createBaseProof / serializeBaseProofValue)."""
    _check_issuer_key(key)
    check_pointers(mandatory_pointers)
    hmac_key = hmac_key if hmac_key is not None else secrets.token_bytes(32)
    proof_key = proof_key or Multikey.generate("P-256")
    groups = canonicalize_and_group(document, hmac_key, {"mandatory": mandatory_pointers}, loader)
    mandatory = set(groups.matching["mandatory"])
    mandatory_hash = hashlib.sha256(
        "".join(q for i, q in enumerate(groups.nquads) if i in mandatory).encode()
    ).digest()
    signatures = [
        proof_key.sign(q.encode()) for i, q in enumerate(groups.nquads) if i not in mandatory
    ]
    public = ephemeral_public_bytes(proof_key)
    base_signature = key.sign(proof_hash(proof_config, loader) + public + mandatory_hash)
    return serialize_base(
        BaseProof(base_signature, public, hmac_key, signatures, list(mandatory_pointers))
    )


def derive(
    secured: dict[str, Any],
    selective_pointers: list[str],
    loader: DocumentLoader,
) -> dict[str, Any]:
    """The holder's reveal document with a derived proof over ``selective_pointers``.

    Mandatory pointers always travel; a selective pointer that repeats one is allowed.
    """
    proof = secured.get("proof")
    if not isinstance(proof, dict) or proof.get("cryptosuite") != NAME:
        raise SdError("the credential has no ecdsa-sd-2023 base proof", code="sd_no_base_proof")
    check_pointers(selective_pointers)
    base = parse_base(proof.get("proofValue"))
    document = {k: v for k, v in secured.items() if k != "proof"}
    combined = base.mandatory_pointers + [
        p for p in selective_pointers if p not in base.mandatory_pointers
    ]
    groups = canonicalize_and_group(
        document,
        base.hmac_key,
        {
            "mandatory": base.mandatory_pointers,
            "selective": selective_pointers,
            "combined": combined,
        },
        loader,
    )
    combined_index = {absolute: rel for rel, absolute in enumerate(groups.matching["combined"])}
    mandatory_set = set(groups.matching["mandatory"])
    selective_set = set(groups.matching["selective"])
    mandatory_indexes = [combined_index[i] for i in groups.matching["mandatory"]]
    non_mandatory = [i for i in range(len(groups.nquads)) if i not in mandatory_set]
    if len(non_mandatory) != len(base.signatures):
        raise SdError(
            "the base proof's signatures do not match the credential's statements",
            code="sd_signature_count",
        )
    filtered = [
        sig
        for sig, absolute in zip(base.signatures, non_mandatory, strict=True)
        if absolute in selective_set
    ]
    reveal = select_json_ld(combined, document) or {"@context": document.get("@context")}
    _, reveal_map = canonical_id_map(groups.selections["combined"])
    verifier_labels = {c14n: groups.label_map[inp] for inp, c14n in reveal_map.items()}
    value = serialize_derived(
        DerivedProof(
            base.base_signature, base.public_key, filtered, verifier_labels, mandatory_indexes
        )
    )
    reveal["proof"] = {**{k: v for k, v in proof.items() if k != "proofValue"}, "proofValue": value}
    return reveal


def _ephemeral(public: bytes) -> Multikey:
    return Multikey.from_public_multibase(multibase.encode_base58btc(public))


def verify_derived(
    document: dict[str, Any],
    proof_config: dict[str, Any],
    proof_value: object,
    key: Multikey,
    loader: DocumentLoader,
    *,
    canonical_document: str | None = None,
) -> None:
    """Check a derived proof; ``SdError`` / ``MicrocredError`` names what failed."""
    _check_issuer_key(key)
    derived = parse_derived(proof_value)
    text = canonical_document or canonicalize(document, loader, strict=False)
    quads = sorted(relabel(q, derived.label_map) for q in text.splitlines(keepends=True))
    indexes = derived.mandatory_indexes
    if len(quads) != len(indexes) + len(derived.signatures):
        raise SdError(
            f"{len(quads)} disclosed statements, but the proof covers "
            f"{len(indexes)} mandatory and {len(derived.signatures)} signed ones: statements "
            "were removed from or added to what the holder disclosed",
            code="sd_signature_count",
        )
    if any(i >= len(quads) for i in indexes) or indexes != sorted(set(indexes)):
        raise SdError(
            "mandatoryIndexes point outside the disclosed statements", code="sd_mandatory_index"
        )
    wanted = set(indexes)
    mandatory = "".join(quads[i] for i in indexes)
    non_mandatory = [q for i, q in enumerate(quads) if i not in wanted]
    if len(non_mandatory) != len(derived.signatures):
        raise SdError(
            f"{len(non_mandatory)} disclosed statements but {len(derived.signatures)} signatures",
            code="sd_signature_count",
        )
    ephemeral = _ephemeral(derived.public_key)
    for quad, signature in zip(non_mandatory, derived.signatures, strict=True):
        if not ephemeral.verify(signature, quad.encode()):
            raise SdError(
                f"a disclosed statement does not match its signature: {quad.strip()[:160]}",
                code="sd_statement_signature",
            )
    to_sign = (
        proof_hash(proof_config, loader)
        + derived.public_key
        + hashlib.sha256(mandatory.encode()).digest()
    )
    if not key.verify(derived.base_signature, to_sign):
        raise SdError(
            "the issuer's base signature does not cover these mandatory statements and "
            "proof options (a mandatory field was changed or removed, or the proof is from "
            "another credential)",
            code="sd_base_signature",
        )


def verify_base(
    document: dict[str, Any],
    proof_config: dict[str, Any],
    proof_value: object,
    key: Multikey,
    loader: DocumentLoader,
) -> None:
    """Check a base proof as its holder can (she has the HMAC key): every signature."""
    _check_issuer_key(key)
    base = parse_base(proof_value)
    groups = canonicalize_and_group(
        document, base.hmac_key, {"mandatory": base.mandatory_pointers}, loader
    )
    mandatory = set(groups.matching["mandatory"])
    non_mandatory = [q for i, q in enumerate(groups.nquads) if i not in mandatory]
    if len(non_mandatory) != len(base.signatures):
        raise SdError("the base proof's signature count is wrong", code="sd_signature_count")
    ephemeral = _ephemeral(base.public_key)
    for quad, signature in zip(non_mandatory, base.signatures, strict=True):
        if not ephemeral.verify(signature, quad.encode()):
            raise SdError(
                f"a statement does not match its signature: {quad.strip()[:160]}",
                code="sd_statement_signature",
            )
    mandatory_hash = hashlib.sha256(
        "".join(q for i, q in enumerate(groups.nquads) if i in mandatory).encode()
    ).digest()
    if not key.verify(
        base.base_signature, proof_hash(proof_config, loader) + base.public_key + mandatory_hash
    ):
        raise SdError("the issuer's base signature does not verify", code="sd_base_signature")


def is_derived(proof_value: object) -> bool:
    """Whether ``proof_value`` carries the derived-proof header (cheap, no CBOR decoding)."""
    if not isinstance(proof_value, str) or not proof_value.startswith("u"):
        return False
    try:
        return _unb64url(proof_value[1:5])[:3] == DERIVED_HEADER
    except ValueError:
        return False


__all__ = [
    "BASE_HEADER",
    "DERIVED_HEADER",
    "MAX_POINTERS",
    "MAX_STATEMENTS",
    "SIGNATURE_CODES",
    "BaseProof",
    "DerivedProof",
    "SdError",
    "canonicalize_and_group",
    "check_pointers",
    "create_base_proof_value",
    "derive",
    "ephemeral_public_bytes",
    "hmac_label",
    "is_derived",
    "parse_base",
    "parse_derived",
    "parse_pointer",
    "proof_hash",
    "select_json_ld",
    "serialize_base",
    "serialize_derived",
    "verify_base",
    "verify_derived",
]
