"""Validation of the microcredential profile: the EU elements on an OB 3.0 credential.

The rules live in ``schemas/microcredential.schema.json`` (JSON Schema 2020-12) so that other
tools can apply the same profile; this module runs it and turns ``jsonschema``'s errors into
answers a person can act on: the field path as it appears in the credential
(``issuer.address.addressCountry``, ``credentialSubject.achievement.alignment[EQF]``) and a
message naming the EU Council Recommendation element that is missing or wrong.

The schema carries three annotation keywords that JSON Schema itself ignores:

* ``x-eu`` – the number (1–11) of the mandatory EU element a rule belongs to; problems are
  ordered by it, so the "first" problem is the most basic one (VC structure before element 1,
  element 1 before element 2, ...);
* ``x-field`` – the field to report instead of the instance path, for rules that are about
  something a path cannot name (one alignment among many, "ECTS or hours");
* ``x-message`` – the message to show instead of the validator's generic one.

A few checks JSON Schema cannot express (two fields agreeing) are done in Python below.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from functools import cache
from importlib import resources
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from .dates import read_datetime
from .errors import SchemaError
from .eu_vocabulary import ECTS

SCHEMA_RESOURCE = "microcredential.schema.json"

#: The mandatory elements of the EU Council Recommendation (2022/C 243/02), Annex I.
EU_ELEMENTS: dict[int, str] = {
    1: "identification of the learner",
    2: "title of the micro-credential",
    3: "country/region of the issuer",
    4: "awarding body",
    5: "date of issuing",
    6: "learning outcomes",
    7: "notional workload",
    8: "level",
    9: "type of assessment",
    10: "form of participation",
    11: "type of quality assurance",
}

Problem = tuple[str, str]


@cache
def microcredential_schema() -> dict[str, Any]:
    """The profile schema as shipped in the package (read once)."""
    text = resources.files("credentials").joinpath("schemas").joinpath(SCHEMA_RESOURCE).read_text()
    return json.loads(text)


@cache
def _validator() -> Draft202012Validator:
    """The explaining validator: slow (~3–6 ms a credential) but its errors carry the schema
    paths that the ``x-eu``/``x-field``/``x-message`` annotations are looked up by."""
    schema = microcredential_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@cache
def _verdict() -> jsonschema_rs.Validator:
    """The deciding validator: the same schema compiled by jsonschema-rs, ~150× faster.

    Nearly every credential an issuer signs or a verifier checks is valid, so the fast
    validator gives the verdict and the explaining one runs only to word the problems of
    an invalid credential. Its regular expressions follow ECMA-262, as JSON Schema
    requires (``$`` is the end of the string; ``\\s`` is ECMA whitespace), which Python's
    ``re`` does not; where the two differ, this verdict stands (see ``_schema_problems``).
    """
    return jsonschema_rs.validator_for(microcredential_schema())


def microcredential_problems(credential: Any) -> list[Problem]:
    """Every profile violation as ``(field, message)``, most basic first; empty when valid."""
    if not isinstance(credential, dict):
        return [("", "a credential must be a JSON object")]
    ranked: list[tuple[int, int, str, str]] = []
    seen: set[tuple[str, str]] = set()
    problems = () if _is_valid(credential) else _schema_problems(credential)
    for position, (rank, field, message) in enumerate(problems):
        if (field, message) not in seen:
            seen.add((field, message))
            ranked.append((rank, position, field, message))
    if not ranked:
        for field, message in _semantic_problems(credential):
            ranked.append((0, len(ranked), field, message))
    ranked.sort(key=lambda item: (item[0], item[1]))
    return [(field, message) for _, _, field, message in ranked]


def validate_microcredential(credential: Any) -> None:
    """Raise ``SchemaError`` (with ``field=``) for the first profile problem, if any.

    "First" is the most basic: a wrong ``@context`` or ``type`` before a missing learner, the
    learner before the title, and so on in the order of the EU elements; the message names
    the element so an issuer's staff can fix the module definition, not just the JSON.
    """
    problems = microcredential_problems(credential)
    if problems:
        field, message = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise SchemaError(f"{field}: {message}{more}" if field else message + more, field=field)


def _is_valid(credential: dict[str, Any]) -> bool:
    try:
        return _verdict().is_valid(credential)
    except (UnicodeEncodeError, ValueError, OverflowError):
        # what Rust cannot hold (a lone surrogate, an integer beyond 64 bits, NaN) is
        # judged by the explaining validator alone, as before the fast path existed
        return _validator().is_valid(credential)


def _schema_problems(credential: dict[str, Any]) -> Iterator[tuple[int, str, str]]:
    """The problems of a credential the fast validator refused, in the profile's words.

    Should Python's ``re`` accept what ECMA-262 refuses (a pattern ending in ``$`` before a
    trailing newline), the explaining validator finds nothing; the fast validator's own
    errors are reported then, so a refusal never comes without a reason.
    """
    explained = False
    for problem in _explained_problems(credential):
        explained = True
        yield problem
    if not explained:
        for error in _verdict().iter_errors(credential):  # Rust could hold it: it refused
            yield 0, _field_path(error.instance_path), error.message


def _explained_problems(credential: dict[str, Any]) -> Iterator[tuple[int, str, str]]:
    root = microcredential_schema()
    reported_required: set[tuple[tuple[Any, ...], tuple[Any, ...]]] = set()
    for error in _validator().iter_errors(credential):
        trail = _schema_trail(root, error.absolute_schema_path)
        rank = _eu_rank(trail)
        node = error.schema if isinstance(error.schema, dict) else {}
        if "x-field" in node:
            yield rank, node["x-field"], _with_element(rank, node.get("x-message", error.message))
            continue
        if error.validator == "required":
            key = (tuple(error.absolute_path), tuple(error.absolute_schema_path))
            if key in reported_required:
                continue
            reported_required.add(key)
            instance = error.instance if isinstance(error.instance, dict) else {}
            properties = node.get("properties", {})
            for name in error.validator_value:
                if name in instance:
                    continue
                declared = properties.get(name, {})
                sub_rank = _eu_rank([*trail, _deref(root, declared), declared]) or rank
                field = _field_path([*error.absolute_path, name])
                yield sub_rank, field, _with_element(sub_rank, "is required")
            continue
        message = node.get("x-message") or _plain_message(error)
        yield rank, _field_path(error.absolute_path), _with_element(rank, message)


def _semantic_problems(credential: dict[str, Any]) -> Iterator[Problem]:
    """Rules between fields, checked once the shape is right."""
    achievement = credential["credentialSubject"]["achievement"]
    credits = achievement.get("creditsAvailable")
    stated = [("ects", achievement.get("ects"))]
    stated += [
        (f"alignment[{ECTS}]", alignment.get("targetCode"))
        for alignment in achievement.get("alignment", ())
        if alignment.get("targetType") == ECTS
    ]
    for name, ects in stated:
        if ects is None or credits is None or float(ects) == float(credits):
            continue
        yield (
            "credentialSubject.achievement.creditsAvailable",
            _with_element(
                7,
                f"creditsAvailable ({credits}) must equal {name} ({ects}): this profile states "
                "credits in ECTS, and two different numbers would leave readers guessing",
            ),
        )
    valid_from = read_datetime(credential.get("validFrom") or credential.get("issuanceDate"))
    valid_until = read_datetime(credential.get("validUntil") or credential.get("expirationDate"))
    if valid_from and valid_until and valid_until <= valid_from:
        yield ("validUntil", "validUntil must be later than validFrom")
    awarded = read_datetime(credential.get("awardedDate"))
    if awarded and valid_until and awarded >= valid_until:
        yield ("awardedDate", _with_element(5, "awardedDate must be before validUntil"))


def _schema_trail(root: dict[str, Any], path: Sequence[Any]) -> list[dict[str, Any]]:
    """The schema nodes along ``path``, following local ``$ref``s as ``jsonschema`` does.

    ``jsonschema`` leaves the ``$ref`` hop out of ``absolute_schema_path``, so a key that is
    missing from a node is looked up in the node's ``$ref`` target.
    """
    trail: list[dict[str, Any]] = []
    node: Any = root
    for key in path:
        if isinstance(node, dict):
            trail.append(node)
            while isinstance(node, dict) and key not in node and "$ref" in node:
                node = _deref(root, node)
                trail.append(node)
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            break
    if isinstance(node, dict):
        trail.append(node)
    return trail


def _deref(root: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref") if isinstance(node, dict) else None
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return node
    target: Any = root
    for part in ref[2:].split("/"):
        target = target[part]
    return target


def _eu_rank(trail: Sequence[dict[str, Any]]) -> int:
    """The innermost EU element annotation along the trail; 0 for VC structure."""
    for node in reversed(trail):
        if isinstance(node, dict) and isinstance(node.get("x-eu"), int):
            return node["x-eu"]
    return 0


def _with_element(rank: int, message: str) -> str:
    if rank in EU_ELEMENTS:
        return f"{message} (EU element {rank}: {EU_ELEMENTS[rank]})"
    return message


def _field_path(path: Sequence[Any]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _plain_message(error: ValidationError) -> str:
    """A shorter message than jsonschema's for the validators the profile uses most."""
    validator = error.validator
    blank = isinstance(error.instance, str) and not error.instance.strip()
    if validator in ("minLength", "pattern") and blank:
        return "must not be empty"
    if validator == "type":
        return f"must be of type {error.validator_value}"
    if validator == "const":
        return f"must be {json.dumps(error.validator_value)}"
    if validator == "enum":
        return "must be one of " + ", ".join(json.dumps(v) for v in error.validator_value)
    return error.message


__all__ = [
    "EU_ELEMENTS",
    "microcredential_problems",
    "microcredential_schema",
    "validate_microcredential",
]
