"""OpenID4VCI 1.0, pre-authorised code flow, ``ldp_vc`` (see shared/reference/protocols.md §1).

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

from sqlalchemy import delete, update
from sqlmodel import col, select

from credentials.errors import MicrocredError
from credentials.jose import verify_jwt
from credentials.microcredential import CONTEXT, CREDENTIAL_TYPE
from servicekit.db import rowcount
from servicekit.errors import (
    Conflict,
    Gone,
    Invalid,
    NotFound,
    ServiceError,
    Unauthorized,
    Unprocessable,
)
from servicekit.qr import qr_png, qr_svg
from servicekit.tokens import new_token, token_hash

from ..models import Institution, Nonce, Offer
from ..models import Module as ModuleRow
from ..schemas import IssueModuleIn, OfferIn
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
    offer = Offer(
        id=offer_id,
        institution_id=institution.id,
        module_id=module.id,  # type: ignore[arg-type]
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
    return {
        "credential_issuer": issuer_id(ctx, institution),
        "credential_configuration_ids": [CONFIGURATION_ID, sdjwt.CONFIGURATION_ID],
        "grants": {PRE_AUTHORIZED_GRANT: grant},
    }


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


# --------------------------------------------------------------------------- token


def token(ctx: IssuerContext, institution: Institution, form: dict[str, str]) -> dict[str, Any]:
    """The token endpoint: pre-authorised code (+ PIN) for an access token, once."""
    grant_type = form.get("grant_type")
    if grant_type != PRE_AUTHORIZED_GRANT:
        raise OAuthError(Invalid, "unsupported_grant_type", "only the pre-authorised code grant")
    code = form.get("pre-authorized_code") or ""
    if not code or len(code) > 200:
        raise OAuthError(Invalid, "invalid_request", "pre-authorized_code is required")
    pin = form.get("tx_code") or form.get("user_pin")  # user_pin: draft 11-12 wallets
    now = ctx.now()
    with ctx.db.session() as session:
        offer = session.exec(
            select(Offer).where(
                Offer.code_hash == _hash(code), Offer.institution_id == institution.id
            )
        ).first()
    invalid = OAuthError(
        Invalid, "invalid_grant", "the pre-authorised code is unknown, used or expired"
    )
    expires = aware(offer.expires_at) if offer else None
    if offer is None or offer.state != "offered" or expires is None or expires <= now:
        raise invalid
    if offer.tx_code_hash is None and pin:
        # §6.3: a tx_code the offer did not ask for is a malformed request, not a bad grant
        raise OAuthError(Invalid, "invalid_request", "this offer needs no tx_code; do not send one")
    if offer.tx_code_hash is not None:
        if not pin:
            raise OAuthError(Invalid, "invalid_request", "this offer requires the tx_code (PIN)")
        if not _reserve_pin_attempt(ctx, offer):
            raise invalid
        if _hash(f"{offer.id}:{pin}") != offer.tx_code_hash:
            _count_wrong_pin(ctx, offer)
            raise OAuthError(Invalid, "invalid_grant", "the tx_code (PIN) is wrong")
    access = new_token("at", 32)
    ttl = ctx.settings.access_token_ttl
    with ctx.db.session() as session:
        won = session.execute(
            update(Offer)
            .where(
                col(Offer.id) == offer.id,
                col(Offer.state) == "offered",
                col(Offer.expires_at) > now,
            )
            .values(
                state="redeemed",
                redeemed_at=now,
                access_token_hash=_hash(access),
                access_expires_at=now + timedelta(seconds=ttl),
            )
        )
        if rowcount(won) != 1:
            raise invalid
        c_nonce = _new_nonce(ctx, session, institution)
    return {
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": ttl,
        # draft 13 wallets take their first nonce from here; 1.0 wallets ask /nonce
        "c_nonce": c_nonce,
        "c_nonce_expires_in": ctx.settings.nonce_ttl,
    }


def _reserve_pin_attempt(ctx: IssuerContext, offer: Offer) -> bool:
    """Take one of the offer's PIN attempts before the PIN is compared (issue 14 item 8).

    A single conditional UPDATE, so concurrent guesses cannot all read "4 failures so far"
    and all be evaluated: at most ``tx_code_attempts`` comparisons ever happen per offer. The
    counter therefore counts attempts; a right PIN redeems the offer, so that is harmless.
    """
    with ctx.db.session() as session:
        taken = session.execute(
            update(Offer)
            .where(
                col(Offer.id) == offer.id,
                col(Offer.state) == "offered",
                col(Offer.tx_code_failures) < ctx.settings.tx_code_attempts,
            )
            .values(tx_code_failures=Offer.tx_code_failures + 1)
        )
    return rowcount(taken) == 1


def _count_wrong_pin(ctx: IssuerContext, offer: Offer) -> None:
    """Burn the offer once its attempts (reserved by ``_reserve_pin_attempt``) are used up."""
    limit = ctx.settings.tx_code_attempts
    with ctx.db.session() as session:
        session.execute(
            update(Offer)
            .where(
                col(Offer.id) == offer.id,
                col(Offer.state) == "offered",
                col(Offer.tx_code_failures) >= limit,
            )
            .values(state="burnt")
        )


# --------------------------------------------------------------------------- nonces


def nonce(ctx: IssuerContext, institution: Institution) -> dict[str, Any]:
    """A fresh single-use ``c_nonce`` for the key proof (OpenID4VCI 1.0 nonce endpoint)."""
    with ctx.db.session() as session:
        value = _new_nonce(ctx, session, institution)
        if secrets.randbelow(100) == 0:
            # Now and then, forget nonces that expired a day ago (they can never be used).
            session.execute(
                delete(Nonce).where(col(Nonce.expires_at) < ctx.now() - timedelta(days=1))
            )
    return {"c_nonce": value}


def _new_nonce(ctx: IssuerContext, session: Any, institution: Institution) -> str:
    value = new_token(nbytes=32)
    now = ctx.now()
    session.add(
        Nonce(
            nonce_hash=_hash(value),
            institution_id=institution.id,
            created_at=now,
            expires_at=now + timedelta(seconds=ctx.settings.nonce_ttl),
        )
    )
    return value


def _consume_nonce(ctx: IssuerContext, institution: Institution, value: Any) -> bool:
    if not isinstance(value, str) or not value or len(value) > 200:
        return False
    now = ctx.now()
    with ctx.db.session() as session:
        done = session.execute(
            update(Nonce)
            .where(
                col(Nonce.nonce_hash) == _hash(value),
                col(Nonce.institution_id) == institution.id,
                col(Nonce.used_at).is_(None),
                col(Nonce.expires_at) > now,
            )
            .values(used_at=now)
        )
        return rowcount(done) == 1


# --------------------------------------------------------------------------- credential


def _invalid_token(description: str) -> OAuthError:
    return OAuthError(
        Unauthorized,
        "invalid_token",
        description,
        headers={
            "WWW-Authenticate": f'Bearer error="invalid_token", error_description="{description}"'
        },
    )


def _bearer_token(authorization: str | None) -> str:
    """The access token of an ``Authorization: Bearer …`` header; without one, the 401 that
    asks for it (the credential and notification endpoints both require it)."""
    scheme, _, access = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not access.strip():
        raise OAuthError(
            Unauthorized,
            "invalid_token",
            "a Bearer access token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return access.strip()


def _offer_of_token(
    ctx: IssuerContext, institution: Institution, authorization: str | None
) -> Offer | None:
    """The institution's offer whose access token the Bearer header carries, if any."""
    access = _bearer_token(authorization)
    with ctx.db.session() as session:
        return session.exec(
            select(Offer).where(
                Offer.access_token_hash == _hash(access),
                Offer.institution_id == institution.id,
            )
        ).first()


