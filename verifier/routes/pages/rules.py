"""A rule from the employer's form: the simple fields, or a pasted route definition.

Both the presentation request form and the admission form ask for a rule the same way.
What is wrong with a rule is said by catalogue key (:class:`RuleError`), so the page says
it in the reader's language; the rules engine's own findings come back as service errors
whose stable ``code`` the page translates.
"""

from __future__ import annotations

import json
from typing import Any

from servicekit.web import Translator


class RuleError(Exception):
    """A rule the page cannot use; ``key`` names the catalogue message."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def rule_from_form(form: dict[str, str], t: Translator) -> dict[str, Any]:
    """A route definition from the simple rule fields, or the pasted JSON when given.

    Returns the mapping as the rules engine reads it; the engine (through the service's
    ``parse_route``) says what is wrong with it, field by field.
    """
    advanced = form.get("rule_json", "").strip()
    if advanced:
        try:
            data = json.loads(advanced)
        except ValueError:
            raise RuleError("verifier.rule.not_json") from None
        if not isinstance(data, dict):
            raise RuleError("verifier.rule.not_object")
        return data
    rule: dict[str, Any] = {
        "id": "verifier-rule",
        "name": form.get("rule_name", "").strip() or t("verifier.rule.name_default"),
    }
    for key, name, kind in (
        ("min_ects", "min_ects", float),
        ("min_eqf_level", "min_eqf", int),
        ("max_age_years", "max_age", float),
    ):
        raw = form.get(name, "").strip().replace(",", ".")
        if raw:
            try:
                rule[key] = kind(raw)
            except ValueError:
                raise RuleError(
                    "verifier.rule.not_a_number", field=t(f"verifier.rule.{name}"), value=raw
                ) from None
    keywords = [k.strip() for k in form.get("keywords", "").split(",") if k.strip()]
    if keywords:
        rule["only_listed_modules"] = True
        rule["module_groups"] = [
            {
                "id": "subject",
                "name": ", ".join(keywords),
                "choose": 1,
                "modules": [
                    {"id": f"kw{n}", "name": k, "keywords": [k]} for n, k in enumerate(keywords)
                ],
            }
        ]
    if form.get("trusted_only"):
        rule["accepted_issuers"] = ["trusted"]
    return rule
