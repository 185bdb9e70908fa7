"""OpenID4VP 1.0 as a relying party: the authorization request and reading the answer.

Two services ask wallets for presentations: the verifier (an employer's question) and the
issuer (an exam board's recognition request, issue 17). What the protocol fixes is here, so
both speak it the same way and the wallet's one consent flow handles both:

* the authorization request parameters (§5.1): ``vp_token`` by ``direct_post`` to a
  ``response_uri``, a DCQL query, a nonce, ``state`` and the formats the party verifies;
* the two ways to hand them over: by value (``openid4vp://?…``, client id
  ``redirect_uri:<response_uri>``, unsigned) and by reference (``request_uri`` → a request
  object signed by the party's DID key, client id ``decentralized_identifier:<did>``,
  RFC 9101 / §5.10);
* reading the ``vp_token`` of the answer against the DCQL queries asked, and which client
  id (``domain`` / KB-JWT ``aud``) a presentation claims.

Storage, single use of the nonce and what a verified answer means stay with each service.
Errors are ``MalformedInput`` with a stable ``code``; the services map them to answers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from .dcql import SD_JWT_FORMAT, RequestedCredential
from .errors import MalformedInput, MicrocredError
from .jose import sign_jwt
from .keys import Multikey
from .model import parse_json
from .report import VerificationReport

CRYPTOSUITES = ("eddsa-rdfc-2022", "ecdsa-rdfc-2019")
SD_JWT_ALGS = ("ES256", "ES384", "EdDSA")
REQUEST_OBJECT_TYP = "oauth-authz-req+jwt"
REQUEST_OBJECT_MEDIA_TYPE = "application/oauth-authz-req+jwt"
STATIC_AUDIENCE = "https://self-issued.me/v2"
"""``aud`` of a request object under static discovery (§5.8)."""
DID_CLIENT = "decentralized_identifier:"
REDIRECT_CLIENT = "redirect_uri:"
MAX_PRESENTATIONS = 20


def _invalid(message: str, code: str = "invalid_request") -> MalformedInput:
    return MalformedInput(message, code=code)


def vp_formats() -> dict[str, Any]:
    """``client_metadata.vp_formats_supported``: what a microcred relying party verifies."""
    return {
        "ldp_vc": {
            "proof_type_values": ["DataIntegrityProof"],
            "cryptosuite_values": list(CRYPTOSUITES),
        },
        # issue 19: SD-JWT VC with key binding (OpenID4VP 1.0 §B.3.4)
        "dc+sd-jwt": {
            "sd-jwt_alg_values": list(SD_JWT_ALGS),
            "kb-jwt_alg_values": list(SD_JWT_ALGS),
        },
    }


def redirect_client_id(response_uri: str) -> str:
    return REDIRECT_CLIENT + response_uri


def did_client_id(did: str) -> str:
    return DID_CLIENT + did


def authorization_parameters(
    *,
    response_uri: str,
    nonce: str,
    state: str,
    dcql_query: Mapping[str, Any],
    client_name: str,
    purpose: str | None,
    client_id: str | None = None,
) -> dict[str, Any]:
    """The authorization request parameters (§5.1); ``client_id`` defaults to
    ``redirect_uri:<response_uri>``, the one prefix valid for unsigned parameters."""
    return {
        "response_type": "vp_token",
        "response_mode": "direct_post",
        "client_id": client_id or redirect_client_id(response_uri),
        "response_uri": response_uri,
        "nonce": nonce,
        "state": state,
        "dcql_query": dict(dcql_query),
        "client_metadata": {"client_name": client_name, "vp_formats_supported": vp_formats()},
        "purpose": purpose,
    }


def by_value_uri(parameters: Mapping[str, Any]) -> str:
    """``openid4vp://?…`` with every parameter; objects travel as compact JSON strings."""
    flat = {
        key: json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        if isinstance(value, dict | list)
        else str(value)
        for key, value in parameters.items()
    }
    return "openid4vp://?" + urlencode(flat)


def by_reference_uri(client_id: str, request_uri: str) -> str:
    """``openid4vp://?client_id=…&request_uri=…``: the wallet fetches the request object."""
    return "openid4vp://?" + urlencode({"client_id": client_id, "request_uri": request_uri})


def request_object_claims(
    parameters: Mapping[str, Any], *, did: str, now: datetime, expires: datetime
) -> dict[str, Any]:
    """The claims of a signed request object for ``parameters`` (already under the DID
    client id). ``iss`` (ignored by OpenID4VP wallets) is the bare DID: libraries that do
    read it (``@openid4vc/oauth2``) require the signing ``kid`` to start with it."""
    return {
        **parameters,
        "iss": did,
        "aud": STATIC_AUDIENCE,
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
    }


def sign_request_object(claims: Mapping[str, Any], key: Multikey) -> str:
    """A JAR request object (RFC 9101): ``typ`` ``oauth-authz-req+jwt``, ``kid`` a DID URL
    of a key listed for ``authentication`` in the party's DID document."""
    return sign_jwt({"typ": REQUEST_OBJECT_TYP, "kid": key.id}, dict(claims), key)


def is_sd_jwt(presentation: Any) -> bool:
    return isinstance(presentation, str) and "~" in presentation


