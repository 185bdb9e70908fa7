"""IETF Token Status List (draft-ietf-oauth-status-list): the SD-JWT VC's revocation.

One list per institution, 2 bits per credential so that the same list says VALID (0),
INVALID (1, revoked) and SUSPENDED (2): the issuer's revoke and suspend actions write the
Bitstring Status Lists of the OB 3.0 credential and this list together.

Encoding, as the draft fixes it: the status of token ``idx`` sits in the
``bits``-wide field starting at bit ``idx * bits`` counted from the least significant bit
of byte 0 (the opposite order of the W3C Bitstring Status List), the byte array is
DEFLATE-compressed with the ZLIB format and base64url-encoded as ``status_list.lst``. The
list travels as a JWT with ``typ: statuslist+jwt`` whose ``sub`` is its own URI.
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidProof, MalformedInput, MicrocredError
from ..keys import Multikey
from . import jose

TYP = "statuslist+jwt"
MEDIA_TYPE = "application/statuslist+jwt"
VALID, INVALID, SUSPENDED = 0, 1, 2
STATUS_NAMES = {VALID: "valid", INVALID: "revoked", SUSPENDED: "suspended"}
DEFAULT_SIZE = 16 * 1024 * 8  # entries: herd privacy, as for the Bitstring lists
MAX_DECODED = 16 * 1024 * 1024


class StatusListTokenError(MicrocredError):
    """A status list token that cannot be used; ``code`` says why."""


@dataclass
class TokenStatusList:
    """A mutable list of ``bits``-wide statuses (1, 2, 4 or 8 bits per token)."""

    bits: int = 2
    size: int = DEFAULT_SIZE
    data: bytearray | None = None

    def __post_init__(self) -> None:
        if self.bits not in (1, 2, 4, 8):
            raise ValueError("bits must be 1, 2, 4 or 8")
        need = (self.size * self.bits + 7) // 8
        if self.data is None:
            self.data = bytearray(need)
        self.size = len(self.data) * 8 // self.bits

    def get(self, idx: int) -> int:
        if not 0 <= idx < self.size:
            raise IndexError(f"status index {idx} is outside the list (size {self.size})")
        assert self.data is not None
        bit = idx * self.bits
        return (self.data[bit // 8] >> (bit % 8)) & ((1 << self.bits) - 1)

    def set(self, idx: int, status: int) -> None:
        if not 0 <= status < (1 << self.bits):
            raise ValueError(f"status {status} does not fit in {self.bits} bits")
        self.get(idx)  # range check
        assert self.data is not None
        bit = idx * self.bits
        mask = ((1 << self.bits) - 1) << (bit % 8)
        self.data[bit // 8] = (self.data[bit // 8] & ~mask) | (status << (bit % 8))

    def encode(self) -> dict[str, Any]:
        """The ``status_list`` claim: ``{"bits", "lst"}``."""
        assert self.data is not None
        return {"bits": self.bits, "lst": jose.b64e(zlib.compress(bytes(self.data), 9))}

    @classmethod
    def decode(cls, claim: Any) -> TokenStatusList:
        if not isinstance(claim, dict) or claim.get("bits") not in (1, 2, 4, 8):
            raise StatusListTokenError("status_list needs bits 1/2/4/8", code="status_list_invalid")
        lst = claim.get("lst")
        if not isinstance(lst, str):
            raise StatusListTokenError("status_list.lst is missing", code="status_list_invalid")
        try:
            inflater = zlib.decompressobj()
            raw = inflater.decompress(jose.b64d(lst), MAX_DECODED)
            if inflater.unconsumed_tail:
                raise StatusListTokenError("status list too large", code="status_list_invalid")
        except (zlib.error, MalformedInput):
            raise StatusListTokenError(
                "status_list.lst is not zlib data", code="status_list_invalid"
            ) from None
        return cls(bits=claim["bits"], data=bytearray(raw))


def sign_status_list(
    status_list: TokenStatusList,
    uri: str,
    key: Multikey,
    *,
    issuer: str | None = None,
    kid: str | None = None,
    ttl: int = 300,
    valid_for: int = 86400,
    now: int | None = None,
) -> str:
    """The Status List Token: a JWT signed by the institution's key, ``sub`` its own URI."""
    moment = int(time.time()) if now is None else now
    payload: dict[str, Any] = {
        "sub": uri,
        "iat": moment,
        "exp": moment + valid_for,
        "ttl": ttl,
        "status_list": status_list.encode(),
    }
    if issuer:
        payload["iss"] = issuer
    header: dict[str, Any] = {"typ": TYP}
    if kid:
        header["kid"] = kid
    return jose.sign(header, payload, key)


def read_status_list_token(
    token: str, uri: str, keys: list[Multikey], *, now: int | None = None
) -> TokenStatusList:
    """The list in a Status List Token, after checking signature, ``typ``, ``sub`` and ``exp``."""
    try:
        header, payload = jose.decode(token.strip())
    except MalformedInput:
        raise StatusListTokenError("not a status list JWT", code="status_list_invalid") from None
    if header.get("typ") != TYP:
        raise StatusListTokenError("typ is not statuslist+jwt", code="status_list_invalid")
    for key in keys:
        try:
            jose.verify(token.strip(), key)
            break
        except InvalidProof:
            continue
    else:
        raise StatusListTokenError(
            "the status list is not signed by the issuer's key", code="status_list_signature"
        )
    if payload.get("sub") != uri:
        raise StatusListTokenError(
            "the status list's sub is not the URI it was fetched from", code="status_list_sub"
        )
    moment = int(time.time()) if now is None else now
    exp = payload.get("exp")
    if isinstance(exp, int | float) and exp < moment:
        raise StatusListTokenError("the status list has expired", code="status_list_expired")
    return TokenStatusList.decode(payload.get("status_list"))


def status_reference(uri: str, idx: int) -> dict[str, Any]:
    """The ``status`` claim of a Referenced Token."""
    return {"status_list": {"idx": idx, "uri": uri}}
