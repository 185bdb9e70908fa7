"""Bitstring Status List: decoding the published vectors, bit order, encoding, hostile input."""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credentials.errors import StatusListError
from credentials.status_list import (
    MAX_DECODED_BYTES,
    MIN_LENGTH,
    StatusList,
    status_entry,
    status_list_credential,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "status-list"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def b64u(data: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def raises(code: str, call: Any, *args: Any, **kwargs: Any) -> StatusListError:
    with pytest.raises(StatusListError) as info:
        call(*args, **kwargs)
    assert info.value.code == code, info.value.message
    return info.value


VECTORS = load("encodedList-vectors.json")["vectors"]


# --------------------------------------------------------------------------- vectors


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"][:30] for v in VECTORS])
def test_decode_vectors(vector: dict[str, Any]) -> None:
    status_list = StatusList.decode(vector["encodedList"])
    assert len(status_list) == vector["bitstringLength_derived"]
    assert len(status_list.to_bytes()) == vector["decompressedBytes_derived"]
    assert status_list.set_indexes() == vector["setBitIndexes_derived"]
    digest = hashlib.sha256(status_list.to_bytes()).hexdigest()
    assert digest == vector["rawSha256Hex_derived"]
    for index in vector["setBitIndexes_derived"]:
        assert status_list.get(index) == 1
    assert status_list.get(0) == 0
    assert status_list.get(len(status_list) - 1) == 0


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"][:30] for v in VECTORS])
def test_vectors_survive_reencoding(vector: dict[str, Any]) -> None:
    original = StatusList.decode(vector["encodedList"])
    again = StatusList.decode(original.encode())
    assert again == original
    assert again.set_indexes() == vector["setBitIndexes_derived"]


def test_spec_example_credential_list_is_empty() -> None:
    credential = load("spec-example-bitstringstatuslistcredential.json")
    status_list = StatusList.decode(credential["credentialSubject"]["encodedList"])
    assert len(status_list) == MIN_LENGTH
    assert status_list.set_indexes() == []
    # The revocable credential example points into this list, at an unset entry.
    entry = load("spec-example-revocable-credential.json")["credentialStatus"]
    assert status_list.get(int(entry["statusListIndex"])) == 0


def test_validator_fixture_marks_index_23_revoked() -> None:
    list_credential = load("validator-testlist-statuslistcredential.json")
    credential = load("validator-credential-status-revoked.json")
    status_list = StatusList.decode(list_credential["credentialSubject"]["encodedList"])
    index = credential["credentialStatus"]["statusListIndex"]
    assert index == 23
    assert status_list.get(index) == 1
    assert status_list.get(22) == 0 and status_list.get(24) == 0


# --------------------------------------------------------------------------- bit order


def test_index_zero_is_the_most_significant_bit_of_the_first_byte() -> None:
    status_list = StatusList()
    status_list.set(0, 1)
    assert status_list.to_bytes()[:2] == b"\x80\x00"
    status_list.set(7, 1)
    assert status_list.to_bytes()[:2] == b"\x81\x00"
    status_list.set(8, 1)
    assert status_list.to_bytes()[:2] == b"\x81\x80"
    status_list.set(0, 0)
    assert status_list.to_bytes()[:2] == b"\x01\x80"
    status_list.set(MIN_LENGTH - 1, 1)
    assert status_list.to_bytes()[-1] == 0x01


def test_multi_bit_entries_are_big_endian_and_contiguous() -> None:
    status_list = StatusList(MIN_LENGTH, status_size=2)
    status_list.set(1, 0b11)  # bits 2 and 3
    assert status_list.to_bytes()[0] == 0b0011_0000
    status_list.set(2, 0b10)  # bit 4 set, bit 5 clear
    assert status_list.to_bytes()[0] == 0b0011_1000
    assert [status_list.get(i) for i in range(4)] == [0, 3, 2, 0]
    assert len(status_list.to_bytes()) == MIN_LENGTH * 2 // 8


def test_entry_spanning_a_byte_boundary() -> None:
    status_list = StatusList(MIN_LENGTH, status_size=3)
    status_list.set(2, 0b101)  # bits 6, 7, 8
    assert status_list.to_bytes()[:2] == b"\x02\x80"
    assert status_list.get(2) == 5


# --------------------------------------------------------------------------- encoding


def test_encoding_shape() -> None:
    status_list = StatusList()
    status_list.set(94567, 1)
    encoded = status_list.encode()
    assert encoded.startswith("u")
    assert not {"=", "+", "/"} & set(encoded)
    compressed = base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4))
    assert compressed[:2] == b"\x1f\x8b"  # GZIP, not zlib or raw deflate
    assert gzip.decompress(compressed) == status_list.to_bytes()
    assert status_list.encode() == encoded  # deterministic (mtime 0)


