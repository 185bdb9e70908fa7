"""SD-JWT VC answers to OpenID4VP requests (issue 19), shaped like Data Integrity results.

An SD-JWT VC presentation (``<issuer JWT>~<disclosures>~<KB-JWT>``) is checked by
``credentials.sdjwt.vc.SdJwtVcVerifier`` with this verifier's outbound fetcher (issuer
metadata, Token Status Lists), DID resolver and trust registry. The KB-JWT must carry the
request's ``nonce`` and, as ``aud``, the client id the request went out under (OpenID4VP
1.0 §B.3.6), and be fresh. The outcome is put in the :class:`VerificationResult` shape the
request flow, the report and the employer view already use: the presentation-level checks
(``proof`` = the KB-JWT, ``challenge`` = nonce and audience) decide whether the answer is
this holder's answer to this question; the credential report holds the rest (issuer
signature, disclosures, vct, validity, status, trust).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from credentials import (
    Check,
    MicrocredError,
    VerificationReport,
    is_sd_jwt,  # noqa: F401 (the protocol part, shared)
)
from credentials import sdjwt_core as core
from credentials import sdjwt_vc as vc

from .trust import trust_check
from .verification import VerificationResult, VerificationService

KB_CHECK_CODES = {"kb_nonce", "kb_audience", "kb_stale", "kb_sd_hash"}


def verify_sd_jwt_presentation(
    service: VerificationService,
    presentation: str,
    *,
    nonce: str,
    audience: str,
    vct_values: Iterable[str] | None = None,
    kind: str = "request",
    log: bool = False,
) -> VerificationResult:
    core_verifier = service.core
    registry = service.registry.current()
    fetch_json, fetch_text = vc.fetchers(core_verifier.fetcher, "no outbound fetcher")

    now = service.clock()
    checker = vc.SdJwtVcVerifier(
        keys=vc.IssuerKeys(
            fetch_json=fetch_json,
            did_resolver=core_verifier.resolver,
            x5c_anchors=list(getattr(registry, "x5c_anchors", ()) or ()),
        ),
        fetch_status=fetch_text,
        known_vcts=list(vct_values) if vct_values else None,
        trust_checker=lambda issuer: trust_check(registry, issuer, now, strict=False),
    )
    sub = checker.verify(presentation, audience=audience, nonce=nonce, now=int(now.timestamp()))
    if sub.summary:
        institution = registry.lookup(sub.summary.get("issuer"))
        trust = sub.outcome_of("trust")
        sub.summary["trusted"] = trust is not None and trust.outcome == "passed"
        if institution is not None:
            sub.summary["issuerNameInCredential"] = sub.summary.get("issuerName")
            sub.summary["issuerName"] = institution.name
            sub.summary["issuerNameSource"] = "trust registry"
        else:
            sub.summary["issuerNameSource"] = "credential (not in the trust registry)"
    top = VerificationReport(format=sub.format)
    binding = sub.outcome_of("key_binding")
    fmt = sub.outcome_of("format")
    if fmt is None or fmt.outcome == "failed":
        top.add(
            Check.failed(
                "structure",
                fmt.code if fmt else "invalid_sd_jwt",
                fmt.message if fmt else "not an SD-JWT VC",
            )
        )
    else:
        top.add(Check.passed("structure", "an SD-JWT VC presentation"))
    if binding is None:
        top.add(
            Check.failed(
                "proof",
                "kb_unchecked",
                "the key binding could not be checked (the credential failed first)",
            )
        )
    elif binding.outcome == "passed":
        top.add(Check.passed("proof", "KB-JWT signed by the credential's holder key (cnf)"))
        top.add(Check.passed("proof_purpose", "key binding (KB-JWT) for this request"))
        top.add(Check.passed("challenge", "nonce and audience are this request's"))
        top.add(Check.passed("credential[0].holder_binding", "bound to the cnf key"))
    elif binding.code in KB_CHECK_CODES:
        top.add(Check.passed("proof", "KB-JWT signed by the credential's holder key (cnf)"))
        top.add(Check.passed("proof_purpose", "key binding (KB-JWT)"))
        top.add(Check.failed("challenge", binding.code, binding.message))
    else:
        top.add(Check.failed("proof", binding.code, binding.message))
    for check in sub.checks:  # the credential's own outcome, as the DI path folds it in
        if check.outcome in ("failed", "warning") and check.id != "key_binding":
            top.add(Check(f"credential[0].{check.id}", check.outcome, check.code, check.message))
    claims = sub.summary.get("claims") if sub.summary else None
    top.summary = {
        "holder": (sub.summary or {}).get("holder"),
        "credentials": [sub.summary] if sub.summary else [],
    }
    result = VerificationResult(
        kind=kind,
        report=top,
        document=presentation,
        credential_reports=[sub],
        credentials=[claims] if isinstance(claims, dict) else [],
        is_presentation=True,
    )
    if log:
        service.record(result)
    return result


def reconstructed(presentation: str) -> dict[str, Any] | None:
    """The disclosed claims of a presentation without checking it (for display only)."""
    try:
        return core.reconstruct(core.SdJwt.parse(presentation))
    except MicrocredError:
        return None
