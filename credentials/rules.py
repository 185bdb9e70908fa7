"""Learning routes: one rules engine for the wallet's progress and the verifier's decisions.

A route (a minor, a certificate programme, an mbo keuzedeel set) is a rule over
microcredentials: which modules are required, which groups offer a choice ("two of these
four"), how many ECTS or hours in total, the minimum level of every module, which
institutions are accepted and how old a credential may be. The wallet evaluates it to show
a learner how far along a route they are; the verifier evaluates the very same route for
admission or exemption. Keeping one engine means the learner's progress bar and the
admissions office cannot disagree.

Evaluation works on :class:`~credentials.microcredential.MicrocredentialView` objects: the
caller has verified the credentials (proof, status, holder) before asking what they are
worth. The engine itself is pure: no I/O, the clock comes in as ``now=``.

How a credential is weighed, in order:

1. **eligibility** – accepted institution, not expired, not older than ``max_age_years``,
   at least ``min_eqf_level``; every failed condition is reported, not only the first;
2. **duplicates** – the same module (same achievement id, or same institution and title)
   counts once; the copy with the most ECTS, then the most recent, is kept;
3. **assignment** – each credential fills at most one required module or group option and
   each group takes at most ``choose`` options (a maximum flow, required modules first), so
   one course is never counted as two requirements and no better assignment is missed;
4. **totals** – ECTS and hours are summed over the counted credentials; with
   ``only_listed_modules`` only credentials that fill, or could fill, a listed module count.

Rules and outcomes are data: :class:`RouteResult` explains each requirement
(:class:`Explanation`) and each credential (:class:`CredentialVerdict`, with a stable
``code``), and says what is missing, so a wallet page and a verifier report can show the
same reasons. Mistakes in a route definition raise ``MalformedInput`` (``invalid_route``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .microcredential import MicrocredentialView
from .route_model import (
    TRUSTED,
    ModuleGroup,
    ModuleRequirement,
    Route,
    _ects,
    load_route,
)

# --------------------------------------------------------------------------- definitions


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Explanation:
    """One requirement of the route, whether it is met, and by which credentials."""

    requirement: str
    met: bool
    message: str
    credential_ids: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "requirement": self.requirement,
            "met": self.met,
            "message": self.message,
            "credential_ids": list(self.credential_ids),
        }


@dataclass(frozen=True)
class CredentialVerdict:
    """Whether one credential counts for the route, and why (not).

    ``code`` is stable for pages and APIs: ``counted``, ``issuer_not_accepted``,
    ``untrusted_issuer``, ``expired``, ``too_old``, ``date_unknown``, ``level_too_low``,
    ``level_unknown``, ``duplicate`` or ``not_listed``; ``reasons`` has every reason, the
    first of which gave the code.
    """

    credential_id: str
    title: str | None
    counts: bool
    code: str
    reasons: tuple[str, ...] = ()
    ects: float = 0.0
    hours: float = 0.0
    fills: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "credential_id": self.credential_id,
            "title": self.title,
            "counts": self.counts,
            "code": self.code,
            "reasons": list(self.reasons),
            "ects": self.ects,
            "hours": self.hours,
            "fills": list(self.fills),
        }


@dataclass(frozen=True)
class RouteResult:
    route_id: str
    satisfied: bool
    ects_total: float
    hours_total: float
    explanations: tuple[Explanation, ...]
    credentials: tuple[CredentialVerdict, ...]
    missing: tuple[str, ...]

    @property
    def counted(self) -> tuple[CredentialVerdict, ...]:
        return tuple(v for v in self.credentials if v.counts)

    @property
    def not_counted(self) -> tuple[CredentialVerdict, ...]:
        return tuple(v for v in self.credentials if not v.counts)

    def explanation(self, requirement: str) -> Explanation | None:
        return next((e for e in self.explanations if e.requirement == requirement), None)

    def verdict(self, credential_id: str) -> CredentialVerdict | None:
        return next((v for v in self.credentials if v.credential_id == credential_id), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "route_id": self.route_id,
            "satisfied": self.satisfied,
            "ects_total": self.ects_total,
            "hours_total": self.hours_total,
            "explanations": [e.to_dict() for e in self.explanations],
            "credentials": [v.to_dict() for v in self.credentials],
            "missing": list(self.missing),
        }


# --------------------------------------------------------------------------- evaluation


@dataclass
class _Candidate:
    key: str
    view: MicrocredentialView
    reasons: list[tuple[str, str]] = field(default_factory=list)
    duplicate_of: str | None = None
    fills: list[str] = field(default_factory=list)
    extra: list[_Slot] = field(default_factory=list)


def evaluate(
    route: Route,
    credentials: Sequence[MicrocredentialView],
    *,
    trusted_issuers: set[str] | None = None,
    now: datetime | None = None,
) -> RouteResult:
    """Weigh ``credentials`` against ``route`` and explain every step.

    ``trusted_issuers`` is the evaluating party's trust registry (issuer DIDs), used where the
    route accepts ``"trusted"`` institutions; without it no issuer counts as trusted.
    """
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    candidates = [
        _Candidate(key=view.credential_id or f"credential[{index}]", view=view)
        for index, view in enumerate(credentials)
    ]
    for candidate in candidates:
        candidate.reasons.extend(_ineligibility(route, candidate.view, trusted_issuers, now))
    eligible = [c for c in candidates if not c.reasons]
    kept = _deduplicate(eligible)

    slots = _slots(route)
    assignment = _assign(slots, kept)
    for slot_index, candidate in assignment.items():
        candidate.fills.append(slots[slot_index].requirement_id)

    counted: list[_Candidate] = []
    for candidate in kept:
        if not candidate.fills:
            candidate.extra = [slot for slot in slots if _fits(slot, candidate)]
        if route.only_listed_modules and not (candidate.fills or candidate.extra):
            candidate.reasons.append(
                ("not_listed", "not one of the route's modules, and the route counts only those")
            )
        else:
            counted.append(candidate)
    ects_total = round(sum(c.view.ects or 0 for c in counted), 4)
    hours_total = round(sum(c.view.hours or 0 for c in counted), 4)

    explanations, missing = _explain(
        route, slots, assignment, kept, counted, ects_total, hours_total
    )
    if not counted:
        missing.insert(0, "no credential counts for this route yet")
    satisfied = bool(counted) and all(e.met for e in explanations)
    labels = {slot.requirement_id: slot.label for slot in slots}
    verdicts = tuple(_verdict(c, counted, labels) for c in candidates)
    return RouteResult(
        route_id=route.id,
        satisfied=satisfied,
        ects_total=ects_total,
        hours_total=hours_total,
        explanations=tuple(explanations),
        credentials=verdicts,
        missing=tuple(missing),
    )


def _ineligibility(
    route: Route, view: MicrocredentialView, trusted: set[str] | None, now: datetime
) -> Iterable[tuple[str, str]]:
    if route.accepted_issuers:
        explicit = {i for i in route.accepted_issuers if i != TRUSTED}
        trusts_registry = TRUSTED in route.accepted_issuers
        issuer = view.issuer_id
        if issuer not in explicit and not (trusts_registry and trusted and issuer in trusted):
            name = view.issuer_name or issuer or "an unknown issuer"
            if trusts_registry:
                registry = "the trust registry" if trusted is not None else "a trust registry"
                yield "untrusted_issuer", f"issued by {name}, which is not in {registry}"
            else:
                yield "issuer_not_accepted", f"issued by {name}, not an institution of this route"
    if view.valid_until is not None and view.valid_until <= now:
        yield "expired", f"expired on {view.valid_until.date().isoformat()}"
    if route.max_age_years is not None:
        issued = view.issued
        if issued is None:
            yield "date_unknown", "the credential states no issue date, so its age is unknown"
        elif issued < _years_before(now, route.max_age_years):
            yield (
                "too_old",
                f"issued on {issued.date().isoformat()}, more than "
                f"{_years(route.max_age_years)} ago",
            )
    if route.min_eqf_level is not None:
        if view.eqf_level is None:
            yield "level_unknown", f"no EQF level stated; the route asks EQF {route.min_eqf_level}"
        elif view.eqf_level < route.min_eqf_level:
            yield (
                "level_too_low",
                f"EQF {view.eqf_level}; the route asks EQF {route.min_eqf_level} or higher",
            )


def _module_key(view: MicrocredentialView, fallback: str) -> str:
    if view.achievement_id:
        return "id:" + view.achievement_id
    if view.title:
        return f"title:{view.issuer_id or ''}|{' '.join(view.title.lower().split())}"
    return "credential:" + fallback


def _deduplicate(eligible: list[_Candidate]) -> list[_Candidate]:
    """Keep one credential per module: the most ECTS, then the most recent."""
    best: dict[str, _Candidate] = {}
    for candidate in eligible:
        module = _module_key(candidate.view, candidate.key)
        held = best.get(module)
        if held is None or _better(candidate, held):
            best[module] = candidate
    kept = {id(c) for c in best.values()}
    for candidate in eligible:
        if id(candidate) not in kept:
            winner = best[_module_key(candidate.view, candidate.key)]
            candidate.duplicate_of = winner.key
            candidate.reasons.append(
                ("duplicate", f"the same module as {winner.key}, which is counted instead")
            )
    return [c for c in eligible if id(c) in kept]


def _better(a: _Candidate, b: _Candidate) -> bool:
    oldest = datetime.min.replace(tzinfo=UTC)
    return ((a.view.ects or 0), a.view.issued or oldest) > (
        (b.view.ects or 0),
        b.view.issued or oldest,
    )


@dataclass(frozen=True)
class _Slot:
    requirement_id: str
    module: ModuleRequirement
    group: ModuleGroup | None = None

    @property
    def label(self) -> str:
        return f"{self.group.name}: {self.module.name}" if self.group else self.module.name


def _slots(route: Route) -> list[_Slot]:
    slots = [_Slot(f"module:{m.id}", m) for m in route.required_modules]
    for group in route.module_groups:
        slots.extend(_Slot(f"group:{group.id}/{m.id}", m, group) for m in group.modules)
    return slots


def _fits(slot: _Slot, candidate: _Candidate) -> bool:
    return slot.module.recognises(candidate.view) and slot.module.shortfall(candidate.view) is None


def _assign(slots: list[_Slot], kept: list[_Candidate]) -> dict[int, _Candidate]:
    """Which credential fills which slot: a maximum flow, required modules first.

    The network is source → credential (1) → slot it fits (1) → sink for a required module,
    or → its group (1 per option) → sink (``choose``) for a group option. So a credential
    fills one slot, a slot takes one credential, a group takes at most ``choose`` of its
    options, and every way of rerouting is tried (a greedy pass would give an elective the
    only credential a second group could use). Augmenting paths never take flow off an edge
    into the sink, so running the required modules' paths first keeps every required module
    that can be filled filled, and the groups then fill what they can around them.
    """
    source, sink = 0, 1
    first_credential = 2
    first_slot = first_credential + len(kept)
    group_ids = list(dict.fromkeys(slot.group.id for slot in slots if slot.group))
    first_group = first_slot + len(slots)
    group_node = {gid: first_group + n for n, gid in enumerate(group_ids)}
    capacity: dict[tuple[int, int], int] = {}
    neighbours: dict[int, list[int]] = {}

    def edge(u: int, v: int, cap: int) -> None:
        if (u, v) not in capacity:
            neighbours.setdefault(u, []).append(v)
            neighbours.setdefault(v, []).append(u)
            capacity.setdefault((v, u), 0)
        capacity[(u, v)] = capacity.get((u, v), 0) + cap

    for c, candidate in enumerate(kept):
        edge(source, first_credential + c, 1)
        for n, slot in enumerate(slots):
            if _fits(slot, candidate):
                edge(first_credential + c, first_slot + n, 1)
    required_nodes = set()
    for n, slot in enumerate(slots):
        if slot.group is None:
            edge(first_slot + n, sink, 1)
            required_nodes.add(first_slot + n)
        else:
            edge(first_slot + n, group_node[slot.group.id], 1)
    for group in {slot.group.id: slot.group for slot in slots if slot.group}.values():
        edge(group_node[group.id], sink, group.choose)

    def augment(into_sink: set[int] | None) -> bool:
        parent: dict[int, int] = {source: source}
        stack = [source]
        while stack:
            u = stack.pop()
            for v in reversed(neighbours.get(u, [])):
                if v in parent or capacity[(u, v)] <= 0:
                    continue
                if v == sink and into_sink is not None and u not in into_sink:
                    continue
                parent[v] = u
                if v == sink:
                    while v != source:
                        capacity[(parent[v], v)] -= 1
                        capacity[(v, parent[v])] += 1
                        v = parent[v]
                    return True
                stack.append(v)
        return False

    while augment(required_nodes):
        pass
    while augment(None):
        pass
    return {
        n: candidate
        for c, candidate in enumerate(kept)
        for n in range(len(slots))
        if capacity.get((first_slot + n, first_credential + c), 0) > 0
    }


def _explain(
    route: Route,
    slots: list[_Slot],
    assignment: dict[int, _Candidate],
    kept: list[_Candidate],
    counted: list[_Candidate],
    ects_total: float,
    hours_total: float,
) -> tuple[list[Explanation], list[str]]:
    explanations: list[Explanation] = []
    missing: list[str] = []
    counted_ids = tuple(c.key for c in counted)
    if route.min_ects is not None:
        met = ects_total >= route.min_ects - 1e-9
        explanations.append(
            Explanation(
                "min_ects",
                met,
                f"{_ects(ects_total)} of {_ects(route.min_ects)} ECTS",
                counted_ids,
            )
        )
        if not met:
            missing.append(f"{_ects(route.min_ects - ects_total)} more ECTS")
    if route.min_hours is not None:
        met = hours_total >= route.min_hours - 1e-9
        explanations.append(
            Explanation(
                "min_hours",
                met,
                f"{_ects(hours_total)} of {_ects(route.min_hours)} hours",
                counted_ids,
            )
        )
        if not met:
            missing.append(f"{_ects(route.min_hours - hours_total)} more hours of study")

    for index, slot in enumerate(slots):
        if slot.group is not None:
            continue
        holder = assignment.get(index)
        if holder is not None:
            explanations.append(
                Explanation(
                    slot.requirement_id,
                    True,
                    f"{slot.module.name}: met by {holder.view.title or holder.key}",
                    (holder.key,),
                )
            )
            continue
        explanations.append(Explanation(slot.requirement_id, False, _unmet(slot.module, kept), ()))
        missing.append(f"module {slot.module.name}")

    for group in route.module_groups:
        filled = [
            (slots[i], c)
            for i, c in sorted(assignment.items())
            if (slot_group := slots[i].group) is not None and slot_group.id == group.id
        ]
        met = len(filled) >= group.choose
        chosen = ", ".join(f"{s.module.name} ({c.view.title or c.key})" for s, c in filled)
        message = f"{group.name}: {len(filled)} of {group.choose}"
        if chosen:
            message += f" — {chosen}"
        also = [
            c.view.title or c.key
            for c in counted
            if any(slot.group is not None and slot.group.id == group.id for slot in c.extra)
        ]
        if also:
            message += f"; also recognised: {', '.join(also)}"
        explanations.append(
            Explanation(f"group:{group.id}", met, message, tuple(c.key for _, c in filled))
        )
        if not met:
            open_options = [
                s.module.name
                for s in slots
                if s.group is not None
                and s.group.id == group.id
                and s not in {f[0] for f in filled}
            ]
            missing.append(
                f"{group.choose - len(filled)} more of {group.name} "
                f"(open: {', '.join(open_options)})"
            )
    return explanations, missing


def _unmet(module: ModuleRequirement, kept: list[_Candidate]) -> str:
    near = [c for c in kept if module.recognises(c.view)]
    for candidate in near:
        shortfall = module.shortfall(candidate.view)
        if shortfall:
            return f"{module.name}: {candidate.view.title or candidate.key} has {shortfall}"
    if near:
        return f"{module.name}: the matching credential already fills another requirement"
    return f"{module.name}: no counted credential for this module"


def _verdict(
    candidate: _Candidate, counted: list[_Candidate], labels: Mapping[str, str]
) -> CredentialVerdict:
    view = candidate.view
    if any(candidate is c for c in counted):
        fills = tuple(candidate.fills)
        if fills:
            reason = "fills " + ", ".join(labels[f] for f in fills)
        elif candidate.extra:
            reason = (
                f"a listed module ({', '.join(slot.label for slot in candidate.extra)}) beyond "
                "what the route asks; "
                "counts towards the total"
            )
        else:
            reason = "counts towards the total"
        return CredentialVerdict(
            credential_id=candidate.key,
            title=view.title,
            counts=True,
            code="counted",
            reasons=(reason,),
            ects=view.ects or 0.0,
            hours=view.hours or 0.0,
            fills=fills,
        )
    return CredentialVerdict(
        credential_id=candidate.key,
        title=view.title,
        counts=False,
        code=candidate.reasons[0][0],
        reasons=tuple(message for _, message in candidate.reasons),
    )


def _years_before(now: datetime, years: float) -> datetime:
    """The moment ``years`` before ``now``: calendar years when whole, else 365.25 days each."""
    if float(years).is_integer():
        year = now.year - int(years)
        try:
            return now.replace(year=year)
        except ValueError:  # 29 February in a year without one
            return now.replace(year=year, day=28)
    return now - timedelta(days=365.25 * years)


def _years(value: float) -> str:
    return "1 year" if value == 1 else f"{value:g} years"


# --------------------------------------------------------------------------- parsing


__all__ = [
    "TRUSTED",
    "CredentialVerdict",
    "Explanation",
    "ModuleGroup",
    "ModuleRequirement",
    "Route",
    "RouteResult",
    "evaluate",
    "load_route",
]
