"""Verification orchestration: credential and presentation checks, in report order.

The ``Verifier`` ties the separate pieces together — data-model MUSTs, JSON-LD context
policing, proofs and purposes, issuer binding, validity window, status, trust and the
microcredential profile — and always returns a ``VerificationReport``. Nothing here raises
for bad input: a caller mistake is a failed check with a code, so the CLI, the APIs and
the pages can show the same explanation.

Policies that differ per service (status checking, trust, profile) are injected as
callables, so the wallet and the verifier share this code but not their configuration.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .canonical import canonicalize, undefined_terms
from .dids import DidResolver
from .documents import DocumentLoader, refuse_inline_contexts
from .errors import MicrocredError
from .keys import Multikey
from .model import (
    check_credential,
    check_presentation,
    embedded_credentials,
    holder_id,
    issuer_id,
    subject_ids,
)
from .proofs import parse_datetime, sign, verify_proofs
from .report import Check, VerificationReport

StatusChecker = Callable[[dict[str, Any], datetime], list[Check]]
TrustChecker = Callable[[str], Check]
ProfileChecker = Callable[[dict[str, Any]], list[Check]]
Summarizer = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass
class Verifier:
    """Verifies credentials and presentations under one configured policy."""

    resolver: DidResolver = field(default_factory=DidResolver)
    status_checker: StatusChecker | None = None
    trust_checker: TrustChecker | None = None
    profile_checker: ProfileChecker | None = None
    summarizer: Summarizer | None = None
    clock_skew: timedelta = timedelta(minutes=5)

    def __post_init__(self) -> None:
        # contexts only: a DID in @context is no context, and resolving it would let any
        # document make the verifier fetch a URL of its choosing before any proof is checked
        self.loader = DocumentLoader()

    # credentials --------------------------------------------------------------------------

    def verify_credential(
        self,
        credential: Any,
        *,
        now: datetime | None = None,
        check_status: bool = True,
    ) -> VerificationReport:
        now = now or datetime.now(UTC)
        report = VerificationReport()
        try:
            check_credential(credential)
        except MicrocredError as exc:
            report.add(Check.failed("structure", exc.code, exc.message))
            return report
        report.add(Check.passed("structure", "conforms to the VC Data Model 2.0"))
        canonical = self._context_check(credential, report)
        if canonical is None:
            return report
        checks, keys = verify_proofs(
            credential,
            resolver=self.resolver,
            purpose="assertionMethod",
            loader=self.loader,
            now=now,
            clock_skew=self.clock_skew,
            canonical_document=canonical,
        )
        report.extend(checks)
        report.add(_issuer_binding(credential, keys))
        report.add(self._validity(credential, now))
        if self.status_checker is not None and check_status:
            try:
                report.extend(self.status_checker(credential, now))
            except MicrocredError as exc:
                report.add(Check.warning("status", "status_unknown", exc.message))
        else:
            report.add(Check.skipped("status", "status was not checked"))
        issuer = issuer_id(credential) or ""
        if self.trust_checker is not None:
            report.add(self.trust_checker(issuer))
        if self.profile_checker is not None:
            profile_checks = self.profile_checker(credential)
            report.extend(list(profile_checks))
            report.profile = getattr(profile_checks, "profile", None)
        if self.summarizer is not None:
            try:
                report.summary = self.summarizer(credential)
            except (MicrocredError, ValueError, TypeError, KeyError, AttributeError):
                report.summary = {}
        return report

    def _context_check(self, document: dict[str, Any], report: VerificationReport) -> str | None:
        unsecured = {k: v for k, v in document.items() if k != "proof"}
        try:
            refuse_inline_contexts(unsecured)
            canonical = canonicalize(unsecured, self.loader, strict=False)
        except MicrocredError as exc:
            report.add(Check.failed("context", exc.code, exc.message))
            return None
        vague = undefined_terms(canonical)
        if vague:
            report.add(
                Check.warning(
                    "context",
                    "issuer_dependent_terms",
                    "terms without a defined meaning (issuer-dependent): " + ", ".join(vague),
                )
            )
        else:
            report.add(Check.passed("context", "every term is defined by a known context"))
        return canonical

    def _validity(self, credential: dict[str, Any], now: datetime) -> Check:
        valid_from = credential.get("validFrom")
        valid_until = credential.get("validUntil")
        if valid_from and parse_datetime(valid_from) > now + self.clock_skew:
            return Check.failed("validity", "not_yet_valid", f"not valid before {valid_from}")
        if valid_until and parse_datetime(valid_until) < now - self.clock_skew:
            return Check.failed("validity", "expired", f"expired at {valid_until}")
        return Check.passed("validity", "within its validity period")

    # presentations ------------------------------------------------------------------------

    def verify_presentation(
        self,
        presentation: Any,
        *,
        challenge: str | None = None,
        domain: str | None = None,
        now: datetime | None = None,
        check_status: bool = True,
    ) -> tuple[VerificationReport, list[VerificationReport]]:
        """The presentation's own report (holder checks, with every credential's failures
        folded in) and one report per embedded credential."""
        now = now or datetime.now(UTC)
        report = VerificationReport()
        try:
            check_presentation(presentation)
        except MicrocredError as exc:
            report.add(Check.failed("structure", exc.code, exc.message))
            return report, []
        report.add(Check.passed("structure", "conforms to the VC Data Model 2.0"))
        canonical = self._context_check(presentation, report)
        if canonical is None:
            return report, []
        checks, keys = verify_proofs(
            presentation,
            resolver=self.resolver,
            purpose="authentication",
            loader=self.loader,
            challenge=challenge,
            domain=domain,
            now=now,
            clock_skew=self.clock_skew,
            canonical_document=canonical,
        )
        report.extend(checks)
        holder = holder_id(presentation)
        signer = keys[0].controller if keys else None
        if holder and signer and holder != signer:
            report.add(
                Check.failed(
                    "holder", "holder_mismatch", "the presentation is not signed by its holder"
                )
            )
        elif signer:
            report.add(Check.passed("holder", f"signed by the holder {holder or signer}"))
        holder = holder or signer
        credential_reports = []
        for index, credential in enumerate(embedded_credentials(presentation)):
            sub = self.verify_credential(credential, now=now, check_status=check_status)
            credential_reports.append(sub)
            for check in sub.checks:
                if check.outcome in ("failed", "warning"):
                    report.add(
                        Check(
                            f"credential[{index}].{check.id}",
                            check.outcome,
                            check.code,
                            check.message,
                        )
                    )
            report.add(_holder_binding(index, credential, holder))
        return report, credential_reports


def _issuer_binding(credential: dict[str, Any], keys: list[Multikey]) -> Check:
    issuer = issuer_id(credential)
    if not keys:
        return Check.skipped("issuer", "no verified proof to bind to the issuer")
    if all(key.controller == issuer for key in keys):
        return Check.passed("issuer", f"signed by a key of the issuer {issuer}")
    return Check.failed(
        "issuer",
        "issuer_mismatch",
        f"the proof was made with a key of {keys[0].controller}, not of the issuer {issuer}",
    )


def _holder_binding(index: int, credential: dict[str, Any], holder: str | None) -> Check:
    check_id = f"credential[{index}].holder_binding"
    subjects = subject_ids(credential)
    if not holder:
        return Check.failed(check_id, "holder_unknown", "the presentation does not name its holder")
    if holder in subjects:
        return Check.passed(check_id, "the holder is the credential's subject")
    return Check.failed(
        check_id, "holder_not_subject", "the holder is not the subject of this credential"
    )


def create_presentation(
    credentials: list[dict[str, Any]],
    key: Multikey,
    *,
    challenge: str | None = None,
    domain: str | None = None,
    presentation_id: str | None = None,
    created: datetime | str | None = None,
    loader: DocumentLoader | None = None,
) -> dict[str, Any]:
    """A VP signed by the holder ``key`` (authentication purpose)."""
    presentation: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": key.controller,
        "verifiableCredential": credentials,
    }
    if presentation_id:
        presentation["id"] = presentation_id
    return sign(
        presentation,
        key,
        purpose="authentication",
        challenge=challenge,
        domain=domain,
        created=created,
        loader=loader,
        strict=False,
    )
