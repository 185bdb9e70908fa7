"""What a result page shows: one card per credential and one headline that answers.

Shared by the verifier's result pages and the wallet's public share page (the employer's
QR landing page), so both say the same verdict for the same presentation. The headline is
built here, not in templates, because three rules decide it (issue 16,
point 4) and they are easy to get subtly wrong:

* the headline's reason comes from the *same* credential (or the presentation itself) whose
  state the headline shows, never from the first failed check anywhere in the report;
* with a presentation request or an admission rule, the answer to that question leads and
  authenticity is the second line;
* a credential whose proof does not hold is not shown as facts: its card is marked
  untrustworthy and the template strikes its values through behind a fold.

Who the credential belongs to (point 5) is said as a person when the learner disclosed a
name (an OB 3.0 ``IdentityObject`` of type ``name``, not hashed), otherwise by the key
that proved it in the presentation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from credentials import MicrocredError, disclosure, read_credential

from .web import (
    CheckRow,
    FieldRow,
    ReportView,
    Translator,
    format_date,
    format_number,
    microcredential_rows,
)

#: Checks whose failure means the credential's content cannot be trusted (forged, altered
#: or unreadable), as opposed to genuine content that is revoked, expired or untrusted.
CONTENT_CHECKS = frozenset(
    {"structure", "context", "proof", "verification_method", "issuer", "proof_purpose"}
)
#: Checks of a presentation's ``credential[i]`` that concern the sharing, not the credential.
SHARING_CHECKS = frozenset({"holder_binding", "policy"})
#: From worst to best: the state a page leads with when several credentials disagree.
SEVERITY = (
    "withdrawn",
    "failed",
    "revoked",
    "suspended",
    "expired",
    "unknown",
    "untrusted",
    "verified",
)


@dataclass
class CredentialCard:
    """One credential on a result page: the few facts first, everything else folded."""

    state: str
    title: str | None
    institution: str | None
    institution_from_registry: bool
    ects: str
    level: str
    date: str
    holder: str | None
    grade: str | None
    report: ReportView | None = None
    rows: list[FieldRow] = field(default_factory=list)
    withheld: list[str] = field(default_factory=list)
    """Selective disclosure: what the learner chose not to show ("cijfer niet gedeeld")."""
    trustworthy: bool = True
    """False when the proof does not hold: the values are a forger's claims, not facts."""
    holder_name: str | None = None
    image: str | None = None
    """The badge image (``achievement.image``) when it is a safe https or PNG/SVG data URL."""


@dataclass(frozen=True)
class Headline:
    """The verdict panel: the answer first, then (for questions) authenticity."""

    state: str
    reason: str | None = None
    card: CredentialCard | None = None
    answer: str | None = None
    """"met", "not_met" or None: the answer to a request or a rule, when one was asked."""
    answer_text: str | None = None
    authenticity: str | None = None
    """The second line under an answer: the state of the credentials themselves."""


def worst(states: list[str]) -> str:
    known = [s for s in states if s in SEVERITY]
    return min(known, key=SEVERITY.index) if known else "failed"


def level_text(summary: dict[str, Any], t: Translator) -> str:
    parts = []
    if summary.get("eqfLevel") is not None:
        parts.append(t("field.eqf", n=summary["eqfLevel"]))
    if summary.get("nlqfLevel") is not None:
        parts.append(t("field.nlqf", n=summary["nlqfLevel"]))
    return ", ".join(parts) or t("value.not_stated")


def disclosed_name(credential: Any) -> str | None:
    """The learner's name when the credential shows it in plain text (OB 3.0 identifier of
    type ``name`` with ``hashed: false``); a hash proves a name only to who knows it."""
    if not isinstance(credential, dict):
        return None
    try:
        view = read_credential(credential)
    except MicrocredError:
        return None
    for identity in getattr(view, "holder_identities", ()) or ():
        kind = str(identity.get("identityType", ""))
        value = identity.get("identityHash")
        if kind == "name" and identity.get("hashed") is False and isinstance(value, str):
            return value.strip()[:200] or None
    return None


def badge_image(credential: Any) -> str | None:
    """``achievement.image`` when a page may show it: an inline PNG, JPEG, WebP or GIF
    (``data:`` URL, at most 300 kB). An SVG could carry script and is left out; a remote
    image is left out too: the pages' CSP allows no other origin, and fetching it would tell
    a third party who is looking at whose credential."""
    if not isinstance(credential, dict):
        return None
    subject = credential.get("credentialSubject")
    subject = subject[0] if isinstance(subject, list) and subject else subject
    achievement = subject.get("achievement") if isinstance(subject, dict) else None
    image = achievement.get("image") if isinstance(achievement, dict) else None
    url = image.get("id") if isinstance(image, dict) else image
    if not isinstance(url, str) or len(url) > 400_000:
        return None
    for kind in ("png", "jpeg", "webp", "gif"):
        if url.startswith(f"data:image/{kind};base64,"):
            return url
    return None