def credential(
    ctx: IssuerContext, institution: Institution, authorization: str | None, body: Any
) -> dict[str, Any]:
    """The credential endpoint: check token, request and key proof; issue once."""
    now = ctx.now()
    offer = _offer_of_token(ctx, institution, authorization)
    access_expires = aware(offer.access_expires_at) if offer else None
    if (
        offer is None
        or offer.state != "redeemed"
        or access_expires is None
        or access_expires <= now
    ):
        raise _invalid_token("the access token is unknown, used or expired")
    if not isinstance(body, dict):
        raise OAuthError(Invalid, "invalid_credential_request", "the request must be a JSON object")
    draft13 = _check_request(body)
    jwt = _proof_jwt(body)
    holder = _check_proof(ctx, institution, jwt, offer)
    with ctx.db.session() as session:
        won = session.execute(
            update(Offer)
            .where(col(Offer.id) == offer.id, col(Offer.state) == "redeemed")
            .values(state="issuing")
        )
        if rowcount(won) != 1:
            raise _invalid_token("the access token has been used")
    stored = personal.unseal(ctx.keystore, offer.id, offer.learner)
    try:
        request = IssueModuleIn.model_validate(
            {
                "module_id": _module_slug(ctx, offer),
                "learner": {**stored["learner"], "did": holder},
                "result": stored.get("result"),
                "valid_until": stored.get("valid_until"),
            }
        )
        issued = issuance.issue_module(
            ctx,
            institution,
            request,
            actor=f"wallet:{holder}",
            source="offer",
            holder_did=holder,
            extra=stored.get("extra"),
        )
    except BaseException as exc:
        with ctx.db.session() as session:  # let the wallet try again with the same token
            session.execute(update(Offer).where(col(Offer.id) == offer.id).values(state="redeemed"))
        if isinstance(exc, ServiceError):
            raise OAuthError(Invalid, "credential_request_denied", exc.detail) from None
        raise
    with ctx.db.session() as session:
        session.execute(
            update(Offer)
            .where(col(Offer.id) == offer.id)
            .values(state="issued", issued_at=ctx.now(), credential_id=issued.credential["id"])
        )
    if _wants_sd_jwt(body):  # issue 19: the SD-JWT VC of the same, recorded credential
        token = sdjwt.issue(ctx, institution, issued.credential, jwt, stored.get("learner") or {})
        answer: dict[str, Any] = {
            "credentials": [{"credential": token}],
            "notification_id": offer.id,
        }
        if draft13:
            answer["credential"] = token
        return answer
    # the wallet says with this id whether it kept the credential (``notification``)
    answer = {
        "credentials": [{"credential": issued.credential}],
        "notification_id": offer.id,
    }
    if draft13:
        answer["credential"] = issued.credential
    return answer


