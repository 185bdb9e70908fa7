"""Hypothesis strategies for the scalar parts of a test credential: text, numbers, URLs,
DIDs, dates; with ``node_safe`` kept to values on which pyld and the Node reference agree.

Split out of :mod:`tests.credentials.credential_strategies`, which builds whole credentials
and presentations from these.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal
from functools import cache

from hypothesis import strategies as st

from credentials.microcredential import (
    Alignment,
)

# ------------------------------------------------------------------------- scalars

LANGUAGE_TAGS = ["nl", "en", "en-GB", "EN-gb", "de-CH-1996", "zh-Hant-TW", "fr", "pt-BR", "se"]


_SPICE = ['"', "\\", "\n", "\t", "\r", "<", ">", "\u0301", "\u0308", "\u200d", "\u2028"]
_SPICE += ["\u00a0", "\u05d0", "\U0001f600", "\U0001f469\u200d\U0001f393", "e\u0301", "\U00020000"]


def _characters(node_safe: bool) -> st.SearchStrategy[str]:
    """One alphabet (hypothesis then draws whole strings at once, which matters for speed).

    Node-safe drops control characters but TAB, LF and CR, private use, and U+F900-U+FFFF:
    together with the private use area that is the range whose UTF-16 order differs from
    code point order against astral characters. The full alphabet keeps all but surrogates.
    """
    if not node_safe:
        return st.characters(exclude_categories=("Cs",))
    return st.characters(
        exclude_categories=("Cs", "Cc", "Co"),
        exclude_characters="".join(map(chr, range(0xF900, 0x10000))),
        include_characters="\t\n\r",
    )


def _spiced(plain: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Mostly plain text; sometimes with a quote, backslash, combining mark or emoji in it."""
    return st.one_of(
        plain,
        plain,
        st.builds("{}{}{}".format, plain, st.sampled_from(_SPICE), plain),
    )


def _js_double_differs(value: float) -> bool:
    """Whether jsonld.js and pyld write this float differently (see KNOWN_DIVERGENCES)."""
    magnitude = abs(value)
    if magnitude == 0 or not math.isfinite(value):
        return False
    if magnitude < 1e-6 and "." not in repr(magnitude):
        return True  # String(1e-7) === "1e-7": jsonld.js takes it for an integer
    if magnitude < 1e21 and value.is_integer():
        # both write the integer; past 2^53 JSON.stringify writes it back as digits that
        # Python reads as a different exact integer (see _js_int_differs)
        return magnitude > 2**53
    exact = Decimal(value)
    even = Context(prec=16, rounding=ROUND_HALF_EVEN).plus(exact)
    up = Context(prec=16, rounding=ROUND_HALF_UP).plus(exact)
    return even != up


def _js_int_differs(value: int) -> bool:
    """Past 2^53 JavaScript holds the nearest double and writes it back (JSON.stringify)
    as its shortest round-trip digits, which Python then reads as another exact integer:
    2**63 goes out as 9223372036854775808 and comes back as 9223372036854776000."""
    magnitude = abs(value)
    if magnitude <= 2**53:
        return False
    if magnitude >= 10**308:
        return True  # JSON.parse gives Infinity; pyld raises OverflowError
    if magnitude < 10**21:
        return True
    return _js_double_differs(float(value))


_WORDS = ["uni", "hs", "roc", "campus", "edu", "learn", "badges", "issuer", "école", "ß"]
_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_HOST = st.builds(
    "{}{}.{}".format,
    st.sampled_from(_WORDS[:8]),
    st.integers(0, 99),
    st.sampled_from(["example", "edu", "eu", "nl"]),
)
_SEGMENT = st.text("abcXYZ019._~-", min_size=1, max_size=10) | st.sampled_from(
    ["cursus", "módulo", "課程", "a%20b"]
)
HTTP_URLS = st.builds(
    lambda host, path, tail: f"https://{host}/{'/'.join(path)}{tail}",
    _HOST,
    st.lists(_SEGMENT, max_size=3),
    st.sampled_from(["", "", "#x", "?q=1&r=%20"]),
)
DIDS = st.one_of(
    _HOST.map("did:web:{}".format),
    st.text(_BASE58, min_size=8, max_size=20).map("did:key:z6Mk{}".format),
    st.text(_BASE58, min_size=8, max_size=20).map("did:example:{}".format),
)
IDENTIFIERS = st.one_of(HTTP_URLS, DIDS, st.uuids().map("urn:uuid:{}".format))
EMAILS = st.builds("{}{}@{}".format, st.sampled_from(_WORDS), st.integers(0, 999), _HOST)
MOMENTS = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2060, 12, 31), timezones=st.just(UTC)
)
SALTS = st.binary(min_size=8, max_size=8).map(bytes.hex)


class Strategies:
    """Every leaf strategy, built once per mode (building them per draw is what makes
    composite strategies slow)."""

    def __init__(self, node_safe: bool) -> None:
        self.node_safe = node_safe
        chars = _characters(node_safe)
        self.text = _spiced(st.text(chars, max_size=16))
        self.short_text = st.text(chars, max_size=6)
        self.long_text = _spiced(st.text(chars, min_size=1, max_size=60)).filter(
            lambda s: s.strip() != ""
        )
        self.name = _spiced(st.text(chars, min_size=1, max_size=16)).filter(
            lambda s: s.strip() != ""
        )
        self.optional_name = st.none() | self.name
        edges = [
            0, 1, -1, 0.0, -0.0, 0.5, 1.5, 7.5, 2**53, -(2**53), 10**21, -(10**21),
            10**22, 1e21, 1e22, 1.7976931348623157e308, 2.2250738585072014e-308, 1.5e-7,
            0.1 + 0.2, 1e-6, 123456.789, 1e20, 5.0,
        ]  # fmt: skip
        if not node_safe:
            edges += [1e-7, 5e-324, 2**53 + 1, 2**63, 1234567890123456.5, 10**25 + 1]
        ints = st.integers(min_value=-(2**70), max_value=2**70)
        floats = st.floats(allow_nan=False, allow_infinity=False)
        if node_safe:
            ints = ints.filter(lambda i: not _js_int_differs(i))
            floats = floats.filter(lambda f: not _js_double_differs(f))
        self.number = st.one_of(st.sampled_from(edges), ints, floats)
        self.scalar = st.one_of(st.booleans(), self.number)
        json_scalars = st.one_of(
            st.none(), st.booleans(), self.short_text, st.integers(-(2**53), 2**53), floats
        )
        self.json = st.recursive(
            json_scalars,
            lambda inner: (
                st.lists(inner, max_size=3) | st.dictionaries(self.short_text, inner, max_size=3)
            ),
            max_leaves=8,
        )
        tags = st.sampled_from(LANGUAGE_TAGS)
        if not node_safe:
            tags = tags | st.sampled_from(["", "not a tag", "x-Private-USE"])
        self.language = tags
        self.alignment = st.builds(
            Alignment,
            name=self.name,
            url=HTTP_URLS,
            type=st.none() | st.sampled_from(["ext:ESCO", "CFItem", "ext:Skill", "competency"]),
            framework=self.optional_name,
            code=self.optional_name,
            description=st.none() | self.text,
        )
        self.identifier_map = st.dictionaries(
            st.sampled_from(["BRIN", "PIC", "erasmusCode", "sourcedId"]), self.name, max_size=2
        )


@cache
def strategies(node_safe: bool = True) -> Strategies:
    return Strategies(node_safe)
