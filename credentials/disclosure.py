"""What of a microcredential must always travel, and what the learner may leave out.

The issuer's base proof (ecdsa-sd-2023) fixes the *mandatory* part: without the issuer,
the achievement (module identity, name, level, credits), the validity dates and the status
entry the credential means nothing, so no holder can drop them. The learner's holder DID
is mandatory too: holder binding compares it with the presenter.

The *disclosable* fields are the ones a learner may want to keep to herself: the grade
(``result``), her name, and each hashed identity (student number, e-mail address). Every
other field travels whenever the credential is shared; the wallet lists only the fields
here, with the Dutch and English labels the learner sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .report import Check

SUITE = "ecdsa-sd-2023"
_ALWAYS_TOP = ("issuer", "validFrom", "validUntil", "credentialStatus", "awardedDate", "name")
_SUBJECT_FIXED = ("id", "type", "achievement")
_IDENTITY_LABELS = {
    "sisSourcedId": ("studentnummer (versleuteld)", "student number (hashed)"),
    "studentId": ("studentnummer (versleuteld)", "student number (hashed)"),
    "emailAddress": ("e-mailadres (versleuteld)", "e-mail address (hashed)"),
}


@dataclass(frozen=True)
class Field:
    """One field the learner may leave out: a stable key, its pointer, and its labels."""

    key: str
    pointer: str
    label_nl: str
    label_en: str

    def to_dict(self) -> dict[str, str]:
        return {
            "key": self.key,
            "pointer": self.pointer,
            "label_nl": self.label_nl,
            "label_en": self.label_en,
        }


def mandatory_pointers(credential: dict[str, Any]) -> list[str]:
    """Issuer, achievement identity and name (the whole achievement), validity, status."""
    pointers = [f"/{name}" for name in _ALWAYS_TOP if name in credential]
    subject = credential.get("credentialSubject")
    if isinstance(subject, dict):
        pointers += [
            f"/credentialSubject/{name}" for name in ("id", "achievement") if name in subject
        ]
    return pointers


def disclosable_fields(credential: dict[str, Any]) -> list[Field]:
    """The fields a learner may withhold, in the order the wallet lists them."""
    subject = credential.get("credentialSubject")
    if not isinstance(subject, dict):
        return []
    fields: list[Field] = []
    if "result" in subject:
        fields.append(Field("grade", "/credentialSubject/result", "cijfer", "grade"))
    if "name" in subject:
        fields.append(Field("name", "/credentialSubject/name", "naam", "name"))
    identifiers = subject.get("identifier")
    if isinstance(identifiers, list):
        for i, entry in enumerate(identifiers):
            kind = entry.get("identityType") if isinstance(entry, dict) else None
            nl, en = _IDENTITY_LABELS.get(str(kind), ("identiteit (versleuteld)", "identity"))
            key = "student_number" if nl.startswith("studentnummer") else f"identity_{i}"
            if kind == "emailAddress":
                key = "email"
            fields.append(Field(key, f"/credentialSubject/identifier/{i}", nl, en))
    return fields


def selective_pointers(credential: dict[str, Any], disclose: set[str] | list[str]) -> list[str]:
    """Pointers for a derived proof that shows everything except the withheld fields.

    ``disclose`` holds the keys (``grade``, ``name``, ``student_number`` …) the learner
    ticked; fields not listed by :func:`disclosable_fields` always travel.
    """
    chosen = set(disclose)
    fields = disclosable_fields(credential)
    mandatory = set(mandatory_pointers(credential))
    pointers = [
        f"/{name}"
        for name in credential
        if name not in ("@context", "id", "type", "proof", "credentialSubject")
        and f"/{name}" not in mandatory
    ]
    subject = credential.get("credentialSubject")
    if isinstance(subject, dict):
        for name in subject:
            pointer = f"/credentialSubject/{name}"
            if name in _SUBJECT_FIXED or pointer in mandatory:
                continue
            if name in ("result", "name", "identifier"):
                continue
            pointers.append(pointer)
    pointers += [f.pointer for f in fields if f.key in chosen]
    return pointers


def is_selective(credential: Any) -> bool:
    """Whether ``credential`` carries an ecdsa-sd-2023 proof (base or derived)."""
    proof = credential.get("proof") if isinstance(credential, dict) else None
    return isinstance(proof, dict) and proof.get("cryptosuite") == SUITE


def dcql_disclosure(credential: dict[str, Any], claim_paths: list[list[Any]]) -> list[str]:
    """The field keys a DCQL request's claim paths ask for — exactly those, nothing else.

    A path like ``["credentialSubject", "result"]`` selects ``grade``; one reaching into
    ``identifier`` selects the identities; paths to mandatory fields select nothing extra.
    """
    wanted: list[str] = []
    for field in disclosable_fields(credential):
        parts = field.pointer.strip("/").split("/")
        for path in claim_paths:
            names = [str(p) for p in path if p is not None]
            if (
                len(names) >= 2
                and names[: len(parts)] == parts[: len(names)]
                and field.key not in wanted
            ):
                wanted.append(field.key)
    return wanted


def withheld_in_derived(credential: Any) -> list[tuple[str, str]]:
    """For a verifier: the usual disclosable fields a *derived* ecdsa-sd-2023 credential
    does not show, as (Dutch, English) labels — "cijfer niet gedeeld" rather than silence.
    Empty for any other credential (nothing was left out by the learner there)."""
    if not is_selective(credential):
        return []
    from .ecdsa_sd import is_derived

    if not is_derived(credential["proof"].get("proofValue")):
        return []
    subject = credential.get("credentialSubject")
    subject = subject if isinstance(subject, dict) else {}
    out = []
    if "result" not in subject:
        out.append(("cijfer", "grade"))
    if "identifier" not in subject:
        out.append(("studentnummer (versleuteld)", "student number (hashed)"))
    return out


def disclosure_checks(credential: Any) -> list[Check]:
    """A report line for a derived credential: what the learner chose not to show, so a
    reader (or a rule that would need it) learns it was withheld, not missing by mistake."""
    withheld = withheld_in_derived(credential)
    if not withheld:
        return []
    names = ", ".join(f"{nl} ({en})" for nl, en in withheld)
    return [
        Check.passed(
            "selective_disclosure",
            f"selectively disclosed (ecdsa-sd-2023): the learner chose not to show {names}",
            code="fields_withheld",
        )
    ]
