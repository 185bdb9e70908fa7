"""OpenID4VCI 1.0, pre-authorised code flow, from the wallet's side (``ldp_vc`` only).

Steps (OpenID4VCI §3.5): read the offer (by value, or by reference from
``credential_offer_uri``); fetch the issuer metadata (path-insertion well-known URL first,
then the draft-13 suffix form) and check that it names the same issuer; fetch the
authorisation server metadata for the token endpoint; exchange the pre-authorised code
(and the transaction code when the offer asks for one) for an access token; get a fresh
``c_nonce`` from the nonce endpoint; sign a ``jwt`` key proof with the holder key (``typ``
openid4vci-proof+jwt, ``kid`` = the holder's did:key URL, ``aud`` = issuer, ``nonce``);
request each offered credential configuration.

Every request goes through the project's one outbound door (``SafeFetcher``): an offer is
attacker-controlled input, and its URLs must not reach private addresses or hang the
wallet. Protocol failures become ``OfferError`` with a stable code; the issuer's own OAuth
error (``invalid_grant`` …) is kept so the learner is told what the issuer said.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from credentials import (
    FetchError,
    FetchHTTPError,
    FetchResponse,
    MicrocredError,
    Multikey,
    SafeFetcher,
    check_limits,
    sign_jwt,
)
from servicekit.errors import Invalid, ServiceError, Upstream

PRE_AUTHORIZED = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
OFFER_SCHEME = "openid-credential-offer"
PROOF_TYP = "openid4vci-proof+jwt"
MAX_OFFER_CHARS = 16_384
MAX_CONFIGURATIONS = 10


class OfferError(MicrocredError):
    """The offer or the issuer's answer cannot be used; ``kind`` says whose fault it is
    (``Invalid``: the offer's, ``Upstream``: the issuer answered badly)."""

    def __init__(
        self,
        message: str,
        *,
        code: str,
        kind: type[ServiceError] = Invalid,
        issuer_error: str | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.kind = kind
        self.issuer_error = issuer_error
        self.reason = reason
        """For ``offer_rejected``: ``pin_missing``, ``pin_wrong`` or ``unusable`` (used,
        expired, or locked after too many wrong PINs), so pages can say which."""


@dataclass(frozen=True)
class TxCode:
    input_mode: str = "numeric"
    length: int | None = None
    description: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"inputMode": self.input_mode}
        if self.length is not None:
            out["length"] = self.length
        if self.description:
            out["description"] = self.description
        return out


@dataclass(frozen=True)
class CredentialOffer:
    credential_issuer: str
    configuration_ids: tuple[str, ...]
    pre_authorized_code: str
    tx_code: TxCode | None = None
    authorization_server: str | None = None
    preview: dict[str, Any] | None = None
    """What the issuer says the credential will be about (the ``credential_preview``
    extension: institution, module, ects, hours, eqf_level), shown before accepting; a
    claim of the issuer's, checked against the credential only once it arrives."""


@dataclass
class IssuerMetadata:
    credential_issuer: str
    credential_endpoint: str
    nonce_endpoint: str | None
    authorization_servers: list[str]
    configurations: dict[str, Any]
    display_name: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


def _refusal_reason(
    error: str | None, description: str | None, offer: CredentialOffer
) -> str | None:
    """Which of the PIN cases a token endpoint refusal is. OAuth has one error code for
    all of them (``invalid_grant``); the description names the transaction code when the
    PIN itself was the problem (RFC 6749 leaves its wording to the server)."""
    about_pin = "tx_code" in (description or "") or "pin" in (description or "").lower()
    if error == "invalid_request" and about_pin:
        return "pin_missing"
    if error == "invalid_grant" and about_pin:
        return "pin_wrong"
    if error == "invalid_grant":
        return "unusable_pin" if offer.tx_code is not None else "unusable"
    return None


def _fail(
    message: str, code: str = "invalid_offer", kind: type[ServiceError] = Invalid
) -> OfferError:
    return OfferError(message, code=code, kind=kind)


# --------------------------------------------------------------------------- the offer


def read_offer(value: Any, fetcher: SafeFetcher) -> CredentialOffer:
    """The offer from what the learner pasted or scanned: an ``openid-credential-offer://``
    URI, an https link carrying (or answering with) one, or the offer JSON itself."""
    if isinstance(value, dict):
        return parse_offer_object(value)
    if not isinstance(value, str) or not value.strip():
        raise _fail("offer must be an openid-credential-offer:// URI, an https link or JSON")
    text = value.strip()
    if len(text) > MAX_OFFER_CHARS:
        raise _fail(f"the offer is longer than {MAX_OFFER_CHARS} characters")
    if text.startswith("{"):
        return parse_offer_object(_json(text, "the offer"))
    try:
        parts = urlsplit(text)
    except ValueError:
        raise _fail("the offer is not a valid URI") from None
    scheme = parts.scheme.lower()
    params = parse_qs(parts.query, keep_blank_values=True)
    if scheme == OFFER_SCHEME or (
        scheme in ("https", "http")
        and ("credential_offer" in params or "credential_offer_uri" in params)
    ):
        return _from_parameters(params, fetcher)
    if scheme in ("https", "http"):
        # an https link to an offer: it answers with the offer JSON (or the offer URI)
        body = _get(fetcher, text, "the offer link")
        stripped = body.text.strip()
        if stripped.startswith(f"{OFFER_SCHEME}:"):
            params = parse_qs(urlsplit(stripped).query, keep_blank_values=True)
            return _from_parameters(params, fetcher)
        return parse_offer_object(_json(body.text, "the offer link's answer"))
    raise _fail(
        f"not a credential offer: expected {OFFER_SCHEME}://… or an https link, got "
        f"{scheme or 'no scheme'}:"
    )


def _from_parameters(params: dict[str, list[str]], fetcher: SafeFetcher) -> CredentialOffer:
    by_value, by_reference = params.get("credential_offer"), params.get("credential_offer_uri")
    if bool(by_value) == bool(by_reference) or len(by_value or by_reference or []) != 1:
        raise _fail("the offer must carry exactly one of credential_offer, credential_offer_uri")
    if by_value:
        return parse_offer_object(_json(by_value[0], "credential_offer"))
    assert by_reference is not None
    response = _get(fetcher, by_reference[0], "credential_offer_uri")
    return parse_offer_object(_json(response.text, "the offer at credential_offer_uri"))


def parse_offer_object(data: Any) -> CredentialOffer:
    """Check an offer object (OpenID4VCI §4.1.1) and keep what the flow needs."""
    if not isinstance(data, dict):
        raise _fail("the credential offer must be a JSON object")
    issuer = data.get("credential_issuer")
    if not isinstance(issuer, str) or not _is_identifier(issuer):
        raise _fail("credential_issuer must be an https URL without query or fragment")
    ids = data.get("credential_configuration_ids")
    if (
        not isinstance(ids, list)
        or not ids
        or not all(isinstance(i, str) and i for i in ids)
        or len(set(ids)) != len(ids)
    ):
        raise _fail("credential_configuration_ids must be a non-empty list of unique strings")
    if len(ids) > MAX_CONFIGURATIONS:
        raise _fail(f"an offer may name at most {MAX_CONFIGURATIONS} credentials")
    grants = data.get("grants")
    grant = grants.get(PRE_AUTHORIZED) if isinstance(grants, dict) else None
    if not isinstance(grant, dict):
        raise _fail(
            "this wallet supports the pre-authorised code flow only, and the offer has no "
            "pre-authorized_code grant",
            "unsupported_grant",
        )
    code = grant.get("pre-authorized_code")
    if not isinstance(code, str) or not code or len(code) > 4096:
        raise _fail("the offer's pre-authorized_code is missing")
    tx_code = None
    if "tx_code" in grant:
        raw = grant["tx_code"]
        if not isinstance(raw, dict):
            raise _fail("tx_code must be an object")
        mode = raw.get("input_mode", "numeric")
        length = raw.get("length")
        description = raw.get("description")
        if mode not in ("numeric", "text"):
            raise _fail("tx_code.input_mode must be numeric or text")
        if length is not None and (isinstance(length, bool) or not isinstance(length, int)):
            raise _fail("tx_code.length must be a number")
        if description is not None and (not isinstance(description, str) or len(description) > 300):
            raise _fail("tx_code.description must be a string of at most 300 characters")
        tx_code = TxCode(mode, length, description)
    server = grant.get("authorization_server")
    return CredentialOffer(
        credential_issuer=issuer.rstrip("/"),
        configuration_ids=tuple(ids),
        pre_authorized_code=code,
        tx_code=tx_code,
        authorization_server=server if isinstance(server, str) else None,
        preview=_preview(data.get("credential_preview")),
    )


def _preview(data: Any) -> dict[str, Any] | None:
    """The offer's ``credential_preview``, kept only in the expected shapes."""
    if not isinstance(data, dict):
        return None
    out: dict[str, Any] = {}
    for key in ("institution", "module"):
        if isinstance(data.get(key), str) and data[key].strip():
            out[key] = data[key].strip()[:300]
    for key in ("ects", "hours"):
        value = data.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 1000:
            out[key] = value
    level = data.get("eqf_level")
    if isinstance(level, int) and not isinstance(level, bool) and 1 <= level <= 8:
        out["eqf_level"] = level
    return out or None


# --------------------------------------------------------------------------- the flow


class Openid4vciClient:
    def __init__(self, fetcher: SafeFetcher, *, allow_insecure: bool) -> None:
        self.fetcher = fetcher
        self.allow_insecure = allow_insecure

    def check_offer_urls(self, offer: CredentialOffer) -> None:
        if not self.allow_insecure and not offer.credential_issuer.startswith("https://"):
            raise _fail("credential_issuer must be an https URL")

    def issuer_metadata(self, identifier: str) -> IssuerMetadata:
        data = self._well_known(identifier, "openid-credential-issuer", "the issuer metadata")
        if data.get("credential_issuer", "").rstrip("/") != identifier:
            raise _fail(
                "the issuer metadata names a different credential_issuer than the offer",
                "issuer_metadata_mismatch",
                Upstream,
            )
        endpoint = data.get("credential_endpoint")
        configurations = data.get("credential_configurations_supported")
        if not isinstance(endpoint, str) or not isinstance(configurations, dict):
            raise _fail(
                "the issuer metadata lacks credential_endpoint or "
                "credential_configurations_supported",
                "invalid_issuer_metadata",
                Upstream,
            )
        servers = data.get("authorization_servers") or [identifier]
        nonce = data.get("nonce_endpoint")
        display = data.get("display")
        name = None
        if isinstance(display, list) and display and isinstance(display[0], dict):
            name = display[0].get("name") if isinstance(display[0].get("name"), str) else None
        return IssuerMetadata(
            credential_issuer=identifier,
            credential_endpoint=endpoint,
            nonce_endpoint=nonce if isinstance(nonce, str) else None,
            authorization_servers=[s for s in servers if isinstance(s, str)] or [identifier],
            configurations=configurations,
            display_name=name,
            raw=data,
        )

    def token_endpoint(self, offer: CredentialOffer, metadata: IssuerMetadata) -> str:
        server = offer.authorization_server
        if server is None or server not in metadata.authorization_servers:
            server = metadata.authorization_servers[0]
        data = self._well_known(server.rstrip("/"), "oauth-authorization-server", "the AS metadata")
        endpoint = data.get("token_endpoint")
        if not isinstance(endpoint, str):
            raise _fail(
                "the authorisation server metadata has no token_endpoint",
                "invalid_issuer_metadata",
                Upstream,
            )
        return endpoint

    def redeem(self, offer: CredentialOffer, token_endpoint: str, tx_code: str | None) -> str:
        form = {"grant_type": PRE_AUTHORIZED, "pre-authorized_code": offer.pre_authorized_code}
        if offer.tx_code is not None:
            form["tx_code"] = tx_code or ""
        try:
            response = self.fetcher.post_form(token_endpoint, form)
        except FetchHTTPError as exc:
            error, description = _oauth_error(exc)
            reason = _refusal_reason(error, description, offer)
            if error == "invalid_grant":
                raise OfferError(
                    "the issuer refused the offer: its code was already used, has expired or "
                    "the transaction code is wrong" + (f" ({description})" if description else ""),
                    code="offer_rejected",
                    issuer_error=error,
                    reason=reason,
                ) from None
            raise OfferError(
                f"the issuer's token endpoint refused the offer: {error or exc.message}"
                + (f" ({description})" if description else ""),
                code="offer_rejected",
                issuer_error=error,
                reason=reason,
            ) from None
        except FetchError as exc:
            raise _unreachable("token endpoint", exc) from None
        data = _response_json(response.content, "the token response")
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise _fail(
                "the token response has no access_token", "invalid_token_response", Upstream
            )
        return token

    def nonce(self, metadata: IssuerMetadata) -> str | None:
        if metadata.nonce_endpoint is None:
            return None
        try:
            response = self.fetcher.post_form(metadata.nonce_endpoint, {})
        except FetchError as exc:
            raise _unreachable("nonce endpoint", exc) from None
        nonce = _response_json(response.content, "the nonce response").get("c_nonce")
        if not isinstance(nonce, str) or not nonce:
            raise _fail("the nonce response has no c_nonce", "invalid_nonce_response", Upstream)
        return nonce

    def proof(self, key: Multikey, issuer: str, nonce: str | None) -> str:
        claims: dict[str, Any] = {"aud": issuer, "iat": int(time.time())}
        if nonce is not None:
            claims["nonce"] = nonce
        return sign_jwt({"typ": PROOF_TYP}, claims, key)

    def request_credential(
        self,
        metadata: IssuerMetadata,
        access_token: str,
        configuration_id: str,
        key: Multikey,
    ) -> dict[str, Any]:
        """One credential for ``configuration_id``; one retry on a stale nonce."""
        return _credential_from(
            self.credential_response(metadata, access_token, configuration_id, key)
        )

    def credential_response(
        self,
        metadata: IssuerMetadata,
        access_token: str,
        configuration_id: str,
        key: Multikey,
    ) -> dict[str, Any]:
        """The issuer's whole credential response (with its ``notification_id``)."""
        for attempt in (1, 2):
            nonce = self.nonce(metadata)
            body = {
                "credential_configuration_id": configuration_id,
                "proofs": {"jwt": [self.proof(key, metadata.credential_issuer, nonce)]},
            }
            try:
                response = self.fetcher.post_json(
                    metadata.credential_endpoint,
                    body,
                    headers={"authorization": f"Bearer {access_token}"},
                )
            except FetchHTTPError as exc:
                error, description = _oauth_error(exc)
                if error == "invalid_nonce" and attempt == 1:
                    continue
                # a 4xx is the issuer refusing this offer for this wallet (e.g. an offer
                # meant for another holder DID): the learner's problem, not a gateway failure
                raise OfferError(
                    f"the issuer refused the credential request: {error or exc.message}"
                    + (f" ({description})" if description else ""),
                    code="credential_request_refused",
                    kind=Invalid if exc.status < 500 else Upstream,
                    issuer_error=error,
                ) from None
            except FetchError as exc:
                raise _unreachable("credential endpoint", exc) from None
            data = _response_json(response.content, "the credential response")
            _credential_from(data)  # a response without a usable credential fails here
            return data
        raise AssertionError("unreachable")  # pragma: no cover

    def notify(
        self,
        metadata: IssuerMetadata,
        access_token: str,
        notification_id: str,
        event: str,
        description: str | None = None,
    ) -> bool:
        """Tell the issuer whether the credential was kept (OpenID4VCI 1.0 §11).

        Best effort: the credential is already stored (or refused) whatever the issuer
        answers, so a failure here is reported as False and never raised."""
        endpoint = metadata.raw.get("notification_endpoint") if metadata.raw else None
        if not isinstance(endpoint, str) or not endpoint:
            return False
        body: dict[str, Any] = {"notification_id": notification_id, "event": event}
        if description:
            body["event_description"] = description[:200]
        try:
            self.fetcher.post_json(
                endpoint, body, headers={"authorization": f"Bearer {access_token}"}
            )
        except FetchError:
            return False
        return True

    # -- helpers

    def _well_known(self, identifier: str, name: str, what: str) -> dict[str, Any]:
        parts = urlsplit(identifier)
        base = f"{parts.scheme}://{parts.netloc}"
        path = parts.path.rstrip("/")
        candidates = [f"{base}/.well-known/{name}{path}"]
        if path:
            candidates.append(f"{identifier}/.well-known/{name}")
        last: FetchError | None = None
        for url in candidates:
            try:
                data, _ = self.fetcher.get_json(url)
            except FetchHTTPError as exc:
                last = exc
                if exc.status == 404:
                    continue
                break
            except FetchError as exc:
                last = exc
                break
            if not isinstance(data, dict):
                raise _fail(f"{what} is not a JSON object", "invalid_issuer_metadata", Upstream)
            return data
        raise _unreachable(what, last) from None


def notification_id(data: dict[str, Any]) -> str | None:
    """The ``notification_id`` of a credential response, if the issuer sent one."""
    value = data.get("notification_id")
    return value if isinstance(value, str) and 0 < len(value) <= 200 else None


def credential_from(data: dict[str, Any]) -> dict[str, Any]:
    """The credential in a credential response (OfferError when there is none)."""
    return _credential_from(data)


def _credential_from(data: dict[str, Any]) -> dict[str, Any]:
    if "transaction_id" in data and "credentials" not in data:
        raise _fail(
            "the issuer deferred issuance; this wallet cannot wait for deferred credentials yet",
            "deferred_issuance",
            Upstream,
        )
    items = data.get("credentials")
    if isinstance(items, list) and items and isinstance(items[0], dict):
        credential = items[0].get("credential")
    else:
        credential = data.get("credential")  # draft 13 shape
    if isinstance(credential, str):
        raise _fail(
            "the issuer sent a credential in a format this wallet does not hold (not ldp_vc)",
            "unsupported_credential_format",
            Upstream,
        )
    if not isinstance(credential, dict):
        raise _fail(
            "the credential response has no credential", "invalid_credential_response", Upstream
        )
    return credential


def _oauth_error(exc: FetchHTTPError) -> tuple[str | None, str | None]:
    try:
        data = json.loads(exc.response.content)
    except ValueError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    error, description = data.get("error"), data.get("error_description")
    return (
        error if isinstance(error, str) else None,
        description[:300] if isinstance(description, str) else None,
    )


def _unreachable(what: str, exc: FetchError | None) -> OfferError:
    """The issuer could not be reached (``Upstream``), or the offer names a URL the wallet
    refuses to contact (a private address, a forbidden scheme: ``Invalid``, the offer is at
    fault)."""
    reason = exc.message if exc is not None else "no answer"
    code = exc.code if exc is not None else ""
    if code.startswith("fetch_refused") or code == "fetch_invalid_url":
        return OfferError(
            f"the offer points at {what} the wallet will not contact: {reason}",
            code="offer_url_refused",
            kind=Invalid,
        )
    return OfferError(
        f"could not reach the issuer's {what}: {reason}", code="issuer_unreachable", kind=Upstream
    )


def _get(fetcher: SafeFetcher, url: str, what: str) -> FetchResponse:
    try:
        return fetcher.get(url, accept="application/json")
    except FetchHTTPError as exc:
        if exc.status in (404, 410):
            raise _fail(
                f"{what} answered HTTP {exc.status}: the offer has expired, was used or never "
                "existed",
                "offer_gone",
            ) from None
        raise OfferError(
            f"{what} could not be fetched: {exc.message}", code="issuer_unreachable", kind=Upstream
        ) from None
    except FetchError as exc:
        raise _unreachable(what, exc) from None


def _json(text: str, what: str) -> Any:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise _fail(f"{what} is not valid JSON") from None
    try:
        check_limits(data)
    except MicrocredError as exc:
        raise _fail(f"{what}: {exc.message}") from None
    return data


def _response_json(content: bytes, what: str) -> dict[str, Any]:
    try:
        data = json.loads(content)
        check_limits(data)
    except (ValueError, RecursionError, MicrocredError):
        raise _fail(f"{what} is not valid JSON", "invalid_issuer_response", Upstream) from None
    if not isinstance(data, dict):
        raise _fail(f"{what} is not a JSON object", "invalid_issuer_response", Upstream)
    return data


def _is_identifier(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return (
        parts.scheme in ("https", "http")
        and bool(parts.netloc)
        and not parts.query
        and not parts.fragment
        and "@" not in parts.netloc
    )
