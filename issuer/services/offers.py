"""OpenID4VCI 1.0, pre-authorised code flow, ``ldp_vc`` (docs/issuer.md, "OpenID4VCI";
https://openid.net/specs/openid-4-verifiable-credential-issuance-1_0.html §3.5, §6-§8).

The institution creates an *offer* for a pending issuance (a module, a learner, a result);
the learner scans its QR code; the wallet fetches the offer, the issuer metadata and the
authorisation server metadata, trades the pre-authorised code (and PIN) for an access
token, fetches a ``c_nonce``, and asks for the credential with a JWT proving possession of
its key. The credential is composed only then, with ``credentialSubject.id`` = the DID of
that key (``kid``), or the did:jwk of a bare ``jwk`` from a wallet without a DID.

Secrets and single use, all enforced by the database:

* the offer URI carries a 256-bit *handle*; the pre-authorised code is derived from it
  (so the offer JSON can be served without storing the code), and only SHA-256 hashes of
  handle, code, PIN and access token are stored;
* redeeming the code is one conditional ``UPDATE … WHERE state = 'offered' AND expires_at
  > now``: of two wallets (or two processes) presenting the same code, one wins;
* a wrong PIN is counted in its own transaction; after ``tx_code_attempts`` the offer is
  burnt, so a six-digit PIN cannot be brute-forced;
* the access token is good for one credential: issuing moves the offer from ``redeemed``
  to ``issuing`` with another conditional ``UPDATE``;
* nonces are consumed the same way (``used_at IS NULL``), and expire.

Protocol errors are OAuth-shaped (``{"error": …}``), not problem details: that is what
wallets parse.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from sqlalchemy import update
from sqlmodel import col, select

from credentials import CREDENTIAL_TYPE
from credentials import MICROCREDENTIAL_CONTEXT as CONTEXT
from servicekit.db import rowcount
from servicekit.errors import (
    Conflict,
    Gone,
    NotFound,
    ServiceError,
    Unprocessable,
)
from servicekit.qr import qr_png, qr_svg
from servicekit.tokens import new_token, token_hash

from ..models import Institution, Offer
from ..models import Module as ModuleRow
from ..schemas import OfferIn
from . import audit, issuance, keys, personal, sdjwt, urls
from .clock import aware, iso
from .context import IssuerContext

CONFIGURATION_ID = "MicroCredential_ldp_vc"
PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
PROOF_TYP = "openid4vci-proof+jwt"
OFFER_SCHEME = "openid-credential-offer://"
BINDING_METHODS = ["did:key", "did:web", "did:jwk", "jwk"]
PROOF_ALGORITHMS = ("EdDSA", "ES256")


@dataclass
class OAuthError(Exception):
    """An OpenID4VCI / OAuth error answer: ``{"error", "error_description"}``.

    Not a problem document (OAuth clients read ``error``), so it is not a ``ServiceError``
    itself; ``kind`` is the service error kind whose status the answer carries."""

    kind: type[ServiceError]
    error: str
    description: str
    headers: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return {"error": self.error, "error_description": self.description, **self.extra}


def _hash(value: str) -> str:
    return token_hash(value)


def _code_for(handle: str) -> str:
    """The pre-authorised code belonging to an offer handle (derived, never stored)."""
    digest = hashlib.sha256(b"microcred/offer-code\x00" + handle.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def issuer_id(ctx: IssuerContext, institution: Institution) -> str:
    """The institution's OpenID4VCI credential issuer identifier (an https URL)."""
    return urls.institution_base(ctx.settings.public_url, institution.slug)


# --------------------------------------------------------------------------- metadata


def issuer_metadata(ctx: IssuerContext, institution: Institution) -> dict[str, Any]:
    """Credential issuer metadata (§12.2.4), with the draft-13 places filled as well."""
    with ctx.db.session() as session:
        algorithm = keys.current_key_row(session, institution).algorithm
    base = issuer_id(ctx, institution)
    suite = "eddsa-rdfc-2022" if algorithm == "Ed25519" else "ecdsa-rdfc-2019"
    display = [
        {"name": "Microcredential", "locale": "en"},
        {"name": "Microcredential", "locale": "nl"},
    ]
    return {
        "credential_issuer": base,
        "credential_endpoint": f"{base}/credential",
        "nonce_endpoint": f"{base}/nonce",
        "notification_endpoint": f"{base}/notification",
        "token_endpoint": f"{base}/token",  # draft 13 wallets look for it here
        "display": [{"name": institution.name, "locale": "nl"}],
        "credential_configurations_supported": {
            CONFIGURATION_ID: {
                "format": "ldp_vc",
                "credential_definition": {
                    "@context": list(CONTEXT),
                    "type": list(CREDENTIAL_TYPE),
                },
                # "jwk": a wallet without a DID proves a bare key; the credential is then
                # bound to that key's did:jwk (a URI, as ldp_vc's credentialSubject.id needs)
                "cryptographic_binding_methods_supported": BINDING_METHODS,
                "credential_signing_alg_values_supported": [suite],
                "proof_types_supported": {
                    "jwt": {"proof_signing_alg_values_supported": list(PROOF_ALGORITHMS)}
                },
                "display": display,
                "credential_metadata": {
                    "display": display,
                    "claims": [
                        {"path": ["credentialSubject", "achievement", "name"]},
                        {"path": ["credentialSubject", "achievement", "creditsAvailable"]},
                        {"path": ["credentialSubject", "result"]},
                        {"path": ["issuer", "name"]},
                    ],
                },
            },
            # issue 19: the same offer collected as an SD-JWT VC
            sdjwt.CONFIGURATION_ID: sdjwt.configuration(ctx, institution, algorithm),
        },
    }


