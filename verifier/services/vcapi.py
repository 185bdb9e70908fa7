"""The VC-API verification flows: request bodies in, one ``VerificationResult`` out.

Malformed input is not an exception here but a result with a failed ``structure`` check,
so that ``POST /credentials/verify`` answers a broken body with the same report shape as a
broken credential (DESIGN §4: 400 with the report). Presentations also run the challenge
policy: a challenge issued by ``POST /challenges`` is single-use everywhere.

The VC-API verifies under the deployment's VC-API policies (none by default: conforming)
plus any a request names in ``options.policies`` — a request can ask for more, never for
less. A body announced as a JWT-secured or SD-JWT credential (``Content-Type:
application/vc+jwt`` …) or holding one is an unsupported format, answered 400 with the
code ``unsupported_format``.
"""

from __future__ import annotations

from typing import Any

from credentials import (
    Check,
    MalformedInput,
    MicrocredError,
    Policy,
    VerificationReport,
    detect_format,
    format_of_media_type,
    parse_json,
    parse_policies,
)

from .challenges import ChallengeService, ChallengeState
from .verification import VerificationResult, VerificationService, malformed, proof_challenge


def parse_body(raw: bytes, *, max_bytes: int) -> Any:
    """Parse a request body with the core's limits; raises ``MalformedInput``.

    ``NaN`` and ``Infinity`` are not JSON (RFC 8259) but Python's parser takes them, and a
    non-finite number would later fail canonicalisation in an unhelpful way: ``parse_json``
    refuses them while parsing (``invalid_json``), so the body is not walked a second time.
    """
    if not raw.strip():
        raise MalformedInput("the request body is empty", code="invalid_json")
    return parse_json(raw, max_bytes=max_bytes)


class VcApi:
    def __init__(
        self, verification: VerificationService, challenges: ChallengeService, *, max_body: int
    ) -> None:
        self.verification = verification
        self.challenges = challenges
        self.max_body = max_body

    # -- bodies

    def _body(
        self, raw: bytes, kind: str, content_type: str | None = None
    ) -> dict[str, Any] | VerificationResult:
        announced = format_of_media_type(content_type)
        if announced is not None:
            report = VerificationReport(format=announced.label)
            report.add(Check.failed("format", "unsupported_format", announced.message))
            return VerificationResult(kind=kind, report=report)
        try:
            body = parse_body(raw, max_bytes=self.max_body)
        except MicrocredError as exc:
            bare = detect_format(raw[: self.max_body].decode("ascii", "replace"))
            if not bare.supported:  # a bare JWT / SD-JWT posted as the body
                report = VerificationReport(format=bare.label)
                report.add(Check.failed("format", "unsupported_format", bare.message))
                return VerificationResult(kind=kind, report=report)
            return malformed(kind, exc.code, exc.message)
        if not isinstance(body, dict):
            return malformed(kind, "invalid_request", "the request body must be a JSON object")
        options = body.get("options")
        if options is None:
            body["options"] = {}
        elif not isinstance(options, dict):
            return malformed(kind, "invalid_request", "options must be a JSON object")
        try:
            body["options"]["policies"] = self._request_policies(body["options"])
        except MalformedInput as exc:
            return malformed(kind, exc.code, f"options.policies: {exc.message}")
        return body

    def _request_policies(self, options: dict[str, Any]) -> frozenset[Policy]:
        """The deployment's VC-API policies plus those the request asks for."""
        named = options.get("policies")
        if named is not None and not isinstance(named, list):
            raise MalformedInput("must be a list of policy names", code="unknown_policy")
        return self.verification.vcapi_policies | parse_policies(named)

    def verify_credential_body(
        self, raw: bytes, content_type: str | None = None
    ) -> VerificationResult:
        """Verify a VC-API ``/credentials/verify`` body (JSON, or a bare SD-JWT VC by its
        media type) and log it. Never raises for bad input: malformed input is a failed
        report with a code, so every answer has the report shape.
        """
        if _media_type(content_type) in SD_JWT_MEDIA_TYPES:
            # a bare SD-JWT VC (issue 19): the same checks as the string value of
            # verifiableCredential, under the deployment's VC-API policies
            if len(raw) > self.max_body:
                result = malformed("credential", "body_too_large", "the body is too large")
                self.verification.record(result)
                return result
            text = raw.decode("ascii", "replace").strip()
            return self.verification.verify_credential(
                text, policies=self.verification.vcapi_policies
            )
        body = self._body(raw, "credential", content_type)
        if isinstance(body, VerificationResult):
            self.verification.record(body)
            return body
        if "verifiableCredential" not in body:
            result = malformed(
                "credential", "invalid_request", "the body has no verifiableCredential"
            )
            self.verification.record(result)
            return result
        return self.verification.verify_credential(
            body["verifiableCredential"], policies=body["options"]["policies"]
        )

    def verify_presentation_body(
        self, raw: bytes, content_type: str | None = None
    ) -> VerificationResult:
        """Verify a VC-API ``/presentations/verify`` body (with ``options.challenge`` and
        ``domain``) and log it. Never raises for bad input: malformed input is a failed
        report with a code.
        """
        body = self._body(raw, "presentation", content_type)
        if isinstance(body, VerificationResult):
            self.verification.record(body)
            return body
        if "verifiablePresentation" not in body:
            message = "the body has no verifiablePresentation"
            if "presentation" in body:
                message += " (an unsigned presentation is not accepted here: it proves nothing)"
            result = malformed("presentation", "invalid_request", message)
            self.verification.record(result)
            return result
        return self.verify_presentation(
            body["verifiablePresentation"], body["options"], policies=body["options"]["policies"]
        )

    # -- presentations with challenges

    def verify_presentation(
        self,
        presentation: Any,
        options: dict[str, Any],
        *,
        kind: str = "presentation",
        policies: frozenset[Policy] | None = None,
    ) -> VerificationResult:
        """Verify with the challenge policy; ``policies`` None means the page policies."""
        challenge, domain = options.get("challenge"), options.get("domain")
        for name, value in (("challenge", challenge), ("domain", domain)):
            if value is not None and not (isinstance(value, str) and value):
                result = malformed(kind, "invalid_request", f"options.{name} must be a string")
                self.verification.record(result)
                return result
        tracked = challenge or proof_challenge(presentation)
        state = self.challenges.state(tracked) if tracked else ChallengeState.UNKNOWN
        if challenge is None and state is not ChallengeState.UNKNOWN:
            # the caller did not say, but the proof names a challenge issued here: hold the
            # presentation to it (and to its single use) rather than accept it unchecked
            challenge = tracked
        result = self.verification.verify_presentation(
            presentation, challenge=challenge, domain=domain, kind=kind, log=False,
            policies=policies,
        )  # fmt: skip
        if tracked and (challenge is not None or state is not ChallengeState.UNKNOWN):
            check = self.challenges.check(tracked, state, result.binding_holds())
            if check is not None:
                result.report.add(check)
        self.verification.record(result)
        return result


SD_JWT_MEDIA_TYPES = frozenset({"application/dc+sd-jwt", "application/vc+sd-jwt"})


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()