# --------------------------------------------------------------------------- what the wallet holds

#: Notification events (OpenID4VCI 1.0 §11) → the offer state they record.
NOTIFICATION_STATES = {
    "credential_accepted": "accepted",
    "credential_failure": "failed",
    "credential_deleted": "deleted",
}
#: States in which the issuer has sent the credential (``issued``: not yet confirmed).
DELIVERED_STATES = ("issued", "accepted", "failed", "deleted")


def notification(
    ctx: IssuerContext, institution: Institution, authorization: str | None, body: Any
) -> None:
    """The notification endpoint: the wallet tells whether it holds the credential.

    ``issued`` only says the credential left the issuer. A wallet that stored it answers
    ``credential_accepted`` (state ``accepted``); one that could not answers
    ``credential_failure`` (state ``failed``: the institution sees the learner does not
    have it and can offer it again). Authorised by the offer's access token.
    """
    offer = _offer_of_token(ctx, institution, authorization)
    if offer is None or offer.state not in DELIVERED_STATES:
        raise _invalid_token("the access token is unknown or no credential was issued with it")
    if not isinstance(body, dict) or not isinstance(body.get("event"), str):
        raise OAuthError(Invalid, "invalid_notification_request", "event is required")
    if body.get("notification_id") != offer.id:
        raise OAuthError(Invalid, "invalid_notification_id", "unknown notification_id")
    state = NOTIFICATION_STATES.get(body["event"])
    if state is None:
        raise OAuthError(
            Invalid, "invalid_notification_request", f"unknown event {body['event']!r}"
        )
    description = body.get("event_description")
    with ctx.db.session() as session:
        session.execute(update(Offer).where(col(Offer.id) == offer.id).values(state=state))
        audit.record(
            session,
            institution.id,
            "wallet",
            f"offer.{state}",
            ctx.now(),
            credential_id=offer.credential_id,
            details={
                "offer": offer.id,
                **({"description": description[:200]} if isinstance(description, str) else {}),
            },
        )


def sweep_stuck(ctx: IssuerContext, *, older_than: float = 300.0) -> list[str]:
    """Offers stuck in ``issuing`` (the process died mid-issue) go back to ``redeemed``.

    ``issuing`` lasts one request; an offer redeemed more than ``older_than`` seconds ago
    that is still issuing was left by a crash. Back in ``redeemed`` the wallet can ask
    again while its access token is valid, and the institution can cancel it and offer
    anew (a cancelled or re-offered credential is never lost: ``issued`` is only ever set
    with the credential in hand). Returns the ids of the offers swept.
    """
    cutoff = ctx.now() - timedelta(seconds=older_than)
    with ctx.db.session() as session:
        stuck = session.exec(
            select(Offer).where(
                col(Offer.state) == "issuing",
                col(Offer.redeemed_at).is_not(None),
                col(Offer.redeemed_at) <= cutoff,
            )
        ).all()
        swept = []
        for offer in stuck:
            done = session.execute(
                update(Offer)
                .where(col(Offer.id) == offer.id, col(Offer.state) == "issuing")
                .values(state="redeemed")
            )
            if rowcount(done) == 1:
                swept.append(offer.id)
                audit.record(
                    session,
                    offer.institution_id,
                    "system",
                    "offer.sweep",
                    ctx.now(),
                    details={"offer": offer.id, "from": "issuing", "to": "redeemed"},
                )
    return swept


