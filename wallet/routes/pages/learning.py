"""Learning routes: follow one, see the progress bar, read why each credential counts.

The rules engine (``credentials.rules``) explains itself in English for logs and the API;
the pages rebuild every sentence from the structured result instead — the requirement id
(``min_ects``, ``module:<id>``, ``group:<id>``), ``met``, the credential ids, the totals and
the route definition — so "5 van 13 ECTS", "behaald met", "nog 8 ECTS" are catalogue text.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import Response

from servicekit.web import Translator, format_number

from ._kit import LearnerPage, render, router, services_of, web


def route_bar(route: dict[str, Any], t: Translator) -> dict[str, Any]:
    """A route summary with what its progress bar shows: ECTS when the route counts them,
    otherwise the share of requirements met."""
    required = route.get("ectsRequired")
    if required:
        value, maximum = min(route.get("ectsTotal") or 0, required), required
        text = t(
            "progress.ects",
            done=format_number(route.get("ectsTotal") or 0),
            total=format_number(required),
        )
    else:
        requirements = route.get("requirements") or []
        value = sum(1 for r in requirements if r.get("met"))
        maximum = len(requirements) or 1
        text = t("wallet.routes.requirements_done", done=value, total=len(requirements))
    return {**route, "bar_value": value, "bar_max": maximum, "bar_text": text}


def _modules(definition: dict[str, Any]) -> dict[str, str]:
    """Requirement ids (as the engine names them) to what a learner reads."""
    names = {f"module:{m['id']}": m["name"] for m in definition.get("required_modules", [])}
    for group in definition.get("module_groups", []):
        names[f"group:{group['id']}"] = group["name"]
        for m in group.get("modules", []):
            names[f"group:{group['id']}/{m['id']}"] = f"{group['name']}: {m['name']}"
    return names


def explain(route: dict[str, Any], t: Translator) -> dict[str, Any]:
    """The route's requirements, missing items and credential verdicts as sentences."""
    definition = route.get("route") or {}
    names = _modules(definition)
    titles = {
        c["credential_id"]: c.get("title") or c["credential_id"] for c in route["credentials"]
    }
    groups = {g["id"]: g for g in definition.get("module_groups", [])}
    requirements, missing = [], []
    for r in route.get("requirements") or []:
        rid, met = str(r["requirement"]), bool(r["met"])
        by = ", ".join(titles.get(c, c) for c in r.get("credential_ids") or [])
        if rid in ("min_ects", "min_hours"):
            done = route["ectsTotal"] if rid == "min_ects" else route["hoursTotal"]
            total = definition.get(rid) or 0
            text = t(f"wallet.route.{rid}", done=format_number(done), total=format_number(total))
            if not met:
                missing.append(t(f"wallet.route.more_{rid}", n=format_number(total - done)))
        elif rid.startswith("group:"):
            group = groups.get(rid.removeprefix("group:"), {})
            filled = len(r.get("credential_ids") or [])
            choose = int(group.get("choose") or 0)
            text = t("wallet.route.group", name=names.get(rid, rid), done=filled, total=choose)
            if by:
                text += " — " + by
            if not met:
                missing.append(
                    t("wallet.route.more_group", n=choose - filled, name=names.get(rid, rid))
                )
        else:
            name = names.get(rid, rid)
            text = (
                t("wallet.route.module_met", name=name, by=by)
                if met
                else t("wallet.route.module_unmet", name=name)
            )
            if not met:
                missing.append(t("wallet.route.more_module", name=name))
        requirements.append({"met": met, "text": text})
    if not any(c.get("counts") for c in route["credentials"]):
        missing.insert(0, t("wallet.route.none_counts"))
    verdicts = []
    for c in route["credentials"]:
        if c.get("counts"):
            fills = [names.get(f, f) for f in c.get("fills") or []]
            reason = (
                t("wallet.route.fills", what=", ".join(fills))
                if fills
                else t("wallet.route.counts_total")
            )
        else:
            key = f"wallet.route.verdict.{c.get('code')}"
            has = key in t.catalogue.get(t.lang, {})
            reason = t(key) if has else t("wallet.route.verdict.other")
        verdicts.append({**c, "reason": reason})
    return {**route, "requirement_texts": requirements, "missing_texts": missing,
            "verdicts": verdicts}  # fmt: skip


@router.get("/routes")
def routes_page(request: Request, learner: LearnerPage) -> Response:
    services = services_of(request)
    t = web.translator(request)
    mine = [
        explain(route_bar(services.routes.progress(learner, r["id"]), t), t)
        for r in services.routes.list(learner)
    ]
    followed = {r["routeId"] for r in mine}
    published = [r for r in services.routes.published() if r.get("id") not in followed]
    return render(
        request,
        learner,
        "routes.html",
        page_title=t("wallet.routes.title"),
        routes=mine,
        published=published,
    )


@router.post("/routes")
def routes_add(
    request: Request, learner: LearnerPage, published: Annotated[str, Form()] = ""
) -> Response:
    added = services_of(request).routes.add(learner, published_id=published)
    return web.redirect(
        request,
        f"/routes/{added['id']}",
        flash=("success", "wallet.routes.added"),
        name=added["name"],
    )


@router.get("/routes/{route_id}")
def route_detail(request: Request, learner: LearnerPage, route_id: str) -> Response:
    services = services_of(request)
    t = web.translator(request)
    route = explain(route_bar(services.routes.progress(learner, route_id), t), t)
    return render(
        request,
        learner,
        "route.html",
        page_title=route["name"],
        route=route,
        counted=[c for c in route["verdicts"] if c.get("counts")],
        not_counted=[c for c in route["verdicts"] if not c.get("counts")],
    )


@router.post("/routes/{route_id}/remove")
def route_remove(request: Request, learner: LearnerPage, route_id: str) -> Response:
    services_of(request).routes.remove(learner, route_id)
    return web.redirect(request, "/routes", flash=("info", "wallet.routes.removed"))
