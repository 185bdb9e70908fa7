"""Reading an OpenID4VP 1.0 authorization request (``direct_post``, DCQL) as a wallet.

Accepted forms (what a verifier's QR or link carries):

* the verifier's request link (``https://verifier/requests/{id}``), fetched preferring the
  signed request object (``application/oauth-authz-req+jwt``), JSON accepted as well;
* ``openid4vp://?…`` with every parameter by value (``dcql_query`` and
  ``client_metadata`` as JSON strings);
* ``openid4vp://?client_id=…&request_uri=…`` by reference; the request object may be JSON
  or a JWT (unsigned only for ``redirect_uri:`` client ids, which cannot sign; signed and
  verified for ``decentralized_identifier:``), and its ``client_id`` must equal the one in
  the link (§5.10).

The checks are the wallet's protection against being tricked into posting a presentation
somewhere unexpected: only ``vp_token`` with ``direct_post`` to a ``response_uri``; a
``redirect_uri:`` client id must be exactly that response URI (the domain the presentation
is bound to is then the place it is posted to); no ``redirect_uri`` parameter; Presentation
Exchange is not supported (OpenID4VP 1.0 uses DCQL only).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from credentials import (
    DcqlError,
    DcqlQuery,
    DidResolver,
    FetchError,
    FetchHTTPError,
    MicrocredError,
    Route,
    SafeFetcher,
    check_limits,
    decode_unverified,
    parse_dcql,
    verify_jwt,
)
from servicekit.errors import Gone, Invalid, ServiceError, Upstream

REDIRECT_URI = "redirect_uri:"
DID_PREFIX = "decentralized_identifier:"
_NONCE = re.compile(r"^[A-Za-z0-9._~-]{8,512}$")
MAX_REQUEST_CHARS = 32_768
REQUEST_OBJECT_TYP = "oauth-authz-req+jwt"
REQUEST_ACCEPT = "application/oauth-authz-req+jwt, application/jwt;q=0.9, application/json;q=0.5"


class RequestError(MicrocredError):
    """The presentation request cannot be used; ``kind`` says whose fault it is."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "invalid_presentation_request",
        kind: type[ServiceError] = Invalid,
    ) -> None:
        super().__init__(message, code=code)
        self.kind = kind


@dataclass(frozen=True)
class PresentationRequest:
    client_id: str
    response_uri: str
    nonce: str
    state: str | None
    dcql: DcqlQuery
    purpose: str | None
    verifier_name: str | None
    signed: bool = False
    rule: dict[str, Any] | None = None
    """The verifier's admission rule (``microcred_rule``, a learning-route definition), when
    it sends one: shown to the learner as the actual requirement; ignored when malformed."""

    def verifier(self) -> dict[str, Any]:
        return {
            "clientId": self.client_id,
            "name": self.verifier_name,
            "responseUri": self.response_uri,
            "host": urlsplit(self.response_uri).netloc,
            "signedRequest": self.signed,
            "identity": self.client_id.removeprefix(DID_PREFIX) if self.signed else None,
        }


def read_request(
    value: Any, fetcher: SafeFetcher, resolver: DidResolver, *, allow_insecure: bool
) -> PresentationRequest:
    if not isinstance(value, str) or not value.strip():
        raise RequestError("request must be the verifier's link or an openid4vp:// URI")
    text = value.strip()
    if len(text) > MAX_REQUEST_CHARS:
        raise RequestError("the request is too long")
    try:
        parts = urlsplit(text)
    except ValueError:
        raise RequestError("the request is not a valid URI") from None
    scheme = parts.scheme.lower()
    params = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items() if v}
    signed = False
    if (
        scheme in ("https", "http")
        and "response_type" not in params
        and "request_uri" not in params
    ):
        data, signed = _fetch_request(fetcher, text, None, resolver)
    elif "request_uri" in params:
        data, signed = _fetch_request(
            fetcher,
            params["request_uri"],
            params.get("client_id"),
            resolver,
            post=params.get("request_uri_method") == "post",
        )
    elif params:
        data = dict(params)
    else:
        raise RequestError("the URI carries no presentation request")
    return _validate(data, allow_insecure=allow_insecure, signed=signed)


def _fetch_request(
    fetcher: SafeFetcher,
    url: str,
    expected_client: str | None,
    resolver: DidResolver,
    *,
    post: bool = False,
) -> tuple[dict[str, Any], bool]:
    try:
        # GET asks for the signed request object first (RFC 9101), JSON from older verifiers
        response = fetcher.post_form(url, {}) if post else fetcher.get(url, accept=REQUEST_ACCEPT)
    except FetchHTTPError as exc:
        if exc.status in (404, 410):
            raise RequestError(
                f"the verifier says this request is no longer available (HTTP {exc.status}): "
                "it was answered already, has expired or never existed",
                code="request_gone",
                kind=Gone,
            ) from None
        raise RequestError(
            f"the request could not be fetched: {exc.message}",
            code="verifier_unreachable",
            kind=Upstream,
        ) from None
    except FetchError as exc:
        raise RequestError(
            f"the request could not be fetched: {exc.message}", code=exc.code
        ) from None
    body = response.text.strip()
    signed = False
    if body.count(".") == 2 and not body.startswith("{"):
        data, signed = _request_object(body, resolver)
    else:
        try:
            data = json.loads(body)
            check_limits(data)
        except (ValueError, RecursionError, MicrocredError):
            raise RequestError("the verifier's answer is not a JSON request") from None
    if not isinstance(data, dict):
        raise RequestError("the request must be a JSON object")
    if expected_client is not None and data.get("client_id") != expected_client:
        raise RequestError("the request object names a different client_id than the link")
    return data, signed


