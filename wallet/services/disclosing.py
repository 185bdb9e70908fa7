"""Selective disclosure in the wallet (issue 18): what a share shows of an ecdsa-sd-2023
credential, and the derived proof that shows exactly that.

The learner ticks the fields that go (``grade``, ``name``, ``student_number`` …, listed by
``credentials.disclosure``); everything else the issuer made disclosable is withheld, and
the mandatory part always travels. A credential with any other proof is shared whole.
"""

from __future__ import annotations

from typing import Any

from credentials import DocumentLoader, MicrocredError, disclosure, ecdsa_sd
from servicekit.errors import Invalid

_LOADER = DocumentLoader()


def validated(document: dict[str, Any], keys: object) -> list[str]:
    """The learner's choice for one credential, checked against what it can leave out."""
    if keys is None:
        return []
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise Invalid("invalid_disclosure", "disclose must list field names")
    if len(set(keys)) != len(keys):
        raise Invalid("invalid_disclosure", "disclose names a field twice")
    known = {f.key for f in disclosure.disclosable_fields(document)}
    unknown = [k for k in keys if k not in known]
    if unknown:
        raise Invalid(
            "unknown_disclosure_field",
            f"this credential has no disclosable field {', '.join(unknown)} "
            f"(it has: {', '.join(sorted(known)) or 'none'})",
        )
    return list(keys)


def shown(document: dict[str, Any], keys: list[str]) -> dict[str, Any]:
    """What a share hands over: a derived credential, or the document when not selective."""
    if not disclosure.is_selective(document):
        return document
    try:
        return ecdsa_sd.derive(document, disclosure.selective_pointers(document, keys), _LOADER)
    except MicrocredError as exc:
        raise Invalid(exc.code, f"cannot derive the shared credential: {exc.message}") from None


def summary(document: dict[str, Any], keys: list[str]) -> dict[str, Any]:
    """For the share log and the page: what was shown and what was withheld, with labels."""
    fields = disclosure.disclosable_fields(document)
    chosen = set(keys)
    return {
        "disclosed": [f.key for f in fields if f.key in chosen],
        "withheld": [f.key for f in fields if f.key not in chosen],
        "withheldLabels": [
            {"nl": f.label_nl, "en": f.label_en} for f in fields if f.key not in chosen
        ],
    }


def fields_for(document: dict[str, Any]) -> list[dict[str, str]]:
    """The form's list: what can be left out of this credential, Dutch and English labels."""
    if not disclosure.is_selective(document):
        return []
    return [f.to_dict() for f in disclosure.disclosable_fields(document)]


def requested(document: dict[str, Any], claim_paths: list[Any]) -> list[str]:
    """The disclosable fields a DCQL query's claim paths ask for: exactly those."""
    return disclosure.dcql_disclosure(document, [list(p) for p in claim_paths])
