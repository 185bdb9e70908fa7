"""Verification orchestration: credential and presentation checks, in report order.

The ``Verifier`` ties the separate pieces together — format detection, data-model MUSTs,
JSON-LD context policing, proofs and purposes, issuer binding, validity window, status,
trust and the microcredential profile — and always returns a ``VerificationReport``.
Nothing here raises for bad input: a caller mistake is a failed check with a code, so the
CLI, the APIs and the pages can show the same explanation.

The report names the format it met (``report.format``). A format microcred recognises but
cannot verify (a JWT-secured VC, SD-JWT, BBS) is one failed ``format`` check with code
``unsupported_format`` — never "invalid signature". Families verified elsewhere (Open
Badges 2.0) are dispatched to the handler registered in ``credentials.formats``.

What the specifications call conforming passes; stricter rules are *policies*
(``credentials.policies``), each reported as its own failed ``policy`` check. Policies that
differ per service (status checking, trust, profile) are injected as callables, so the
wallet and the verifier share this code but not their configuration.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from . import policies as policy
from .canonical import canonicalize, undefined_terms
from .dates import parse_datetime, parse_xsd_datetime
from .dids import DidResolver
from .disclosure import disclosure_checks, withheld_in_derived
from .documents import DocumentLoader, refuse_inline_contexts
from .errors import DocumentLoaderError, MicrocredError
from .fetch import SafeFetcher
from .formats import Format, detect_format, handler_for
from .keys import Multikey
from .model import (
    check_credential,
    check_presentation,
    data_model,
    embedded_credentials,
    holder_id,
    issuer_id,
    related_resource_checks,
    subject_ids,
)
from .policies import Policy
from .proofs import sign, verify_proofs
from .report import Check, VerificationReport

StatusChecker = Callable[[dict[str, Any], datetime], list[Check]]
TrustChecker = Callable[[str], Check]
ProfileChecker = Callable[[dict[str, Any]], list[Check]]
Summarizer = Callable[[dict[str, Any]], dict[str, Any]]
PROFILE_CHECK_IDS = ("profile", "schema")
"""Check ids under which a profile checker reports (``profile-required`` reads them)."""
NO_PROFILE = "{} carries no EU micro-credential profile"
"""Why a format verified by a handler (Open Badges 2.0) does not meet ``profile-required``."""


@dataclass
class Verifier:
    """Verifies credentials and presentations under one configured policy.

    ``policies`` is the deployment's default set (none: conforming); each call may pass its
    own ``policies`` instead. ``fetcher`` is the deployment's outbound door, for format
    handlers that fetch (hosted Open Badges 2.0 assertions).
    """

    resolver: DidResolver = field(default_factory=DidResolver)
    status_checker: StatusChecker | None = None
    trust_checker: TrustChecker | None = None
    profile_checker: ProfileChecker | None = None
    summarizer: Summarizer | None = None
    clock_skew: timedelta = timedelta(minutes=5)
    policies: frozenset[Policy] = policy.CONFORMING
    fetcher: SafeFetcher | None = None

    def __post_init__(self) -> None:
        # contexts only: a DID in @context is no context, and resolving it would let any
        # document make the verifier fetch a URL of its choosing before any proof is checked
        self.loader = DocumentLoader()
        self.policies = policy.parse_policies(self.policies)

    def _active(self, policies: Iterable[str] | None) -> frozenset[Policy]:
        return self.policies if policies is None else policy.parse_policies(policies)

    # credentials --------------------------------------------------------------------------

    def verify_credential(
        self,
        credential: Any,
        *,
        now: datetime | None = None,
        check_status: bool = True,
        policies: Iterable[str] | None = None,
    ) -> VerificationReport:
        """The verification report for one credential; never raises for bad input.

        ``credential`` is whatever the caller received (parsed JSON, or the text of an Open
        Badges 2.0 assertion): a shape that is not a credential, a format microcred does not
        verify, a failed proof, status or policy all come back as failed checks with stable
        codes. ``report.verified`` is True only when no check failed and a proof passed.
        ``now`` fixes the clock for validity and proof times (default: the current UTC time);
        ``check_status=False`` skips the status lists (reported as "skipped"); ``policies``
        replaces this verifier's stricter policies for this call only.
        """
        now = now or datetime.now(UTC)
        active = self._active(policies)
        fmt = detect_format(credential)
        # Open Badges 2.0 (hosted or signed) goes to the handler credentials/ob2.py registers
        refused = self._refuse_or_dispatch(fmt, credential, now, check_status)
        if refused is not None:
            if fmt.supported and Policy.PROFILE_REQUIRED in active:
                # a format without the EU profile (Open Badges 2.0) cannot meet the policy
                refused.add(policy.failed(Policy.PROFILE_REQUIRED, NO_PROFILE.format(fmt.label)))
            return refused
        report = VerificationReport(format=fmt.label if fmt.family != "unknown" else None)
        try:
            check_credential(credential)
        except MicrocredError as exc:
            report.add(Check.failed("structure", exc.code, exc.message))
            return report
        version = data_model(credential)
        report.add(Check.passed("structure", f"conforms to the VC Data Model {version}"))
        canonical = self._context_check(credential, report, active)
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
        report.extend(related_resource_checks(credential))
        report.extend(disclosure_checks(credential))  # issue 18: what the learner withheld
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
            trust = report.add(self.trust_checker(issuer))
            if Policy.TRUSTED_ISSUERS_ONLY in active and trust.outcome != "passed":
                report.add(policy.failed(Policy.TRUSTED_ISSUERS_ONLY, trust.message))
        if self.profile_checker is not None:
            profile_checks = self.profile_checker(credential)
            report.extend(list(profile_checks))
            report.profile = getattr(profile_checks, "profile", None)
        if Policy.PROFILE_REQUIRED in active:
            profile_policy = _profile_policy(report)
            if profile_policy is not None:
                report.add(profile_policy)
        if self.summarizer is not None:
            try:
                report.summary = self.summarizer(credential)
            except (MicrocredError, ValueError, TypeError, KeyError, AttributeError):
                report.summary = {}
        withheld = withheld_in_derived(credential)
        if withheld and isinstance(report.summary, dict):
            # issue 18: what the learner left out travels with the summary (pages show it)
            report.summary["withheld"] = [{"nl": nl, "en": en} for nl, en in withheld]
        return report

    def _refuse_or_dispatch(
        self, fmt: Format, document: Any, now: datetime, check_status: bool
    ) -> VerificationReport | None:
        """A finished report for formats not verified here (None: verify as a VC)."""
        if fmt.family in ("vc2", "vc11", "unknown"):
            return None
        if fmt.family != "unsupported":
            handler = handler_for(fmt.family)
            if handler is not None:
                report: VerificationReport = handler(
                    document, verifier=self, now=now, check_status=check_status
                )
                report.format = report.format or fmt.label
                return report
            fmt = Format(
                "unsupported",
                fmt.model,
                fmt.securing,
                kind=fmt.kind,
                reason=f"{fmt.label} (no verifier for it is installed)",
            )
        report = VerificationReport(format=fmt.label)
        report.add(Check.failed("format", "unsupported_format", fmt.message))
        return report

    def _context_check(
        self,
        document: dict[str, Any],
        report: VerificationReport,
        active: frozenset[Policy] = policy.CONFORMING,
    ) -> str | None:
        unsecured = {k: v for k, v in document.items() if k != "proof"}
        try:
            refuse_inline_contexts(unsecured)
            inline = ""
        except DocumentLoaderError as exc:
            inline = exc.message.split(":", 1)[0]
        if inline and Policy.NO_INLINE_CONTEXTS in active:
            report.add(
                policy.failed(
                    Policy.NO_INLINE_CONTEXTS,
                    f"{inline} is an inline @context object; only published contexts are "
                    "accepted here",
                )
            )
            return None
        try:
            canonical = canonicalize(unsecured, self.loader, strict=False)
        except MicrocredError as exc:
            report.add(Check.failed("context", exc.code, exc.message))
            return None
        vague = undefined_terms(canonical)
        if inline:
            # conforming (VCDM 2.0 §4.3), so not a failure; but what it defines is the
            # issuer's own vocabulary, which a reader should know (docs/design.md)
            report.add(
                Check.warning(
                    "context",
                    "inline_context",
                    f"{inline} defines terms inline: their meaning is the issuer's own",
                )
            )
        if vague:
            report.add(
                Check.warning(
                    "context",
                    "issuer_dependent_terms",
                    "terms without a defined meaning (issuer-dependent): " + ", ".join(vague),
                )
            )
        elif not inline:
            report.add(Check.passed("context", "every term is defined by a known context"))
        return canonical

    def _validity(self, credential: dict[str, Any], now: datetime) -> Check:
        """validFrom/validUntil (VC 2.0) or issuanceDate/expirationDate (VCDM 1.1)."""
        if data_model(credential) == "1.1":
            start_name, end_name, parse = "issuanceDate", "expirationDate", parse_xsd_datetime
        else:
            start_name, end_name, parse = "validFrom", "validUntil", parse_datetime
        start, end = credential.get(start_name), credential.get(end_name)
        if start and parse(start) > now + self.clock_skew:
            return Check.failed("validity", "not_yet_valid", f"not valid before {start}")
        if end and parse(end) < now - self.clock_skew:
            return Check.failed("validity", "expired", f"expired at {end}")
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
        policies: Iterable[str] | None = None,
    ) -> tuple[VerificationReport, list[VerificationReport]]:
        """The presentation's own report (holder checks, with every credential's failures
        folded in) and one report per embedded credential."""
        now = now or datetime.now(UTC)
        active = self._active(policies)
        fmt = detect_format(presentation)
        if fmt.family == "unsupported":
            report = VerificationReport(format=fmt.label)
            report.add(Check.failed("format", "unsupported_format", fmt.message))
            return report, []
        report = VerificationReport(format=fmt.label if fmt.family != "unknown" else None)
        try:
            check_presentation(presentation)
        except MicrocredError as exc:
            report.add(Check.failed("structure", exc.code, exc.message))
            return report, []
        version = data_model(presentation)
        report.add(Check.passed("structure", f"conforms to the VC Data Model {version}"))
        canonical = self._context_check(presentation, report, active)
        if canonical is None:
            return report, []
        signers: list[Multikey] = []
        checks, _ = verify_proofs(
            presentation,
            resolver=self.resolver,
            purpose="authentication",
            loader=self.loader,
            challenge=challenge,
            domain=domain,
            now=now,
            clock_skew=self.clock_skew,
            canonical_document=canonical,
            signers=signers,
        )
        report.extend(checks)
        holder = holder_id(presentation)
        report.add(_signer_is_holder(holder, signers))
        signer = signers[0].controller if signers else None
        holder = holder or signer
        credential_reports = []
        for index, credential in enumerate(embedded_credentials(presentation)):
            sub = self.verify_credential(
                credential, now=now, check_status=check_status, policies=active
            )
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
            report.extend(
                _holder_binding(index, credential, holder, Policy.HOLDER_IS_SUBJECT in active)
            )
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


def _signer_is_holder(holder: str | None, signers: list[Multikey]) -> Check:
    """The signer of a presentation is its declared holder: compared always.

    Whether a challenge or domain was given (the purpose check) says only whether the
    presentation is fresh; who signed it is a separate question. Without this comparison a
    presentation signed by anyone, declaring learner A as holder and embedding A's
    credential, would bind A's credential to A (issue 14, item 2).
    """
    if not signers:
        return Check.failed(
            "holder", "holder_unproven", "no verified signature proves who the holder is"
        )
    strangers = sorted({key.controller for key in signers if key.controller != holder})
    if holder and strangers:
        return Check.failed(
            "holder",
            "holder_mismatch",
            f"the presentation is not signed by its holder {holder} but by " + ", ".join(strangers),
        )
    return Check.passed("holder", f"signed by the holder {holder or signers[0].controller}")


def _holder_binding(
    index: int, credential: dict[str, Any], holder: str | None, required: bool
) -> list[Check]:
    """Whether the holder is the credential's subject.

    VCDM 2.0 lets anyone present a credential (a parent for a child, an agent for an
    employer), so a holder who is not the subject is a warning; ``holder-is-subject`` makes
    it a failed ``credential[i].policy`` check. Decisions (admissions, requests) only count
    credentials whose binding *passed*, whatever the policy.
    """
    check_id = f"credential[{index}].holder_binding"
    subjects = subject_ids(credential)
    if holder and holder in subjects:
        return [Check.passed(check_id, "the holder is the credential's subject")]
    if not holder:
        check = Check.warning(
            check_id, "holder_unknown", "the presentation does not name its holder"
        )
    else:
        check = Check.warning(
            check_id, "holder_not_subject", "the holder is not the subject of this credential"
        )
    if not required:
        return [check]
    refused = policy.failed(Policy.HOLDER_IS_SUBJECT, check.message)
    return [check, Check(f"credential[{index}].policy", "failed", refused.code, refused.message)]


def _profile_policy(report: VerificationReport) -> Check | None:
    """``profile-required``: met only when a profile check ran and passed."""
    code = policy.CODES[Policy.PROFILE_REQUIRED]
    if any(c.id == "policy" and c.code == code for c in report.checks):
        return None  # the profile checker applied the policy itself
    profile = [c for c in report.checks if c.id in PROFILE_CHECK_IDS]
    if profile and all(c.outcome == "passed" for c in profile):
        return None
    not_met = [c for c in profile if c.outcome in ("failed", "warning")]
    if not_met:
        reason = not_met[0].message
    elif profile:
        reason = profile[0].message
    else:
        reason = "the profile was not checked"
    return policy.failed(Policy.PROFILE_REQUIRED, reason)


def create_presentation(
    credentials: list[dict[str, Any]],
    key: Multikey,
    *,
    challenge: str | None = None,
    domain: str | None = None,
    presentation_id: str | None = None,
    created: datetime | str | None = None,
    loader: DocumentLoader | None = None,
    expires: datetime | str | None = None,
) -> dict[str, Any]:
    """A VP signed by the holder ``key`` (authentication purpose); ``expires`` bounds how
    long the proof is accepted (share links: a revoked link stops working within it)."""
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
        expires=expires,
        loader=loader,
        strict=False,
    )