def authorization_server_metadata(ctx: IssuerContext, institution: Institution) -> dict[str, Any]:
    """RFC 8414 metadata: the issuer is its own AS, for the pre-authorised grant only."""
    base = issuer_id(ctx, institution)
    return {
        "issuer": base,
        "token_endpoint": f"{base}/token",
        "grant_types_supported": [PRE_AUTHORIZED_GRANT],
        "pre-authorized_grant_anonymous_access_supported": True,
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": ["none"],
    }


# --------------------------------------------------------------------------- offers


def create(
    ctx: IssuerContext,
    institution: Institution,
    request: OfferIn,
    *,
    actor: str,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A pending issuance the learner's wallet can collect; the PIN is shown only here.

    ``extra``: top-level credential fields added when it is issued (a recognition award's
    ``evidence`` and ``relatedResource``, issue 17), sealed with the learner's data."""
    ttl = request.expires_in or ctx.settings.offer_ttl
    if ttl > ctx.settings.max_offer_ttl:
        message = f"at most {ctx.settings.max_offer_ttl} seconds"
        raise Unprocessable(
            "validation_error",
            f"expires_in: {message}",
            errors=[{"field": "expires_in", "message": message}],
        )
    with ctx.db.session() as session:
        module = issuance.module_row(session, institution, request.module_id)
    issuance.check_grade(module.definition.get("grading"), request.result)
    issuance.refuse_expired(ctx, request.valid_until, "valid_until")
    handle = new_token(nbytes=32)
    pin = (
        "".join(str(secrets.randbelow(10)) for _ in range(request.pin_length))
        if request.pin
        else None
    )
    now = ctx.now()
    offer_id = "off_" + secrets.token_hex(8)
    assert module.id is not None  # a stored row has its primary key
    offer = Offer(
        id=offer_id,
        institution_id=institution.id,
        module_id=module.id,
        # sealed under the KEK: e-mail, student number and result are personal data (H-9d)
        learner=personal.seal(
            ctx.keystore,
            offer_id,
            {
                "learner": request.learner.model_dump(exclude_none=True),
                "result": request.result.model_dump(mode="json", exclude_none=True)
                if request.result
                else None,
                "valid_until": iso(request.valid_until),
                "reference": request.learner.reference,
                **({"extra": extra} if extra else {}),
            },
        ),
        learner_ref=personal.protect_ref(ctx.keystore, institution.id, request.learner.reference)[
            0
        ],
        handle_hash=_hash(handle),
        code_hash=_hash(_code_for(handle)),
        tx_code_hash=None,
        tx_code_length=len(pin) if pin else None,
        created_at=now,
        created_by=actor,
        expires_at=now + timedelta(seconds=ttl),
    )
    if pin:
        offer.tx_code_hash = _hash(f"{offer.id}:{pin}")
    with ctx.db.session() as session:
        session.add(offer)
        audit.record(
            session,
            institution.id,
            actor,
            "offer.create",
            now,
            details={"offer": offer.id, "module": module.slug, "pin": bool(pin)},
        )
    return {
        **describe(ctx, institution, offer),
        **links(ctx, institution, handle, offer),
        "pin": pin,
    }


def offer_json(
    ctx: IssuerContext, institution: Institution, handle: str, offer: Offer
) -> dict[str, Any]:
    """The credential offer a wallet reads: both configurations, the pre-authorised code
    derived from ``handle``, and the PIN description when the offer has one.
    """
    grant: dict[str, Any] = {"pre-authorized_code": _code_for(handle)}
    if offer.tx_code_length:
        grant["tx_code"] = {
            "input_mode": "numeric",
            "length": offer.tx_code_length,
            "description": "The PIN your institution gave you with this offer",
        }
    out: dict[str, Any] = {
        "credential_issuer": issuer_id(ctx, institution),
        "credential_configuration_ids": [CONFIGURATION_ID, sdjwt.CONFIGURATION_ID],
        "grants": {PRE_AUTHORIZED_GRANT: grant},
    }
    preview = _credential_preview(ctx, institution, offer)
    if preview:
        out["credential_preview"] = preview
    return out


def _credential_preview(
    ctx: IssuerContext, institution: Institution, offer: Offer
) -> dict[str, Any]:
    """What the credential will be about, so a wallet can show it before accepting (an
    extension parameter of the offer; wallets that do not know it ignore it). Module facts
    only: nothing about the learner."""
    with ctx.db.session() as session:
        module = session.get(ModuleRow, offer.module_id)
    spec = module.definition if module is not None else {}
    preview = {
        "institution": institution.name,
        "module": spec.get("name"),
        "ects": spec.get("ects"),
        "hours": spec.get("hours"),
        "eqf_level": spec.get("eqf_level"),
    }
    return {k: v for k, v in preview.items() if v is not None}


def links(
    ctx: IssuerContext, institution: Institution, handle: str, offer: Offer
) -> dict[str, Any]:
    """Every way to hand ``offer`` to a wallet: by reference, by value, and the QR URLs."""
    url = urls.offer_url(ctx.settings.public_url, institution.slug, handle)
    by_value = json.dumps(offer_json(ctx, institution, handle, offer), separators=(",", ":"))
    return {
        "credential_offer": json.loads(by_value),
        "credential_offer_uri": url,
        "offer_uri": f"{OFFER_SCHEME}?credential_offer_uri={quote(url, safe='')}",
        "offer_uri_by_value": f"{OFFER_SCHEME}?credential_offer={quote(by_value, safe='')}",
        "qr_png": f"{url}/qr.png",
        "qr_svg": f"{url}/qr.svg",
    }


def describe(ctx: IssuerContext, institution: Institution, offer: Offer) -> dict[str, Any]:
    """An offer as the institution sees it (no secrets); past its expiry: ``expired``."""
    state = offer.state
    expires = aware(offer.expires_at)
    if state == "offered" and expires is not None and expires <= ctx.now():
        state = "expired"
    return {
        "id": offer.id,
        "state": state,
        # the keyed hash is stored; the value shown comes from the sealed JSON (H-9d)
        "learner_ref": personal.unseal(ctx.keystore, offer.id, offer.learner).get(
            "reference", offer.learner_ref
        ),
        "created_at": iso(offer.created_at),
        "expires_at": iso(offer.expires_at),
        "redeemed_at": iso(offer.redeemed_at),
        "issued_at": iso(offer.issued_at),
        "credential_id": offer.credential_id,
        "pin_required": offer.tx_code_hash is not None,
    }


def get(ctx: IssuerContext, institution: Institution, offer_id: str) -> dict[str, Any]:
    """The institution's offer as ``describe`` shows it; else ``NotFound`` (``unknown_offer``)."""
    with ctx.db.session() as session:
        offer = session.get(Offer, offer_id)
    if offer is None or offer.institution_id != institution.id:
        raise NotFound("unknown_offer", f"there is no offer {offer_id}")
    return describe(ctx, institution, offer)


def cancel(
    ctx: IssuerContext, institution: Institution, offer_id: str, *, actor: str
) -> dict[str, Any]:
    """Cancel an offer that was not collected yet, audit it, and return its new state.

    Raises ``Conflict`` (``offer_not_cancellable``) when it is unknown, already issued or
    already cancelled: a wallet that holds the credential keeps it (revoke it instead).
    """
    with ctx.db.session() as session:
        done = session.execute(
            update(Offer)
            .where(
                col(Offer.id) == offer_id,
                col(Offer.institution_id) == institution.id,
                col(Offer.state).in_(("offered", "redeemed")),
            )
            .values(state="cancelled")
        )
        if rowcount(done) != 1:
            raise Conflict(
                "offer_not_cancellable", f"offer {offer_id} is unknown, used or cancelled"
            )
        audit.record(
            session, institution.id, actor, "offer.cancel", ctx.now(), details={"offer": offer_id}
        )
    return get(ctx, institution, offer_id)


def by_handle(ctx: IssuerContext, institution: Institution, handle: str) -> Offer:
    """The live offer a wallet (or a QR page) names by its handle."""
    with ctx.db.session() as session:
        offer = session.exec(
            select(Offer).where(
                Offer.handle_hash == _hash(handle), Offer.institution_id == institution.id
            )
        ).first()
    if offer is None:
        raise NotFound("unknown_offer", "there is no such offer")
    if offer.state != "offered":
        raise Gone("offer_used", "this offer has been used or cancelled")
    expires = aware(offer.expires_at)
    if expires is not None and expires <= ctx.now():
        raise Gone("offer_expired", "this offer has expired")
    return offer


def qr(ctx: IssuerContext, institution: Institution, handle: str, kind: str) -> bytes | str:
    """The live offer's ``openid-credential-offer://`` link as a QR code: PNG bytes
    (``kind='png'``) or SVG text. Raises like ``by_handle`` (``NotFound``, ``Gone``).
    """
    offer = by_handle(ctx, institution, handle)
    uri = links(ctx, institution, handle, offer)["offer_uri"]
    return qr_png(uri) if kind == "png" else qr_svg(uri)


__all__ = [
    "OAuthError",
    "authorization_server_metadata",
    "by_handle",
    "cancel",
    "create",
    "describe",
    "get",
    "issuer_id",
    "issuer_metadata",
    "links",
    "offer_json",
    "qr",
]
