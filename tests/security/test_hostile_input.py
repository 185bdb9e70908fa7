"""Hostile input to every entry point of the core: a clear refusal, never a crash.

"Clear refusal" means one of two things: a failed check in a ``VerificationReport`` (the
verifier returns data for bad input, it does not raise), or a ``MicrocredError`` with a
stable ``code`` (what the services turn into a 4xx problem). Any other exception is a bug:
over HTTP it would be a 500.
"""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from credentials.canonical import canonicalize
from credentials.errors import MalformedInput, MicrocredError
from credentials.microcredential import read_microcredential
from credentials.model import check_credential, check_limits, check_presentation, parse_json
from credentials.profile import profile_checks, summarize
from credentials.rules import Route, evaluate
from credentials.schema import microcredential_problems
from tests.security.strategies import hostile_json, hostile_json_text
from tests.security.support import NOW, Counter, World, fuzz_settings

pytestmark = pytest.mark.usefixtures("no_network")


def refuses_clearly(call: Any, *args: Any, **kwargs: Any) -> Any:
    """Call; a MicrocredError with a code is a fine answer, anything else propagates."""
    try:
        return call(*args, **kwargs)
    except MicrocredError as exc:
        assert exc.code and exc.code != "error", exc
        assert str(exc)
        return exc


# --------------------------------------------------------------------------- parse_json

PARSED = Counter("parse_json hostile text")


@fuzz_settings(max_examples=300)
@given(text=hostile_json_text())
def test_parse_json_accepts_json_or_refuses_with_a_code(text: str) -> None:
    PARSED()
    for data in (text, text.encode("utf-8", "surrogatepass")):
        result = refuses_clearly(parse_json, data)
        if isinstance(result, MicrocredError):
            assert isinstance(result, MalformedInput)
            continue
        # what comes out is standard JSON: finite numbers, bounded size
        assert json.dumps(result, allow_nan=False)
        check_limits(result)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("NaN", "invalid_json"),
        ('{"ects": Infinity}', "invalid_json"),
        ("-Infinity", "invalid_json"),
        ("1e400", "number_out_of_range"),
        ("[" * 100_000 + "]" * 100_000, "too_deep"),
        ('{"a":' * 49 + "1" + "}" * 49, "too_deep"),
        ("[" + ",".join(["0"] * 100_001) + "]", "too_large"),
        ('{"id": 1, "id": 2}', "duplicate_key"),
        ('{"a": {"@context": 1, "@context": 2}}', "duplicate_key"),
        ("1" + "0" * 5000, "invalid_json"),
        ("\ufeff{}", "invalid_json"),
        (b"\xff\xfe{}", "invalid_json"),
        ("{'a': 1}", "invalid_json"),
        ("x" * (5 * 1024 * 1024 + 1), "document_too_large"),
    ],
    ids=lambda v: repr(v)[:30],
)
def test_parse_json_refusals_name_the_problem(text: str | bytes, code: str) -> None:
    with pytest.raises(MalformedInput) as caught:
        parse_json(text)
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1e308", 1e308),
        ("-0.0", -0.0),
        ("18446744073709551616", 2**64),
        ('"\\u0000"', "\x00"),
        ('"\\u202e\\u0301"', "\u202e\u0301"),
    ],
)
def test_parse_json_keeps_edge_values_exactly(text: str, value: Any) -> None:
    parsed = parse_json(text)
    assert parsed == value and type(parsed) is type(value)
    if isinstance(value, float):
        assert math.copysign(1, parsed) == math.copysign(1, value)


# --------------------------------------------------------------------------- verifier

RANDOM_DOCS = Counter("random documents to the Verifier")


