"""RDFC-1.0 with a work limit.

Hash N-Degree Quads tries permutations of blank nodes that share a first-degree hash; a
kilobyte of hostile JSON-LD (a clique of look-alike blank nodes, a "poison graph") makes
that factorial — minutes of CPU before any proof is even looked at. RDFC-1.0 §4.4 asks
implementations to guard against this. Real credentials have unique first-degree hashes
(no N-degree call at all) or a handful of look-alikes (tens of calls); the budget below is
far above that and far below what a poison graph needs.
"""

from __future__ import annotations

from typing import Any

from pyld import jsonld
from pyld.canon import URDNA2015

from .errors import CanonicalizationError

MAX_N_DEGREE_CALLS = 1_000


class BoundedURDNA2015(URDNA2015):
    def __init__(self) -> None:
        super().__init__()
        self._n_degree_calls = 0

    def hash_n_degree_quads(self, id_: Any, issuer: Any) -> Any:
        self._n_degree_calls += 1
        if self._n_degree_calls > MAX_N_DEGREE_CALLS:
            raise CanonicalizationError(
                "the document's blank nodes are too interchangeable to canonicalise within "
                "the work limit (RDFC-1.0 poison graph)",
                code="too_complex",
            )
        return super().hash_n_degree_quads(id_, issuer)


def install() -> None:
    """Make pyld's normalize use the bounded algorithm (it looks the class up by name)."""
    jsonld.URDNA2015 = BoundedURDNA2015
