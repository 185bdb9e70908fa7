"""OpenID4VCI after the offer: the token, nonce, credential and notification endpoints
and the sweep of offers a crashed process left half-issued (see ``offers`` for the
secrets and single-use rules they enforce; split from ``offers`` to keep both small).
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import col, select

from credentials import MicrocredError, verify_jwt
from servicekit.db import rowcount
from servicekit.errors import (
    Invalid,
    ServiceError,
    Unauthorized,
)
from servicekit.tokens import bearer_token, new_token

from ..models import Institution, Nonce, Offer
from ..models import Module as ModuleRow
from ..schemas import IssueModuleIn
from . import audit, issuance, personal, sdjwt
from .clock import aware
from .context import IssuerContext
from .offers import (
    CONFIGURATION_ID,
    PRE_AUTHORIZED_GRANT,
    PROOF_TYP,
    OAuthError,
    _hash,
    issuer_id,
)

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
    access = bearer_token(authorization)
    if access is None:
        raise OAuthError(
            Unauthorized,
            "invalid_token",
            "a Bearer access token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return access


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
