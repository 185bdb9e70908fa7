"""Evidence of a recognition award: which credentials an award stands on, and whether a
presented stack is exactly those.

An award (a route certificate or an exemption, issue 17) references every credential it was
granted on in OB 3.0 ``evidence[]`` (name, issuer, ECTS, for people and OB 3.0 readers) and
in VC 2.0 ``relatedResource[]`` (the digest, for machines), joined on ``id``. The digest is
defined so that any implementation can recompute it from the credential as presented
(docs/recognition.md):

* a JSON credential: the RFC 8785 (JCS) canonical UTF-8 bytes of the whole object, proof
  included;
* a compact credential (VC-JWT, SD-JWT VC, a ``data:`` enveloped credential's payload): its
  UTF-8 bytes; an SD-JWT's trailing key-binding JWT is dropped first, because the holder
  makes a new one for every presentation;
* sha2-256, as a multihash (``0x12 0x20`` + 32 bytes), multibase base58btc (``z…``).

That is what ``credentials/model.py`` recomputes for ``relatedResource`` too.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import rfc8785

from . import multibase
from .errors import MalformedInput

SHA2_256 = b"\x12\x20"
DIGEST_URN = "urn:microcred:digest:"
"""Prefix of the evidence id of a credential that has no ``id`` of its own."""

_ENVELOPED = "EnvelopedVerifiableCredential"
_DESCRIPTION = re.compile(
    r"^(?:(?P<ects>\d+(?:[.,]\d+)?) ECTS — )?(?P<issuer>.*?)(?: \((?P<did>[^()\s]+)\))?$"
)

Status = Literal["found", "missing", "digest_mismatch"]


def _compact(credential: str) -> str:
    """An SD-JWT without its key-binding JWT (``…~<kb-jwt>`` → ``…~``); other strings as is."""
    if "~" in credential and not credential.endswith("~"):
        return credential[: credential.rindex("~") + 1]
    return credential


def _unwrap(credential: Mapping[str, Any] | str) -> Mapping[str, Any] | str:
    """The compact credential inside a VC 2.0 ``EnvelopedVerifiableCredential`` data: URL."""
    if isinstance(credential, Mapping):
        types = credential.get("type")
        types = types if isinstance(types, list) else [types]
        ident = credential.get("id")
        if _ENVELOPED in types and isinstance(ident, str) and ident.startswith("data:"):
            return ident.partition(",")[2]
    return credential


def credential_digest(credential: Mapping[str, Any] | str) -> str:
    """``digestMultibase`` of ``credential`` exactly as presented (module docstring)."""
    credential = _unwrap(credential)
    if isinstance(credential, str):
        data = _compact(credential).encode("utf-8")
    elif isinstance(credential, Mapping):
        try:
            data = rfc8785.dumps(dict(credential))
        except (rfc8785.CanonicalizationError, ValueError, TypeError, UnicodeError) as exc:
            raise MalformedInput(f"the credential cannot be canonicalised (JCS): {exc}") from None
    else:
        raise MalformedInput("a credential is a JSON object or a compact string")
    return multibase.encode_base58btc(SHA2_256 + hashlib.sha256(data).digest())


def evidence_id(credential: Mapping[str, Any] | str) -> str:
    """The id an award uses for ``credential``: its own ``id``, else a digest URN."""
    ident = _credential_id(credential)
    return ident or DIGEST_URN + credential_digest(credential)


def _credential_id(credential: Mapping[str, Any] | str) -> str | None:
    inner = _unwrap(credential)
    if isinstance(inner, Mapping):
        ident = inner.get("id")
        return ident if isinstance(ident, str) and ident else None
    from .reading import read_credential  # lazy: the readers pull in the profile and JOSE

    try:
        return read_credential(inner).credential_id
    except (MalformedInput, ValueError, TypeError, KeyError):
        return None


@dataclass(frozen=True)
class EvidenceRef:
    """One credential an award stands on, as the award itself records it."""

    id: str
    name: str | None
    issuer_id: str | None
    issuer_name: str | None
    ects: float | None
    digest: str | None


def evidence_entry(
    credential: Mapping[str, Any] | str,
    *,
    name: str,
    issuer_id: str | None,
    issuer_name: str | None,
    ects: float | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``evidence`` and ``relatedResource`` entries an award carries for ``credential``.

    Only terms of the OB 3.0 and VC 2.0 contexts, so independent verifiers expand them; the
    issuer and ECTS go into ``description`` in a fixed form :func:`evidence_refs` reads back.
    """
    ident = evidence_id(credential)
    parts = []
    if ects is not None:
        parts.append(f"{_number(ects)} ECTS — ")
    parts.append(issuer_name or issuer_id or "")
    if issuer_id and issuer_name:
        parts.append(f" ({issuer_id})")
    evidence = {
        "id": ident,
        "type": ["Evidence"],
        "name": name,
        "description": "".join(parts),
        "genre": "Microcredential",
    }
    related = {
        "id": ident,
        "digestMultibase": credential_digest(credential),
        "mediaType": "application/vc",
    }
    return evidence, related


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def evidence_refs(award: Mapping[str, Any]) -> list[EvidenceRef]:
    """The references of ``award``: ``evidence[]`` joined with ``relatedResource[]`` on id.

    A ``relatedResource`` without an evidence entry still counts (a digest is what binds); an
    evidence entry without a digest is listed with ``digest=None`` and can never be "found".
    """
    digests: dict[str, str | None] = {}
    for entry in _as_list(award.get("relatedResource")):
        if isinstance(entry, Mapping) and isinstance(entry.get("id"), str):
            value = entry.get("digestMultibase")
            digests[entry["id"]] = value if isinstance(value, str) else None
    refs: list[EvidenceRef] = []
    seen: set[str] = set()
    for entry in _as_list(award.get("evidence")):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("id"), str):
            continue
        ident = entry["id"]
        if ident in seen:
            continue
        seen.add(ident)
        name = entry.get("name") if isinstance(entry.get("name"), str) else None
        description = entry.get("description")
        match = _DESCRIPTION.match(description) if isinstance(description, str) else None
        ects = issuer_name = issuer = None
        if match:
            ects = float(match["ects"].replace(",", ".")) if match["ects"] else None
            issuer_name = match["issuer"] or None
            issuer = match["did"]
            if issuer is None and issuer_name and ":" in issuer_name and " " not in issuer_name:
                issuer, issuer_name = issuer_name, None  # "<did>" alone
        refs.append(EvidenceRef(ident, name, issuer, issuer_name, ects, digests.get(ident)))
    for ident, digest in digests.items():
        if ident not in seen and (ident.startswith(DIGEST_URN) or _is_vc_resource(award, ident)):
            seen.add(ident)
            refs.append(EvidenceRef(ident, None, None, None, None, digest))
    return refs


