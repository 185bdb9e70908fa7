"""Systematic mutations of signed documents and the oracle that judges a verifier's answer.

A mutation is a *visible* change to a signed JSON document: a changed, dropped or added
value somewhere. Most change what the issuer signed and must make verification fail. A few
kinds can leave the signed RDF byte-identical — reordering or duplicating the members of a
JSON-LD set, wrapping a scalar in a one-element array, some ``@context`` rewrites — and a
verifier is then right to accept them, because the signature covers the meaning, not the
JSON spelling. Those carry ``must_fail=False`` and the oracle demands, instead, that an
accepted document canonicalises to exactly the same N-Quads as the original.
"""

from __future__ import annotations

import copy
import math
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from credentials.canonical import canonicalize
from credentials.documents import DocumentLoader
from credentials.errors import MicrocredError
from credentials.report import VerificationReport

Path = tuple[str | int, ...]

# Strings a person would read as "the same" or not notice at all: the signature must not.
HOMOGLYPHS = {"a": "\u0430", "e": "\u0435", "o": "\u043e", "i": "\u0456", "c": "\u0441"}


@dataclass(frozen=True)
class Mutation:
    kind: str
    path: Path
    document: dict[str, Any]
    must_fail: bool = True
    expect_failed: frozenset[str] = frozenset()
    """Check ids of which at least one must fail (empty: any failure will do)."""

    def describe(self) -> str:
        return f"{self.kind} at {'/'.join(map(str, self.path)) or '(root)'}"


# --------------------------------------------------------------------------- paths