def proof_domains(presentation: Any) -> set[str]:
    """The client ids a presentation claims, unverified (to pick the one it is bound to):
    the Data Integrity proofs' ``domain``, or an SD-JWT's KB-JWT ``aud``."""
    if is_sd_jwt(presentation):
        from .sdjwt.jose import decode  # lazy: JOSE for SD-JWT only

        kb = presentation.rsplit("~", 1)[1]
        try:
            aud = decode(kb)[1].get("aud") if kb else None
        except MicrocredError:
            return set()
        return {aud} if isinstance(aud, str) else set()
    if not isinstance(presentation, dict):
        return set()
    proofs = presentation.get("proof")
    domains: set[str] = set()
    for proof in proofs if isinstance(proofs, list) else [proofs]:
        if isinstance(proof, dict):
            domain = proof.get("domain")
            for value in domain if isinstance(domain, list) else [domain]:
                if isinstance(value, str):
                    domains.add(value)
    return domains


# Checks of a presentation that concern the presentation itself (not an embedded credential):
# if one fails, the presentation is not this holder's answer to this question.
BINDING_CHECKS = (
    "structure",
    "context",
    "proof_purpose",
    "verification_method",
    "proof",
    "challenge",
    "holder",  # the signer is the declared holder (issue 14, item 2)
)


def binding_holds(report: VerificationReport) -> bool:
    """The presentation's own proof verified with the expected challenge and domain: what
    makes an answer *this holder's answer to this question*, whatever the embedded
    credentials turn out to be worth. Only then may the nonce be consumed."""
    checks = [c for c in report.checks if c.id in BINDING_CHECKS]
    return (
        not any(c.outcome == "failed" for c in checks)
        and any(c.id == "proof" and c.outcome == "passed" for c in checks)
        and any(c.id == "proof_purpose" and c.outcome == "passed" for c in checks)
    )


def counted_indexes(
    report: VerificationReport, credential_reports: Sequence[VerificationReport]
) -> list[int]:
    """Embedded credentials that may count for a decision: each verified, presented by a
    verified holder who is their subject (``credential[i].holder_binding`` passed)."""
    holder = report.outcome_of("holder")
    if not binding_holds(report) or (holder is not None and holder.outcome == "failed"):
        return []
    counted = []
    for index, sub in enumerate(credential_reports):
        binding = report.outcome_of(f"credential[{index}].holder_binding")
        if sub.verified and binding is not None and binding.outcome == "passed":
            counted.append(index)
    return counted


def parse_vp_token(
    raw: Any,
    queries: Sequence[RequestedCredential],
    *,
    max_bytes: int,
    max_presentations: int = MAX_PRESENTATIONS,
) -> list[tuple[str, Any]]:
    """``(query id, presentation)`` pairs of a ``vp_token`` (§8.1: a JSON object keyed by
    the DCQL query ids, each value an array of presentations).

    Raises ``MalformedInput``: ``invalid_vp_token`` when it is not JSON (a service may count
    that as a rejected attempt), ``invalid_request`` for any other misfit."""
    if not isinstance(raw, str) or not raw.strip():
        raise _invalid("vp_token is missing")
    try:
        token = parse_json(raw.encode("utf-8"), max_bytes=max_bytes)
    except MicrocredError as exc:
        raise _invalid(f"vp_token is not valid JSON: {exc.message}", "invalid_vp_token") from None
    if not isinstance(token, dict) or not token:
        raise _invalid("vp_token must be a JSON object keyed by the DCQL query ids")
    by_id = {q.id: q for q in queries}
    answers: list[tuple[str, Any]] = []
    for query_id, value in token.items():
        if query_id not in by_id:
            raise _invalid(f"vp_token answers an unknown query {query_id!r}")
        presentations = value if isinstance(value, list) else [value]
        if not presentations:
            raise _invalid(f"vp_token[{query_id!r}] is an empty array")
        if len(presentations) > 1 and not by_id[query_id].multiple:
            raise _invalid(f"query {query_id!r} takes exactly one presentation")
        for presentation in presentations:
            if by_id[query_id].format == SD_JWT_FORMAT:
                if not is_sd_jwt(presentation):
                    raise _invalid(f"vp_token[{query_id!r}] must hold SD-JWT presentations")
            elif isinstance(presentation, str):
                try:
                    presentation = parse_json(presentation.encode(), max_bytes=max_bytes)
                except MicrocredError as exc:
                    raise _invalid(f"a presentation is not JSON: {exc.message}") from None
            answers.append((query_id, presentation))
    if len(answers) > max_presentations:
        raise _invalid(f"at most {max_presentations} presentations per answer")
    return answers


def parse_direct_post(raw: bytes, content_type: str, *, max_bytes: int) -> dict[str, str]:
    """The fields of a ``direct_post`` answer: form-encoded (the OpenID4VP encoding), or a
    JSON object for convenience; a field given twice is refused (``invalid_request``)."""
    try:
        if content_type == "application/json":
            body = parse_json(raw, max_bytes=max_bytes)
            if not isinstance(body, dict):
                raise ValueError("a JSON answer must be an object")
            items = [(k, v if isinstance(v, str) else json.dumps(v)) for k, v in body.items()]
        else:
            items = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
    except (MicrocredError, ValueError, UnicodeDecodeError) as exc:
        raise _invalid(f"the answer cannot be read: {exc}") from None
    fields: dict[str, str] = {}
    for key, value in items:
        if key in fields:
            raise _invalid(f"the field {key} is given twice")
        fields[key] = value
    return fields


__all__ = [
    "BINDING_CHECKS",
    "DID_CLIENT",
    "REDIRECT_CLIENT",
    "REQUEST_OBJECT_MEDIA_TYPE",
    "REQUEST_OBJECT_TYP",
    "STATIC_AUDIENCE",
    "authorization_parameters",
    "binding_holds",
    "by_reference_uri",
    "by_value_uri",
    "counted_indexes",
    "did_client_id",
    "is_sd_jwt",
    "parse_direct_post",
    "parse_vp_token",
    "proof_domains",
    "redirect_client_id",
    "request_object_claims",
    "sign_request_object",
    "vp_formats",
]