def test_fresh_list_is_all_zero_and_at_least_16k() -> None:
    status_list = StatusList()
    assert len(status_list) == MIN_LENGTH == 131_072
    assert status_list.to_bytes() == bytes(16_384)
    assert status_list.set_indexes() == []


def test_larger_lists_round_trip() -> None:
    status_list = StatusList(MIN_LENGTH * 2)
    status_list.set(MIN_LENGTH * 2 - 1, 1)
    decoded = StatusList.decode(status_list.encode())
    assert len(decoded) == MIN_LENGTH * 2
    assert decoded.set_indexes() == [MIN_LENGTH * 2 - 1]


def test_decode_with_status_size() -> None:
    status_list = StatusList(MIN_LENGTH, status_size=2)
    status_list.set(5, 2)
    decoded = StatusList.decode(status_list.encode(), status_size=2)
    assert decoded.get(5) == 2
    assert len(decoded) == MIN_LENGTH


def test_padding_is_tolerated() -> None:
    encoded = StatusList().encode()
    padded = encoded + "=" * (-len(encoded[1:]) % 4)
    assert StatusList.decode(padded) == StatusList()


# --------------------------------------------------------------------------- hostile input


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "H4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA",  # no prefix
        "zH4sIAAAAAAAAA",  # base58btc prefix
        "UH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA",  # padded variant
        "mH4sIAAAAAAAAA",  # base64 (not url) prefix
        "u!!!!",
        "uH4sI AAAA",
        "uH4sI+AAA/",  # standard alphabet, not url-safe
        "uA",  # impossible base64 length
        b64u(b"not gzip at all, just bytes"),
        b64u(b"\x78\x9c" + b"\x00" * 20),  # zlib header, not gzip
        b64u(gzip.compress(bytes(16_384), mtime=0)[:-10]),  # truncated
        b64u(gzip.compress(bytes(16_384), mtime=0) + b"trailing"),
    ],
)
def test_malformed_encodings_are_refused(bad: str) -> None:
    raises("status_list_invalid", StatusList.decode, bad)


def test_non_string_is_refused() -> None:
    raises("status_list_invalid", StatusList.decode, None)
    raises("status_list_invalid", StatusList.decode, b"uH4sI")


def test_decompression_bomb_is_refused() -> None:
    bomb = gzip.compress(bytes(MAX_DECODED_BYTES + 1), compresslevel=9)
    assert len(bomb) < 100_000
    raises("status_list_too_large", StatusList.decode, b64u(bomb))


def test_lists_shorter_than_the_minimum_are_refused() -> None:
    short = b64u(gzip.compress(bytes(16_383)))
    err = raises("status_list_too_short", StatusList.decode, short)
    assert "131072" in err.message
    raises("status_list_too_short", StatusList.decode, b64u(gzip.compress(b"")))
    # 16 KiB holds 131,072 one-bit entries but only 65,536 two-bit ones.
    raises("status_list_too_short", StatusList.decode, StatusList().encode(), status_size=2)
    raises("status_list_too_short", StatusList, MIN_LENGTH - 1)


@pytest.mark.parametrize("index", [-1, MIN_LENGTH, MIN_LENGTH + 100, 2**40])
def test_index_out_of_range(index: int) -> None:
    status_list = StatusList()
    raises("status_index_out_of_range", status_list.get, index)
    raises("status_index_out_of_range", status_list.set, index, 1)


def test_non_integer_index_and_values_are_refused() -> None:
    status_list = StatusList()
    raises("status_index_out_of_range", status_list.get, "3")
    raises("status_index_out_of_range", status_list.get, True)
    raises("status_value_invalid", status_list.set, 3, 2)
    raises("status_value_invalid", status_list.set, 3, -1)
    raises("status_value_invalid", StatusList(MIN_LENGTH, 2).set, 3, 4)


@pytest.mark.parametrize("size", [0, -1, 33])
def test_bad_status_size(size: int) -> None:
    raises("status_list_invalid", StatusList, MIN_LENGTH, size)
    raises("status_list_invalid", StatusList.decode, StatusList().encode(), status_size=size)


