"""Holder warnings, "not yet verified" reasons and issuer notices, in the page's language.

The checks that produce them speak English for logs and the API; pages show them by their
stable ``code`` from the catalogue (``wallet.warning.<code>``, ``wallet.pending.<code>``),
so a Dutch page never carries an English engine sentence.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from servicekit.web import Translator

from ...services.issuer_info import BadgeImages
from ...services.issuer_info import status_notice as status_notice

_BADGES_ATTRIBUTE = "wallet_badge_images"


def _checks(item: dict[str, Any], outcome: str) -> list[dict[str, Any]]:
    report = item.get("report")
    if not isinstance(report, dict):
        return []
    checks = report.get("warnings" if outcome == "warning" else "checks", [])
    return [
        c
        for c in checks
        if isinstance(c, dict) and (outcome == "warning" or c.get("outcome") == outcome)
    ]


def warning_texts(t: Translator, item: dict[str, Any]) -> list[str]:
    """The credential's warnings by code; the same code twice is said once."""
    out: list[str] = []
    for check in _checks(item, "warning"):
        code = str(check.get("code") or "")
        key = f"wallet.warning.{code}"
        text = t(key) if key in t.catalogue.get(t.lang, {}) else t("wallet.warning.other")
        if text not in out:
            out.append(text)
    return out


def pending_text(t: Translator, item: dict[str, Any]) -> str | None:
    """Why a credential is "received, not yet verified", or None when it is verified."""
    if item.get("verified"):
        return None
    reasons: list[str] = []
    for check in _checks(item, "failed"):
        code, check_id = str(check.get("code") or ""), str(check.get("id") or "")
        for key in (f"wallet.pending.{code}", f"wallet.pending.{check_id}"):
            if key in t.catalogue.get(t.lang, {}):
                if t(key) not in reasons:
                    reasons.append(t(key))
                break
        else:
            if t("wallet.pending.other") not in reasons:
                reasons.append(t("wallet.pending.other"))
    return t("wallet.pending", reason="; ".join(reasons or [t("wallet.pending.other")]))


def badge_image(request: Request, credential: Any) -> str | None:
    """The achievement's badge as a ``data:`` URI (see ``services.issuer_info``)."""
    badges = getattr(request.app.state, _BADGES_ATTRIBUTE, None)
    if badges is None:
        badges = BadgeImages(request.app.state.services.fetcher)
        setattr(request.app.state, _BADGES_ATTRIBUTE, badges)
    return badges.data_uri(credential)


__all__ = ["badge_image", "pending_text", "status_notice", "warning_texts"]