def _request_object(token: str, resolver: DidResolver) -> tuple[dict[str, Any], bool]:
    try:
        header, claims = decode_unverified(token)
    except MicrocredError as exc:
        raise RequestError(f"the request object is not a JWT: {exc.message}") from None
    client_id = claims.get("client_id")
    if header.get("alg") == "none":
        if not isinstance(client_id, str) or not client_id.startswith(REDIRECT_URI):
            raise RequestError(
                "an unsigned request object is accepted only for redirect_uri: clients"
            )
        return claims, False
    if isinstance(client_id, str) and client_id.startswith(DID_PREFIX):
        if header.get("typ") != REQUEST_OBJECT_TYP:
            # RFC 9101 §10.8 / OpenID4VP §5: the typ keeps other JWTs from passing as requests
            raise RequestError(f"a signed request object must have typ {REQUEST_OBJECT_TYP}")
        try:
            _, claims, key = verify_jwt(token, resolver)
        except MicrocredError as exc:
            raise RequestError(
                f"the request object's signature does not verify: {exc.message}"
            ) from None
        if key.controller != client_id.removeprefix(DID_PREFIX):
            raise RequestError("the request object is not signed by the client's DID")
        return claims, True
    raise RequestError(
        "signed request objects are supported for decentralized_identifier: clients only"
    )


def _validate(data: dict[str, Any], *, allow_insecure: bool, signed: bool) -> PresentationRequest:
    if data.get("response_type") != "vp_token":
        raise RequestError("response_type must be vp_token")
    if data.get("response_mode") != "direct_post":
        raise RequestError(
            "this wallet answers with response_mode direct_post only",
            code="unsupported_response_mode",
        )
    if "redirect_uri" in data:
        raise RequestError("a direct_post request must not carry redirect_uri")
    if "presentation_definition" in data and "dcql_query" not in data:
        raise RequestError(
            "Presentation Exchange is not supported; OpenID4VP 1.0 uses DCQL",
            code="unsupported_query_language",
        )
    response_uri = data.get("response_uri")
    if not isinstance(response_uri, str) or not _is_url(response_uri, allow_insecure):
        raise RequestError("response_uri must be an https URL")
    client_id = data.get("client_id")
    if not isinstance(client_id, str) or not client_id:
        raise RequestError("client_id is required")
    if client_id.startswith(REDIRECT_URI):
        if client_id.removeprefix(REDIRECT_URI) != response_uri:
            raise RequestError("a redirect_uri: client_id must equal the response_uri")
    elif not (signed and client_id.startswith(DID_PREFIX)):
        raise RequestError(
            "unsupported client_id: this wallet accepts redirect_uri: clients, and signed "
            "requests from decentralized_identifier: clients",
            code="unsupported_client_id",
        )
    nonce = data.get("nonce")
    if not isinstance(nonce, str) or not _NONCE.match(nonce):
        raise RequestError("nonce must be 8 to 512 URL-safe characters")
    state = data.get("state")
    if state is not None and (not isinstance(state, str) or len(state) > 512):
        raise RequestError("state must be a string")
    try:
        dcql = parse_dcql(data.get("dcql_query"))
    except DcqlError as exc:
        raise RequestError(str(exc)) from None
    metadata = data.get("client_metadata")
    if isinstance(metadata, str):
        try:
            metadata = json.loads(metadata)
        except ValueError:
            metadata = None
    name = metadata.get("client_name") if isinstance(metadata, dict) else None
    purpose = data.get("purpose")
    return PresentationRequest(
        client_id=client_id,
        response_uri=response_uri,
        nonce=nonce,
        state=state,
        dcql=dcql,
        purpose=purpose[:1000] if isinstance(purpose, str) else None,
        verifier_name=name[:200] if isinstance(name, str) else None,
        signed=signed,
        rule=_rule(data.get("microcred_rule")),
    )


def _rule(data: Any) -> dict[str, Any] | None:
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            return None
    if not isinstance(data, dict):
        return None
    try:
        return Route.from_dict(data).to_dict()
    except MicrocredError:
        return None


def _is_url(value: str, allow_insecure: bool) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    schemes = ("https", "http") if allow_insecure else ("https",)
    return parts.scheme in schemes and bool(parts.netloc) and "@" not in parts.netloc