def _is_vc_resource(award: Mapping[str, Any], ident: str) -> bool:
    """A relatedResource that is a credential (not, say, a context file the award pins)."""
    for entry in _as_list(award.get("relatedResource")):
        if isinstance(entry, Mapping) and entry.get("id") == ident:
            media = entry.get("mediaType")
            return isinstance(media, str) and media.startswith("application/vc")
    return False


@dataclass(frozen=True)
class StackEntry:
    """The outcome for one reference; ``credential`` is the presented one that matched."""

    ref: EvidenceRef
    status: Status
    credential: Mapping[str, Any] | str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "found"


@dataclass(frozen=True)
class StackResult:
    """A presented award and its presented parts, compared reference by reference."""

    entries: tuple[StackEntry, ...]
    extra: tuple[Mapping[str, Any] | str, ...] = field(default=())
    """Presented credentials the award does not reference."""

    @property
    def modules(self) -> int:
        return len(self.entries)

    @property
    def institutions(self) -> int:
        return len({e.ref.issuer_id or e.ref.issuer_name or e.ref.id for e in self.entries})

    @property
    def missing(self) -> list[StackEntry]:
        return [e for e in self.entries if e.status == "missing"]

    @property
    def mismatched(self) -> list[StackEntry]:
        return [e for e in self.entries if e.status == "digest_mismatch"]

    @property
    def complete(self) -> bool:
        """Every reference presented with its exact digest."""
        return all(e.ok for e in self.entries)

    @property
    def intact(self) -> bool:
        """No presented part differs from what the award references (some may be missing)."""
        return not self.mismatched


def check_stack(award: Mapping[str, Any], others: Sequence[Mapping[str, Any] | str]) -> StackResult:
    """Match the credentials presented with ``award`` against its references.

    A reference is ``found`` when a presented credential has its digest, ``digest_mismatch``
    when one has its id but another digest (changed after the award), else ``missing``.
    """
    digested = [(other, credential_digest(other)) for other in others]
    used: set[int] = set()
    entries: list[StackEntry] = []
    for ref in evidence_refs(award):
        match = next(
            (i for i, (_, d) in enumerate(digested) if ref.digest and d == ref.digest), None
        )
        if match is not None:
            used.add(match)
            entries.append(StackEntry(ref, "found", digested[match][0]))
            continue
        same_id = next(
            (i for i, (o, _) in enumerate(digested) if i not in used and evidence_id(o) == ref.id),
            None,
        )
        if same_id is not None:
            used.add(same_id)
            entries.append(StackEntry(ref, "digest_mismatch", digested[same_id][0]))
        else:
            entries.append(StackEntry(ref, "missing"))
    extra = tuple(o for i, (o, _) in enumerate(digested) if i not in used)
    return StackResult(tuple(entries), extra)


__all__ = [
    "DIGEST_URN",
    "EvidenceRef",
    "StackEntry",
    "StackResult",
    "check_stack",
    "credential_digest",
    "evidence_entry",
    "evidence_id",
    "evidence_refs",
]
