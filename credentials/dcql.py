"""What a presentation request asks for, as DCQL (OpenID4VP 1.0 §6), and whether an answer fits.

Shared by the verifier's presentation requests and the issuer's recognition requests
(moved here from verifier/services/dcql.py for issue 17).

An employer asks in words a person uses — "an Open Badge", "the module Data Wrangling",
"whatever counts for the Minor Data Science" — and the wallet needs a DCQL query. This
module turns a :class:`RequestSpec` into credential queries and later checks that what
came back is what was asked:

* a module given as a URL (``https://…``, ``urn:…``) is matched on the achievement ``id``,
  any other module on the achievement ``name``; each module is its own required query;
* a route rule asks for any number (``multiple: true``) of Open Badges credentials; the
  rule itself is evaluated by ``admissions`` after verification;
* with neither, one credential of the requested types is asked for.

``type_values`` must hold fully expanded type IRIs (§B.1.1), so the compact names are
expanded with the same offline contexts the proofs use, never by string concatenation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from pyld import jsonld

from contexts import CREDENTIALS_V2, MICROCRED_V1, OB_V3P0

from .documents import DocumentLoader
from .errors import MalformedInput
from .rules import Route

FORMAT = "ldp_vc"
SD_JWT_FORMAT = "dc+sd-jwt"
FORMATS = (FORMAT, SD_JWT_FORMAT)
#: where the SD-JWT VC claims carry what ACHIEVEMENT_ID / ACHIEVEMENT_NAME point at
SD_JWT_PATHS: dict[tuple[str, ...], tuple[str, ...]] = {
    ("credentialSubject", "achievement", "id"): ("achievement_id",),
    ("credentialSubject", "achievement", "name"): ("title",),
}
DEFAULT_TYPES: tuple[str, ...] = ("VerifiableCredential", "OpenBadgeCredential")
MAX_MODULES = 20
_TYPE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.:-]{0,99}$")
ACHIEVEMENT_ID = ("credentialSubject", "achievement", "id")
ACHIEVEMENT_NAME = ("credentialSubject", "achievement", "name")


def _invalid(message: str) -> MalformedInput:
    return MalformedInput(message, code="invalid_presentation_request")


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
class CredentialQuery:
    """One DCQL credential query and the means to check an answer against it."""

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
            "meta": {"type_values": [list(expanded_types(self.types))]},
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
            offered = set(expanded_types(names)) | set(names)
        except MalformedInput:
            offered = set(names)
        if not set(expanded_types(self.types)) <= offered:
            return False
        if self.claim_path is None:
            return True
        value = _at(credential, self.claim_path)
        return isinstance(value, str) and value.strip() in self.claim_values


def queries_for(spec: RequestSpec) -> list[CredentialQuery]:
    """One query per logical query and asked format (ids ``<id>`` and ``<id>_sd_jwt``)."""
    out: list[CredentialQuery] = []
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


def _logical_queries(spec: RequestSpec) -> list[CredentialQuery]:
    queries: list[CredentialQuery] = []
    for number, module in enumerate(spec.modules, start=1):
        by_id = module.startswith(("https://", "http://", "urn:"))
        queries.append(
            CredentialQuery(
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
            CredentialQuery(id="route", types=spec.credential_types, multiple=True, label=label)
        )
    if not queries:
        queries.append(
            CredentialQuery(
                id="credential",
                types=spec.credential_types,
                label="a credential of type " + ", ".join(spec.credential_types[1:] or ["VC"]),
            )
        )
    return queries


def dcql_query(queries: Sequence[CredentialQuery]) -> dict[str, Any]:
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


@lru_cache(maxsize=256)
def expanded_types(types: tuple[str, ...]) -> tuple[str, ...]:
    """The type IRIs DCQL's ``type_values`` needs; undefined types stay as given (§B.1.1)."""
    document = {"@context": [CREDENTIALS_V2, OB_V3P0, MICROCRED_V1], "type": list(types)}
    try:
        expanded = jsonld.expand(document, {"documentLoader": DocumentLoader(), "base": None})
    except Exception as exc:  # pyld raises several kinds for odd type names
        raise _invalid(f"the credential types cannot be expanded: {exc}") from None
    found = expanded[0].get("@type", []) if expanded else []
    return tuple(dict.fromkeys(found))


def _at(document: Any, path: Sequence[str]) -> Any:
    node = document
    for key in path:
        if isinstance(node, list) and len(node) == 1:
            node = node[0]
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


__all__ = [
    "ACHIEVEMENT_ID",
    "ACHIEVEMENT_NAME",
    "DEFAULT_TYPES",
    "FORMAT",
    "FORMATS",
    "MAX_MODULES",
    "SD_JWT_FORMAT",
    "SD_JWT_PATHS",
    "CredentialQuery",
    "RequestSpec",
    "dcql_query",
    "expanded_types",
    "queries_for",
]
