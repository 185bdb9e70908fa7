"""Hypothesis strategies for hostile JSON: odd text, numbers at the edges, JSON-LD keywords.

``hostile_json`` builds Python values (what a JSON parser hands over, including what
Python's own ``json`` accepts beyond the standard: NaN, Infinity, huge integers, lone
surrogates from ``\\ud800`` escapes). ``hostile_json_text`` builds raw text, including
duplicate keys, deep nesting and literals no JSON value can round-trip.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

ODD_STRINGS = [
    "",
    "\x00",
    "a\x00b",
    "\ud800",  # lone high surrogate
    "x\udfffy",  # lone low surrogate
    "\u202eevitcA",  # right-to-left override
    "\u200f\u200e",
    "e\u0301\u0301\u0301",  # stacked combining marks
    "\ufeff",  # byte order mark
    "\u200b",
    "\U0001f600",
    "İstanbul ß ﬁ",  # case-mapping oddities
    "\u0430dmin",  # Cyrillic a
    "<script>alert(1)</script>",
    "{{7*7}}",
    "'\"`;--",
    "../../etc/passwd",
    "_:b0",
    "@id",
    "@context",
    "https://www.w3.org/ns/credentials/v2",
    "did:web:127.0.0.1%3A8001",
    "did:key:z" + "2" * 200,
    "z" + "1" * 120,
    "2025-06-30T12:00:00Z",
    "9999-12-31T23:59:60+14:00",
    "a" * 5000,
]

EDGE_NUMBERS: list[Any] = [
    0,
    -0.0,
    1,
    -1,
    1e308,
    -1e308,
    5e-324,
    2**53 + 1,
    2**63,
    2**64,
    -(2**64),
    10**400,
    float("nan"),
    float("inf"),
    float("-inf"),
    0.1,
    7.5,
]

KEYWORDS = [
    "@context",
    "@id",
    "@type",
    "@value",
    "@language",
    "@direction",
    "@list",
    "@set",
    "@graph",
    "@reverse",
    "@included",
    "@nest",
    "@index",
    "@json",
    "@vocab",
    "@base",
    "@import",
    "@protected",
    "@propagate",
    "@version",
    "@none",
    "@evil",
    "@",
]
TERMS = [
    "id",
    "type",
    "name",
    "description",
    "issuer",
    "credentialSubject",
    "proof",
    "validFrom",
    "ects",
    "achievement",
    "evilTerm",
    "",
    " ",
    "\x00",
    "\ud800",
    "_:b1",
    "https://evil.example/p",
]


def odd_text(max_size: int = 24) -> st.SearchStrategy[str]:
    """Any Unicode text (hypothesis excludes surrogates, so they are added) and odd strings."""
    return st.one_of(
        st.sampled_from(ODD_STRINGS),
        st.text(max_size=max_size),
        st.text(st.characters(codec="utf-8"), max_size=max_size),
        st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3),
    )


def edge_numbers() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from(EDGE_NUMBERS),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=True, allow_infinity=True),
    )


def hostile_keys() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(KEYWORDS), st.sampled_from(TERMS), odd_text(12))


def hostile_json(max_leaves: int = 24) -> st.SearchStrategy[Any]:
    """JSON-like values with hostile scalars and keys, nested a few levels."""
    scalars = st.one_of(st.none(), st.booleans(), edge_numbers(), odd_text())
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=6),
            st.dictionaries(hostile_keys(), children, max_size=6),
        ),
        max_leaves=max_leaves,
    )


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=True)


@st.composite
def hostile_json_text(draw: st.DrawFn) -> str:
    """Raw text: valid JSON, JSON-with-extensions (NaN), broken JSON and structural bombs."""
    kind = draw(
        st.sampled_from(
            ["value", "ascii", "duplicate", "deep", "wide", "truncated", "garbage", "literal"]
        )
    )
    if kind == "value":
        return _dumps(draw(hostile_json()))
    if kind == "ascii":
        # \\uXXXX escapes: how lone surrogates really arrive over the wire
        return json.dumps(draw(hostile_json()), ensure_ascii=True, allow_nan=True)
    if kind == "duplicate":
        key = json.dumps(draw(hostile_keys()))
        inner = f'{{{key}: 1, "b": 2, {key}: 3}}'
        return f'{{"credentialSubject": {inner}}}' if draw(st.booleans()) else inner
    if kind == "deep":
        depth = draw(st.sampled_from([49, 100, 1_000, 20_000]))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
        return opener * depth + "1" + closer * depth
    if kind == "wide":
        count = draw(st.sampled_from([100_001, 150_000]))
        return "[" + ",".join(["0"] * count) + "]"
    if kind == "truncated":
        text = _dumps(draw(hostile_json()))
        return text[: draw(st.integers(min_value=0, max_value=max(0, len(text) - 1)))]
    if kind == "literal":
        return draw(
            st.sampled_from(
                [
                    "NaN",
                    "-Infinity",
                    '{"ects": Infinity}',
                    "1e400",
                    "-1e400",
                    "1" + "0" * 5000,
                    "-0.0",
                    "18446744073709551616",
                    "1e308",
                    '"\\ud800"',
                    '"\\u0000"',
                    '{"\\ud800": 1}',
                    "\ufeff{}",
                    "{}\x00",
                    "[1,]",
                    "{'a': 1}",
                ]
            )
        )
    return draw(st.text(max_size=60))
