"""A rule's outcome in the reader's language, from its structured fields.

The rules engine (``credentials.rules``) explains each requirement and each credential in
English sentences for API clients ("5 of 13 ECTS", "fills Statistics"); it also gives the
structure behind them: the requirement id (``min_ects``, ``module:<id>``, ``group:<id>``),
whether it is met, which credentials met it, each credential's stable ``code`` and the
slots it ``fills``. The pages rebuild the sentences from that, with the route definition
and the totals, so a Dutch page carries no engine English.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from servicekit.web import Translator, format_number


@dataclass(frozen=True)
class Line:
    met: bool
    text: str


def _modules(route: dict[str, Any]) -> dict[str, str]:
    """Requirement id → what a reader calls it ("Statistiek", "Keuzevak: Statistiek")."""
    names: dict[str, str] = {}
    for module in route.get("required_modules") or []:
        names[f"module:{module.get('id')}"] = str(module.get("name") or module.get("id"))
    for group in route.get("module_groups") or []:
        group_name = str(group.get("name") or group.get("id"))
        names[f"group:{group.get('id')}"] = group_name
        for module in group.get("modules") or []:
            label = f"{group_name}: {module.get('name') or module.get('id')}"
            names[f"group:{group.get('id')}/{module.get('id')}"] = label
    return names


def _titles(outcome: dict[str, Any]) -> dict[str, str]:
    return {
        str(c.get("credential_id")): str(c.get("title") or c.get("credential_id"))
        for c in outcome.get("credentials") or []
    }


def requirement_lines(outcome: dict[str, Any], t: Translator) -> list[Line]:
    route = outcome.get("route") or {}
    names = _modules(route)
    titles = _titles(outcome)
    groups = {f"group:{g.get('id')}": g for g in route.get("module_groups") or []}
    lines = []
    for item in outcome.get("explanations") or []:
        requirement = str(item.get("requirement", ""))
        met = bool(item.get("met"))
        by = ", ".join(titles.get(str(i), str(i)) for i in item.get("credential_ids") or [])
        if requirement == "min_ects":
            text = t(
                "progress.ects",
                done=format_number(outcome.get("ects_total") or 0) or "0",
                total=format_number(route.get("min_ects")),
            )
        elif requirement == "min_hours":
            text = t(
                "verifier.rule.explain.hours",
                done=format_number(outcome.get("hours_total") or 0) or "0",
                total=format_number(route.get("min_hours")),
            )
        elif requirement in groups:
            group = groups[requirement]
            text = t(
                "verifier.rule.explain.group",
                group=names.get(requirement, requirement),
                n=len(item.get("credential_ids") or []),
                choose=group.get("choose", 1),
            )
            if by:
                text = t("verifier.rule.explain.with", text=text, by=by)
        elif requirement in names:
            key = (
                "verifier.rule.explain.module_met" if met else "verifier.rule.explain.module_unmet"
            )
            text = t(key, module=names[requirement], by=by)
        else:
            text = t("verifier.rule.explain.other", requirement=requirement)
        lines.append(Line(met, text))
    return lines


def credential_reason(verdict: dict[str, Any], route: dict[str, Any], t: Translator) -> str:
    """Why a credential counts or not, by its code (and the slots it fills)."""
    code = str(verdict.get("code", ""))
    if verdict.get("counts"):
        fills = [_modules(route).get(str(f), str(f)) for f in verdict.get("fills") or []]
        if fills:
            return t("verifier.rule.reason.fills", what=", ".join(fills))
        return t("verifier.rule.reason.counted")
    key = f"verifier.rule.reason.{code}"
    return t(key) if t.has(key) else t("verifier.rule.reason.other", code=code)


def rejection_reason(rejected: dict[str, Any], t: Translator) -> str:
    """Why a credential was not verified, from the codes of its failed checks."""
    codes = [str(c) for c in rejected.get("codes") or []]
    texts = []
    for code in codes or ["not_verified"]:
        key = f"checkmsg.{code}"
        texts.append(t(key) if t.has(key) else t("checkmsg.other.failed", code=code))
    return " ".join(dict.fromkeys(texts))


def rule_context(outcome: dict[str, Any], t: Translator) -> dict[str, Any]:
    """What a rule's result shows, each line in the reader's language."""
    route = outcome.get("route") or {}
    verdicts = outcome.get("credentials") or []
    return {
        "requirements": requirement_lines(outcome, t),
        "counted": [(v, credential_reason(v, route, t)) for v in verdicts if v.get("counts")],
        "not_counted": [
            (v, credential_reason(v, route, t)) for v in verdicts if not v.get("counts")
        ],
        "rejected": [(r, rejection_reason(r, t)) for r in outcome.get("rejected") or []],
    }
