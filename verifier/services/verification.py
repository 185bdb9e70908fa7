"""Verification as this verifier does it: the core ``Verifier`` plus its own policy.

The core checks everything a credential can prove about itself (structure, contexts,
proofs, DID binding, validity, status, profile). The verifier adds what depends on whom it
trusts and what it remembers:

* the **trust** check against the registry, evaluated at the credential's issue date (the
  core's ``trust_checker`` hook only sees a DID, so it is added here, after the core);
* a **summary** where the issuer is named as the registry names it, not as the credential
  claims, because a forged credential can call itself anything;
* the **verification log** (hashes only, see ``log``).

Presentations fold each credential's failures and warnings into the presentation's own
report as ``credential[i].<check>``, as the core does, so one report tells the whole story.

Policies (``credentials.policies``): the service has two sets. ``page_policies`` is the
default of every call (the employer pages, share links, presentation requests,
admissions) and is stricter out of the box; the VC-API passes ``vcapi_policies`` (none by
default: what the specifications call conforming verifies). ``trusted-issuers-only`` is
applied here over the registry's ``trust`` check, which itself stays a warning.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from credentials import (
    NO_PROFILE,
    Check,
    Policy,
    SafeFetcher,
    StatusListCache,
    VerificationReport,
    Verifier,
    default_verifier,
    embedded_credentials,
    holder_id,
    is_ob2,
    issuer_id,
    openid4vp,
    parse_policies,
    policy_failed,
    read_credential,
)
from credentials import verify_ob2_with as verify_with
from servicekit.errors import STATUS_BY_KIND, Invalid

from .clock import Clock
from .log import LoggedCredential, VerificationLog
from .trust import TrustRegistryStore, trust_check

BINDING_CHECKS = openid4vp.BINDING_CHECKS
"""Checks of the presentation itself (now defined with the protocol, credentials.openid4vp)."""

TRUSTED, UNKNOWN = "trusted", "unknown"
NOT_ACCREDITED, NOT_CHECKED = "not_accredited", "not_checked"


@dataclass
class VerificationResult:
    """One verification: the top report and, for presentations, one report per credential."""

    kind: str
    report: VerificationReport
    document: Any = None
    credential_reports: list[VerificationReport] = field(default_factory=list)
    credentials: list[dict[str, Any]] = field(default_factory=list)
    is_presentation: bool = False

    @property
    def verified(self) -> bool:
        return self.report.verified

    @property
    def trust(self) -> str:
        """The issuer trust of the answer in one word, next to ``verified``.

        ``verified`` says the signatures, dates and status hold; it is true for a credential
        anyone signed for themselves. An API client reading only ``verified`` would miss
        the warning the page shows, so the answer states trust explicitly (issue 14, item
        11): ``trusted`` (every issuer is in the trust registry, accredited on the issue
        date), ``not_accredited``, ``unknown`` (an issuer not in the registry), or
        ``not_checked`` (nothing got as far as a trust check).
        """
        reports = [self.report, *self.credential_reports]
        trust = [c for r in reports for c in r.checks if c.id.split(".")[-1] == "trust"]
        if not trust:
            return NOT_CHECKED
        if any(c.code == "accreditation_not_valid" for c in trust):
            return NOT_ACCREDITED
        if all(c.outcome == "passed" for c in trust):
            return TRUSTED
        return UNKNOWN

    def binding_holds(self) -> bool:
        """The presentation's own proof verified with the expected challenge and domain.

        That is what makes an answer *this holder's answer to this question*, regardless of
        what the embedded credentials turn out to be worth.
        """
        return openid4vp.binding_holds(self.report)

    def counted_credentials(self) -> list[tuple[int, dict[str, Any], VerificationReport]]:
        """Credentials that may count for a decision: each verified, and, in a presentation,
        presented by a verified holder who is their subject."""
        if self.is_presentation:
            holder = self.report.outcome_of("holder")
            if not self.binding_holds() or (holder is not None and holder.outcome == "failed"):
                return []
        counted = []
        for index, (credential, report) in enumerate(
            zip(self.credentials, self.credential_reports, strict=False)
        ):
            if not report.verified:
                continue
            if self.is_presentation:
                binding = self.report.outcome_of(f"credential[{index}].holder_binding")
                if binding is None or binding.outcome != "passed":
                    continue
            counted.append((index, credential, report))
        return counted

    @property
    def unsupported_format(self) -> Check | None:
        """The failed ``format`` check of a recognised but unsupported format, if any."""
        check = self.report.outcome_of("format")
        return check if check is not None and check.code == "unsupported_format" else None

    def to_dict(self) -> dict[str, Any]:
        """The report shape of the API: ``{verified, checks, warnings, errors, summary}``;
        presentations add ``credentials`` (each credential's full report). An unsupported
        format also carries RFC 9457 fields (``type``, ``title``, ``status``, ``detail``,
        ``code``), so a client reading problem details sees ``unsupported_format``."""
        out = self.report.to_dict()
        out["trust"] = self.trust
        if self.is_presentation:
            out["credentials"] = [r.to_dict() for r in self.credential_reports]
        out.setdefault("summary", {})
        unsupported = self.unsupported_format
        if unsupported is not None:
            out.update(
                type="https://w3id.org/microcred/problems/unsupported_format",
                title="Unsupported credential format",
                status=STATUS_BY_KIND[Invalid.kind],  # the report is the problem body too
                detail=unsupported.message,
                code=unsupported.code,
            )
        return out


def malformed(
    kind: str, code: str, message: str, check_id: str = "structure"
) -> VerificationResult:
    """A result for input that could not be verified at all (same shape, one failed check)."""
    report = VerificationReport()
    report.add(Check.failed(check_id, code, message))
    return VerificationResult(kind=kind, report=report)


class VerificationService:
    """Verifies documents under this verifier's configuration and logs the outcomes."""

    def __init__(
        self,
        *,
        registry: TrustRegistryStore,
        log: VerificationLog,
        clock: Clock,
        allow_insecure: bool,
        strict_trust: bool,
        clock_skew: float,
        fetcher: SafeFetcher | None = None,
        status_cache: StatusListCache | None = None,
        policies: Iterable[str] = (),
        page_policies: Iterable[str] = (),
    ) -> None:
        self.registry = registry
        self.log = log
        self.clock = clock
        self.strict_trust = strict_trust
        extra = {Policy.TRUSTED_ISSUERS_ONLY} if strict_trust else set()
        self.vcapi_policies: frozenset[Policy] = parse_policies(policies) | extra
        self.page_policies: frozenset[Policy] = parse_policies(page_policies) | extra
        self.core: Verifier = default_verifier(
            allow_insecure=allow_insecure,
            fetcher=fetcher,
            status_cache=status_cache or StatusListCache(),
            policies=self.page_policies,
        )
        self.core.clock_skew = timedelta(seconds=clock_skew)

    def _policies(self, policies: Iterable[str] | None) -> frozenset[Policy]:
        return self.page_policies if policies is None else parse_policies(policies)

    # credentials --------------------------------------------------------------------------

    def verify_credential(
        self,
        credential: Any,
        *,
        kind: str = "credential",
        policies: Iterable[str] | None = None,
    ) -> VerificationResult:
        """Verify under ``policies`` (None: the page policies)."""
        active = self._policies(policies)
        if is_ob2(credential):
            # Open Badges 2.0: rules read the assertion as verified (BadgeClass embedded)
            ob2 = verify_with(self.core, credential, now=self.clock())
            report, checked = ob2.report, ob2.resolved
            if checked is not None:
                self._add_trust(checked, report, self.clock(), active)
            else:
                checked = credential if isinstance(credential, dict) else None
            if Policy.PROFILE_REQUIRED in active:
                label = report.format or "Open Badges 2.0"
                report.add(policy_failed(Policy.PROFILE_REQUIRED, NO_PROFILE.format(label)))
        else:
            report = self._credential_report(credential, self.clock(), active)
            checked = credential if isinstance(credential, dict) else None
        result = VerificationResult(
            kind=kind,
            report=report,
            document=credential,
            credential_reports=[report],
            credentials=[checked] if checked is not None else [],
        )
        self.log.record(kind, [LoggedCredential(credential, report)])
        return result

    def _credential_report(
        self, credential: Any, now: datetime, policies: frozenset[Policy]
    ) -> VerificationReport:
        report = self.core.verify_credential(credential, now=now, policies=policies)
        if (
            not isinstance(credential, dict)
            or _failed(report, "structure")
            or _failed(report, "format")
        ):
            return report
        self._add_trust(credential, report, now, policies)
        return report

    def _add_trust(
        self,
        credential: dict[str, Any],
        report: VerificationReport,
        now: datetime,
        policies: frozenset[Policy],
    ) -> None:
        registry = self.registry.current()
        summary = dict(report.summary or {})
        # an OB 2.0 assertion names its issuer through its BadgeClass: the core's summary has it
        issuer = issuer_id(credential) or _str(summary.get("issuer"))
        issued, claimed = _issued_and_claimed_name(credential, summary)
        check = trust_check(registry, issuer, issued or now, strict=False)
        report.add(check)
        if Policy.TRUSTED_ISSUERS_ONLY in policies and check.outcome != "passed":
            report.add(policy_failed(Policy.TRUSTED_ISSUERS_ONLY, check.message))
        institution = registry.lookup(issuer)
        summary["issuer"] = issuer
        summary["trusted"] = check.outcome == "passed"
        if institution is not None:
            summary["issuerName"] = institution.name
            summary["issuerNameSource"] = "trust registry"
            summary["issuerCountry"] = institution.country
            summary["accreditation"] = list(institution.accreditation)
            if claimed and claimed != institution.name:
                summary["issuerNameInCredential"] = claimed
        else:
            summary["issuerName"] = claimed
            summary["issuerNameSource"] = "credential (not in the trust registry)"
        report.summary = summary

    # presentations ------------------------------------------------------------------------

    def verify_presentation(
        self,
        presentation: Any,
        *,
        challenge: str | None,
        domain: str | None,
        kind: str = "presentation",
        extra_checks: Sequence[Check] = (),
        log: bool = True,
        policies: Iterable[str] | None = None,
    ) -> VerificationResult:
        """Verify under ``policies`` (None: the page policies)."""
        now = self.clock()
        active = self._policies(policies)
        report, credential_reports = self.core.verify_presentation(
            presentation, challenge=challenge, domain=domain, now=now, policies=active
        )
        credentials = embedded_credentials(presentation) if isinstance(presentation, dict) else []
        if credential_reports:
            for index, (credential, sub) in enumerate(
                zip(credentials, credential_reports, strict=False)
            ):
                if _failed(sub, "structure") or _failed(sub, "format"):
                    continue
                self._add_trust(credential, sub, now, active)
                for check in sub.checks:
                    if check.id in ("trust", "policy") and check.outcome in ("failed", "warning"):
                        if check.id == "policy" and check.code != "policy_untrusted_issuer":
                            continue  # the core folded the other policy checks in already
                        report.add(check.within(index))
        report.extend(list(extra_checks))
        if isinstance(presentation, dict) and not _failed(report, "structure"):
            report.summary = {
                "holder": holder_id(presentation),
                "credentials": [r.summary for r in credential_reports],
            }
        result = VerificationResult(
            kind=kind,
            report=report,
            document=presentation,
            credential_reports=list(credential_reports),
            credentials=credentials if credential_reports else [],
            is_presentation=True,
        )
        if log:
            self.record(result)
        return result

    def record(self, result: VerificationResult) -> None:
        """Log a result: one row per credential (or one for the whole, if it has none)."""
        if result.is_presentation and result.credential_reports:
            items = [
                LoggedCredential(c, r, presentation=result.report)
                for c, r in zip(result.credentials, result.credential_reports, strict=False)
            ]
        else:
            items = [
                LoggedCredential(None if result.is_presentation else result.document, result.report)
            ]
        self.log.record(result.kind, items)


def proof_challenge(presentation: Any) -> str | None:
    """The challenge named in a presentation's (first) proof, if any."""
    if not isinstance(presentation, dict):
        return None
    proof = presentation.get("proof")
    if isinstance(proof, list):
        proof = proof[0] if proof else None
    value = proof.get("challenge") if isinstance(proof, dict) else None
    return value if isinstance(value, str) and value else None


def _issued_and_claimed_name(
    credential: dict[str, Any], summary: dict[str, Any]
) -> tuple[datetime | None, str | None]:
    """The issue date and the issuer's own name for itself.

    The core's summary has both when its summarizer ran (it already read the credential:
    ``awarded`` is the view's ``issued`` as ISO 8601); reading the credential a second time
    was a visible share of a verification. Without them, read it here.
    """
    if "awarded" in summary and "issuerName" in summary:
        awarded = summary["awarded"]
        try:
            issued = datetime.fromisoformat(awarded) if isinstance(awarded, str) else None
        except ValueError:
            issued = None
        if issued is not None or awarded is None:
            return issued, summary["issuerName"]
    view = read_credential(credential)  # tolerant of any shape of a dict
    return view.issued, summary.get("issuerName") or view.issuer_name


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _failed(report: VerificationReport, check_id: str) -> bool:
    check = report.outcome_of(check_id)
    return check is not None and check.outcome == "failed"
