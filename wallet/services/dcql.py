"""DCQL (OpenID4VP 1.0 §6, §7, B.1) from the holder's side: which of my credentials fit?

A credential query fits a stored credential when its ``format`` is ``ldp_vc``, one of the
``meta.type_values`` alternatives is a subset of the credential's *expanded* type IRIs
(expanded with the same offline contexts the proofs use, so ``OpenBadgeCredential`` and
its IRI are the same thing), and its claims are present (with one of the requested
``values`` when given; any one ``claim_sets`` option suffices when sets are given).

``credential_sets`` say which queries must be answered; without them every query must.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pyld import jsonld

from credentials.documents import DocumentLoader

FORMAT = "ldp_vc"
_QUERY_ID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
MAX_QUERIES = 20


class DcqlError(ValueError):
    """The query is malformed; the message says where."""


@dataclass(frozen=True)
class Claim:
    path: tuple[Any, ...]
    values: tuple[Any, ...] = ()
    id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": list(self.path)}
        if self.values:
            out["values"] = list(self.values)
        return out


@dataclass(frozen=True)
class CredentialQuery:
    id: str
    format: str
    type_values: tuple[tuple[str, ...], ...]
    claims: tuple[Claim, ...] = ()
    claim_sets: tuple[tuple[str, ...], ...] = ()
    multiple: bool = False
    vct_values: tuple[str, ...] = ()
    """For a ``dc+sd-jwt`` query: the SD-JWT VC types asked for (``meta.vct_values``)."""

    def describe(self) -> str:
        """What is asked, in words."""
        names = sorted({_short(t) for option in self.type_values for t in option})
        text = "a credential" + (f" of type {', '.join(names)}" if names else "")
        wanted = [
            f"{'.'.join(str(p) for p in c.path)} = {' or '.join(map(str, c.values))}"
            for c in self.claims
            if c.values
        ]
        if wanted:
            text += " with " + "; ".join(wanted)
        return ("one or more of " if self.multiple else "") + text

    def matching_claims(self, credential: dict[str, Any]) -> list[Claim] | None:
        """The claims that make ``credential`` fit, or None when it does not fit."""
        if self.format != FORMAT or not _types_fit(self.type_values, credential):
            return None
        if not self.claims:
            return []
        by_id = {c.id: c for c in self.claims if c.id}
        options = [[by_id[i] for i in option] for option in self.claim_sets] or [list(self.claims)]
        for option in options:
            if all(_claim_present(credential, claim) for claim in option):
                return option
        return None


@dataclass(frozen=True)
class CredentialSet:
    options: tuple[tuple[str, ...], ...]
    required: bool = True


@dataclass(frozen=True)
class DcqlQuery:
    credentials: tuple[CredentialQuery, ...]
    credential_sets: tuple[CredentialSet, ...] = field(default_factory=tuple)

    def required_ids(self) -> set[str]:
        """Queries that must be answered whatever option is picked (for the preview)."""
        if not self.credential_sets:
            return {q.id for q in self.credentials}
        required: set[str] = set()
        for cset in self.credential_sets:
            if cset.required and len(cset.options) == 1:
                required |= set(cset.options[0])
        return required

    def satisfied_by(self, answered: Iterable[str]) -> bool:
        done = set(answered)
        if not self.credential_sets:
            return all(q.id in done for q in self.credentials)
        return all(
            any(set(option) <= done for option in cset.options)
            for cset in self.credential_sets
            if cset.required
        )


def parse_dcql(data: Any) -> DcqlQuery:
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            raise DcqlError("dcql_query is not valid JSON") from None
    if not isinstance(data, dict):
        raise DcqlError("dcql_query must be an object")
    raw = data.get("credentials")
    if not isinstance(raw, list) or not raw or len(raw) > MAX_QUERIES:
        raise DcqlError(f"dcql_query.credentials must list 1 to {MAX_QUERIES} queries")
    queries = tuple(_parse_query(q, i) for i, q in enumerate(raw))
    ids = [q.id for q in queries]
    if len(set(ids)) != len(ids):
        raise DcqlError("credential query ids must be unique")
    sets = []
    for i, entry in enumerate(data.get("credential_sets") or []):
        options = entry.get("options") if isinstance(entry, dict) else None
        if (
            not isinstance(options, list)
            or not options
            or not all(isinstance(o, list) and o and all(x in ids for x in o) for o in options)
        ):
            raise DcqlError(f"credential_sets[{i}].options must list known query ids")
        required = entry.get("required", True)
        sets.append(CredentialSet(tuple(tuple(o) for o in options), required is not False))
    return DcqlQuery(queries, tuple(sets))


def _parse_query(raw: Any, index: int) -> CredentialQuery:
    where = f"dcql_query.credentials[{index}]"
    if not isinstance(raw, dict):
        raise DcqlError(f"{where} must be an object")
    query_id = raw.get("id")
    if not isinstance(query_id, str) or not _QUERY_ID.match(query_id):
        raise DcqlError(f"{where}.id must be letters, digits, _ or -")
    fmt = raw.get("format")
    if not isinstance(fmt, str):
        raise DcqlError(f"{where}.format is required")
    meta = raw.get("meta")
    if not isinstance(meta, dict):
        raise DcqlError(f"{where}.meta is required")
    type_values: tuple[tuple[str, ...], ...] = ()
    if fmt == FORMAT:
        tv = meta.get("type_values")
        if (
            not isinstance(tv, list)
            or not tv
            or not all(isinstance(o, list) and o and all(isinstance(t, str) for t in o) for o in tv)
        ):
            raise DcqlError(f"{where}.meta.type_values must be a non-empty list of type lists")
        type_values = tuple(tuple(o) for o in tv)
    claims = []
    for j, claim in enumerate(raw.get("claims") or []):
        path = claim.get("path") if isinstance(claim, dict) else None
        if (
            not isinstance(path, list)
            or not path
            or not all(
                p is None or isinstance(p, str) or (isinstance(p, int) and not isinstance(p, bool))
                for p in path
            )
        ):
            raise DcqlError(f"{where}.claims[{j}].path must be a non-empty path")
        values = claim.get("values") or []
        if not isinstance(values, list):
            raise DcqlError(f"{where}.claims[{j}].values must be a list")
        claim_id = claim.get("id")
        claims.append(
            Claim(tuple(path), tuple(values), claim_id if isinstance(claim_id, str) else None)
        )
    claim_sets = raw.get("claim_sets") or []
    known = {c.id for c in claims if c.id}
    if not isinstance(claim_sets, list) or not all(
        isinstance(s, list) and s and all(x in known for x in s) for s in claim_sets
    ):
        raise DcqlError(f"{where}.claim_sets must list claim ids")
    return CredentialQuery(
        id=query_id,
        format=fmt,
        type_values=type_values,
        claims=tuple(claims),
        claim_sets=tuple(tuple(s) for s in claim_sets),
        multiple=raw.get("multiple") is True,
        vct_values=tuple(v for v in (meta.get("vct_values") or []) if isinstance(v, str))
        if isinstance(meta.get("vct_values"), list)
        else (),
    )


def select_path(document: Any, path: Sequence[Any]) -> list[Any]:
    """The values ``path`` selects (DCQL §7.1): keys, array indexes, ``null`` = every element.

    A key applied to an array applies to each element, since JSON-LD lets a single-valued
    property be written as an object or a one-element array.
    """
    selection = [document]
    for component in path:
        nxt: list[Any] = []
        for item in selection:
            if component is None:
                if isinstance(item, list):
                    nxt.extend(item)
            elif isinstance(component, int):
                if isinstance(item, list) and 0 <= component < len(item):
                    nxt.append(item[component])
            elif isinstance(item, dict):
                if component in item:
                    nxt.append(item[component])
            elif isinstance(item, list):
                nxt.extend(x[component] for x in item if isinstance(x, dict) and component in x)
        selection = nxt
    return selection


def _claim_present(credential: dict[str, Any], claim: Claim) -> bool:
    found = select_path(credential, claim.path)
    if not found:
        return False
    if not claim.values:
        return True
    return any(value in claim.values for value in found)


def _types_fit(type_values: tuple[tuple[str, ...], ...], credential: dict[str, Any]) -> bool:
    offered = set(expanded_types(credential))
    return any(set(option) <= offered for option in type_values)


def expanded_types(credential: dict[str, Any]) -> tuple[str, ...]:
    """The credential's types as IRIs (plus the compact names, for lenient verifiers)."""
    context, types = credential.get("@context"), credential.get("type")
    names = types if isinstance(types, list) else [types]
    compact = tuple(t for t in names if isinstance(t, str))
    try:
        key = json.dumps([context, list(compact)], sort_keys=True)
    except (TypeError, ValueError):
        return compact
    return _expand(key) + compact


@lru_cache(maxsize=512)
def _expand(key: str) -> tuple[str, ...]:
    context, types = json.loads(key)
    try:
        expanded = jsonld.expand(
            {"@context": context, "type": types}, {"documentLoader": DocumentLoader(), "base": None}
        )
    except Exception:  # pyld raises several kinds; an unexpandable type simply does not fit
        return ()
    return tuple(expanded[0].get("@type", [])) if expanded else ()


def _short(iri: str) -> str:
    return re.split(r"[#/]", iri)[-1] or iri
