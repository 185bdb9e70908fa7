"""One deterministic test per bug the fuzzers found in the core (fixed in credentials/).

The property tests found these with generated input; the generated examples can change
with the strategies, so each case is also pinned here exactly as it was found. Each would
have been an unhandled exception (an HTTP 500 in a service) or unbounded work.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from credentials.canonical import canonicalize
from credentials.errors import CanonicalizationError, MalformedInput, UndefinedTermError
from credentials.fetch import FetchResponse
from credentials.keystore import Kek, Keystore, KeystoreError
from credentials.model import parse_json
from credentials.profile import profile_checks
from credentials.status import StatusListCache, check_status
from credentials.status_list import StatusList, status_list_credential
from tests.security.support import NOW, STATUS_LIST, World

pytestmark = pytest.mark.usefixtures("no_network")


def _subject(world: World) -> tuple[dict[str, Any], dict[str, Any]]:
    document = copy.deepcopy(world.credential)
    return document, document["credentialSubject"]["achievement"]


def test_a_keyword_like_key_is_an_undefined_term_not_a_crash(world: World) -> None:
    """pyld reports "@evil" as dropped with the name None; joining the names crashed."""
    document, achievement = _subject(world)
    achievement["@evil"] = "unsigned"
    with pytest.raises(UndefinedTermError):
        canonicalize({k: v for k, v in document.items() if k != "proof"})
    report = world.verifier().verify_credential(document, now=NOW)
    assert report.outcome_of("context").code == "undefined_term"


def test_a_lone_surrogate_is_invalid_unicode_not_a_crash(world: World) -> None:
    """'\\ud800' reaches Python as a lone surrogate; hashing its UTF-8 raised."""
    document, achievement = _subject(world)
    achievement["name"] = "Data \ud800 Wrangling"
    report = world.verifier().verify_credential(document, now=NOW)
    assert report.outcome_of("context").code == "invalid_unicode"
    document, _ = _subject(world)
    document["issuer"]["otherIdentifier"][0]["type"] = "\udfff"  # reached pyld's own hashing
    assert not world.verifier().verify_credential(document, now=NOW).verified


def test_an_integer_beyond_float_range_is_refused_not_a_crash(world: World) -> None:
    """pyld converts every JSON number to float; 10**400 overflowed inside it."""
    document, achievement = _subject(world)
    achievement["creditsAvailable"] = 10**400
    report = world.verifier().verify_credential(document, now=NOW)
    assert report.outcome_of("context").code == "number_out_of_range"


def test_an_empty_nested_context_string_is_invalid_json_ld_not_a_crash(world: World) -> None:
    """pyld raised a bare ValueError ("invalid baseIRI") for "@context": "" in a node."""
    document, _ = _subject(world)
    document["issuer"]["@context"] = ""
    report = world.verifier().verify_credential(document, now=NOW)
    assert report.outcome_of("context").code == "jsonld_error"


@pytest.mark.parametrize("text", ["NaN", '{"ects": -Infinity}', "1e400"])
def test_parse_json_refuses_what_json_does_not_have(text: str) -> None:
    with pytest.raises(MalformedInput):
        parse_json(text)


def test_a_did_in_context_is_not_resolved(ed25519_world: World, no_network: Any) -> None:
    """The verifier's loader resolved DIDs, so "@context": [..., "did:web:evil.example"]
    made it fetch a URL of the document's choosing before any proof check."""
    from credentials.setup import default_verifier

    document = copy.deepcopy(ed25519_world.credential)
    document["@context"].append("did:web:evil.example")
    report = default_verifier().verify_credential(document, now=NOW, check_status=False)
    assert report.outcome_of("context").code == "document_not_allowed"
    assert no_network.attempts == []


def test_profile_checks_survive_a_type_that_is_not_strings() -> None:
    assert profile_checks({"type": [["OpenBadgeCredential"]]})[0].outcome == "skipped"
    assert profile_checks({"type": {"a": 1}})[0].outcome == "skipped"


def test_a_garbage_wrapped_secret_is_a_keystore_error() -> None:
    """A short or badly encoded row raised ValueError (nonce length, base64) — a 500."""
    keystore = Keystore([Kek.from_secret(bytes(32), "k1")])
    for garbage in ("v1.k1.", "v1.k1.AAAA", "v1.k1.A", "v1.k1.!!!!"):
        with pytest.raises(KeystoreError):
            keystore.unwrap(garbage, "owner")


class _Answer:
    def __init__(self, document: Any, headers: dict[str, str]) -> None:
        self.document, self.headers = document, headers

    def get_json(self, url: str, *, accept: str = "") -> tuple[Any, FetchResponse]:
        response = FetchResponse(url, 200, self.headers, json.dumps(self.document).encode())
        return response.json(), response


def _status_of(world: World, document: Any, headers: dict[str, str]) -> list[Any]:
    return check_status(
        world.credential,
        fetcher=_Answer(document, headers),  # type: ignore[arg-type]
        cache=StatusListCache(now=lambda: datetime(2026, 1, 15, tzinfo=UTC)),
        verify_list_credential=lambda doc: (True, ""),
        now=NOW,
    )


def _list(world: World) -> dict[str, Any]:
    issuer = world.credential["issuer"]["id"]
    return status_list_credential(
        STATUS_LIST, issuer, "revocation", StatusList().encode(), valid_from=NOW
    )


@pytest.mark.parametrize("header", ["age", "cache-control"])
def test_a_unicode_digit_in_cache_headers_is_ignored_not_a_crash(
    ed25519_world: World, header: str
) -> None:
    """str.isdigit() is true for "²", which int() refuses: a status list server could make
    every verification of the institution's credentials fail with a 500."""
    value = "²" if header == "age" else "max-age=²"
    checks = _status_of(ed25519_world, _list(ed25519_world), {header: value})
    assert checks[0].code == "ok"


def test_a_unicode_digit_ttl_is_ignored_not_a_crash(ed25519_world: World) -> None:
    document = _list(ed25519_world)
    document["credentialSubject"]["ttl"] = "²"
    assert _status_of(ed25519_world, document, {})[0].code == "ok"


def test_a_status_list_whose_type_is_an_object_is_refused_not_a_crash(
    ed25519_world: World,
) -> None:
    document = _list(ed25519_world)
    document["type"] = {}
    checks = _status_of(ed25519_world, document, {})
    assert checks[0].code == "status_list_not_a_credential"


def test_canonicalisation_errors_carry_a_code() -> None:
    with pytest.raises(CanonicalizationError) as caught:
        canonicalize({"@context": [""], "a": 1})
    assert caught.value.code
