"""Any change to any signed value of a credential or presentation fails verification.

The systematic part walks every node of a realistic signed microcredential (both suites)
and of a holder-signed presentation and applies every mutation of
``tests/security/mutations.py``: changed strings (also invisible changes: homoglyphs,
combining marks, RTL overrides, NUL, zero-width space), numbers at the edges, flipped
booleans, dropped keys, added keys (undefined, keyword-like, defined), dropped, reordered
and duplicated array items, changed types and ``@context`` tricks. The random part lets
hypothesis put hostile JSON anywhere. The oracle: the verifier never raises; it refuses, or
— only for JSON rewrites that leave the signed N-Quads byte-identical — accepts.

All of it runs with the network guard up: verification needs no network here (the issuer's
DID document is known), so any attempt to resolve or connect fails the test.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from credentials.policies import Policy
from tests.security.hostile_contexts import TRICKS
from tests.security.mutations import Mutation, Path, judge, mutations, nodes, replaced
from tests.security.strategies import hostile_json, hostile_keys
from tests.security.support import CHALLENGE, DOMAIN, NOW, Counter, World, fuzz_settings, record

pytestmark = pytest.mark.usefixtures("no_network")


def verify_credential(world: World, *policies: str) -> Any:
    verifier = world.verifier()
    verifier.policies = frozenset(Policy(p) for p in policies)
    return lambda doc: verifier.verify_credential(doc, now=NOW)


def verify_presentation(world: World) -> Any:
    verifier = world.verifier()

    def verify(doc: dict[str, Any]) -> Any:
        report, _ = verifier.verify_presentation(doc, challenge=CHALLENGE, domain=DOMAIN, now=NOW)
        return report

    return verify


def assert_clean(name: str, outcome: Any) -> None:
    record(name, outcome.cases, refused=outcome.refused, same_meaning=outcome.accepted_same_meaning)
    shown = "\n".join(outcome.problems[:25])
    assert not outcome.problems, f"{len(outcome.problems)} of {outcome.cases} cases:\n{shown}"


def test_the_unmutated_samples_verify(world: World) -> None:
    report = verify_credential(world)(world.credential)
    assert report.verified, report.to_dict()
    assert report.outcome_of("schema").outcome == "passed"
    presentation = verify_presentation(world)(world.presentation)
    assert presentation.verified, presentation.to_dict()


def test_every_mutation_of_a_signed_credential_is_refused(world: World) -> None:
    """By default (conforming: inline contexts accepted) nothing that changes the signed
    meaning verifies; under ``no-inline-contexts`` the mutations that only add an inline
    context are refused as well, so nine in ten are refused outright (the sanity bound that
    keeps the mutation set meaningful)."""
    cases = list(mutations(world.credential, context_tricks=TRICKS))
    assert len(cases) > 800
    loader = world.verifier().loader
    outcome = judge(verify_credential(world), world.credential, cases, loader)
    assert_clean(f"credential mutations ({world.algorithm})", outcome)
    strict = judge(
        verify_credential(world, "no-inline-contexts"), world.credential, cases, loader
    )
    assert strict.refused > 0.9 * strict.cases
    assert not strict.problems


def test_every_mutation_of_a_signed_presentation_is_refused(world: World) -> None:
    # the embedded credential gets one change and a drop per value here: its full set of
    # mutations is the test above, and the presentation proof covers it as well
    cases = list(
        mutations(world.presentation, context_tricks=TRICKS, light=[("verifiableCredential", 0)])
    )
    outcome = judge(verify_presentation(world), world.presentation, cases, world.verifier().loader)
    assert_clean(f"presentation mutations ({world.algorithm})", outcome)


@pytest.mark.parametrize(
    ("label", "challenge", "domain"),
    [
        ("other challenge", "c-other", DOMAIN),
        ("other domain", CHALLENGE, "https://evil.example/s/8Yx2kQp"),
        ("domain prefix", CHALLENGE, DOMAIN[:-1]),
    ],
)
def test_a_presentation_is_bound_to_its_challenge_and_domain(
    world: World, label: str, challenge: str, domain: str
) -> None:
    report, _ = world.verifier().verify_presentation(
        world.presentation, challenge=challenge, domain=domain, now=NOW
    )
    assert not report.verified, label
    assert report.outcome_of("proof_purpose").outcome == "failed"


def test_a_credential_is_not_a_presentation_and_vice_versa(world: World) -> None:
    verifier = world.verifier()
    as_presentation, _ = verifier.verify_presentation(world.credential, now=NOW)
    assert not as_presentation.verified
    assert not verifier.verify_credential(world.presentation, now=NOW).verified
    # an assertion proof does not authenticate a holder, and the other way round
    relabelled = copy.deepcopy(world.credential)
    relabelled["type"] = ["VerifiablePresentation"]
    assert not verifier.verify_presentation(relabelled, now=NOW)[0].verified


# --------------------------------------------------------------------------- random

_PATHS: dict[str, list[Path]] = {}


def _paths(document: dict[str, Any]) -> list[Path]:
    key = repr(sorted(document))
    if key not in _PATHS:
        _PATHS[key] = [p for p, _ in nodes(document) if p]
    return _PATHS[key]


def _judge_one(world: World, document: dict[str, Any], kind: str, path: Path) -> None:
    outcome = judge(
        verify_credential(world),
        world.credential,
        [Mutation(kind, path, document, must_fail=False)],
        world.verifier().loader,
    )
    assert not outcome.problems, outcome.problems


RANDOM_REPLACEMENTS = Counter("random hostile value anywhere (ed25519)")


@fuzz_settings(max_examples=150)
@given(data=st.data(), value=hostile_json())
def test_random_hostile_value_anywhere_in_a_signed_credential(
    ed25519_world: World, data: st.DataObject, value: Any
) -> None:
    world = ed25519_world
    path = data.draw(st.sampled_from(_paths(world.credential)), label="path")
    document = replaced(world.credential, path, value)
    RANDOM_REPLACEMENTS()
    # never raises; verifies only if the signed N-Quads are byte-identical (e.g. 7.5 -> [7.5])
    _judge_one(world, document, "random value", path)


RANDOM_KEYS = Counter("random key added anywhere (p256)")


@fuzz_settings(max_examples=100)
@given(data=st.data(), key=hostile_keys(), value=hostile_json(max_leaves=6))
def test_random_key_added_anywhere_in_a_signed_credential(
    p256_world: World, data: st.DataObject, key: str, value: Any
) -> None:
    world = p256_world
    objects = [p for p, v in nodes(world.credential) if isinstance(v, dict)]
    path = data.draw(st.sampled_from(objects), label="object")
    document = replaced(world.credential, (*path, key), value)
    RANDOM_KEYS()
    # an added key is unsigned (refused) or means nothing (a null, an empty array: accepted
    # only when the signed N-Quads are byte-identical)
    _judge_one(world, document, f"random key {key!r}", (*path, key))
