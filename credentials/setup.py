"""Wiring the core's pieces into a ready ``Verifier`` with the project's default policy.

Services and the CLI call ``default_verifier`` and add their own trust policy, so the
fetch policy, status checking and microcredential profile are configured in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .dids import DidResolver
from .fetch import FetchPolicy, SafeFetcher
from .policies import Policy, parse_policies
from .report import Check
from .status import StatusListCache, check_status
from .verify import TrustChecker, Verifier


def default_verifier(
    *,
    allow_insecure: bool = False,
    trust_checker: TrustChecker | None = None,
    fetcher: SafeFetcher | None = None,
    status_cache: StatusListCache | None = None,
    policies: Iterable[str] = (),
    require_profile: bool = False,
) -> Verifier:
    """A verifier with did:web + status over the safe fetcher and the profile check.

    ``policies`` (names from ``credentials.policies``) are the deployment's stricter rules;
    none by default, so that what the specifications call conforming verifies.
    ``require_profile`` is a shorthand for the policy ``profile-required``: an incomplete
    EU microcredential fails a ``policy`` check instead of giving a warning.
    """
    chosen = parse_policies(policies)
    if require_profile:
        chosen |= {Policy.PROFILE_REQUIRED}
    fetcher = fetcher or SafeFetcher(FetchPolicy(allow_insecure=allow_insecure))
    resolver = DidResolver(fetcher)
    cache = status_cache or StatusListCache()
    verifier = Verifier(
        resolver=resolver,
        trust_checker=trust_checker,
        policies=chosen,
        fetcher=fetcher,
    )

    def verify_list(list_credential: dict[str, Any], now: Any = None) -> tuple[bool, str]:
        # judged at the caller's ``now`` (the service's clock), like the credential itself;
        # a list is judged by conformance alone: the deployment's policies are about what
        # it accepts as credentials, not about how an issuer publishes its lists
        report = verifier.verify_credential(
            list_credential, check_status=False, now=now, policies=()
        )
        if report.verified:
            return True, ""
        return False, "; ".join(c.message for c in report.failed) or "no valid proof"

    def status(credential: dict[str, Any], now: Any) -> list[Check]:
        return check_status(
            credential,
            fetcher=fetcher,
            cache=cache,
            verify_list_credential=lambda document: verify_list(document, now),
            now=now,
            clock_skew=verifier.clock_skew,
        )

    verifier.status_checker = status
    _attach_profile(verifier)
    return verifier


def _attach_profile(verifier: Verifier) -> None:
    # the profile's checks report completeness (a warning when incomplete); the verifier
    # turns that into a failed ``policy`` check under ``profile-required`` (per call, too)
    from .profile import profile_checks, summarize

    verifier.profile_checker = profile_checks
    verifier.summarizer = summarize
