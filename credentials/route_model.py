"""Learning routes as data: what a route (a minor, a programme) requires, and its file form.

A ``Route`` is groups of ``ModuleRequirement``s with a number to choose from each, read
from JSON or YAML (``load_route``) with every key checked; ``credentials.rules`` evaluates
a learner's verified credentials against one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .datafiles import load_data_file
from .errors import MalformedInput
from .microcredential import MicrocredentialView

TRUSTED = "trusted"


@dataclass(frozen=True)
class ModuleRequirement:
    """One module a route asks for, recognised by any of several means.

    A credential matches when its achievement id is in ``achievement_ids``, or one of its
    alignments has a ``targetCode`` in ``alignment_codes``, or a keyword occurs
    (case-insensitively) in its title, an alignment's ``targetName`` or its tags. Ids are
    exact and safest; codes suit catalogues (CROHO/CREBO, keuzedeel codes); keywords suit
    "any statistics module" at another institution.
    """

    id: str
    name: str
    achievement_ids: tuple[str, ...] = ()
    alignment_codes: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    min_ects: float | None = None
    min_eqf_level: int | None = None

    def recognises(self, view: MicrocredentialView) -> bool:
        if view.achievement_id and view.achievement_id in self.achievement_ids:
            return True
        codes = {a.target_code for a in view.alignments if a.target_code}
        if codes & set(self.alignment_codes):
            return True
        if self.keywords:
            haystack = " ".join(
                [view.title or "", *(a.target_name or "" for a in view.alignments), *view.tags]
            ).lower()
            return any(keyword.lower() in haystack for keyword in self.keywords)
        return False

    def shortfall(self, view: MicrocredentialView) -> str | None:
        """Why a recognised credential still does not fill this module, if it does not."""
        if self.min_ects is not None and (view.ects or 0) < self.min_ects:
            return f"{_ects(view.ects or 0)} ECTS, the module asks at least {_ects(self.min_ects)}"
        if self.min_eqf_level is not None:
            if view.eqf_level is None:
                return f"no EQF level stated, the module asks EQF {self.min_eqf_level}"
            if view.eqf_level < self.min_eqf_level:
                return f"EQF {view.eqf_level}, the module asks EQF {self.min_eqf_level}"
        return None


@dataclass(frozen=True)
class ModuleGroup:
    """A choice within a route: any ``choose`` of the listed modules."""

    id: str
    name: str
    choose: int
    modules: tuple[ModuleRequirement, ...]


@dataclass(frozen=True)
class Route:
    """A learning route, loadable from a JSON or YAML mapping (see :meth:`from_dict`).

    ``accepted_issuers`` lists issuer DIDs; the entry ``"trusted"`` stands for every issuer
    in the evaluating party's trust registry; an empty list accepts any issuer.
    ``min_eqf_level`` applies to each credential that is to count (a credential without a
    level then does not count); a module's own ``min_eqf_level`` can ask more.
    """

    id: str
    name: str
    description: str = ""
    min_ects: float | None = None
    min_hours: float | None = None
    min_eqf_level: int | None = None
    required_modules: tuple[ModuleRequirement, ...] = ()
    module_groups: tuple[ModuleGroup, ...] = ()
    accepted_issuers: tuple[str, ...] = ()
    max_age_years: float | None = None
    only_listed_modules: bool = False

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Route:
        """Build a route from its JSON/YAML form; unknown keys and bad values are refused.

        A typo in a route file ("min_etcs") would otherwise silently drop a requirement and
        admit everyone, so the definition is parsed strictly and every mistake is named.
        """
        return _parse_route(data)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "name": self.name}
        if self.description:
            out["description"] = self.description
        for key in ("min_ects", "min_hours", "min_eqf_level", "max_age_years"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.accepted_issuers:
            out["accepted_issuers"] = list(self.accepted_issuers)
        if self.only_listed_modules:
            out["only_listed_modules"] = True
        if self.required_modules:
            out["required_modules"] = [_module_dict(m) for m in self.required_modules]
        if self.module_groups:
            out["module_groups"] = [
                {
                    "id": g.id,
                    "name": g.name,
                    "choose": g.choose,
                    "modules": [_module_dict(m) for m in g.modules],
                }
                for g in self.module_groups
            ]
        return out


def load_route(path: str | Path) -> Route:
    """Read a route from a ``.json``, ``.yaml`` or ``.yml`` file (see :mod:`.datafiles`)."""
    path = Path(path)
    data = load_data_file(path, code="invalid_route")
    if not isinstance(data, Mapping):
        raise MalformedInput(f"{path.name}: a route must be a mapping", code="invalid_route")
    return Route.from_dict(data)


def _ects(value: float) -> str:
    return f"{value:g}"


_ROUTE_KEYS = {
    "id", "name", "description", "min_ects", "min_hours", "min_eqf_level", "required_modules",
    "module_groups", "accepted_issuers", "max_age_years", "only_listed_modules",
}  # fmt: skip

_MODULE_KEYS = {
    "id", "name", "achievement_ids", "alignment_codes", "keywords", "min_ects", "min_eqf_level",
}  # fmt: skip

_GROUP_KEYS = {"id", "name", "choose", "modules"}


def _fail(where: str, message: str) -> MalformedInput:
    return MalformedInput(f"route {where}: {message}", code="invalid_route")


def _check_keys(data: Mapping[str, Any], allowed: set[str], where: str) -> None:
    if not isinstance(data, Mapping):
        raise _fail(where, "must be a mapping")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise _fail(
            where, f"unknown keys {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})"
        )


def _str(data: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, f"{key} must be a non-empty string")
    return value


def _num(data: Mapping[str, Any], key: str, where: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise _fail(where, f"{key} must be a number of at least 0")
    return float(value)


def _level(data: Mapping[str, Any], key: str, where: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 8:
        raise _fail(where, f"{key} must be an EQF level from 1 to 8")
    return value


def _str_list(data: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _fail(where, f"{key} must be a list of strings")
    return tuple(value)


def _parse_module(data: Mapping[str, Any], where: str) -> ModuleRequirement:
    _check_keys(data, _MODULE_KEYS, where)
    module = ModuleRequirement(
        id=_str(data, "id", where),
        name=_str(data, "name", where, required=False) or str(data.get("id")),
        achievement_ids=_str_list(data, "achievement_ids", where),
        alignment_codes=_str_list(data, "alignment_codes", where),
        keywords=_str_list(data, "keywords", where),
        min_ects=_num(data, "min_ects", where),
        min_eqf_level=_level(data, "min_eqf_level", where),
    )
    if not (module.achievement_ids or module.alignment_codes or module.keywords):
        raise _fail(where, "a module needs achievement_ids, alignment_codes or keywords")
    return module


def _parse_route(data: Mapping[str, Any]) -> Route:
    _check_keys(data, _ROUTE_KEYS, "")
    route_id = _str(data, "id", "")
    where = f"{route_id!r}"
    modules_raw = data.get("required_modules", [])
    groups_raw = data.get("module_groups", [])
    if not isinstance(modules_raw, list) or not isinstance(groups_raw, list):
        raise _fail(where, "required_modules and module_groups must be lists")
    modules = tuple(
        _parse_module(m, f"{where} required_modules[{i}]") for i, m in enumerate(modules_raw)
    )
    groups = []
    for i, g in enumerate(groups_raw):
        gwhere = f"{where} module_groups[{i}]"
        _check_keys(g, _GROUP_KEYS, gwhere)
        options_raw = g.get("modules")
        if not isinstance(options_raw, list) or not options_raw:
            raise _fail(gwhere, "modules must be a non-empty list")
        options = tuple(
            _parse_module(m, f"{gwhere} modules[{j}]") for j, m in enumerate(options_raw)
        )
        choose = g.get("choose")
        if (
            isinstance(choose, bool)
            or not isinstance(choose, int)
            or not 1 <= choose <= len(options)
        ):
            raise _fail(gwhere, f"choose must be a whole number from 1 to {len(options)}")
        gid = _str(g, "id", gwhere)
        groups.append(
            ModuleGroup(gid, _str(g, "name", gwhere, required=False) or gid, choose, options)
        )
    ids = [m.id for m in modules] + [g.id for g in groups]
    if len(ids) != len(set(ids)):
        raise _fail(where, "module and group ids must be unique")
    for group in groups:
        option_ids = [m.id for m in group.modules]
        if len(option_ids) != len(set(option_ids)):
            raise _fail(where, f"module ids in group {group.id} must be unique")
    only_listed = data.get("only_listed_modules", False)
    if not isinstance(only_listed, bool):
        raise _fail(where, "only_listed_modules must be true or false")
    return Route(
        id=route_id,
        name=_str(data, "name", where),
        description=_str(data, "description", where, required=False),
        min_ects=_num(data, "min_ects", where),
        min_hours=_num(data, "min_hours", where),
        min_eqf_level=_level(data, "min_eqf_level", where),
        required_modules=modules,
        module_groups=tuple(groups),
        accepted_issuers=_str_list(data, "accepted_issuers", where),
        max_age_years=_num(data, "max_age_years", where),
        only_listed_modules=only_listed,
    )


def _module_dict(module: ModuleRequirement) -> dict[str, Any]:
    out: dict[str, Any] = {"id": module.id, "name": module.name}
    for key in ("achievement_ids", "alignment_codes", "keywords"):
        if getattr(module, key):
            out[key] = list(getattr(module, key))
    for key in ("min_ects", "min_eqf_level"):
        if getattr(module, key) is not None:
            out[key] = getattr(module, key)
    return out
