"""The learner's credentials: the list, one credential, its download, deleting it.

The list and the detail page take the state from the same place (``card_state`` over the
store's summary, re-checked when stale), so they cannot disagree. A small script on the list
(``static/status.js``) asks ``/credentials/status.json`` now and then; that answer re-checks
every status older than ``POLL_RECHECK_SECONDS`` against a freshly fetched status list, so a
suspension shows without the learner clicking "check again".
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from credentials import read_credential
from servicekit.web import format_date, format_number, microcredential_rows, report_view

from ...models import Learner
from ...services.container import Services
from ...services.store import CredentialFilter
from ._kit import LearnerPage, Refusal, card_state, render, router, services_of, web
from .learning import route_bar
from .notices import badge_image, pending_text, status_notice, warning_texts

#: How old a status may be before the list's poll re-checks it against the issuer's list.
POLL_RECHECK_SECONDS = 10
#: How often the list page asks (the script reads it from the page).
POLL_SECONDS = 10


def _fresh(services: Services, learner: Learner, item: dict[str, Any], refresh: bool) -> dict:
    """The summary with its status re-checked when stale (the store's own cache rules), or
    re-checked against a fresh list when ``refresh``."""
    try:
        detail = services.store.detail(learner, item["id"], refresh=refresh)
    except Refusal:
        return item
    return {k: v for k, v in detail.items() if k not in ("credential", "elements", "view")}


def _stale(item: dict[str, Any], now: Any) -> bool:
    from datetime import datetime, timedelta

    checked = item.get("statusCheck", {}).get("checkedAt") or item.get("receivedAt")
    try:
        at = datetime.fromisoformat(str(checked).replace("Z", "+00:00"))
    except ValueError:
        return True
    return bool(now - at >= timedelta(seconds=POLL_RECHECK_SECONDS))


@router.get("/credentials")
def credentials(
    request: Request,
    learner: LearnerPage,
    institution: str = "",
    module: str = "",
    level: str = "",
) -> Response:
    services = services_of(request)
    t = web.translator(request)
    filters = CredentialFilter(
        institution=institution.strip() or None,
        module=module.strip() or None,
        level=int(level) if level.isdigit() else None,
    )
    items = [
        _fresh(services, learner, i, False) for i in services.store.browse(learner.id, filters)
    ]
    for item in items:
        item["state"] = card_state(item)
        item["warning_texts"] = warning_texts(t, item)
        item["pending_text"] = pending_text(t, item)
    routes = [services.routes.progress(learner, r["id"]) for r in services.routes.list(learner)]
    total = sum(i.get("ects") or 0 for i in items if i["state"] == "verified")
    return render(
        request,
        learner,
        "credentials.html",
        page_title=t("wallet.credentials.title"),
        items=items,
        routes=[route_bar(r, t) for r in routes],
        filters={"institution": institution, "module": module, "level": level},
        total=t.plural("wallet.credentials.total", len(items), ects=format_number(total) or "0"),
        keys_missing=services.portability.keys_missing(learner),
        poll_seconds=POLL_SECONDS,
    )


@router.get("/credentials/status.json")
def credentials_status(request: Request, learner: LearnerPage) -> Response:
    """Each credential's badge now, for the list's poll: ``{id: {state, label}}``."""
    services = services_of(request)
    t = web.translator(request)
    now = services.store.clock()
    out: dict[str, dict[str, str]] = {}
    for item in services.store.browse(learner.id, CredentialFilter()):
        current = _fresh(services, learner, item, False)
        if _stale(current, now):
            current = _fresh(services, learner, item, True)
        state = card_state(current)
        out[item["id"]] = {"state": state, "label": t(f"wallet.state.{state}")}
    return JSONResponse(out, headers={"Cache-Control": "no-store"})


@router.get("/credentials/{credential_id}")
def credential_detail(
    request: Request, learner: LearnerPage, credential_id: str, recheck: int = 0
) -> Response:
    services = services_of(request)
    t = web.translator(request)
    detail = services.store.detail(learner, credential_id, refresh=bool(recheck))
    view = read_credential(detail["credential"])
    state = card_state(detail)
    report = dict(detail.get("report") or {})
    # the status is shown once, as it is now; the arrival report keeps the other checks
    report["checks"] = [c for c in report.get("checks", []) if c.get("id") != "status"]
    arrival = report_view(report, t)
    status_checks = report_view({"verified": True, "checks": detail["statusCheck"]["checks"]}, t)
    notice = None
    if state in ("revoked", "suspended") and not isinstance(detail["credential"], str):
        notice = status_notice(services.fetcher, detail["credential"])
    return render(
        request,
        learner,
        "credential.html",
        page_title=view.title or t("wallet.detail.title"),
        item=detail,
        state=state,
        rows=microcredential_rows(view, t),
        arrival=arrival,
        status_checks=status_checks,
        checked_at=format_date(detail["statusCheck"].get("checkedAt"), with_time=True),
        notice=notice,
        warnings=warning_texts(t, detail),
        image=badge_image(request, detail["credential"]),
        pending=pending_text(t, detail),
        poll_seconds=POLL_SECONDS,
    )


@router.get("/credentials/{credential_id}/download")
def credential_download(request: Request, learner: LearnerPage, credential_id: str) -> Response:
    detail = services_of(request).store.detail(learner, credential_id)
    if isinstance(detail["credential"], str):  # an SD-JWT VC: its compact form, as issued
        return Response(
            detail["credential"],
            media_type="application/dc+sd-jwt",
            headers={
                "Content-Disposition": 'attachment; filename="microcredential.sd-jwt"',
                "Cache-Control": "no-store",
            },
        )
    body = json.dumps(detail["credential"], indent=2, ensure_ascii=False)
    return Response(
        body,
        media_type="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="microcredential.json"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/credentials/{credential_id}/delete")
def credential_delete_confirm(
    request: Request, learner: LearnerPage, credential_id: str
) -> Response:
    """The confirmation step: what goes, and which share links stop working with it."""
    services = services_of(request)
    t = web.translator(request)
    detail = services.store.detail(learner, credential_id)
    shares = [
        s
        for s in services.shares.list(learner)
        if credential_id in s["credentialIds"] and s.get("state") == "active"
    ]
    return render(
        request,
        learner,
        "confirm.html",
        page_title=t("wallet.confirm.delete_credential.title"),
        heading=t("wallet.confirm.delete_credential.title"),
        subject=detail.get("title") or t("wallet.detail.title"),
        consequences=[
            t("wallet.confirm.delete_credential.gone"),
            t.plural("wallet.confirm.delete_credential.shares", len(shares)),
            t("wallet.confirm.delete_credential.issuer"),
        ],
        action=f"/credentials/{credential_id}/delete",
        submit=t("wallet.confirm.delete_credential.submit"),
        cancel=f"/credentials/{credential_id}",
    )


@router.post("/credentials/{credential_id}/delete")
def credential_delete(request: Request, learner: LearnerPage, credential_id: str) -> Response:
    services_of(request).store.delete(learner.id, credential_id)
    return web.redirect(request, "/credentials", flash=("info", "wallet.detail.deleted"))
