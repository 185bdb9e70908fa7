"""The one DCQL module: what a verifier asks is what a holder reads, a malformed query is an
error with a code, and a credential that does not fit is simply not selected."""

from __future__ import annotations

import json
from typing import Any

import pytest

from credentials import dcql
from credentials.errors import MalformedInput
from microcred.samples import DATA_WRANGLING, sample_credential


def test_what_the_verifier_asks_the_holder_reads_and_answers() -> None:
    spec = dcql.RequestSpec.parse(None, [DATA_WRANGLING.name], None)
    queries = dcql.queries_for(spec)
    query = dcql.parse_dcql(json.dumps(dcql.dcql_query(queries)))
    credential = sample_credential()
    (asked,) = query.credentials
    assert asked.id == "module_1"
    # the holder finds its credential fits, and the verifier accepts it as the answer
    assert asked.matching_claims(credential) is not None
    assert queries[0].matches(credential)
    assert query.satisfied_by(["module_1"]) and not query.satisfied_by([])


def test_another_module_does_not_fit_on_either_side() -> None:
    spec = dcql.RequestSpec.parse(None, ["Brain Surgery"], None)
    query = dcql.parse_dcql(dcql.dcql_query(dcql.queries_for(spec)))
    assert query.credentials[0].matching_claims(sample_credential()) is None
    assert not dcql.queries_for(spec)[0].matches(sample_credential())


def test_type_values_are_expanded_iris_so_an_alias_fits() -> None:
    (iris,) = dcql.dcql_query(dcql.queries_for(dcql.RequestSpec()))["credentials"][0]["meta"][
        "type_values"
    ]
    assert "https://www.w3.org/2018/credentials#VerifiableCredential" in iris
    assert all(i.startswith("https://") for i in iris)


@pytest.mark.parametrize(
    "query",
    [
        "{not json",
        [],
        {"credentials": []},
        {"credentials": [{"id": "a b", "format": "ldp_vc", "meta": {}}]},
        {"credentials": [{"id": "a", "format": "ldp_vc", "meta": {"type_values": "x"}}]},
        {"credentials": [{"id": "a", "format": "ldp_vc", "meta": {"type_values": [["T"]]}}] * 2},
        {
            "credentials": [
                {
                    "id": "a",
                    "format": "ldp_vc",
                    "meta": {"type_values": [["T"]]},
                    "claims": [{"path": []}],
                }
            ]
        },
        {
            "credentials": [{"id": "a", "format": "ldp_vc", "meta": {"type_values": [["T"]]}}],
            "credential_sets": [{"options": [["b"]]}],
        },
    ],
    ids=[
        "not JSON",
        "not an object",
        "no queries",
        "bad id",
        "bad type_values",
        "duplicate ids",
        "empty path",
        "unknown set id",
    ],
)
def test_a_malformed_query_is_an_error_with_a_code(query: Any) -> None:
    with pytest.raises(dcql.DcqlError) as caught:
        dcql.parse_dcql(query)
    assert caught.value.code == "invalid_dcql_query"
    assert isinstance(caught.value, MalformedInput)


def test_a_credential_whose_types_cannot_be_expanded_offers_its_names_only() -> None:
    """An unknown context is "does not fit by IRI", not an exception (and not silence
    about a broken query: the query side raises)."""
    credential = {"@context": ["https://unknown.example/ctx"], "type": ["Badge"]}
    assert dcql.credential_type_iris(credential) == ("Badge",)
    query = dcql.parse_dcql(
        {"credentials": [{"id": "a", "format": "ldp_vc", "meta": {"type_values": [["X"]]}}]}
    )
    assert query.credentials[0].matching_claims(credential) is None


def test_types_that_cannot_be_expanded_are_refused_with_a_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The JSON-LD processor's failure is the request's error with a code (it was an
    ``except Exception``); a context the loader will not serve is one such failure."""
    monkeypatch.setattr(dcql, "REQUEST_CONTEXT", ("https://unknown.example/ctx",))
    with pytest.raises(MalformedInput) as caught:
        dcql.type_iris(("Badge",))
    assert caught.value.code == "invalid_presentation_request"


@pytest.mark.parametrize(
    ("types", "modules", "formats", "vcts"),
    [
        (["bad type!"], None, None, None),
        (None, [""], None, None),
        (None, ["m"] * (dcql.MAX_MODULES + 1), None, None),
        (None, None, ["jwt_vc"], None),
        (None, None, ["dc+sd-jwt"], None),
    ],
)
def test_a_bad_request_spec_is_refused_with_a_code(
    types: Any, modules: Any, formats: Any, vcts: Any
) -> None:
    with pytest.raises(MalformedInput) as caught:
        dcql.RequestSpec.parse(types, modules, None, formats, vcts)
    assert caught.value.code == "invalid_presentation_request"
