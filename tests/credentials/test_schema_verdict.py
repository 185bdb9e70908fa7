"""The fast profile verdict (jsonschema-rs) against the explaining validator (jsonschema).

``credentials.schema`` lets jsonschema-rs decide whether a credential meets the profile
and asks Python's jsonschema only to word the problems. The two must agree on the verdict,
or the fast path would accept what the profile refuses: these tests walk hypothesis-built
microcredentials and structural mutations of them (keys dropped, values replaced by values
of other types, blanks, arrays emptied) and compare the verdicts one by one.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credentials.schema import _validator, _verdict, microcredential_problems
from microcred.samples import sample_credential

from .credential_strategies import base_credentials

REPLACEMENTS: list[Any] = [None, "", " ", "\t\n", 0, -1, 2.5, True, [], {}, ["x"], "x", "NL"]


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            out.append((*prefix, key))
            out.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out.append((*prefix, index))
            out.extend(_paths(value, (*prefix, index)))
    return out


def _mutated(credential: dict[str, Any], path: tuple[Any, ...], value: Any, drop: bool) -> Any:
    out = copy.deepcopy(credential)
    parent: Any = out
    for key in path[:-1]:
        parent = parent[key]
    if drop:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return out


def _agree(credential: Any) -> bool:
    fast = _verdict().is_valid(credential)
    slow = _validator().is_valid(credential)
    assert fast == slow, f"verdicts differ (fast {fast}, explaining {slow}) on {credential!r}"
    return fast


def test_every_single_mutation_of_the_sample_gets_the_same_verdict() -> None:
    sample = sample_credential()
    assert _agree(sample)
    tried = refused = 0
    for path in _paths(sample):
        for drop in (True, False):
            for value in [None] if drop else REPLACEMENTS:
                tried += 1
                refused += not _agree(_mutated(sample, path, value, drop))
    assert tried > 1000 and refused > 500  # the walk really reached the profile's rules


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(credential=base_credentials(), data=st.data())
def test_generated_credentials_and_their_mutations_get_the_same_verdict(
    credential: dict[str, Any], data: st.DataObject
) -> None:
    assert _agree(credential)
    paths = _paths(credential)
    for _ in range(5):
        path = data.draw(st.sampled_from(paths))
        drop = data.draw(st.booleans())
        value = data.draw(st.sampled_from(REPLACEMENTS))
        _agree(_mutated(credential, path, value, drop))


@pytest.mark.parametrize("country", ["NL\n", "nl", "NLD"])
def test_a_trailing_newline_is_no_way_past_a_pattern(country: str) -> None:
    """Python's ``$`` matches before a final newline, ECMA-262's (JSON Schema's) does not:
    the fast verdict refuses ``"NL\\n"`` and the refusal still names the field."""
    credential = sample_credential()
    credential["issuer"]["address"]["addressCountryCode"] = country
    problems = microcredential_problems(credential)
    assert problems and problems[0][0] == "issuer.address.addressCountryCode"


def test_a_lone_surrogate_is_judged_by_the_explaining_validator() -> None:
    """Rust strings cannot hold a lone surrogate; the verdict then falls back, not over."""
    credential = sample_credential()
    credential["name"] = "\ud800"
    assert microcredential_problems(credential) == []  # a string is a string to the profile
    credential["credentialSubject"]["achievement"]["name"] = 7
    assert microcredential_problems(credential)[0][0] == "credentialSubject.achievement.name"
