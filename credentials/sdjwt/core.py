"""SD-JWT (IETF draft-ietf-oauth-selective-disclosure-jwt): issue, present, check.

An SD-JWT is ``<issuer JWS>~<disclosure>~…~`` optionally followed by a Key Binding JWT.
Each selectively disclosable claim leaves only a digest in the signed payload (``_sd`` for
object members, ``{"...": digest}`` for array elements); its value travels in a disclosure,
``base64url(JSON([salt, name, value]))`` or ``[salt, value]``, that the holder may drop.

Why a frame and not annotations in the payload: the caller states which paths may be left
out (``{"_sd": ["email"], "result": {"_sd": ["grade"]}}``, the same shape as the
OpenWallet Foundation library's DisclosureFrame), so the payload stays plain JSON and one
mapping serves both the SD-JWT VC and the OB 3.0 credential.

Checking is split in two: :func:`reconstruct` (digests and disclosures, no keys) and
:func:`check_key_binding` (the KB-JWT against the ``cnf`` key); each raises
:class:`SdJwtError` whose ``code`` names the reason, and the verifier turns it into a check.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidProof, MalformedInput, MicrocredError
from ..keys import Multikey
from . import jose

SD_ALG = "sha-256"
KB_TYP = "kb+jwt"
_RESERVED = frozenset({"_sd", "..."})
MAX_DISCLOSURES = 1000


class SdJwtError(MicrocredError):
    """An SD-JWT that cannot be accepted; ``code`` says why (e.g. ``disclosure_not_in_sd``)."""


def digest(text: str) -> str:
    """base64url(SHA-256(ASCII text)): the digest of a disclosure or of the presented SD-JWT."""
    return jose.b64e(hashlib.sha256(text.encode("ascii")).digest())


@dataclass(frozen=True)
class Disclosure:
    """One disclosure: its encoded form, and the claim it reveals (``name`` None in arrays)."""

    encoded: str
    salt: str
    name: str | None
    value: Any

    @property
    def digest(self) -> str:
        return digest(self.encoded)

    @classmethod
    def make(cls, name: str | None, value: Any) -> Disclosure:
        salt = jose.b64e(secrets.token_bytes(16))
        items = [salt, value] if name is None else [salt, name, value]
        encoded = jose.b64e(json.dumps(items, ensure_ascii=False).encode())
        return cls(encoded, salt, name, value)

    @classmethod
    def parse(cls, encoded: str) -> Disclosure:
        try:
            items = json.loads(jose.b64d(encoded))
        except (ValueError, RecursionError, MalformedInput):
            raise SdJwtError(
                "a disclosure is not base64url JSON", code="invalid_disclosure"
            ) from None
        if not isinstance(items, list) or len(items) not in (2, 3) or not isinstance(items[0], str):
            raise SdJwtError(
                "a disclosure must be [salt, (name,) value]", code="invalid_disclosure"
            )
        if len(items) == 3:
            if not isinstance(items[1], str) or items[1] in _RESERVED:
                raise SdJwtError("a disclosure names a reserved claim", code="invalid_disclosure")
            return cls(encoded, items[0], items[1], items[2])
        return cls(encoded, items[0], None, items[1])


@dataclass
class SdJwt:
    """A parsed SD-JWT: issuer JWS, disclosures, optional KB-JWT."""

    issuer_jwt: str
    disclosures: list[Disclosure] = field(default_factory=list)
    kb_jwt: str | None = None

    @property
    def header(self) -> dict[str, Any]:
        return jose.decode(self.issuer_jwt)[0]

    @property
    def payload(self) -> dict[str, Any]:
        return jose.decode(self.issuer_jwt)[1]

    def serialize(self) -> str:
        """The compact form; without a KB-JWT it ends in ``~`` (what ``sd_hash`` covers)."""
        body = "~".join([self.issuer_jwt, *(d.encoded for d in self.disclosures)]) + "~"
        return body + (self.kb_jwt or "")

    @property
    def presented_part(self) -> str:
        """The string ``sd_hash`` is computed over: everything up to the KB-JWT."""
        return "~".join([self.issuer_jwt, *(d.encoded for d in self.disclosures)]) + "~"

    @classmethod
    def parse(cls, text: str) -> SdJwt:
        if not isinstance(text, str) or "~" not in text:
            raise SdJwtError("an SD-JWT has '~'-separated parts", code="invalid_sd_jwt")
        parts = text.strip().split("~")
        if len(parts) > MAX_DISCLOSURES + 2:
            raise SdJwtError("too many disclosures", code="invalid_sd_jwt")
        issuer_jwt, *middle, last = parts
        try:
            jose.decode(issuer_jwt)
        except MalformedInput:
            raise SdJwtError(
                "the issuer-signed JWT is not a compact JWS", code="invalid_sd_jwt"
            ) from None
        if any(not part for part in middle):
            raise SdJwtError("an empty disclosure", code="invalid_sd_jwt")
        return cls(issuer_jwt, [Disclosure.parse(d) for d in middle], last or None)


# ------------------------------------------------------------------------------- issuing


def _apply_frame(value: Any, frame: Any, out: list[Disclosure]) -> Any:
    """``value`` with the members/elements the frame lists replaced by digests."""
    if not isinstance(frame, dict):
        return value
    sd = frame.get("_sd", [])
    if isinstance(value, dict):
        result: dict[str, Any] = {}
        digests: list[str] = []
        for name, member in value.items():
            inner = _apply_frame(member, frame.get(name), out)
            if name in sd:
                disclosure = Disclosure.make(name, inner)
                out.append(disclosure)
                digests.append(disclosure.digest)
            else:
                result[name] = inner
        for _ in range(int(frame.get("_decoys", 0))):
            digests.append(digest(jose.b64e(secrets.token_bytes(16))))
        if digests:
            result["_sd"] = sorted(digests)
        return result
    if isinstance(value, list):
        items: list[Any] = []
        for index, element in enumerate(value):
            inner = _apply_frame(element, frame.get(index, frame.get(str(index))), out)
            if index in sd or str(index) in sd:
                disclosure = Disclosure.make(None, inner)
                out.append(disclosure)
                items.append({"...": disclosure.digest})
            else:
                items.append(inner)
        return items
    return value


def issue(
    payload: dict[str, Any],
    frame: dict[str, Any],
    key: Multikey,
    *,
    typ: str = "dc+sd-jwt",
    header: dict[str, Any] | None = None,
) -> SdJwt:
    """Sign ``payload`` with the claims ``frame`` names made selectively disclosable."""
    disclosures: list[Disclosure] = []
    body = _apply_frame(payload, frame, disclosures)
    body["_sd_alg"] = SD_ALG
    issuer_jwt = jose.sign({"typ": typ, **(header or {})}, body, key)
    return SdJwt(issuer_jwt, disclosures)


# ------------------------------------------------------------------------------ presenting


def select(sd_jwt: SdJwt, keep: set[str]) -> SdJwt:
    """A copy keeping only the disclosures whose claim path (``a.b``) is in ``keep``.

    Paths are the dotted names of the reconstructed claims; a disclosure nested inside a
    kept one is kept only when its own path is listed, and an outer disclosure is kept when
    any path below it is kept (the digest of the inner one lives inside it).
    """
    paths = disclosure_paths(sd_jwt)
    chosen = []
    for disclosure in sd_jwt.disclosures:
        path = paths.get(disclosure.digest, "")
        if path in keep or any(k.startswith(path + ".") for k in keep):
            chosen.append(disclosure)
    return SdJwt(sd_jwt.issuer_jwt, chosen)


def disclosure_paths(sd_jwt: SdJwt) -> dict[str, str]:
    """digest -> dotted claim path of each disclosure (array elements by index)."""
    by_digest = {d.digest: d for d in sd_jwt.disclosures}
    found: dict[str, str] = {}

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict):
            for dg in node.get("_sd", []) if isinstance(node.get("_sd"), list) else []:
                disclosure = by_digest.get(dg)
                if disclosure is not None and disclosure.name is not None:
                    path = f"{prefix}{disclosure.name}"
                    found[dg] = path
                    walk(disclosure.value, path + ".")
            for name, value in node.items():
                if name not in ("_sd", "_sd_alg"):
                    walk(value, f"{prefix}{name}.")
        elif isinstance(node, list):
            for index, element in enumerate(node):
                if isinstance(element, dict) and set(element) == {"..."}:
                    disclosure = by_digest.get(element["..."])
                    if disclosure is not None:
                        found[element["..."]] = f"{prefix}{index}"
                        walk(disclosure.value, f"{prefix}{index}.")
                else:
                    walk(element, f"{prefix}{index}.")

    walk(sd_jwt.payload, "")
    return found


def key_binding_jwt(
    sd_jwt: SdJwt, holder: Multikey, *, audience: str, nonce: str, issued_at: int | None = None
) -> str:
    """The KB-JWT over ``sd_jwt`` (``typ kb+jwt``; ``iat``, ``aud``, ``nonce``, ``sd_hash``)."""
    claims = {
        "iat": int(time.time()) if issued_at is None else issued_at,
        "aud": audience,
        "nonce": nonce,
        "sd_hash": digest(sd_jwt.presented_part),
    }
    return jose.sign({"typ": KB_TYP}, claims, holder)


def present(
    sd_jwt: SdJwt,
    keep: set[str],
    holder: Multikey | None = None,
    *,
    audience: str = "",
    nonce: str = "",
    issued_at: int | None = None,
) -> str:
    """The presentation: chosen disclosures and, with a holder key, a KB-JWT."""
    shown = select(sd_jwt, keep)
    if holder is not None:
        shown.kb_jwt = key_binding_jwt(
            shown, holder, audience=audience, nonce=nonce, issued_at=issued_at
        )
    return shown.serialize()


# ------------------------------------------------------------------------------- checking


def reconstruct(sd_jwt: SdJwt) -> dict[str, Any]:
    """The claims with every presented disclosure put back; SdJwtError when one is wrong.

    Refused: an unsupported ``_sd_alg``, a disclosure whose digest no ``_sd`` / ``...``
    entry lists (``disclosure_not_in_sd``), a digest met twice, and a disclosed name that
    the payload already has.
    """
    payload = sd_jwt.payload
    alg = payload.get("_sd_alg", SD_ALG)
    if alg != SD_ALG:
        raise SdJwtError(f"_sd_alg {alg!r} is not supported", code="unsupported_sd_alg")
    by_digest: dict[str, Disclosure] = {}
    for disclosure in sd_jwt.disclosures:
        if disclosure.digest in by_digest:
            raise SdJwtError("the same disclosure is presented twice", code="duplicate_disclosure")
        by_digest[disclosure.digest] = disclosure
    used: set[str] = set()
    seen: set[str] = set()

    def take(dg: Any) -> Disclosure | None:
        if not isinstance(dg, str):
            raise SdJwtError("a digest is not a string", code="invalid_sd_jwt")
        if dg in seen:
            raise SdJwtError("a digest appears more than once", code="duplicate_digest")
        seen.add(dg)
        found = by_digest.get(dg)
        if found is not None:
            used.add(dg)
        return found

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out: dict[str, Any] = {}
            for name, value in node.items():
                if name not in ("_sd", "_sd_alg"):
                    out[name] = walk(value)
            sd = node.get("_sd", [])
            if not isinstance(sd, list):
                raise SdJwtError("_sd must be an array", code="invalid_sd_jwt")
            for dg in sd:
                disclosure = take(dg)
                if disclosure is None:
                    continue  # withheld by the holder, or a decoy
                if disclosure.name is None:
                    raise SdJwtError("an array disclosure in _sd", code="invalid_disclosure")
                if disclosure.name in out:
                    raise SdJwtError(
                        f"disclosed claim {disclosure.name!r} already exists",
                        code="claim_conflict",
                    )
                out[disclosure.name] = walk(disclosure.value)
            return out
        if isinstance(node, list):
            items: list[Any] = []
            for element in node:
                if isinstance(element, dict) and set(element) == {"..."}:
                    disclosure = take(element["..."])
                    if disclosure is None:
                        continue
                    if disclosure.name is not None:
                        raise SdJwtError(
                            "an object disclosure in an array", code="invalid_disclosure"
                        )
                    items.append(walk(disclosure.value))
                else:
                    items.append(walk(element))
            return items
        return node

    try:
        claims = walk(payload)
    except RecursionError:
        raise SdJwtError("the claims are nested too deeply", code="invalid_sd_jwt") from None
    stray = set(by_digest) - used
    if stray:
        raise SdJwtError(
            f"{len(stray)} disclosure(s) not referenced by any _sd digest",
            code="disclosure_not_in_sd",
        )
    return claims


def holder_key(payload: dict[str, Any]) -> Multikey | None:
    """The holder's key from ``cnf.jwk`` (None when the credential is not key-bound)."""
    cnf = payload.get("cnf")
    if not isinstance(cnf, dict) or not isinstance(cnf.get("jwk"), dict):
        return None
    try:
        return jose.key_from_jwk(cnf["jwk"])
    except MicrocredError:
        raise SdJwtError("cnf.jwk is not a supported public key", code="invalid_cnf") from None


