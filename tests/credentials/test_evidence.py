"""The evidence of a recognition award: digest definition and stack check (issue 17)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from credentials.evidence import (
    DIGEST_URN,
    check_stack,
    credential_digest,
    evidence_entry,
    evidence_id,
    evidence_refs,
)
from credentials.model import _digest_problem
from microcred.samples import MBO, WO, module, sample_credential

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _by_hand(data: bytes) -> str:
    """The definition in docs/recognition.md, written out independently of the module."""
    raw = bytes([0x12, 0x20]) + hashlib.sha256(data).digest()
    number, out = int.from_bytes(raw, "big"), ""
    while number:
        number, rem = divmod(number, 58)
        out = _B58[rem] + out
    return "z" + "1" * (len(raw) - len(raw.lstrip(b"\0"))) + out


def test_digest_of_a_json_credential_is_over_its_jcs_bytes() -> None:
    credential = {"b": [1, "é"], "a": {"z": 1.0, "y": None}, "id": "urn:x"}
    # JCS by hand: keys sorted by UTF-16 code units, no whitespace, 1.0 -> 1, UTF-8 text
    canonical = '{"a":{"y":null,"z":1},"b":[1,"é"],"id":"urn:x"}'.encode()
    assert credential_digest(credential) == _by_hand(canonical)
    # a fixed value (sha256 of {"a":1} is 015abd7f…f862; multihash, base58btc), so a change
    # of definition cannot slip through with both sides changed
    assert credential_digest({"a": 1}) == "zQmNRwNKPCo7tufiPf7zBwJhKdswzFLyWHE5am6tAXP7EbB"
    assert (
        _digest_problem(
            {"id": "urn:x", "digestMultibase": credential_digest(credential)}, canonical
        )
        == ""
    )


def test_digest_of_a_compact_credential_is_over_its_text_without_key_binding() -> None:
    sd_jwt = "eyJhbGciOiJFUzI1NiJ9.eyJ4IjoxfQ.c2ln~WyJzIiwiYSIsMV0~"
    assert credential_digest(sd_jwt) == _by_hand(sd_jwt.encode())
    assert credential_digest(sd_jwt + "eyJrYiI6MX0.e30.c2ln") == credential_digest(sd_jwt)
    jwt = "eyJhbGciOiJFUzI1NiJ9.eyJ4IjoxfQ.c2ln"
    enveloped = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": "EnvelopedVerifiableCredential",
        "id": "data:application/vc+jwt," + jwt,
    }
    assert credential_digest(enveloped) == credential_digest(jwt) == _by_hand(jwt.encode())


def _award(*parts: dict[str, Any]) -> dict[str, Any]:
    evidence, related = [], []
    for part in parts:
        issuer = part["issuer"]
        achievement = part["credentialSubject"]["achievement"]
        e, r = evidence_entry(
            part,
            name=achievement["name"],
            issuer_id=issuer["id"],
            issuer_name=issuer["name"],
            ects=7.5,
        )
        evidence.append(e)
        related.append(r)
    return {"id": "urn:uuid:award", "evidence": evidence, "relatedResource": related}


def _parts() -> list[dict[str, Any]]:
    first = sample_credential(issuer=WO, credential_id="urn:uuid:part-1")
    second = sample_credential(
        issuer=MBO,
        credential_id="urn:uuid:part-2",
        achievement=module(id="https://rocnoordkust.example/m/sql", name="SQL basis"),
    )
    return [first, second]


def test_evidence_refs_read_back_what_the_award_records() -> None:
    parts = _parts()
    award = json.loads(json.dumps(_award(*parts)))
    refs = evidence_refs(award)
    assert [r.id for r in refs] == ["urn:uuid:part-1", "urn:uuid:part-2"]
    assert refs[0].issuer_id == WO.id and refs[0].issuer_name == WO.name
    assert refs[1].name == "SQL basis" and refs[1].ects == 7.5
    assert award["evidence"][0]["description"] == f"7.5 ECTS — {WO.name} ({WO.id})"
    assert refs[0].digest == credential_digest(parts[0])


def test_complete_stack_is_found_with_counts() -> None:
    parts = _parts()
    result = check_stack(_award(*parts), list(reversed(parts)))
    assert result.complete and result.intact
    assert [e.status for e in result.entries] == ["found", "found"]
    assert (result.modules, result.institutions) == (2, 2)
    assert result.entries[0].credential is parts[0]


def test_one_changed_field_is_a_named_digest_mismatch() -> None:
    parts = _parts()
    award = _award(*parts)
    tampered = json.loads(json.dumps(parts[1]))
    tampered["credentialSubject"]["achievement"]["name"] = "SQL gevorderd"
    result = check_stack(award, [parts[0], tampered])
    assert not result.complete and not result.intact
    assert [e.status for e in result.entries] == ["found", "digest_mismatch"]
    assert result.mismatched[0].ref.id == "urn:uuid:part-2"
    assert result.mismatched[0].ref.name == "SQL basis"


def test_a_reference_not_presented_is_missing_and_extras_are_listed() -> None:
    parts = _parts()
    stranger = sample_credential(credential_id="urn:uuid:other")
    result = check_stack(_award(*parts), [parts[0], stranger])
    assert [e.status for e in result.entries] == ["found", "missing"]
    assert result.intact and not result.complete
    assert result.missing[0].ref.issuer_name == MBO.name
    assert result.extra == (stranger,)


def test_a_credential_without_id_is_referenced_by_its_digest() -> None:
    part = _parts()[0]
    del part["id"]
    assert evidence_id(part) == DIGEST_URN + credential_digest(part)
    award = _award(part)
    assert check_stack(award, [part]).complete
    assert check_stack(award, []).missing[0].ref.id.startswith(DIGEST_URN)


@pytest.mark.parametrize("bad", [{"x": float("nan")}, 12])
def test_what_cannot_be_digested_is_malformed_input(bad: Any) -> None:
    from credentials.errors import MalformedInput

    with pytest.raises(MalformedInput):
        credential_digest(bad)
