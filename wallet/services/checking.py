"""Verification on arrival and status re-checks: the core's ``Verifier`` under wallet policy.

The wallet checks every credential it receives — proof, issuer binding, validity, status,
the microcredential profile — with the same core code the verifier uses, and adds two
checks of its own:

* ``trust``: is the issuer in this wallet's known-issuer list? An unknown issuer is a
  *warning* the learner sees, never a refusal: the learner may rightly hold a credential
  from an institution the wallet operator has not listed;
* ``holder``: is the credential bound to this learner's DID? Bound to another DID is a
  failure (the learner could never present it); bound to no DID is a warning.

The EU profile check is a warning here rather than a failure: the wallet vouches for
authenticity, and an incomplete microcredential is still the learner's genuine badge (the
verifier, which decides, keeps it a failure).

``structure`` and ``context`` failures mean the document is not a credential the wallet can
read at all (not VCDM 2.0, an unknown JSON-LD context); such a document is never stored,
not even on the learner's request.

Status is re-checked when a credential is viewed; list credentials are cached (at most
``status_ttl`` seconds, shorter when the issuer's HTTP headers or ``ttl`` say so).

Clock skew: the core checks a status list's ``validFrom`` without tolerance, so a list the
issuer signed a second ago, read by a wallet whose clock is a second behind, would fail as
"not yet valid" and a genuine credential would be refused. Until the core applies its
``clock_skew`` there, the wallet re-checks such a status once with the clock moved forward
by the verifier's skew (5 minutes), which is the tolerance the core gives ``validFrom`` of
credentials themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from credentials import TOKEN_STATUS_LIST_MEDIA_TYPE as STATUS_LIST_MEDIA_TYPE
from credentials import (
    Check,
    MicrocredError,
    Multikey,
    SafeFetcher,
    StatusListCache,
    VerificationReport,
    check_status,
    default_verifier,
    is_ob2,
    is_sd_jwt_vc,
    load_data_file,
    sdjwt_core,
    sdjwt_jose,
    sdjwt_vc,
    subject_ids,
)
from credentials import verify_ob2_with as verify_with

from .clock import Clock

UNUSABLE = frozenset({"structure", "context"})
NOT_YET_VALID = "status_list_not_yet_valid"


@dataclass
class KnownIssuers:
    """Issuer DIDs (with display names) this wallet knows, from a file and/or a list."""

    names: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path | None, extra: Iterable[str] = ()) -> KnownIssuers:
        names: dict[str, str | None] = {}
        if path is not None:
            data: Any = load_data_file(path, code="invalid_known_issuers")
            if isinstance(data, dict):
                data = data.get("issuers", [])
            if not isinstance(data, list):
                raise ValueError(f"{path}: expected a list of issuers")
            for entry in data:
                if isinstance(entry, str):
                    names[entry] = None
                elif isinstance(entry, dict) and isinstance(entry.get("id"), str):
                    names[entry["id"]] = entry.get("name")
                else:
                    raise ValueError(f"{path}: an issuer is a DID or an object with an id")
        for did in extra:
            names.setdefault(did, None)
        return cls(names)

    def __contains__(self, issuer: object) -> bool:
        return issuer in self.names

    def check(self, issuer: str) -> Check:
        if issuer in self.names:
            name = self.names[issuer] or issuer
            return Check.passed("trust", f"{name} is an issuer this wallet knows")
        return Check.warning(
            "trust",
            "unknown_issuer",
            f"{issuer or 'the issuer'} is not in this wallet's list of known issuers; check "
            "that you expected a credential from this institution",
        )


class CredentialChecker:
    def __init__(
        self,
        *,
        known: KnownIssuers,
        fetcher: SafeFetcher,
        allow_insecure: bool,
        status_ttl: int,
        clock: Clock,
    ) -> None:
        self.known = known
        self.fetcher = fetcher
        self.clock = clock
        self.cache = StatusListCache(
            default_ttl=min(300, status_ttl), max_ttl=status_ttl, now=clock
        )
        self.verifier = default_verifier(
            allow_insecure=allow_insecure,
            trust_checker=known.check,
            fetcher=fetcher,
            status_cache=self.cache,
        )
        self.sd_jwt = sdjwt_vc.SdJwtVcVerifier(
            keys=sdjwt_vc.IssuerKeys(fetch_json=lambda url: fetcher.get_json(url)[0]),
            fetch_status=lambda url: fetcher.get(url, accept=STATUS_LIST_MEDIA_TYPE).text,
            trust_checker=known.check,
        )

    def verify_sd_jwt(self, token: str) -> VerificationReport:
        """An SD-JWT VC's arrival report (issue 19): issuer key, disclosures, vct, validity,
        Token Status List, trust. Key binding is the wallet's own (``cnf`` is compared when
        it is collected); a KB-JWT is made only when the learner presents it."""
        report = self.sd_jwt.verify(
            token, require_key_binding=False, now=int(self.clock().timestamp())
        )
        report.checks = [c for c in report.checks if c.id != "key_binding"]
        return report

    def verify(
        self, credential: Any, holder_did: str, *, previous_dids: Iterable[str] = ()
    ) -> VerificationReport:
        """The full arrival report, wallet checks included."""
        if is_sd_jwt_vc(credential):
            report = self.verify_sd_jwt(credential)
            if not any(c.id == "format" for c in report.failed):
                report.add(_sd_jwt_holder_check(credential, holder_did, set(previous_dids)))
            return report
        if is_ob2(credential):
            return self.verify_ob2(credential)[0]
        report = self.verifier.verify_credential(credential, now=self.clock())
        if is_unusable(report):
            return report
        checks = [_soften_profile(c) for c in report.checks]
        if any(c.id == "status" and c.code == NOT_YET_VALID for c in checks):
            retried = iter(self._tolerant_status(credential, self.cache))
            checks = [next(retried, c) if c.id == "status" else c for c in checks]
        checks.append(_holder_check(credential, holder_did, set(previous_dids)))
        return VerificationReport(
            checks=checks, summary=report.summary, format=report.format, profile=report.profile
        )

    def verify_ob2(self, credential: Any) -> tuple[VerificationReport, dict[str, Any] | None]:
        """An Open Badges 2.0 assertion's arrival report, and the assertion as verified
        (BadgeClass and Issuer embedded: what the wallet stores, so that it reads offline).

        OB 2.0 names its recipient by a (hashed) e-mail address, never by a DID, so the
        holder check says that instead of "bound to no DID"."""
        outcome = verify_with(self.verifier, credential, now=self.clock())
        report = outcome.report
        if not is_unusable(report):
            report.add(
                Check.warning(
                    "holder",
                    "holder_not_bound",
                    "an Open Badges 2.0 badge names its recipient by e-mail address (hashed), "
                    "not by your wallet's DID, so a verifier cannot tell it was issued to you",
                )
            )
        return report, outcome.resolved

    def status(self, credential: dict[str, Any] | str, *, fresh: bool = False) -> list[Check]:
        """The credential's status now, for a document as stored (JSON-LD object, or the
        compact SD-JWT VC / OB 2.0 JWS string); ``fresh`` bypasses the list cache."""
        if isinstance(credential, str) and is_sd_jwt_vc(credential):
            # the Token Status List, fetched and its signature read
            report = self.verify_sd_jwt(credential)
            checks = [c for c in report.checks if c.id == "status"]
            return checks or [c for c in report.failed][:1]
        if is_ob2(credential):  # revoked flag and revocation list, fetched again
            report = verify_with(self.verifier, credential, now=self.clock()).report
            checks = [c for c in report.checks if c.id == "status"]
            return checks or [c for c in report.failed][:1]
        if isinstance(credential, str):
            # the store keeps a string only for the two formats above
            raise TypeError("a stored credential string is neither an SD-JWT VC nor OB 2.0")
        cache = StatusListCache(max_ttl=0) if fresh else self.cache
        checks = check_status(
            credential,
            fetcher=self.fetcher,
            cache=cache,
            verify_list_credential=self._verify_list,
            now=self.clock(),
        )
        if any(c.code == NOT_YET_VALID for c in checks):
            return self._tolerant_status(credential, cache)
        return checks

    def _tolerant_status(self, credential: dict[str, Any], cache: StatusListCache) -> list[Check]:
        return check_status(
            credential,
            fetcher=self.fetcher,
            cache=cache,
            verify_list_credential=self._verify_list,
            now=self.clock() + self.verifier.clock_skew,
        )

    def _verify_list(self, list_credential: dict[str, Any]) -> tuple[bool, str]:
        try:
            report = self.verifier.verify_credential(list_credential, check_status=False)
        except MicrocredError as exc:
            return False, exc.message
        if report.verified:
            return True, ""
        return False, "; ".join(c.message for c in report.failed) or "no valid proof"


def is_unusable(report: VerificationReport) -> bool:
    return any(c.id in UNUSABLE for c in report.failed)


def status_of(checks: Iterable[Check | dict[str, Any]]) -> str:
    """One word for a credential's status checks: the worst entry decides."""
    codes, outcomes = [], []
    for check in checks:
        data = check.to_dict() if isinstance(check, Check) else check
        if data.get("id") != "status":
            continue
        codes.append(data.get("code"))
        outcomes.append(data.get("outcome"))
    if not codes:
        return "none"
    if "revoked" in codes:
        return "revoked"
    if "suspended" in codes:
        return "suspended"
    if "failed" in outcomes:
        return "invalid"
    if "warning" in outcomes:
        return "unknown"
    if "passed" in outcomes:
        return "active"
    return "none"


