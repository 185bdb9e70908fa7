"""Cheap input, expensive work: the verifier must not spend unbounded CPU on a document.

The body limit (1 MB at the services) and ``parse_json``'s node and depth limits bound the
*size* of what reaches the core; these tests bound the *work* done on what passes them.
Work is measured in CPU time (``time.process_time``) or in calls, not wall-clock time, so a
busy CI machine does not make them flaky.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pyld import canon

from credentials.model import MAX_DEPTH, parse_json
from tests.security.support import NOW, World, record

pytestmark = pytest.mark.usefixtures("no_network")

EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"


def poison_graph(nodes: int) -> dict[str, Any]:
    """A credential whose subject holds a clique of indistinguishable blank nodes.

    RDFC-1.0 must try the permutations of such nodes in Hash N-Degree Quads: the work grows
    factorially (6 nodes: ~3,600 calls, 0.5 s; 7: ~5 s; 8: about a minute) for a body of a
    kilobyte. The shipped VC 2.0 examples context gives every term a meaning, so nothing
    else stops it before canonicalisation, which runs before any proof is looked at.
    """
    clique = [
        {"id": f"_:b{i}", "knows": [{"id": f"_:b{j}"} for j in range(nodes) if j != i]}
        for i in range(nodes)
    ]
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2", EXAMPLES],
        "type": ["VerifiableCredential"],
        "issuer": "did:web:hsrijnland.example",
        "credentialSubject": {"id": "did:example:learner", "knows": clique},
        "proof": {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "verificationMethod": "did:web:hsrijnland.example#key-1",
            "proofPurpose": "assertionMethod",
            "proofValue": "z" + "1" * 86,
        },
    }


@pytest.fixture
def hash_n_degree_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Counts RDFC-1.0 Hash N-Degree Quads calls (the factorial part), wherever made."""
    calls = [0]
    original = canon.URDNA2015.hash_n_degree_quads

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(canon.URDNA2015, "hash_n_degree_quads", counting)
    yield calls


def test_a_poison_graph_is_refused_before_it_costs_cpu(
    ed25519_world: World, hash_n_degree_calls: list[int]
) -> None:
    document = poison_graph(6)
    assert len(json.dumps(document)) < 2_000
    report = ed25519_world.verifier().verify_credential(document, now=NOW)
    assert not report.verified
    assert hash_n_degree_calls[0] <= 1_000, f"{hash_n_degree_calls[0]} Hash N-Degree Quads calls"


def test_a_small_blank_node_group_is_still_canonicalised(
    ed25519_world: World, hash_n_degree_calls: list[int]
) -> None:
    """Whatever limit is chosen must leave real documents alone: a few look-alike nodes
    (three identical evidence entries, say) are legitimate."""
    document = poison_graph(3)
    report = ed25519_world.verifier().verify_credential(document, now=NOW)
    assert report.outcome_of("context").outcome in ("passed", "warning")
    assert hash_n_degree_calls[0] > 0


def _nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"knows": value}
    return value


@pytest.mark.parametrize("size", ["deep", "wide", "long strings"])
def test_the_largest_documents_parse_json_lets_through_verify_in_bounded_time(
    ed25519_world: World, size: str
) -> None:
    document = copy.deepcopy(ed25519_world.credential)
    document["@context"] = [*document["@context"], EXAMPLES]
    subject = document["credentialSubject"]
    if size == "deep":
        subject["knows"] = _nested(MAX_DEPTH - 4)
    elif size == "wide":
        subject["knows"] = [{"n": i} for i in range(30_000)]
    else:
        subject["knows"] = ["x" * 4_000] * 1_000
    text = json.dumps(document)
    started = time.process_time()
    parsed = parse_json(text)
    report = ed25519_world.verifier().verify_credential(parsed, now=NOW)
    spent = time.process_time() - started
    record(f"largest accepted document ({size})", 1, bytes=len(text), cpu_seconds=round(spent, 2))
    assert not report.verified  # the added data is not signed
    assert spent < 10, f"{spent:.1f} s CPU for {len(text)} bytes"
