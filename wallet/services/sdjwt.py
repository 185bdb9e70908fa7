"""The wallet's SD-JWT VC side (issue 19): collect, check, show the choices, present.

The functions below drive the real protocols (OpenID4VCI with the ``dc+sd-jwt``
configuration, OpenID4VP with a DCQL ``dc+sd-jwt`` query) with the wallet's own fetcher and
holder key. ``receiving`` uses :func:`request_credential` / :func:`bound_to` to store an
SD-JWT VC, ``requests`` uses :func:`query_fits`, :func:`disclosable`, :func:`always_shown`
and :func:`presentation` for the consent page (docs/sd-jwt-vc.md, "Wallet").

* :func:`collect` — offer → token (tx_code) → nonce → key proof (the learner's did:key) →
  the SD-JWT VC, checked on arrival (issuer key from ``/.well-known/jwt-vc-issuer``,
  disclosures, status) and refused when ``cnf`` is not this wallet's key;
* :func:`choices` — what the learner can choose to disclose (path, label, value);
* :func:`answer` — the ``direct_post`` form for a request: only the chosen disclosures and
  a KB-JWT with ``aud`` = the request's client id and its ``nonce``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from credentials import TOKEN_STATUS_LIST_MEDIA_TYPE as MEDIA_TYPE
from credentials import (
    Claim,
    CredentialQuery,
    FetchError,
    FetchHTTPError,
    MicrocredError,
    Multikey,
    VerificationReport,
    sd_jwt_claims,
)
from credentials import sdjwt_core as core
from credentials import sdjwt_jose as jose
from credentials import sdjwt_vc as vc
from servicekit.errors import Upstream

from .openid4vci import IssuerMetadata, OfferError, Openid4vciClient, read_offer
from .openid4vp import PresentationRequest

FORMAT = vc.FORMAT


@dataclass(frozen=True)
class Collected:
    token: str
    report: VerificationReport
    configuration_id: str


def _verifier(client: Openid4vciClient) -> vc.SdJwtVcVerifier:
    fetcher = client.fetcher
    return vc.SdJwtVcVerifier(
        keys=vc.IssuerKeys(fetch_json=lambda url: fetcher.get_json(url)[0]),
        fetch_status=lambda url: fetcher.get(url, accept=MEDIA_TYPE).text,
    )


def collect(
    client: Openid4vciClient, offer_value: Any, key: Multikey, *, tx_code: str | None = None
) -> Collected:
    """The SD-JWT VC of an offer that lists a ``dc+sd-jwt`` configuration."""
    offer = read_offer(offer_value, client.fetcher)
    metadata = client.issuer_metadata(offer.credential_issuer)
    chosen = next(
        (
            cid
            for cid in offer.configuration_ids
            if (metadata.configurations.get(cid) or {}).get("format") == FORMAT
        ),
        None,
    )
    if chosen is None:
        raise OfferError("the offer has no dc+sd-jwt configuration", code="unsupported_format")
    access = client.redeem(offer, client.token_endpoint(offer, metadata), tx_code)
    token, _ = request_credential(client, metadata, access, chosen, key)
    report = _verifier(client).verify(token, require_key_binding=False)
    if not bound_to(token, key):
        raise OfferError("the SD-JWT VC is bound to another key", code="holder_mismatch")
    return Collected(token, report, chosen)


def request_credential(
    client: Openid4vciClient, metadata: IssuerMetadata, access: str, chosen: str, key: Multikey
) -> tuple[str, dict[str, Any]]:
    """The issuer's SD-JWT VC for configuration ``chosen`` (key proof with ``key``), and its
    whole credential response (for the notification id)."""
    body = {
        "credential_configuration_id": chosen,
        "proofs": {"jwt": [client.proof(key, metadata.credential_issuer, client.nonce(metadata))]},
    }
    try:
        response = client.fetcher.post_json(
            metadata.credential_endpoint, body, headers={"authorization": f"Bearer {access}"}
        )
        answer = json.loads(response.content)
    except FetchHTTPError as exc:
        raise OfferError(
            f"the issuer refused the credential request: {exc.message}",
            code="credential_request_refused",
        ) from None
    except (FetchError, ValueError) as exc:
        raise OfferError(
            f"no credential from the issuer: {exc}", code="issuer_unreachable", kind=Upstream
        ) from None
    items = answer.get("credentials") if isinstance(answer, dict) else None
    token = items[0].get("credential") if isinstance(items, list) and items else None
    if not isinstance(token, str):
        raise OfferError("the issuer sent no SD-JWT VC", code="unsupported_credential_format")
    return token, answer


def bound_to(token: str, key: Multikey) -> bool:
    """Whether the SD-JWT VC's ``cnf`` is ``key`` (the learner's holder key)."""
    try:
        bound = core.holder_key(core.SdJwt.parse(token).payload)
    except MicrocredError:
        return False
    return bound is not None and jose.jwk_of(bound) == jose.jwk_of(key)


def choices(token: str) -> list[dict[str, Any]]:
    """The claims the learner may disclose or withhold: ``{path, value}`` each."""
    sd_jwt = core.SdJwt.parse(token)
    paths = core.disclosure_paths(sd_jwt)
    by_digest = {d.digest: d for d in sd_jwt.disclosures}
    return [
        {"path": path, "value": by_digest[dg].value}
        for dg, path in sorted(paths.items(), key=lambda item: item[1])
        if not isinstance(by_digest[dg].value, dict)  # containers follow their members
    ]


def matching_query(request: PresentationRequest, token: str) -> str | None:
    """The id of the request's ``dc+sd-jwt`` query this credential answers, if any."""
    claims = core.reconstruct(core.SdJwt.parse(token))
    for query in request.dcql.credentials:
        if query.format != FORMAT:
            continue
        if all(
            not claim.values or _at(claims, claim.path) in claim.values for claim in query.claims
        ):
            return query.id
    return None


