"""N-Quads text for the fast canonicaliser: literals written as pyld writes them, and the
first-degree hashes of RDFC-1.0 (§4.6) over them.

Byte-for-byte agreement with pyld matters: a different lexical form of one double or one
escaped character is a different hash and a signature that does not verify.
"""

from __future__ import annotations

import hashlib
import math
import re
from typing import Any

from pyld import jsonld

from ._fastrdf_context import (
    Unsupported,
)
from ._fastrdf_context import _lock as _lock  # canonical and ecdsa_sd hold it around pyld

RDF_TYPE = "<" + jsonld.RDF_TYPE + ">"

RDF_FIRST = "<" + jsonld.RDF_FIRST + ">"

RDF_REST = "<" + jsonld.RDF_REST + ">"

RDF_NIL = "<" + jsonld.RDF_NIL + ">"

XSD_BOOLEAN = jsonld.XSD_BOOLEAN

XSD_DOUBLE = jsonld.XSD_DOUBLE

XSD_INTEGER = jsonld.XSD_INTEGER

XSD_STRING = jsonld.XSD_STRING

RDF_LANGSTRING = jsonld.RDF_LANGSTRING

RDF_JSON_LITERAL = jsonld.RDF_JSON_LITERAL

_DOUBLE_EXPONENT = re.compile(r"(\d)0*E\+?(-)?0*(\d)")

_NEEDS_ESCAPE = re.compile(r'[\\\t\n\r"]')


def _canonical_double(value: float) -> str:
    """pyld's canonical xsd:double lexical form (``f'{v:1.15E}'`` tidied by a regex)."""
    return _DOUBLE_EXPONENT.sub(r"\1E\2\3", f"{value:1.15E}")


def _escape(value: str) -> str:
    """pyld's N-Quads literal escaping (backslash, tab, LF, CR, quote)."""
    if _NEEDS_ESCAPE.search(value) is None:
        return value
    return (
        value.replace("\\", "\\\\")
        .replace("\t", "\\t")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace('"', '\\"')
    )


def _lexical(value: Any, datatype: str | None, language: str | None) -> tuple[str, str]:
    """``(lexical form, datatype)`` of a value object, branch for branch as pyld's
    ``_object_to_rdf`` (so ``5.0`` is ``"5"^^xsd:integer`` and 1e21 a double)."""
    if value.__class__ is bool:
        return ("true" if value else "false"), datatype or XSD_BOOLEAN
    if value.__class__ is float:
        if not math.isfinite(value):
            raise Unsupported("non-finite number")
        if not value.is_integer():
            return _canonical_double(value), datatype or XSD_DOUBLE
    if datatype == XSD_DOUBLE:
        try:
            number = float(value)
        except (ValueError, TypeError):
            return value, XSD_DOUBLE
        return _canonical_double(number), XSD_DOUBLE
    if value.__class__ is int or value.__class__ is float:
        if abs(value) >= 1e21:
            return _canonical_double(value), datatype or XSD_DOUBLE
        return str(int(value)), datatype or XSD_INTEGER
    if language is not None:
        return value, datatype or RDF_LANGSTRING
    return value, datatype or XSD_STRING


def _literal_text(lexical: str, datatype: str, language: str | None) -> str:
    """A literal as pyld's ``serialize_nquad`` writes it."""
    text = '"' + _escape(lexical) + '"'
    if datatype == RDF_LANGSTRING:
        return text + "@" + language if language else text
    if datatype != XSD_STRING:
        return text + "^^<" + datatype + ">"
    return text


def _flatten(value: Any) -> list[Any]:
    """Array values as pyld's expansion flattens them (nested arrays, nulls dropped)."""
    if value is None:
        return []
    if value.__class__ is not list:
        return [value]
    out: list[Any] = []
    for element in value:
        out.extend(_flatten(element))
    return out


def _line(s: str, p: str, o: str, g: Any) -> str:
    return f"{s} {p} {o} .\n" if g is None else f"{s} {p} {o} {g} .\n"


def _first_degree_hash(node: int, quads: list[tuple[Any, str, Any, Any]]) -> str:
    """RDFC-1.0 §4.6 Hash First Degree Quads: the node as _:a, other blank nodes _:z."""
    lines = []
    for s, p, o, g in quads:
        if s.__class__ is int:
            s = "_:a" if s == node else "_:z"
        if o.__class__ is int:
            o = "_:a" if o == node else "_:z"
        if g is None:
            lines.append(f"{s} {p} {o} .\n")
        else:
            if g.__class__ is int:
                g = "_:a" if g == node else "_:z"
            lines.append(f"{s} {p} {o} {g} .\n")
    lines.sort()
    return hashlib.sha256("".join(lines).encode()).hexdigest()
