"""Verification policies: rules stricter than the specifications, chosen by a deployment.

What VC Data Model 2.0 / 1.1 and Data Integrity call conforming is verified as conforming.
A deployment (or a single request) may want more — no inline contexts, the holder must be
the subject, only issuers in its trust registry, a complete EU micro-credential profile.
Those are *policies*: each one, when it is not met, adds its own failed check with id
``policy`` and a ``policy_…`` code, so a report never presents a policy as a forgery or as
a conformance failure, and a page can say exactly which policy a credential did not meet.

======================== =============================== ==================================
policy                   code when not met               what it asks
======================== =============================== ==================================
``no-inline-contexts``   ``policy_inline_context``       only published (shipped) contexts
``holder-is-subject``    ``policy_holder_not_subject``   each presented credential is about
                                                         the presentation's holder
``trusted-issuers-only`` ``policy_untrusted_issuer``     the trust check passed
``profile-required``     ``policy_profile_required``     the EU micro-credential profile is
                                                         complete (profile check passed)
======================== =============================== ==================================
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from .errors import MalformedInput
from .report import Check

CHECK_ID = "policy"


class Policy(StrEnum):
    NO_INLINE_CONTEXTS = "no-inline-contexts"
    HOLDER_IS_SUBJECT = "holder-is-subject"
    TRUSTED_ISSUERS_ONLY = "trusted-issuers-only"
    PROFILE_REQUIRED = "profile-required"


CODES = {
    Policy.NO_INLINE_CONTEXTS: "policy_inline_context",
    Policy.HOLDER_IS_SUBJECT: "policy_holder_not_subject",
    Policy.TRUSTED_ISSUERS_ONLY: "policy_untrusted_issuer",
    Policy.PROFILE_REQUIRED: "policy_profile_required",
}

CONFORMING: frozenset[Policy] = frozenset()
"""The default of the core and of the VC-API: what the specifications accept."""

STRICT: frozenset[Policy] = frozenset({Policy.NO_INLINE_CONTEXTS, Policy.HOLDER_IS_SUBJECT})
"""The employer pages' default: what microcred refused before it accepted the open world."""


def parse_policies(value: str | Iterable[str] | None) -> frozenset[Policy]:
    """Policies from a comma-separated string or a list of names; unknown names refused
    (``MalformedInput`` with code ``unknown_policy``), because a typo must not silently
    make a deployment less strict than its operator thinks."""
    if value is None:
        return frozenset()
    names = value.split(",") if isinstance(value, str) else list(value)
    out: set[Policy] = set()
    for name in names:
        if not isinstance(name, str):
            raise MalformedInput("policy names must be strings", code="unknown_policy")
        name = name.strip()
        if not name:
            continue
        try:
            out.add(Policy(name))
        except ValueError:
            known = ", ".join(p.value for p in Policy)
            raise MalformedInput(
                f"unknown policy {name!r} (known: {known})", code="unknown_policy"
            ) from None
    return frozenset(out)


def failed(policy: Policy, message: str) -> Check:
    """The failed ``policy`` check for ``policy``, its message prefixed with its name."""
    return Check.failed(CHECK_ID, CODES[policy], f"policy {policy.value}: {message}")