def _soften_profile(check: Check) -> Check:
    if check.id == "schema" and check.outcome == "failed":
        return Check.warning(
            "schema", check.code, f"not a complete EU microcredential: {check.message}"
        )
    return check


def _holder_check(credential: dict[str, Any], did: str, previous: set[str]) -> Check:
    subjects = subject_ids(credential)
    if did in subjects:
        return Check.passed("holder", "issued to you (bound to your wallet's DID)")
    if subjects and previous & set(subjects):
        return Check.warning(
            "holder",
            "bound_to_previous_did",
            "issued to the DID of your previous wallet; presentations signed by this wallet "
            "will not be accepted for it",
        )
    if not subjects:
        return Check.warning(
            "holder",
            "holder_not_bound",
            "the credential names no holder DID, so a verifier cannot tell it was issued to you",
        )
    return Check.failed(
        "holder",
        "holder_mismatch",
        f"the credential was issued to {', '.join(subjects)}, not to your wallet ({did})",
    )


def _did_key_jwk(did: str) -> dict[str, Any] | None:
    if not did.startswith("did:key:"):
        return None
    try:
        return sdjwt_jose.jwk_of(Multikey.from_public_multibase(did.split(":", 2)[2]))
    except MicrocredError:
        return None


def _sd_jwt_holder_check(token: str, did: str, previous: set[str]) -> Check:
    """The SD-JWT VC's ``cnf`` key against the learner's did:key (as ``_holder_check`` does
    with the subject DID): a KB-JWT by this wallet is only accepted for its own key."""
    try:
        bound = sdjwt_core.holder_key(sdjwt_core.SdJwt.parse(token).payload)
    except MicrocredError:
        bound = None
    if bound is None:
        return Check.warning(
            "holder", "holder_not_bound", "the SD-JWT VC names no holder key (cnf)"
        )
    jwk = sdjwt_jose.jwk_of(bound)
    if jwk == _did_key_jwk(did):
        return Check.passed("holder", "issued to you (bound to your wallet's key)")
    if any(jwk == _did_key_jwk(p) for p in previous):
        return Check.warning(
            "holder",
            "bound_to_previous_did",
            "bound to the key of your previous wallet; presentations made by this wallet "
            "will not be accepted for it",
        )
    return Check.failed(
        "holder", "holder_mismatch", "the SD-JWT VC is bound to another key, not your wallet's"
    )