def nodes(value: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every (path, value) in the document, parents before children."""
    yield path, value
    if isinstance(value, dict):
        for key, child in value.items():
            yield from nodes(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from nodes(child, (*path, index))


def get_at(document: Any, path: Path) -> Any:
    for part in path:
        document = document[part]
    return document


def replaced(document: dict[str, Any], path: Path, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(document)
    if not path:
        return value
    get_at(out, path[:-1])[path[-1]] = value
    return out


def removed(document: dict[str, Any], path: Path) -> dict[str, Any]:
    out = copy.deepcopy(document)
    del get_at(out, path[:-1])[path[-1]]
    return out


def under(path: Path, *prefixes: Path) -> bool:
    return any(path[: len(p)] == p for p in prefixes)


# --------------------------------------------------------------------------- values


def string_variants(text: str) -> list[str]:
    """Changed strings, from the obvious to the invisible."""
    out = [text + "x", ""]
    if text.upper() != text:
        out.append(text.upper())
    for latin, lookalike in HOMOGLYPHS.items():
        if latin in text:
            out.append(text.replace(latin, lookalike, 1))
            break
    out += [
        text + "\u0301",  # a combining acute accent on the last letter
        "\u202e" + text,  # right-to-left override: displays reversed
        text + "\x00",  # NUL
        text + " ",
        text + "\u200b",  # zero-width space
    ]
    return [s for s in dict.fromkeys(out) if s != text]


def number_variants(number: int | float) -> list[tuple[Any, bool]]:
    """(changed number, must_fail); the same value spelt as another JSON number may pass."""
    out: list[tuple[Any, bool]] = [
        (number + 1, True),
        (-number if number else -1, True),
        (1e308, True),
        (2**64, True),
        (str(number), True),
    ]
    if number == 0:
        out.append((-0.0, True))
    else:
        out.append((0, True))
    if isinstance(number, int):
        out.append((float(number), False))  # 210 and 210.0 are one JSON number
    elif number.is_integer():
        out.append((int(number), False))
    return [(v, f) for v, f in out if not (type(v) is type(number) and v == number)]


def bool_variants(value: bool) -> list[Any]:
    return [not value, str(value).lower(), int(value)]


# --------------------------------------------------------------------------- mutations


def mutations(
    document: dict[str, Any],
    *,
    context_tricks: Iterable[tuple[str, Any]] = (),
    light: Iterable[Path] = (),
) -> Iterator[Mutation]:
    """Every mutation of every value of ``document``.

    Paths under a prefix in ``light`` get one value change and a drop per leaf only (used
    for the credential inside a presentation, whose full set is run on its own).
    """
    light = tuple(light)
    for path, value in list(nodes(document)):
        is_light = under(path, *light) if path else False
        in_proof = "proof" in path
        yield from _value_mutations(document, path, value, is_light)
        if path and isinstance(path[-1], str):
            yield Mutation("drop key", path, removed(document, path))
        if isinstance(value, dict) and not is_light:
            yield from _added_keys(document, path, value, in_proof)
        if isinstance(value, list) and not is_light:
            yield from _list_mutations(document, path, value)
        if path and path[-1] == "type" and not is_light:
            yield Mutation("swap type", path, replaced(document, path, ["EndorsementCredential"]))
    for label, trick in context_tricks:
        yield Mutation(f"@context {label}", ("@context",), trick(document), must_fail=False)


def _value_mutations(
    document: dict[str, Any], path: Path, value: Any, is_light: bool
) -> Iterator[Mutation]:
    if isinstance(value, bool):
        # "true" where a context coerces to xsd:boolean is the same signed literal as true:
        # it may pass, if the oracle finds the same meaning (the JSON readers test ``is True``)
        variants = [(v, not isinstance(v, str)) for v in bool_variants(value)]
    elif isinstance(value, int | float):
        variants = number_variants(value)
    elif isinstance(value, str):
        variants = [(v, True) for v in string_variants(value)]
        # a scalar and a one-element array are one JSON-LD value
        variants.append(([value], False))
    else:
        return
    if is_light:
        variants = variants[:1]
    for new, must_fail in variants:
        yield Mutation(
            f"change {type(value).__name__}", path, replaced(document, path, new), must_fail
        )


def _added_keys(
    document: dict[str, Any], path: Path, value: dict[str, Any], in_proof: bool
) -> Iterator[Mutation]:
    # an undefined term is dropped by JSON-LD, so it would be unsigned: the context check
    # must say so (in a proof the proof check does, as the proof options are canonicalised)
    where = frozenset({"proof"} if in_proof else {"context"})
    for key in ("evilTerm", "@evil"):
        if key not in value:
            yield Mutation(
                f"add undefined key {key}",
                (*path, key),
                replaced(document, (*path, key), "added"),
                expect_failed=where,
            )
    if "description" not in value:
        yield Mutation(
            "add defined key",
            (*path, "description"),
            replaced(document, (*path, "description"), "x"),
        )
    # a nested @context: either refused or without effect on the signed meaning
    yield Mutation(
        "add nested @context",
        (*path, "@context"),
        replaced(document, (*path, "@context"), {"@vocab": "https://evil.example/#"}),
        must_fail=False,
    )


def _list_mutations(document: dict[str, Any], path: Path, value: list[Any]) -> Iterator[Mutation]:
    if len(value) >= 2:
        yield Mutation(
            "reverse array", path, replaced(document, path, value[::-1]), must_fail=False
        )
        for index in range(len(value)):
            yield Mutation("drop array item", (*path, index), removed(document, (*path, index)))
    if value:
        yield Mutation(
            "duplicate array item",
            path,
            replaced(document, path, [*value, copy.deepcopy(value[0])]),
            must_fail=False,
        )
    if len(value) == 1 and path[-1] != "@context":
        yield Mutation("unwrap array", path, replaced(document, path, value[0]), must_fail=False)
    yield Mutation("empty array", path, replaced(document, path, []))


# --------------------------------------------------------------------------- oracle

Verify = Callable[[dict[str, Any]], VerificationReport]


@dataclass
class Outcome:
    cases: int = 0
    refused: int = 0
    accepted_same_meaning: int = 0
    problems: list[str] = field(default_factory=list)


def same_meaning(a: dict[str, Any], b: dict[str, Any], loader: DocumentLoader) -> bool:
    """True when both documents say exactly the same signed thing (N-Quads and proof)."""

    def signed_parts(doc: dict[str, Any]) -> tuple[str, list[tuple[str, Any]]]:
        unsecured = {k: v for k, v in doc.items() if k != "proof"}
        proofs = doc.get("proof")
        configs = []
        for proof in proofs if isinstance(proofs, list) else [proofs]:
            # what the proof signs: its options in the document's context, and the value
            options = {k: v for k, v in proof.items() if k != "proofValue"}
            options["@context"] = doc.get("@context")
            configs.append((canonicalize(options, loader, strict=False), proof.get("proofValue")))
        return canonicalize(unsecured, loader, strict=False), configs

    try:
        return signed_parts(a) == signed_parts(b)
    except MicrocredError:
        return False


def judge(
    verify: Verify, original: dict[str, Any], cases: Iterable[Mutation], loader: DocumentLoader
) -> Outcome:
    """Run every mutation through ``verify`` and collect what the oracle objects to."""
    outcome = Outcome()
    for mutation in cases:
        outcome.cases += 1
        try:
            report = verify(mutation.document)
        except Exception as exc:
            tail = traceback.format_exception(exc)[-2].strip().splitlines()[0]
            outcome.problems.append(f"{mutation.describe()}: raised {exc!r} ({tail})")
            continue
        if report.verified:
            if mutation.must_fail or not same_meaning(mutation.document, original, loader):
                outcome.problems.append(f"{mutation.describe()}: still verifies")
            else:
                outcome.accepted_same_meaning += 1
            continue
        outcome.refused += 1
        failed = {c.id.split(".")[-1] for c in report.failed}
        if mutation.expect_failed and not (mutation.expect_failed & failed):
            outcome.problems.append(
                f"{mutation.describe()}: expected a failed {sorted(mutation.expect_failed)} "
                f"check, got {sorted(failed)}"
            )
    return outcome


def finite(value: Any) -> bool:
    return not (isinstance(value, float) and not math.isfinite(value))