def _credential_shaped(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    """The signed sample with 1-3 subtrees replaced by hostile JSON: passes the cheap
    structure checks often enough to reach canonicalisation and the proof."""
    document = copy.deepcopy(base)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        target = document
        path = []
        while isinstance(target, dict | list) and target and draw(st.booleans()):
            key = draw(
                st.sampled_from(
                    list(target) if isinstance(target, dict) else list(range(len(target)))
                )
            )
            path.append(key)
            if not isinstance(target[key], dict | list):
                break
            target = target[key]
        if not path:
            continue
        parent = document
        for part in path[:-1]:
            parent = parent[part]
        parent[path[-1]] = draw(hostile_json(max_leaves=10))
    return document


@fuzz_settings(max_examples=200)
@given(data=st.data())
def test_random_documents_get_a_report_never_an_exception(
    ed25519_world: World, data: st.DataObject
) -> None:
    RANDOM_DOCS()
    world = ed25519_world
    kind = data.draw(st.sampled_from(["json", "credential", "presentation"]), label="kind")
    if kind == "json":
        document = data.draw(hostile_json(), label="document")
    else:
        base = world.credential if kind == "credential" else world.presentation
        document = _credential_shaped(data.draw, base)
    verifier = world.verifier()
    report = verifier.verify_credential(document, now=NOW)
    assert not report.verified or document == world.credential
    json.dumps(report.to_dict())
    presentation, credentials = verifier.verify_presentation(
        document, challenge="c", domain="https://d.example", now=NOW
    )
    assert not presentation.verified
    json.dumps([presentation.to_dict(), *[c.to_dict() for c in credentials]])


RANDOM_READERS = Counter("random documents to the readers")


@fuzz_settings(max_examples=200)
@given(data=st.data())
def test_every_reader_of_untrusted_json_refuses_clearly(
    ed25519_world: World, data: st.DataObject
) -> None:
    """The pieces the services call on their own, outside the Verifier."""
    RANDOM_READERS()
    document = data.draw(
        st.one_of(
            hostile_json(),
            st.just(None).map(lambda _: _credential_shaped(data.draw, ed25519_world.credential)),
        ),
        label="document",
    )
    refuses_clearly(check_credential, document)
    refuses_clearly(check_presentation, document)
    if isinstance(document, dict):
        refuses_clearly(canonicalize, document)
        refuses_clearly(canonicalize, document, strict=False)
        refuses_clearly(profile_checks, document)
        refuses_clearly(microcredential_problems, document)
        view = refuses_clearly(read_microcredential, document)
        summary = refuses_clearly(summarize, document)
        json.dumps(summary if isinstance(summary, dict) else {}, default=str)
        del view


ROUTES = Counter("random route definitions")

_SANE: dict[str, st.SearchStrategy[Any]] = {
    "id": st.just("https://example.org/routes/minor"),
    "name": st.just("Minor"),
    "min_ects": st.floats(min_value=0, max_value=60),
    "min_eqf_level": st.integers(min_value=1, max_value=8),
    "keywords": st.just(["data"]),
    "achievement_ids": st.just(["https://hsrijnland.example/microcredentials/data-wrangling"]),
    "choose": st.integers(min_value=1, max_value=2),
    "max_age_years": st.floats(min_value=0, max_value=10),
    "accepted_issuers": st.just(["trusted", "did:web:hsrijnland.example"]),
}


def _field(key: str) -> st.SearchStrategy[Any]:
    """Mostly a sane value (to get past the first check), sometimes a hostile one."""
    hostile = hostile_json(max_leaves=4)
    return st.one_of(_SANE[key], hostile) if key in _SANE else hostile


def _shaped(keys: list[str], nested: dict[str, st.SearchStrategy[Any]]) -> Any:
    optional = {k: nested.get(k, _field(k)) for k in keys}
    return st.fixed_dictionaries({}, optional=optional)


_MODULE = _shaped(
    ["id", "name", "achievement_ids", "alignment_codes", "keywords", "min_ects", "min_eqf_level"],
    {},
)
_GROUP = _shaped(["id", "name", "choose", "modules"], {"modules": st.lists(_MODULE, max_size=3)})
ROUTE = _shaped(
    [
        "id",
        "name",
        "description",
        "min_ects",
        "min_hours",
        "min_eqf_level",
        "required_modules",
        "module_groups",
        "accepted_issuers",
        "max_age_years",
        "only_listed_modules",
        "evil",
    ],
    {
        "required_modules": st.lists(_MODULE, max_size=3),
        "module_groups": st.lists(_GROUP, max_size=2),
    },
)


@fuzz_settings(max_examples=200)
@given(route=st.one_of(ROUTE, hostile_json()), data=st.data())
def test_route_definitions_from_learners_and_files_refuse_clearly(
    ed25519_world: World, route: Any, data: st.DataObject
) -> None:
    """Routes come from files and from learners (the wallet): hostile definitions too, and
    evaluated against hostile credentials."""
    ROUTES()
    parsed = refuses_clearly(Route.from_dict, route)
    if isinstance(parsed, Route):
        credentials = [ed25519_world.credential] + [
            _credential_shaped(data.draw, ed25519_world.credential)
            for _ in range(data.draw(st.integers(min_value=0, max_value=2)))
        ]
        views = [read_microcredential(c) for c in credentials]
        result = refuses_clearly(
            evaluate, parsed, views, now=NOW, trusted_issuers={"did:web:hsrijnland.example"}
        )
        if not isinstance(result, MicrocredError):
            json.dumps(result.to_dict(), default=str)