def _module_slug(ctx: IssuerContext, offer: Offer) -> str:
    with ctx.db.session() as session:
        module = session.get(ModuleRow, offer.module_id)
    if module is None:
        raise OAuthError(Invalid, "credential_request_denied", "the module no longer exists")
    return module.slug


def _check_request(body: dict[str, Any]) -> bool:
    """Which credential is asked for; True for a draft-13 shaped request."""
    if "credential_identifier" in body:
        raise OAuthError(
            Invalid,
            "unknown_credential_identifier",
            "this issuer does not use credential identifiers",
        )
    configuration = body.get("credential_configuration_id")
    if configuration is not None:
        if configuration not in (CONFIGURATION_ID, sdjwt.CONFIGURATION_ID):
            raise OAuthError(
                Invalid,
                "unknown_credential_configuration",
                f"unknown configuration {configuration!r}",
            )
        return "proof" in body
    if "format" in body:  # draft 13: format + credential_definition
        if body.get("format") not in ("ldp_vc", sdjwt.FORMAT):
            raise OAuthError(
                Invalid, "unsupported_credential_format", "only ldp_vc and dc+sd-jwt are issued"
            )
        return True
    raise OAuthError(
        Invalid, "invalid_credential_request", "credential_configuration_id is required"
    )


def _wants_sd_jwt(body: dict[str, Any]) -> bool:
    """Whether the wallet asked for the ``dc+sd-jwt`` configuration (or format, draft 13)."""
    return (
        body.get("credential_configuration_id") == sdjwt.CONFIGURATION_ID
        or body.get("format") == sdjwt.FORMAT
    )


def _proof_jwt(body: dict[str, Any]) -> str:
    proofs = body.get("proofs")
    proof = body.get("proof")
    if proofs is not None and proof is not None:
        raise OAuthError(Invalid, "invalid_credential_request", "send proofs or proof, not both")
    if isinstance(proofs, dict):
        jwts = proofs.get("jwt")
        if set(proofs) != {"jwt"} or not isinstance(jwts, list) or len(jwts) != 1:
            raise OAuthError(Invalid, "invalid_proof", 'proofs must be {"jwt": [one JWT]}')
        return _jwt_string(jwts[0])
    if isinstance(proof, dict):
        if proof.get("proof_type") != "jwt":
            raise OAuthError(Invalid, "invalid_proof", "only the jwt proof type is supported")
        return _jwt_string(proof.get("jwt"))
    raise OAuthError(Invalid, "invalid_proof", "a key proof (proofs.jwt) is required")


def _jwt_string(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 8192:
        raise OAuthError(Invalid, "invalid_proof", "the proof must be a compact JWT")
    return value


def _check_proof(ctx: IssuerContext, institution: Institution, jwt: str, offer: Offer) -> str:
    """The holder DID whose key signed a valid, fresh, audience-bound proof.

    The key is named by ``kid`` (a DID URL) or given as a bare ``jwk`` (§F.1); a bare key
    becomes its did:jwk, which anyone can resolve offline to check holder binding later.
    """
    try:
        header, claims, key = verify_jwt(jwt, ctx.holder_resolver, allow_jwk=True)
    except MicrocredError as exc:
        raise OAuthError(Invalid, "invalid_proof", exc.message) from None
    if header.get("typ") != PROOF_TYP:
        raise OAuthError(Invalid, "invalid_proof", f"the proof's typ must be {PROOF_TYP}")
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if issuer_id(ctx, institution) not in audiences:
        raise OAuthError(Invalid, "invalid_proof", "the proof's aud is not this credential issuer")
    iat = claims.get("iat")
    now = ctx.now().timestamp()
    window = ctx.settings.proof_max_age
    if isinstance(iat, bool) or not isinstance(iat, int | float) or abs(now - iat) > window:
        raise OAuthError(Invalid, "invalid_proof", "the proof's iat is missing or not recent")
    if not _consume_nonce(ctx, institution, claims.get("nonce")):
        raise OAuthError(
            Invalid,
            "invalid_nonce",
            "the proof's nonce is unknown, used or expired; get a new one from the nonce endpoint",
        )
    holder = key.controller
    wanted = (personal.unseal(ctx.keystore, offer.id, offer.learner).get("learner") or {}).get(
        "did"
    )
    if wanted and wanted != holder:
        raise OAuthError(Invalid, "invalid_proof", "the offer is for another holder DID")
    return holder