# --------------------------------------------------------------------------- JSON pieces


def test_status_entry_matches_the_spec_shape() -> None:
    expected = load("spec-example-revocable-credential.json")["credentialStatus"]
    entry = status_entry("https://example.com/credentials/status/3", 94567, "revocation")
    assert entry == expected
    assert isinstance(entry["statusListIndex"], str)


def test_status_entries_for_both_purposes() -> None:
    expected = load("spec-example-credential-with-revocation-and-suspension-entries.json")
    built = [
        status_entry("https://example.com/credentials/status/3", 94567, "revocation"),
        status_entry("https://example.com/credentials/status/4", 23452, "suspension"),
    ]
    assert built == expected["credentialStatus"]


def test_status_entry_refuses_bad_input() -> None:
    raises("status_list_invalid", status_entry, "https://x/1", 1, "message")
    raises("status_index_out_of_range", status_entry, "https://x/1", -1, "revocation")


def test_status_list_credential_matches_the_spec_shape() -> None:
    example = load("spec-example-bitstringstatuslistcredential.json")
    built = status_list_credential(
        example["id"],
        example["issuer"],
        "revocation",
        example["credentialSubject"]["encodedList"],
        valid_from=datetime(2021, 4, 5, 14, 27, 40, tzinfo=UTC),
    )
    # The spec example's subject id uses another path (…/status/3#list); ours derives it.
    assert built["credentialSubject"]["id"] == example["id"] + "#list"
    example["credentialSubject"]["id"] = built["credentialSubject"]["id"]
    assert built == example
    assert built["@context"] == ["https://www.w3.org/ns/credentials/v2"]
    assert "proof" not in built


def test_status_list_credential_options() -> None:
    local = timezone(timedelta(hours=2))
    built = status_list_credential(
        "https://issuer.example/status/7",
        {"id": "did:key:z6Mk", "name": "Issuer"},
        "suspension",
        StatusList().encode(),
        valid_from=datetime(2025, 1, 1, 2, 0, 0, 123456, tzinfo=local),
        valid_until="2026-01-01T00:00:00Z",
        ttl_ms=60_000,
    )
    assert built["validFrom"] == "2025-01-01T00:00:00Z"
    assert built["validUntil"] == "2026-01-01T00:00:00Z"
    assert built["issuer"] == {"id": "did:key:z6Mk", "name": "Issuer"}
    assert built["credentialSubject"]["statusPurpose"] == "suspension"
    assert built["credentialSubject"]["ttl"] == 60_000
    raises("status_list_invalid", status_list_credential, "https://x", "did:x", "refresh", "u")


# --------------------------------------------------------------------------- properties


@settings(max_examples=60, deadline=None)
@given(
    status_size=st.integers(min_value=1, max_value=4),
    writes=st.lists(
        st.tuples(st.integers(min_value=0, max_value=MIN_LENGTH - 1), st.integers(0, 15)),
        max_size=40,
    ),
)
def test_set_get_agrees_with_a_dict_model(status_size: int, writes: list[tuple[int, int]]) -> None:
    status_list = StatusList(MIN_LENGTH, status_size)
    model: dict[int, int] = {}
    for index, raw_value in writes:
        value = raw_value % (1 << status_size)
        status_list.set(index, value)
        model[index] = value
    for index, value in model.items():
        assert status_list.get(index) == value
        # Neighbours only change when they were written themselves.
        for neighbour in (index - 1, index + 1):
            if 0 <= neighbour < MIN_LENGTH:
                assert status_list.get(neighbour) == model.get(neighbour, 0)
    assert sorted(i for i, v in model.items() if v) == status_list.set_indexes()


@settings(max_examples=25, deadline=None)
@given(indexes=st.sets(st.integers(min_value=0, max_value=MIN_LENGTH * 2 - 1), max_size=50))
def test_encode_decode_round_trip(indexes: set[int]) -> None:
    status_list = StatusList(MIN_LENGTH * 2)
    for index in indexes:
        status_list.set(index, 1)
    decoded = StatusList.decode(status_list.encode())
    assert decoded == status_list
    assert decoded.set_indexes() == sorted(indexes)


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=80))
def test_decode_never_crashes_unexpectedly(text: str) -> None:
    with contextlib.suppress(StatusListError):
        StatusList.decode(text)


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=200))
def test_decode_of_arbitrary_bytes_after_prefix(data: bytes) -> None:
    with contextlib.suppress(StatusListError):
        StatusList.decode(b64u(data))
