"""Bitstring Status List v1.0: the bitstring, its encoding, and the JSON pieces around it.

A status list is a long bitstring published by the issuer; each credential carries the
index of its own entry. Verifiers download the whole list, so they learn nothing about
which credential is being checked — that "herd privacy" only works if lists are long,
hence the spec's minimum of 131,072 entries, enforced here both when building a list and
when decoding one.

Encoding is fixed by the spec: GZIP the raw bytes, then multibase base64url without
padding (a leading ``u``). Entry ``i`` occupies ``status_size`` bits starting at bit
``i * status_size``, and bit 0 is the *most significant* bit of the first byte.

Decoding handles data from the network, so it is strict (only the ``u`` prefix, only the
base64url alphabet, exactly one complete GZIP member) and bounded: the decompressed size is
capped so a few kilobytes of crafted GZIP cannot expand into gigabytes of memory.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import re
import zlib
from datetime import UTC, datetime
from typing import Any, Literal

from .errors import StatusListError

__all__ = [
    "MAX_DECODED_BYTES",
    "MIN_LENGTH",
    "VC_V2_CONTEXT",
    "StatusList",
    "StatusPurpose",
    "status_entry",
    "status_list_credential",
]

MIN_LENGTH = 131_072
"""Minimum number of entries in a list (spec §2.2 / §3.2: 16 KiB of 1-bit entries)."""

MAX_DECODED_BYTES = 16 * 1024 * 1024
"""Upper bound on a decompressed list: 128 Mi one-bit entries, far beyond any real list."""

VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"

StatusPurpose = Literal["revocation", "suspension"]
_PURPOSES: tuple[str, ...] = ("revocation", "suspension")

_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


class StatusList:
    """A mutable bitstring of ``length`` entries of ``status_size`` bits each, all zero."""

    __slots__ = ("_bits", "length", "status_size")

    def __init__(self, length: int = MIN_LENGTH, status_size: int = 1) -> None:
        _check_status_size(status_size)
        if isinstance(length, bool) or not isinstance(length, int):
            raise StatusListError("the list length must be an integer", code="status_list_invalid")
        if length < MIN_LENGTH:
            raise StatusListError(
                f"a status list needs at least {MIN_LENGTH} entries for herd privacy, not {length}",
                code="status_list_too_short",
            )
        total_bits = length * status_size
        if (total_bits + 7) // 8 > MAX_DECODED_BYTES:
            raise StatusListError(
                f"a list of {length} entries of {status_size} bits is too large",
                code="status_list_too_large",
            )
        self.length = length
        self.status_size = status_size
        self._bits = bytearray((total_bits + 7) // 8)

    # -- entries

    def get(self, index: int) -> int:
        """The status value of entry ``index`` (0 means "not set" for every purpose)."""
        start = self._start(index)
        value = 0
        for bit in range(start, start + self.status_size):
            value = (value << 1) | ((self._bits[bit >> 3] >> (7 - (bit & 7))) & 1)
        return value

    def set(self, index: int, value: int) -> None:
        """Set entry ``index`` to ``value`` (0 ≤ value < 2**status_size)."""
        start = self._start(index)
        if isinstance(value, bool):
            value = int(value)
        if not isinstance(value, int) or not 0 <= value < (1 << self.status_size):
            raise StatusListError(
                f"status value {value!r} does not fit in {self.status_size} bit(s)",
                code="status_value_invalid",
            )
        for offset in range(self.status_size):
            bit = start + offset
            mask = 0x80 >> (bit & 7)
            if (value >> (self.status_size - 1 - offset)) & 1:
                self._bits[bit >> 3] |= mask
            else:
                self._bits[bit >> 3] &= ~mask & 0xFF

    def set_indexes(self) -> list[int]:
        """Indexes of all non-zero entries (for tests, admin views and diagnostics)."""
        if self.status_size == 1:
            found: list[int] = []
            for byte_index, byte in enumerate(self._bits):
                if byte:
                    base = byte_index * 8
                    found.extend(
                        base + i for i in range(8) if byte & (0x80 >> i) and base + i < self.length
                    )
            return found
        return [i for i in range(self.length) if self.get(i)]

    def __len__(self) -> int:
        return self.length

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StatusList):
            return NotImplemented
        return (
            self.length == other.length
            and self.status_size == other.status_size
            and self._bits == other._bits
        )

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"StatusList(length={self.length}, status_size={self.status_size})"

    def to_bytes(self) -> bytes:
        """The raw (uncompressed) bitstring."""
        return bytes(self._bits)

    def _start(self, index: int) -> int:
        if isinstance(index, bool) or not isinstance(index, int):
            raise StatusListError(
                f"status list index {index!r} is not an integer", code="status_index_out_of_range"
            )
        if not 0 <= index < self.length:
            raise StatusListError(
                f"status list index {index} is outside 0..{self.length - 1}",
                code="status_index_out_of_range",
            )
        return index * self.status_size

    # -- encoding

    def encode(self) -> str:
        """``encodedList``: GZIP, then multibase base64url without padding.

        ``mtime=0`` makes the output deterministic, so re-publishing an unchanged list
        yields the same bytes (and the same signature input).
        """
        compressed = gzip.compress(bytes(self._bits), compresslevel=9, mtime=0)
        return "u" + base64.urlsafe_b64encode(compressed).decode("ascii").rstrip("=")

    @classmethod
    def decode(cls, encoded: str, status_size: int = 1) -> StatusList:
        """Parse an ``encodedList`` value; raises StatusListError for anything malformed."""
        _check_status_size(status_size)
        raw = _gunzip_bounded(_multibase_base64url(encoded))
        if not raw:
            raise StatusListError("the status list is empty", code="status_list_too_short")
        length = len(raw) * 8 // status_size
        if length < MIN_LENGTH:
            raise StatusListError(
                f"the status list has {length} entries; at least {MIN_LENGTH} are required",
                code="status_list_too_short",
            )
        instance = cls.__new__(cls)
        instance.length = length
        instance.status_size = status_size
        instance._bits = bytearray(raw)
        return instance


def _check_status_size(status_size: int) -> None:
    if isinstance(status_size, bool) or not isinstance(status_size, int) or status_size < 1:
        raise StatusListError(
            f"statusSize must be a positive integer, not {status_size!r}",
            code="status_list_invalid",
        )
    if status_size > 32:
        # The spec gives no bound, but statusMessage must list 2**statusSize values, so
        # anything large is nonsense; refusing it keeps get() cheap.
        raise StatusListError(f"statusSize {status_size} is too large", code="status_list_invalid")


def _multibase_base64url(encoded: str) -> bytes:
    if not isinstance(encoded, str) or not encoded:
        raise StatusListError("encodedList must be a non-empty string", code="status_list_invalid")
    if encoded[0] != "u":
        raise StatusListError(
            f"encodedList must use multibase base64url ('u' prefix), not {encoded[0]!r}",
            code="status_list_invalid",
        )
    # Padding is not part of multibase 'u', but tolerating a trailing '=' costs nothing.
    body = encoded[1:].rstrip("=")
    if len(body) > (MAX_DECODED_BYTES * 4) // 3 + 4:
        raise StatusListError("encodedList is too long", code="status_list_too_large")
    if not _BASE64URL.fullmatch(body) or len(body) % 4 == 1:
        raise StatusListError("encodedList is not valid base64url", code="status_list_invalid")
    try:
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise StatusListError(
            "encodedList is not valid base64url", code="status_list_invalid"
        ) from None


def _gunzip_bounded(data: bytes, limit: int = MAX_DECODED_BYTES) -> bytes:
    decoder = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # GZIP framing only
    try:
        out = decoder.decompress(data, limit + 1)
        if len(out) > limit or decoder.unconsumed_tail:
            raise StatusListError(
                f"the status list decompresses to more than {limit} bytes",
                code="status_list_too_large",
            )
        out += decoder.flush()
    except zlib.error as exc:
        raise StatusListError(
            f"encodedList is not valid GZIP: {exc}", code="status_list_invalid"
        ) from None
    if len(out) > limit:
        raise StatusListError(
            f"the status list decompresses to more than {limit} bytes",
            code="status_list_too_large",
        )
    if not decoder.eof:
        raise StatusListError("encodedList GZIP data is truncated", code="status_list_invalid")
    if decoder.unused_data:
        raise StatusListError(
            "encodedList has data after the GZIP stream", code="status_list_invalid"
        )
    return out


# --------------------------------------------------------------------------- JSON pieces


def _check_purpose(purpose: str) -> None:
    if purpose not in _PURPOSES:
        raise StatusListError(
            f"statusPurpose must be one of {', '.join(_PURPOSES)}, not {purpose!r}",
            code="status_list_invalid",
        )


def status_entry(list_url: str, index: int, purpose: StatusPurpose) -> dict[str, Any]:
    """The ``credentialStatus`` entry pointing at entry ``index`` of the list at ``list_url``.

    ``statusListIndex`` is a base-10 string, as the spec's examples and context require.
    """
    _check_purpose(purpose)
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise StatusListError(
            f"status list index must be a non-negative integer, not {index!r}",
            code="status_index_out_of_range",
        )
    return {
        "id": f"{list_url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def status_list_credential(
    list_url: str,
    issuer: str | dict[str, Any],
    purpose: StatusPurpose,
    encoded: str,
    valid_from: datetime | str | None = None,
    valid_until: datetime | str | None = None,
    *,
    ttl_ms: int | None = None,
) -> dict[str, Any]:
    """An unsigned BitstringStatusListCredential (VCDM 2.0) ready to be signed.

    Only the v2 context is needed: it defines every Bitstring Status List term.
    ``ttl_ms`` is the spec's optional refresh hint, in milliseconds.
    """
    _check_purpose(purpose)
    subject: dict[str, Any] = {
        "id": f"{list_url}#list",
        "type": "BitstringStatusList",
        "statusPurpose": purpose,
        "encodedList": encoded,
    }
    if ttl_ms is not None:
        if isinstance(ttl_ms, bool) or not isinstance(ttl_ms, int) or ttl_ms < 0:
            raise StatusListError("ttl must be a non-negative integer (milliseconds)")
        subject["ttl"] = ttl_ms
    credential: dict[str, Any] = {
        "@context": [VC_V2_CONTEXT],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
    }
    if valid_from is not None:
        credential["validFrom"] = _datetime_stamp(valid_from)
    if valid_until is not None:
        credential["validUntil"] = _datetime_stamp(valid_until)
    credential["credentialSubject"] = subject
    return credential


def _datetime_stamp(value: datetime | str) -> str:
    """XSD dateTimeStamp in UTC with a ``Z``; naive datetimes are taken to be UTC."""
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC).replace(microsecond=0)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")
