"""A microcredential's EU elements in plain language, for the detail view.

The core's ``read_microcredential`` flattens the credential; this module says what each
element means in a sentence a learner (or the colleague building the pages) can show as
is: "Workload: 7.5 ECTS (about 210 hours of study)". The numbering follows the EU Council
Recommendation (2022): 1–11 mandatory, then the optional elements. An element the
credential does not state is listed with ``value: None`` and a note, so a learner sees what
is missing rather than nothing.
"""

from __future__ import annotations

from typing import Any

from credentials import COUNTRY_NAMES, MicrocredentialView

_ASSESSMENT_FALLBACK = "not stated"
_PARTICIPATION = {
    "online": "online",
    "onsite": "on site, in person",
    "blended": "blended (partly online, partly on site)",
    "volunteering": "through volunteering",
    "work-experience": "through work experience",
}
_SUPERVISION = {
    "unsupervised": "the assessment was not supervised",
    "supervised-online": "the assessment was supervised online",
    "supervised-onsite": "the assessment was supervised on site",
}


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _date(view: MicrocredentialView) -> str | None:
    issued = view.issued
    return issued.date().isoformat() if issued else None


def elements(view: MicrocredentialView, holder_did: str) -> list[dict[str, Any]]:
    """Every EU element as ``{number, element, label, value, note?}``."""
    items: list[dict[str, Any]] = []

    def add(number: int | None, key: str, label: str, value: str | None, note: str = "") -> None:
        entry: dict[str, Any] = {"number": number, "element": key, "label": label, "value": value}
        if value is None:
            entry["note"] = note or "the credential does not state this"
        items.append(entry)

    if view.holder == holder_did:
        learner: str | None = "you — the credential is bound to your wallet's key"
    elif view.holder:
        learner = f"the holder of {view.holder} (not this wallet's key)"
    elif view.holder_identities:
        learner = "a learner identified by a hashed identifier (e.g. an e-mail address)"
    else:
        learner = None
    add(1, "learner", "Awarded to", learner)
    add(2, "title", "Title", view.title)
    country = view.country or COUNTRY_NAMES.get(view.country_code or "", view.country_code)
    place = ", ".join(p for p in (view.region, country) if p) or None
    add(3, "country", "Country/region of the awarding body", place)
    body = view.issuer_name or view.issuer_id
    if body and view.issuer_identifiers:
        codes = ", ".join(f"{k} {v}" for k, v in view.issuer_identifiers.items())
        body = f"{body} ({codes})"
    add(4, "awarding_body", "Awarding body", body)
    add(5, "date", "Date of issue", _date(view))
    outcomes = list(view.learning_outcomes)
    learning = (
        ("You can: " + "; ".join(outcomes)) if outcomes else (view.criteria or view.description)
    )
    add(6, "learning_outcomes", "Learning outcomes", learning)
    workload = None
    if view.ects is not None and view.hours is not None:
        workload = f"{_number(view.ects)} ECTS (about {_number(view.hours)} hours of study)"
    elif view.ects is not None:
        workload = f"{_number(view.ects)} ECTS"
    elif view.hours is not None:
        workload = f"about {_number(view.hours)} hours of study"
    add(7, "workload", "Workload", workload)
    level = None
    if view.eqf_level is not None:
        extra = []
        if view.nlqf_level is not None:
            extra.append(f"NLQF {view.nlqf_level}")
        if view.qf_ehea_cycle:
            extra.append(f"QF-EHEA {view.qf_ehea_cycle} cycle")
        level = f"EQF level {view.eqf_level}" + (f" ({', '.join(extra)})" if extra else "")
    add(8, "level", "Level", level)
    add(9, "assessment", "Type of assessment", view.assessment_type)
    form = view.participation_form
    add(10, "participation", "Form of participation", _PARTICIPATION.get(form or "", form))
    quality = view.quality_assurance
    if quality and view.quality_assurance_url:
        quality = f"{quality} ({view.quality_assurance_url})"
    add(11, "quality_assurance", "Quality assurance", quality)

    optional: list[tuple[str, str, str | None]] = []
    if view.prerequisites:
        optional.append(("prerequisites", "Prerequisites", "; ".join(view.prerequisites)))
    supervision = _SUPERVISION.get(view.supervision or "", view.supervision)
    if view.identity_check is not None:
        checked = "your identity was checked" if view.identity_check else "no identity check"
        supervision = f"{supervision}; {checked}" if supervision else checked
    if supervision:
        optional.append(("supervision", "Supervision and identity check", supervision))
    if view.grade:
        grade = view.grade + (f" ({view.result_status})" if view.result_status else "")
        optional.append(("grade", "Grade", grade))
    if view.stackability or view.stackable_into:
        into = ", ".join(view.stackable_into)
        stack = view.stackability or "stackable"
        optional.append(("stackability", "Stackability", f"{stack}: {into}" if into else stack))
    if view.language:
        optional.append(("language", "Language", view.language))
    if view.valid_until:
        optional.append(("valid_until", "Valid until", view.valid_until.date().isoformat()))
    for key, label, value in optional:
        add(None, key, label, value)
    return items
