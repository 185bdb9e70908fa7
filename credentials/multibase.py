"""Multibase and multicodec: the text forms of keys and signatures.

Only the two bases the specs use: base58btc (``z``) for keys and proof values, base64url
without padding (``u``) for status lists. Decoding errors become ``KeyFormatError`` so a
bad value in a key file or a proof reads as one clear message.
"""

from __future__ import annotations

import base64
import binascii

from .errors import KeyFormatError

_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {c: i for i, c in enumerate(_ALPHABET)}

# multicodec varint prefixes (https://github.com/multiformats/multicodec)
ED25519_PUB = b"\xed\x01"
ED25519_PRIV = b"\x80\x26"
P256_PUB = b"\x80\x24"
P256_PRIV = b"\x86\x26"
P384_PUB = b"\x81\x24"  # p384-pub 0x1201
P384_PRIV = b"\x87\x26"  # p384-priv 0x1307


def b58encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = []
    while number:
        number, rem = divmod(number, 58)
        out.append(_ALPHABET[rem])
    leading = len(data) - len(data.lstrip(b"\0"))
    return "1" * leading + "".join(reversed(out))


# Keys and signatures are under 100 characters in base58btc. Decoding is quadratic in the
# length, so a megabyte-long proofValue or did:key would cost minutes of CPU per request.
MAX_BASE58_CHARS = 1024


def b58decode(text: str) -> bytes:
    if len(text) > MAX_BASE58_CHARS:
        raise KeyFormatError(
            f"a base58btc value longer than {MAX_BASE58_CHARS} characters is not a key "
            "or a signature"
        )
    number = 0
    for char in text:
        try:
            number = number * 58 + _INDEX[char]
        except KeyError:
            raise KeyFormatError(f"invalid base58btc character {char!r}") from None
    leading = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * leading + body


def encode_base58btc(data: bytes) -> str:
    return "z" + b58encode(data)


def encode_base64url(data: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def decode(value: str) -> bytes:
    """Decode a multibase string (``z`` base58btc or ``u`` base64url)."""
    if not isinstance(value, str) or len(value) < 2:
        raise KeyFormatError("a multibase value must be a non-empty string")
    prefix, body = value[0], value[1:]
    if prefix == "z":
        return b58decode(body)
    if prefix == "u":
        try:
            return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (binascii.Error, ValueError) as exc:
            raise KeyFormatError(f"invalid base64url multibase value: {exc}") from None
    raise KeyFormatError(f"unsupported multibase prefix {prefix!r} (expected 'z' or 'u')")