def check_key_binding(
    sd_jwt: SdJwt,
    *,
    audience: str | None,
    nonce: str | None,
    now: int | None = None,
    max_age: int = 300,
    skew: int = 60,
) -> dict[str, Any]:
    """The KB-JWT's claims when it binds this presentation to the ``cnf`` key, for this
    audience and nonce, issued within ``max_age`` seconds; SdJwtError naming the reason."""
    if not sd_jwt.kb_jwt:
        raise SdJwtError("no Key Binding JWT was presented", code="kb_missing")
    key = holder_key(sd_jwt.payload)
    if key is None:
        raise SdJwtError("the credential has no cnf key to bind to", code="invalid_cnf")
    try:
        header, claims = jose.verify(sd_jwt.kb_jwt, key)
    except MalformedInput:
        raise SdJwtError("the KB-JWT is not a compact JWS", code="kb_invalid") from None
    except InvalidProof as exc:
        raise SdJwtError(f"the KB-JWT signature: {exc}", code="kb_signature") from None
    if header.get("typ") != KB_TYP:
        raise SdJwtError("the KB-JWT typ is not kb+jwt", code="kb_invalid")
    if claims.get("sd_hash") != digest(sd_jwt.presented_part):
        raise SdJwtError("sd_hash does not match the presented SD-JWT", code="kb_sd_hash")
    if audience is not None and claims.get("aud") != audience:
        raise SdJwtError(
            f"the KB-JWT is for audience {claims.get('aud')!r}, not this verifier",
            code="kb_audience",
        )
    if nonce is not None and claims.get("nonce") != nonce:
        raise SdJwtError("the KB-JWT nonce is not the one this request issued", code="kb_nonce")
    iat = claims.get("iat")
    moment = int(time.time()) if now is None else now
    if not isinstance(iat, int | float) or isinstance(iat, bool):
        raise SdJwtError("the KB-JWT has no iat", code="kb_invalid")
    if iat > moment + skew or iat < moment - max_age - skew:
        raise SdJwtError("the KB-JWT is not fresh (iat out of range)", code="kb_stale")
    return claims