def answer(
    request: PresentationRequest, token: str, key: Multikey, disclose: set[str]
) -> dict[str, str]:
    """The ``direct_post`` form: ``vp_token`` (query id → [presentation]) and ``state``."""
    query_id = matching_query(request, token)
    if query_id is None:
        raise MicrocredError(
            "this credential answers none of the request's queries", code="no_matching_query"
        )
    presentation = core.present(
        core.SdJwt.parse(token), disclose, key, audience=request.client_id, nonce=request.nonce
    )
    form = {"vp_token": json.dumps({query_id: [presentation]})}
    if request.state:
        form["state"] = request.state
    return form


def _at(claims: dict[str, Any], path: tuple[Any, ...]) -> Any:
    node: Any = claims
    for part in path:
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


# ----------------------------------------------------------------- the consent page (issue 19)


def query_fits(query: CredentialQuery, token: str) -> list[Claim] | None:
    """The query's claims when this SD-JWT VC answers ``query`` (a ``dc+sd-jwt`` query whose
    ``vct_values`` name its type and whose claims it holds, with an asked value if any)."""
    if query.format != FORMAT:
        return None
    claims = sd_jwt_claims(token)
    if query.vct_values and claims.get("vct") not in query.vct_values:
        return None
    for claim in query.claims:
        value = _at(claims, claim.path)
        if value is None or (claim.values and value not in claim.values):
            return None
    return list(query.claims)


def path_text(path: tuple[Any, ...] | list[Any]) -> str:
    """A DCQL claim path as the dotted path the disclosures are named by."""
    return ".".join(str(p) for p in path)


def disclosable(token: str, requested: set[str]) -> list[dict[str, Any]]:
    """The claims the learner may tick: ``{path, value, requested}``; exactly the ones the
    request's DCQL claims name (or lie under) start ticked."""
    return [
        {
            **item,
            "requested": any(
                item["path"] == r or item["path"].startswith(r + ".") for r in requested
            ),
        }
        for item in choices(token)
    ]


def always_shown(token: str) -> list[dict[str, Any]]:
    """The claims that go with every presentation (signed in the clear, not disclosable)."""
    payload = core.SdJwt.parse(token).payload
    out: list[dict[str, Any]] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key not in ("_sd", "_sd_alg", "cnf"):
                    walk(value, f"{path}.{key}" if path else key)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                if not (isinstance(value, dict) and set(value) == {"..."}):
                    walk(value, f"{path}.{index}")
        else:
            out.append({"path": path, "value": node})

    walk(payload, "")
    return out


def presentation(
    request: PresentationRequest, token: str, key: Multikey, disclose: set[str]
) -> str:
    """The SD-JWT VC with only ``disclose`` and a KB-JWT bound to the request's nonce and
    client id (its ``aud``)."""
    known = {c["path"] for c in choices(token)}
    unknown = disclose - known
    if unknown:
        raise MicrocredError(
            "not a disclosable claim of this credential: " + ", ".join(sorted(unknown)),
            code="unknown_disclosure",
        )
    return core.present(
        core.SdJwt.parse(token), disclose, key, audience=request.client_id, nonce=request.nonce
    )
