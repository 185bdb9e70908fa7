"""Published credentials from other institutions and tools, verified by microcred's core.

Each file's expected structure/proof verdict and reading come from MANIFEST.json; the ratio
test is the issue's criterion: of the published credentials DCC's verifier accepts, microcred's
structure and proof checks accept at least 95 %.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from credentials.fetch import FetchPolicy, SafeFetcher
from credentials.microcredential import read_microcredential
from credentials.setup import default_verifier
from credentials.status import StatusListCache

from .conftest import RESULTS
from .corpus import (
    ProofVerdict,
    corpus_verifier,
    dcc_accepted,
    entries,
    load,
)

CREDENTIALS = entries()
IDS = [e["file"].removeprefix("credentials/") for e in CREDENTIALS]


@pytest.fixture(scope="module")
def verifier():  # type: ignore[no-untyped-def]
    return corpus_verifier()


@pytest.mark.parametrize("entry", CREDENTIALS, ids=IDS)
def test_structure_and_proof_verdict(entry: dict[str, Any], verifier) -> None:  # type: ignore[no-untyped-def]
    expected = entry["expected"]
    report = verifier.verify_credential(load(entry), check_status=False)
    verdict = ProofVerdict.of(report)
    if expected["verified_proof"]:
        assert verdict.accepted, f"refused with {verdict.refusal}: {expected['why']}"
        if "validity" in expected:  # a genuine proof on a credential outside its period
            validity = report.outcome_of("validity")
            assert validity is not None and validity.code == expected["validity"]
    else:
        # a refusal (or an offline limit) must say why, with the expected code
        assert not verdict.accepted
        assert verdict.refusal == expected["code"], expected["why"]


@pytest.mark.parametrize("entry", CREDENTIALS, ids=IDS)
def test_reading(entry: dict[str, Any]) -> None:
    view = read_microcredential(load(entry))
    got = {"title": view.title, "ects": view.ects, "eqf_level": view.eqf_level}
    assert got == entry["expected_reading"]


def test_published_credentials_dcc_accepts_are_accepted(verifier) -> None:  # type: ignore[no-untyped-def]
    published = [e for e in CREDENTIALS if "variant" not in e]
    by_dcc = [e for e in published if dcc_accepted(e)]
    failing = []
    for entry in by_dcc:
        verdict = ProofVerdict.of(verifier.verify_credential(load(entry), check_status=False))
        if not verdict.accepted:
            failing.append(f"{entry['file']} ({verdict.refusal})")
    accepted = len(by_dcc) - len(failing)
    sources = Counter(e["source"]["repo"] for e in published)
    RESULTS["lines"] = [
        f"corpus: {len(published)} published credentials, "
        + ", ".join(f"{repo} {n}" for repo, n in sources.most_common()),
        f"DCC verifier-core accepts the signature of {len(by_dcc)}; microcred's structure and "
        f"proof checks accept {accepted} of those ({accepted / len(by_dcc):.1%})",
        *(f"  not accepted: {f}" for f in failing),
    ]
    assert len(by_dcc) >= 100  # the corpus is the scale, not a handful
    assert accepted / len(by_dcc) >= 0.95, failing


def _status_verdict(name: str) -> list[Any]:
    """The status checks for a corpus credential whose list is preloaded (nothing fetched)."""
    (status_list,) = entries("status-list")
    cache = StatusListCache()
    cache.put(status_list["url"], load(status_list))
    # a fetcher that would refuse any download: the list must come from the cache
    fetcher = SafeFetcher(FetchPolicy())
    verifier = default_verifier(fetcher=fetcher, status_cache=cache)
    (entry,) = [e for e in CREDENTIALS if e.get("variant") == name]
    report = verifier.verify_credential(load(entry))
    assert ProofVerdict.of(report).accepted
    return [c for c in report.checks if c.id == "status"]


def test_revoked_variant_is_reported_revoked() -> None:
    (status,) = _status_verdict("revoked")
    assert (status.outcome, status.code) == ("failed", "revoked")


def test_active_variant_on_the_same_list_is_not_revoked() -> None:
    (status,) = _status_verdict("active")
    assert status.outcome == "passed"
