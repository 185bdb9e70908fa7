"""Every way a ``proofValue`` can be wrong reads the same: not verified, ``invalid_proof``.

As pyca/cryptography's Fernet turns every bad token into ``InvalidToken``, a verifier that
answers "invalid base58btc character" for one corruption and "does not verify" for another
tells a prober which check the value tripped, and its CLI exited 2 ("unusable input") for a
value that is simply not a signature. Here each corruption mode is applied to a freshly
signed credential of each cryptosuite family, through ``Verifier.verify_credential`` and
through ``microcred verify`` (exit 1). Exit 2 stays for input that cannot be judged at all.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from typer.testing import CliRunner

from credentials import Verifier, sign
from credentials import ecdsa_sd as sd
from credentials.documents import DocumentLoader
from credentials.keys import Multikey
from credentials.multibase import b58decode, encode_base58btc

V2 = "https://www.w3.org/ns/credentials/v2"
V1 = "https://www.w3.org/2018/credentials/v1"
EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"
ED25519_2020_CONTEXT = "https://w3id.org/security/suites/ed25519-2020/v1"

#: family -> (key type, cryptosuite argument of ``sign``)
FAMILIES: dict[str, tuple[str, str]] = {
    "eddsa-rdfc-2022": ("ed25519", "eddsa-rdfc-2022"),
    "ecdsa-rdfc-2019": ("p256", "ecdsa-rdfc-2019"),
    "eddsa-jcs-2022": ("ed25519", "eddsa-jcs-2022"),
    "ecdsa-jcs-2019": ("p256", "ecdsa-jcs-2019"),
    "Ed25519Signature2020": ("ed25519", "Ed25519Signature2020"),
    "ecdsa-sd-2023": ("p256", "ecdsa-sd-2023"),
}


def _credential(key: Multikey, family: str) -> dict[str, Any]:
    if family == "Ed25519Signature2020":
        return {
            "@context": [V1, ED25519_2020_CONTEXT, EXAMPLES],
            "type": ["VerifiableCredential"],
            "issuer": key.controller,
            "issuanceDate": "2026-01-01T00:00:00Z",
            "credentialSubject": {"id": "did:example:learner", "name": "Statistics"},
        }
    return {
        "@context": [V2, EXAMPLES],
        "type": ["VerifiableCredential"],
        "issuer": key.controller,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner", "name": "Statistics"},
    }


_SIGNED: dict[str, dict[str, Any]] = {}


def signed(family: str) -> dict[str, Any]:
    """One credential per family, signed once per test session (and copied per use)."""
    if family not in _SIGNED:
        key_type, suite = FAMILIES[family]
        key = Multikey.generate(key_type)
        pointers = ["/issuer", "/validFrom", "/type"] if family == "ecdsa-sd-2023" else None
        document = sign(
            _credential(key, family), key, cryptosuite=suite, mandatory_pointers=pointers
        )
        if family == "ecdsa-sd-2023":
            # what a verifier is shown: the holder's derived proof
            document = sd.derive(document, ["/credentialSubject/name"], DocumentLoader())
        _SIGNED[family] = document
    return json.loads(json.dumps(_SIGNED[family]))


# --- the corruption modes: each takes a valid proofValue and returns a wrong one -------------


def _decode(value: str) -> bytes:
    if value.startswith("z"):
        return b58decode(value[1:])
    return base64.urlsafe_b64decode(value[1:] + "=" * (-len(value[1:]) % 4))


def _encode(like: str, data: bytes) -> str:
    if like.startswith("z"):
        return encode_base58btc(data)
    return "u" + base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _foreign_character(value: str) -> str:
    # "0" is outside base58btc, "!" outside base64url
    bad = "0" if value.startswith("z") else "!"
    middle = len(value) // 2
    return value[:middle] + bad + value[middle + 1 :]


def _wrong_prefix(value: str) -> str:
    return ("u" if value.startswith("z") else "z") + value[1:]


def _wrong_length(value: str) -> str:
    return _encode(value, _decode(value) + b"\x00")


def _truncated(value: str) -> str:
    return value[: len(value) // 2]


def _bit_flip(value: str) -> str:
    data = bytearray(_decode(value))
    # the last byte: inside the signature (s) for the plain suites, inside the last
    # component (the mandatory indexes or pointers) of an ecdsa-sd-2023 proof
    data[-1] ^= 0x01
    return _encode(value, bytes(data))


CORRUPTIONS: dict[str, Callable[[str], Any]] = {
    "non-alphabet character": _foreign_character,
    "wrong multibase prefix": _wrong_prefix,
    "wrong length": _wrong_length,
    "truncated": _truncated,
    "one bit flipped": _bit_flip,
    "empty": lambda value: "",
    "a number": lambda value: 12345,
    "a list": lambda value: [value],
    "null": lambda value: None,
}

CASES = [(family, mode) for family in FAMILIES for mode in CORRUPTIONS]


def corrupted(family: str, mode: str) -> dict[str, Any]:
    document = signed(family)
    document["proof"]["proofValue"] = CORRUPTIONS[mode](document["proof"]["proofValue"])
    return document


@pytest.mark.parametrize("family", FAMILIES)
def test_the_uncorrupted_credential_verifies(family: str) -> None:
    """The baseline, so that a failure below is the corruption's doing."""
    report = Verifier().verify_credential(signed(family), check_status=False)
    assert report.verified, report.to_dict()


@pytest.mark.parametrize(("family", "mode"), CASES)
def test_a_corrupted_proof_value_is_not_verified_with_one_code(family: str, mode: str) -> None:
    report = Verifier().verify_credential(corrupted(family, mode), check_status=False)
    assert not report.verified
    assert [(c.id, c.code) for c in report.failed] == [("proof", "invalid_proof")]
    # opaque: the message names neither the alphabet, the length nor the encoding
    message = report.failed[0].message.lower()
    for leak in ("base58", "base64", "character", "length", "cbor", "prefix", "multibase"):
        assert leak not in message


RUNNER = CliRunner()


def _cli_verify(document: Any) -> tuple[int, str]:
    from microcred.cli import app

    result = RUNNER.invoke(app, ["verify", "--no-status"], input=json.dumps(document))
    return result.exit_code, result.output


@pytest.mark.parametrize(("family", "mode"), CASES)
def test_the_cli_exits_1_for_a_corrupted_proof_value(family: str, mode: str) -> None:
    code, output = _cli_verify(corrupted(family, mode))
    assert code == 1, output
    report = json.loads(output)
    assert report["verified"] is False
    assert [e["code"] for e in report["errors"]] == ["invalid_proof"]


def test_the_cli_still_exits_0_for_the_uncorrupted_credential() -> None:
    code, output = _cli_verify(signed("eddsa-rdfc-2022"))
    assert code == 0, output


@pytest.mark.parametrize(
    "make",
    [
        lambda: "{not json",  # not JSON
        lambda: {k: v for k, v in signed("eddsa-rdfc-2022").items() if k != "proof"},  # no proof
        lambda: {**signed("eddsa-rdfc-2022"), "@context": [V2, "https://evil.example/ctx"]},
    ],
    ids=["not JSON", "no proof", "unknown context"],
)
def test_unusable_input_still_exits_2(make: Callable[[], Any]) -> None:
    from microcred.cli import app

    value = make()
    text = value if isinstance(value, str) else json.dumps(value)
    result = RUNNER.invoke(app, ["verify", "--no-status"], input=text)
    assert result.exit_code == 2, result.output
