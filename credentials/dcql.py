"""DCQL, the Digital Credentials Query Language (OpenID4VP 1.0 §6, §7, B.1), from both sides.

*The verifier asks* (``RequestSpec`` → ``queries_for`` → ``dcql_query``). An employer asks
in words a person uses ("an Open Badge", "the module Data Wrangling", "whatever counts for
the Minor Data Science"); the verifier turns that into credential queries and later checks
that what came back is what was asked (``RequestedCredential.matches``):

* a module given as a URL (``https://…``, ``urn:…``) is matched on the achievement ``id``,
  any other module on the achievement ``name``; each module is its own required query;
* a route rule asks for any number (``multiple: true``) of Open Badges credentials; the
  rule itself is evaluated after verification;
* with neither, one credential of the requested types is asked for.

*The holder answers* (``parse_dcql`` → ``DcqlQuery``). A credential query fits a stored
credential when its ``format`` is ``ldp_vc``, one of the ``meta.type_values`` alternatives
is a subset of the credential's *expanded* type IRIs, and its claims are present (with one
of the requested ``values`` when given; any one ``claim_sets`` option suffices when sets are
given). ``credential_sets`` say which queries must be answered; without them every query
must.

Both sides expand type names to IRIs with the same offline contexts the proofs use (§B.1.1:
``type_values`` holds expanded IRIs; ``OpenBadgeCredential`` and its IRI are one type),
never by string concatenation. A malformed query is an error with a code (``DcqlError``,
``invalid_dcql_query``; a verifier's own request: ``invalid_presentation_request``); a
credential that does not fit is simply not selected. Nothing here swallows an arbitrary
exception: only the JSON-LD processor's own errors are caught, where they mean "does not
fit".
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from pyld import jsonld

from contexts import CREDENTIALS_V2, MICROCRED_V1, OB_V3P0

from .documents import DocumentLoader
from .errors import MalformedInput, MicrocredError
from .rules import Route

FORMAT = "ldp_vc"
SD_JWT_FORMAT = "dc+sd-jwt"
FORMATS = (FORMAT, SD_JWT_FORMAT)
#: Most credential queries a holder accepts in one request (more is only work for the wallet).
MAX_QUERIES = 20
#: Most modules (and vct values) a verifier asks for at once.
MAX_MODULES = 20
DEFAULT_TYPES: tuple[str, ...] = ("VerifiableCredential", "OpenBadgeCredential")
ACHIEVEMENT_ID = ("credentialSubject", "achievement", "id")
ACHIEVEMENT_NAME = ("credentialSubject", "achievement", "name")
#: where the SD-JWT VC claims carry what ACHIEVEMENT_ID / ACHIEVEMENT_NAME point at
SD_JWT_PATHS: dict[tuple[str, ...], tuple[str, ...]] = {
    ACHIEVEMENT_ID: ("achievement_id",),
    ACHIEVEMENT_NAME: ("title",),
}
#: the contexts a verifier's type names are expanded in
REQUEST_CONTEXT = (CREDENTIALS_V2, OB_V3P0, MICROCRED_V1)
_QUERY_ID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
_TYPE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.:-]{0,99}$")
#: what the JSON-LD processor raises for a context or type it cannot expand
_EXPANSION_ERRORS = (jsonld.JsonLdError, MicrocredError, TypeError, ValueError, KeyError)


class DcqlError(MalformedInput):
    """The DCQL query is malformed; the message says where."""

    code = "invalid_dcql_query"


def _invalid(message: str) -> MalformedInput:
    return MalformedInput(message, code="invalid_presentation_request")


# ------------------------------------------------------------------------ type expansion


@lru_cache(maxsize=512)
def _expand(key: str) -> tuple[str, ...]:
    """The ``@type`` IRIs of ``{"@context": ..., "type": ...}`` (JSON in ``key``, for the
    cache), or one of ``_EXPANSION_ERRORS``."""
    context, types = json.loads(key)
    expanded = jsonld.expand(
        {"@context": context, "type": types}, {"documentLoader": DocumentLoader(), "base": None}
    )
    return tuple(dict.fromkeys(expanded[0].get("@type", []))) if expanded else ()


def type_iris(types: tuple[str, ...]) -> tuple[str, ...]:
    """The type IRIs DCQL's ``type_values`` needs, for type names a verifier asks for
    (expanded in ``REQUEST_CONTEXT``; a name no context defines stays as given, §B.1.1).
    ``invalid_presentation_request`` when the names cannot be expanded at all."""
    try:
        return _expand(json.dumps([list(REQUEST_CONTEXT), list(types)]))
    except _EXPANSION_ERRORS as exc:
        raise _invalid(f"the credential types cannot be expanded: {exc}") from None


def credential_type_iris(credential: dict[str, Any]) -> tuple[str, ...]:
    """A credential's types as IRIs in its own contexts, plus the compact names (for
    verifiers that send those). A credential whose types do not expand (an unknown
    context) offers its compact names only: it then fits fewer queries, which is right."""
    context, types = credential.get("@context"), credential.get("type")
    names = types if isinstance(types, list) else [types]
    compact = tuple(t for t in names if isinstance(t, str))
    try:
        return _expand(json.dumps([context, list(compact)], sort_keys=True)) + compact
    except _EXPANSION_ERRORS:
        return compact


# ------------------------------------------------------------- the holder: parsed queries


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
    """The query in ``data`` (an object, or its JSON text), or ``DcqlError`` saying where
    it is malformed."""
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
    offered = set(credential_type_iris(credential))
    return any(set(option) <= offered for option in type_values)


# ------------------------------------------------------------ the verifier: asking for


@dataclass(frozen=True)
class RequestSpec:
    """What the verifier asks for, as the employer put it (stored with the request)."""

    credential_types: tuple[str, ...] = DEFAULT_TYPES
    modules: tuple[str, ...] = ()
    rule: Mapping[str, Any] | None = None
    formats: tuple[str, ...] = (FORMAT,)
    """``ldp_vc``, ``dc+sd-jwt`` or both (issue 19: "either format" via credential_sets)."""
    vct_values: tuple[str, ...] = ()
    """The SD-JWT VC types accepted (DCQL ``meta.vct_values``; required for dc+sd-jwt)."""

    @classmethod
    def parse(
        cls,
        credential_types: Sequence[str] | None,
        modules: Sequence[str] | None,
        rule: Mapping[str, Any] | None,
        formats: Sequence[str] | None = None,
        vct_values: Sequence[str] | None = None,
    ) -> RequestSpec:
        types = list(credential_types or DEFAULT_TYPES)
        for name in types:
            if not isinstance(name, str) or not _TYPE_NAME.match(name):
                raise _invalid(f"credential type {name!r} is not a type name")
        if "VerifiableCredential" not in types:
            types.insert(0, "VerifiableCredential")
        wanted = [m.strip() for m in modules or [] if isinstance(m, str)]
        if len(wanted) != len(modules or []) or any(not m or len(m) > 300 for m in wanted):
            raise _invalid("modules must be non-empty names or achievement ids (≤ 300 chars)")
        if len(wanted) > MAX_MODULES:
            raise _invalid(f"at most {MAX_MODULES} modules can be asked for at once")
        if rule is not None:
            Route.from_dict(rule)  # refuse a bad rule now, not when the learner answers
        kinds = tuple(dict.fromkeys(formats or (FORMAT,)))
        if not kinds or any(f not in FORMATS for f in kinds):
            raise _invalid(f"formats must be among {', '.join(FORMATS)}")
        vcts = tuple(dict.fromkeys(v for v in vct_values or () if isinstance(v, str) and v))
        if SD_JWT_FORMAT in kinds and not vcts:
            raise _invalid("asking for dc+sd-jwt needs vct_values (the SD-JWT VC types accepted)")
        if len(vcts) > MAX_MODULES or any(len(v) > 300 for v in vcts):
            raise _invalid(f"at most {MAX_MODULES} vct_values of at most 300 characters")
        return cls(tuple(dict.fromkeys(types)), tuple(dict.fromkeys(wanted)), rule, kinds, vcts)

    @property
    def route(self) -> Route | None:
        return Route.from_dict(self.rule) if self.rule is not None else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "credential_types": list(self.credential_types),
            "modules": list(self.modules),
            "rule": dict(self.rule) if self.rule is not None else None,
            "formats": list(self.formats),
            "vct_values": list(self.vct_values),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RequestSpec:
        return cls.parse(
            data.get("credential_types"),
            data.get("modules"),
            data.get("rule"),
            data.get("formats"),
            data.get("vct_values"),
        )


@dataclass(frozen=True)
class RequestedCredential:
    """One credential query a verifier sends, and the means to check an answer against it."""

    id: str
    types: tuple[str, ...]
    multiple: bool = False
    claim_path: tuple[str, ...] | None = None
    claim_values: tuple[str, ...] = ()
    label: str = ""
    format: str = FORMAT
    vct_values: tuple[str, ...] = ()
    group: str = ""
    """The logical query this one answers (its alternatives in other formats share it)."""

    def to_dcql(self) -> dict[str, Any]:
        if self.format == SD_JWT_FORMAT:
            return self._sd_jwt_dcql()
        query: dict[str, Any] = {
            "id": self.id,
            "format": FORMAT,
            "meta": {"type_values": [list(type_iris(self.types))]},
        }
        if self.multiple:
            query["multiple"] = True
        if self.claim_path is not None:
            query["claims"] = [{"path": list(self.claim_path), "values": list(self.claim_values)}]
        return query

    def _sd_jwt_dcql(self) -> dict[str, Any]:
        query: dict[str, Any] = {
            "id": self.id,
            "format": SD_JWT_FORMAT,
            "meta": {"vct_values": list(self.vct_values)},
        }
        if self.multiple:
            query["multiple"] = True
        if self.claim_path is not None:
            path = SD_JWT_PATHS.get(self.claim_path, self.claim_path)
            query["claims"] = [{"path": list(path), "values": list(self.claim_values)}]
        return query

    def matches(self, credential: Any) -> bool:
        """Whether a verified ``credential`` (or an SD-JWT VC's disclosed claims) is an
        answer to this query: its types and the asked claim value."""
        if not isinstance(credential, dict):
            return False
        if self.format == SD_JWT_FORMAT:  # the disclosed claims of an SD-JWT VC
            if credential.get("vct") not in self.vct_values:
                return False
            if self.claim_path is None:
                return True
            value = _at(credential, SD_JWT_PATHS.get(self.claim_path, self.claim_path))
            return isinstance(value, str) and value.strip() in self.claim_values
        raw = credential.get("type")
        names = tuple(t for t in (raw if isinstance(raw, list) else [raw]) if isinstance(t, str))
        # compared as IRIs, so an alias (AchievementCredential = OpenBadgeCredential) fits
        try:
            offered = set(type_iris(names)) | set(names)
        except MalformedInput:
            offered = set(names)
        if not set(type_iris(self.types)) <= offered:
            return False
        if self.claim_path is None:
            return True
        value = _at(credential, self.claim_path)
        return isinstance(value, str) and value.strip() in self.claim_values


def queries_for(spec: RequestSpec) -> list[RequestedCredential]:
    """One query per logical query and asked format (ids ``<id>`` and ``<id>_sd_jwt``)."""
    out: list[RequestedCredential] = []
    for query in _logical_queries(spec):
        if FORMAT in spec.formats:
            out.append(replace(query, group=query.id))
        if SD_JWT_FORMAT in spec.formats:
            out.append(
                replace(
                    query,
                    id=f"{query.id}_sd_jwt",
                    label=(
                        "an SD-JWT VC of type " + ", ".join(spec.vct_values)
                        if query.id == "credential"
                        else f"{query.label} (SD-JWT VC)"
                    ),
                    format=SD_JWT_FORMAT,
                    vct_values=spec.vct_values,
                    group=query.id,
                )
            )
    return out


def _logical_queries(spec: RequestSpec) -> list[RequestedCredential]:
    queries: list[RequestedCredential] = []
    for number, module in enumerate(spec.modules, start=1):
        by_id = module.startswith(("https://", "http://", "urn:"))
        queries.append(
            RequestedCredential(
                id=f"module_{number}",
                types=spec.credential_types,
                claim_path=ACHIEVEMENT_ID if by_id else ACHIEVEMENT_NAME,
                claim_values=(module,),
                label=f"the module {module}",
            )
        )
    if spec.rule is not None:
        route = spec.route
        label = f"credentials for {route.name}" if route else "credentials for the rule"
        queries.append(
            RequestedCredential(id="route", types=spec.credential_types, multiple=True, label=label)
        )
    if not queries:
        queries.append(
            RequestedCredential(
                id="credential",
                types=spec.credential_types,
                label="a credential of type " + ", ".join(spec.credential_types[1:] or ["VC"]),
            )
        )
    return queries


def dcql_query(queries: Sequence[RequestedCredential]) -> dict[str, Any]:
    """The DCQL query; alternatives in two formats become one ``credential_sets`` entry
    whose options each name one of them (§6.2), so either format answers it."""
    out: dict[str, Any] = {"credentials": [q.to_dcql() for q in queries]}
    groups: dict[str, list[str]] = {}
    for query in queries:
        groups.setdefault(query.group or query.id, []).append(query.id)
    if any(len(ids) > 1 for ids in groups.values()):
        out["credential_sets"] = [
            {"options": [[query_id] for query_id in ids], "required": True}
            for ids in groups.values()
        ]
    return out


def _short(iri: str) -> str:
    return re.split(r"[#/]", iri)[-1] or iri


def _at(document: Any, path: Sequence[str]) -> Any:
    node = document
    for key in path:
        if isinstance(node, list) and len(node) == 1:
            node = node[0]
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node
