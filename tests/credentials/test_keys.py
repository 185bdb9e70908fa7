"""Multikey round trips, both algorithms, and bad key material."""

from __future__ import annotations

import pytest

from credentials import multibase
from credentials.errors import KeyFormatError, UnsupportedError
from credentials.keys import Multikey


@pytest.mark.parametrize(("algorithm", "prefix"), [("ed25519", "z6Mk"), ("p256", "zDna")])
def test_generate_round_trips_through_json(algorithm: str, prefix: str) -> None:
    key = Multikey.generate(algorithm)
    data = key.to_secret_dict()
    assert data["type"] == "Multikey"
    assert data["publicKeyMultibase"].startswith(prefix)
    assert data["controller"] == f"did:key:{data['publicKeyMultibase']}"
    assert data["id"] == f"{data['controller']}#{data['publicKeyMultibase']}"
    again = Multikey.from_dict(data)
    signature = again.sign(b"hello")
    assert key.verify(signature, b"hello")
    assert not key.verify(signature, b"hellp")


@pytest.mark.parametrize("algorithm", ["ed25519", "p256"])
def test_secret_bytes_rebuild_the_same_key(algorithm: str) -> None:
    key = Multikey.generate(algorithm)
    again = Multikey.from_secret_bytes(algorithm, key.secret_bytes())
    assert again.public_key_multibase == key.public_key_multibase


def test_private_key_multibase_alias_is_accepted(fixtures) -> None:
    from tests.conftest import load_fixture

    pair = load_fixture("vectors/eddsa-rdfc-2022/keyPair.json")
    key = Multikey.from_dict(pair)
    assert key.public_key_multibase == pair["publicKeyMultibase"]


def test_mismatched_public_key_is_refused() -> None:
    a, b = Multikey.generate(), Multikey.generate()
    data = {**a.to_secret_dict(), "publicKeyMultibase": b.public_key_multibase}
    with pytest.raises(KeyFormatError):
        Multikey.from_dict(data)


@pytest.mark.parametrize("value", ["", "x123", "z0OIl", "u!!!", "zQmUnknownCodec", 42])
def test_invalid_multibase_is_a_key_format_error(value: object) -> None:
    with pytest.raises((KeyFormatError, UnsupportedError)):
        Multikey.from_dict({"publicKeyMultibase": value})


def test_unknown_key_type() -> None:
    with pytest.raises(UnsupportedError):
        Multikey.generate("rsa")


def test_base58_round_trip_with_leading_zeros() -> None:
    data = b"\0\0\x01\x02"
    assert multibase.decode(multibase.encode_base58btc(data)) == data
    assert multibase.decode(multibase.encode_base64url(data)) == data


def test_public_only_key_cannot_sign() -> None:
    key = Multikey.from_public_multibase(Multikey.generate().public_key_multibase)
    with pytest.raises(KeyFormatError):
        key.sign(b"x")