def untrustworthy(report: ReportView | None) -> bool:
    if report is None:
        return True
    return any(
        c.outcome == "failed" and c.id.split(".")[-1] in CONTENT_CHECKS for c in report.checks
    )


def card(
    summary: dict[str, Any],
    report: ReportView | None,
    t: Translator,
    credential: Any = None,
) -> CredentialCard:
    from_registry = summary.get("issuerNameSource") == "trust registry"
    rows: list[FieldRow] = []
    holder = summary.get("holder")
    if isinstance(credential, dict):
        try:
            view = read_credential(credential)
            holder = holder or view.holder
            rows = microcredential_rows(
                view, t, institution_name=summary.get("issuerName") if from_registry else None
            )
        except MicrocredError:
            rows = []
    not_stated = t("value.not_stated")
    if credential is not None:
        pairs = disclosure.withheld_in_derived(credential)
    else:
        pairs = [(w.get("nl"), w.get("en")) for w in summary.get("withheld") or []]
    withheld = [t("card.withheld", field=(nl if t.lang == "nl" else en) or "") for nl, en in pairs]
    return CredentialCard(
        state=report.state if report is not None else "failed",
        title=summary.get("module"),
        institution=summary.get("issuerName") or summary.get("issuer"),
        institution_from_registry=from_registry,
        ects=format_number(summary.get("ects")) or not_stated,
        level=level_text(summary, t),
        date=format_date(summary.get("awarded")) or not_stated,
        holder=holder,
        grade=summary.get("grade"),
        report=report,
        rows=rows,
        withheld=withheld,
        trustworthy=not untrustworthy(report),
        holder_name=disclosed_name(credential),
        image=badge_image(credential),
    )


def own_checks(view: ReportView, cards: list[CredentialCard] | None = None) -> tuple[CheckRow, ...]:
    """The presentation's own checks, without the copies of each credential's checks
    (``credential[i].…``) that the cards already show: "Controles van het delen" once.

    A ``credential[i].…`` row stays when it is about the sharing, not the credential: the
    holder binding, and a policy the presentation failed (holder-is-subject). With the
    cards given, a row is dropped exactly when card ``i`` shows the same check."""
    out = []
    for check in view.checks:
        if not check.id.startswith("credential[") or "]." not in check.id:
            out.append(check)
            continue
        index, _, inner = check.id[len("credential[") :].partition("].")
        shown = None
        if cards is not None and index.isdigit() and int(index) < len(cards):
            report = cards[int(index)].report
            shown = report is not None and any(
                (c.id, c.code, c.outcome) == (inner, check.code, check.outcome)
                for c in report.checks
            )
        if shown is False or (shown is None and inner in SHARING_CHECKS):
            out.append(check)
    return tuple(out)


def first_reason(checks: tuple[CheckRow, ...] | list[CheckRow]) -> str | None:
    failed = [c for c in checks if c.outcome == "failed"]
    return failed[0].message if failed else None


def headline(
    overall: ReportView | None,
    cards: list[CredentialCard],
    *,
    presentation: bool = True,
    gone: bool = False,
) -> Headline:
    """The verdict and its reason from one and the same source.

    The presentation's own checks come first (a broken holder proof makes every card moot);
    otherwise the worst card leads, with its own first failure as the reason.
    """
    if gone:
        reason = first_reason(overall.checks) if overall is not None else None
        return Headline("withdrawn", reason)
    if overall is not None and (presentation or not cards):
        own = own_checks(overall, cards)
        if any(c.outcome == "failed" for c in own) or not cards:
            return Headline(overall.state, first_reason(own) or first_reason(overall.checks))
    if not cards:
        return Headline("failed")
    lead = min(cards, key=lambda c: SEVERITY.index(c.state) if c.state in SEVERITY else 0)
    reason = first_reason(lead.report.checks) if lead.report is not None else None
    subject = lead if len(cards) == 1 or lead.state != "verified" else None
    return Headline(lead.state, reason, subject)


def answered(base: Headline, *, met: bool, text: str) -> Headline:
    """Put the answer to a request or rule on top; the credentials' own state goes second."""
    return Headline(
        base.state,
        base.reason,
        base.card,
        answer="met" if met else "not_met",
        answer_text=text,
        authenticity=base.state,
    )
