"""The verifier's side of result cards: its ``VerificationResult`` into servicekit's cards.

The cards and the headline rules themselves live in ``servicekit.verdicts``, shared with the
wallet's public share page, so the employer reads the same verdict on both.
"""

from __future__ import annotations

from servicekit.verdicts import (
    CredentialCard,
    Headline,
    answered,
    card,
    first_reason,
    headline,
    own_checks,
)
from servicekit.web import Translator, report_view

from ...services.verification import VerificationResult

#: The share-link check codes that mean the link itself is withdrawn, expired or used up.
GONE_CODES = frozenset({"share_not_found", "share_expired", "share_revoked", "share_exhausted"})


def cards_of(result: VerificationResult, t: Translator) -> list[CredentialCard]:
    cards = []
    for index, sub in enumerate(result.credential_reports):
        credential = result.credentials[index] if index < len(result.credentials) else None
        cards.append(card(dict(sub.summary or {}), report_view(sub, t), t, credential))
    return cards


def is_gone(result: VerificationResult) -> bool:
    return any(c.code in GONE_CODES for c in result.report.checks)


__all__ = [
    "CredentialCard",
    "Headline",
    "answered",
    "card",
    "cards_of",
    "first_reason",
    "headline",
    "is_gone",
    "own_checks",
]
