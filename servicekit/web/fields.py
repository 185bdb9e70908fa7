"""A micro-credential's elements as rows of label and value, in plain language."""

from __future__ import annotations

from dataclasses import dataclass

from credentials import MicrocredentialView

from .formatting import format_date, format_number
from .i18n import Translator


@dataclass(frozen=True)
class FieldRow:
    label: str
    value: str
    items: tuple[str, ...] = ()
    href: str | None = None


def _http_link(url: str | None) -> str | None:
    """Only http(s) links become ``href`` values; ``javascript:`` and friends stay text."""
    if url and (url.startswith("https://") or url.startswith("http://")):
        return url
    return None


def _plain(prefix: str, value: str | None, t: Translator) -> str:
    if value is None:
        return t("value.not_stated")
    key = f"{prefix}.{value}"
    return t(key) if t.has(key) else value


def country_name(view: MicrocredentialView, t: Translator) -> str | None:
    """The country in the reader's language when the credential gives its ISO code
    ("NL" → "Nederland"); otherwise the name as the credential writes it (its own data)."""
    code = (view.country_code or "").upper()
    if code and t.has(f"country.{code}"):
        return t(f"country.{code}")
    return view.country or view.country_code


def level_text(view: MicrocredentialView, t: Translator) -> str:
    parts = []
    if view.eqf_level is not None:
        parts.append(t("field.eqf", n=view.eqf_level))
    if view.nlqf_level is not None:
        parts.append(t("field.nlqf", n=view.nlqf_level))
    if view.qf_ehea_cycle:
        parts.append(t("field.qf_ehea", cycle=_plain("qf_ehea", view.qf_ehea_cycle, t)))
    return ", ".join(parts) if parts else t("value.not_stated")


def microcredential_rows(
    view: MicrocredentialView, t: Translator, *, institution_name: str | None = None
) -> list[FieldRow]:
    """Every EU micro-credential element of a credential, in plain language, in EU order.

    ``institution_name`` is the name from a trust registry when the caller has one: the
    name a credential gives itself is what a forger would fake first.
    """
    not_stated = t("value.not_stated")
    name = institution_name or view.issuer_name or view.issuer_id or not_stated
    country = ", ".join(p for p in (country_name(view, t), view.region) if p)
    rows = [
        FieldRow(t("field.title"), view.title or not_stated),
        FieldRow(t("field.institution"), name, href=_http_link(view.issuer_url)),
        FieldRow(t("field.country"), country or not_stated),
    ]
    if view.issuer_identifiers:
        rows.append(
            FieldRow(
                t("field.awarding_body_ids"),
                ", ".join(f"{k}: {v}" for k, v in view.issuer_identifiers.items()),
            )
        )
    rows.append(FieldRow(t("field.issued"), format_date(view.issued) or not_stated))
    if view.valid_until:
        rows.append(FieldRow(t("field.valid_until"), format_date(view.valid_until)))
    rows.append(FieldRow(t("field.description"), view.description or not_stated))
    if view.learning_outcomes:
        rows.append(FieldRow(t("field.learning_outcomes"), "", items=view.learning_outcomes))
    elif view.criteria:
        rows.append(FieldRow(t("field.criteria"), view.criteria))
    rows.append(FieldRow(t("field.ects"), format_number(view.ects) or not_stated))
    if view.hours is not None:
        rows.append(FieldRow(t("field.hours"), format_number(view.hours)))
    rows.append(FieldRow(t("field.level"), level_text(view, t)))
    rows.append(FieldRow(t("field.assessment"), view.assessment_type or not_stated))
    rows.append(
        FieldRow(t("field.participation"), _plain("participation", view.participation_form, t))
    )
    if view.supervision:
        rows.append(FieldRow(t("field.supervision"), _plain("supervision", view.supervision, t)))
    if view.identity_check is not None:
        rows.append(
            FieldRow(
                t("field.identity_check"), t("value.yes") if view.identity_check else t("value.no")
            )
        )
    rows.append(
        FieldRow(
            t("field.quality_assurance"),
            view.quality_assurance or not_stated,
            href=_http_link(view.quality_assurance_url),
        )
    )
    if view.language:
        rows.append(FieldRow(t("field.language"), view.language))
    if view.prerequisites:
        rows.append(FieldRow(t("field.prerequisites"), "", items=view.prerequisites))
    if view.stackability:
        rows.append(FieldRow(t("field.stackability"), _plain("stackability", view.stackability, t)))
    if view.stackable_into:
        rows.append(FieldRow(t("field.stackable_into"), "", items=view.stackable_into))
    if view.grade:
        rows.append(FieldRow(t("field.grade"), view.grade))
    if view.credential_id:
        rows.append(FieldRow(t("field.credential_id"), view.credential_id))
    return rows
