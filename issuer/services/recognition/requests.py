"""Asking for recognition: the institution's OpenID4VP request and the wallet's answer.

``start`` opens a case in state ``requested`` with a fresh nonce and ``state`` and returns
the authorization request by reference (``openid4vp://?client_id=decentralized_identifier:
<institution DID>&request_uri=…``): the request object is signed with the institution's
current key, listed for ``authentication`` in its did:web document, so the wallet checks
the institution exactly as it checks a verifier. The DCQL query asks for the credentials
the route needs (``credentials.dcql``, as the verifier asks for a rule).

``answer`` takes the ``direct_post``: every presentation must verify with the case's nonce
and the institution's client id as ``domain``. Only then is the nonce consumed — one
conditional UPDATE, which one answer wins across all processes — and the case opened with
the rule's evaluation; junk from someone who saw the request cannot burn the learner's
genuine answer, and a replay (or a presentation made for another nonce) is refused.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from contextlib import suppress
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import update
from sqlmodel import col

from credentials import LDP_VC_FORMAT as FORMAT
from credentials import (
    MicrocredError,
    RequestSpec,
    Route,
    counted_indexes,
    dcql_query,
    openid4vp,
    queries_for,
)
from servicekit.db import rowcount
from servicekit.errors import Gone, Invalid, NotFound, ServiceError
from servicekit.tokens import new_token, same, token_hash

from ...models import Institution, RecognitionCase, RecognitionRoute
from .. import audit, keys, urls
from ..clock import aware
from ..context import IssuerContext
from . import assessment, catalogue, decisions
from .sealing import seal, unseal

REQUEST_TTL = 900
"""Seconds a learner has to answer the presentation request."""


def _invalid(code: str, detail: str) -> Invalid:
    # ``error`` is the OAuth-style code a wallet looks for; ``code`` is microcred's own
    return Invalid(code, detail, error="invalid_request")


def base(ctx: IssuerContext, institution: Institution) -> str:
    return f"{urls.institution_base(ctx.settings.public_url, institution.slug)}/recognition"


def client_id(ctx: IssuerContext, institution: Institution) -> str:
    return openid4vp.did_client_id(urls.institution_did(ctx.settings.public_url, institution.slug))


def fetch_key(row: RecognitionCase) -> str:
    """The capability in ``request_uri`` (derived from ``state``, as the verifier does)."""
    return token_hash(f"recognition-request_uri:{row.state_token}")[:32]


def case_uri(ctx: IssuerContext, institution: Institution, token: str) -> str:
    return f"{base(ctx, institution)}/cases/{token}"


def _spec(route: RecognitionRoute) -> RequestSpec:
    return RequestSpec.parse(None, None, route.rule, [FORMAT])


def start(ctx: IssuerContext, institution: Institution, route_slug: str) -> dict[str, Any]:
    """Open a case awaiting the wallet's answer; the answer to ``POST recognition_endpoint``."""
    now = ctx.now()
    token = new_token(nbytes=32)
    with ctx.db.session() as session:
        route = catalogue.route_row(session, institution, route_slug)
        assert route.id is not None  # a stored row has its primary key
        row = RecognitionCase(
            id="rc_" + secrets.token_hex(8),
            institution_id=institution.id,
            route_id=route.id,
            nonce=new_token(nbytes=24),
            state_token=new_token(nbytes=16),
            case_token_hash=token_hash(token),
            created_at=now,
            expires_at=now + timedelta(seconds=REQUEST_TTL),
            updated_at=now,
        )
        row.sealed = seal(ctx, row.id, {"case_token": token})
        session.add(row)
        audit.record(
            session,
            institution.id,
            "wallet",
            "recognition.request",
            now,
            details={"case": row.id, "route": route.slug},
        )
    request_uri = f"{base(ctx, institution)}/requests/{row.id}?" + urlencode(
        {"key": fetch_key(row)}
    )
    return {
        "authorization_request": openid4vp.by_reference_uri(
            client_id(ctx, institution), request_uri
        ),
        "request_uri": request_uri,
        "case_uri": case_uri(ctx, institution, token),
        "expires_at": aware(row.expires_at).isoformat(),
    }


def _case(ctx: IssuerContext, institution: Institution, case_id: str) -> RecognitionCase:
    return decisions.case_row(ctx, institution, case_id, "no such recognition request")


def _parameters(
    ctx: IssuerContext, institution: Institution, row: RecognitionCase
) -> dict[str, Any]:
    route = decisions.case_route(ctx, row)
    return openid4vp.authorization_parameters(
        response_uri=f"{base(ctx, institution)}/requests/{row.id}/response",
        client_id=client_id(ctx, institution),
        nonce=row.nonce,
        state=row.state_token,
        dcql_query=dcql_query(queries_for(_spec(route))),
        client_name=institution.name,
        purpose=str(route.rule.get("name") or route.slug),
    )


def request_object(
    ctx: IssuerContext, institution: Institution, case_id: str, key: str | None
) -> str:
    """The signed request object behind ``request_uri`` (404 without its ``key``)."""
    row = _case(ctx, institution, case_id)
    if not key or not same(key, fetch_key(row)):
        raise NotFound("case_not_found", "no such recognition request")
    if row.state != "requested" or row.nonce_used_at is not None:
        raise Gone("request_answered", "this request has already been answered")
    if aware(row.expires_at) <= ctx.now():
        raise Gone("request_expired", "this recognition request has expired")
    claims = openid4vp.request_object_claims(
        _parameters(ctx, institution, row),
        did=urls.institution_did(ctx.settings.public_url, institution.slug),
        now=ctx.now(),
        expires=aware(row.expires_at),
    )
    with ctx.db.session() as session:
        signing_key, _ = keys.signer(ctx, session, institution)
    return openid4vp.sign_request_object(claims, signing_key)


def answer(
    ctx: IssuerContext, institution: Institution, case_id: str, fields: Mapping[str, str]
) -> dict[str, Any]:
    """The wallet's ``direct_post``: verify, consume the nonce, open the case."""
    row = _case(ctx, institution, case_id)
    state = fields.get("state")
    if not isinstance(state, str) or not same(state, row.state_token):
        _note_rejection(ctx, row.id, "the answer's state does not match the request")
        raise _invalid("invalid_state", "state does not match this request")
    if row.nonce_used_at is not None or row.state != "requested":
        raise _invalid(
            "nonce_replayed", "this request has already been answered; its nonce cannot be reused"
        )
    if aware(row.expires_at) <= ctx.now():
        raise Gone(
            "request_expired", "this recognition request has expired", error="invalid_request"
        )
    if "error" in fields:
        _consume(ctx, row, "withdrawn", {})
        return {}
    route_row = decisions.case_route(ctx, row)
    spec = _spec(route_row)
    try:
        answers = openid4vp.parse_vp_token(
            fields.get("vp_token"), queries_for(spec), max_bytes=ctx.settings.max_body
        )
    except MicrocredError as exc:
        _note_rejection(ctx, row.id, exc.message)
        raise _invalid("invalid_request", exc.message) from None
    wanted = client_id(ctx, institution)
    presented = []
    for query_id, vp in answers:
        if openid4vp.is_sd_jwt(vp) or not isinstance(vp, dict):
            raise _invalid("unsupported_format", "this request asks for ldp_vc presentations")
        result = assessment.verify_presentation(ctx, query_id, vp, nonce=row.nonce, domain=wanted)
        if not result.binds:
            failed = [c for c in result.report.failed if not c.id.startswith("credential[")]
            detail = failed[0].message if failed else "the presentation proof does not verify"
            _note_rejection(ctx, row.id, detail)
            raise Invalid(
                "invalid_presentation",
                f"the presentation is not a valid answer to this request: {detail}",
                error="invalid_request",
                report=result.report.to_dict(),
            )
        presented.append(result)
    if not any(counted_indexes(p.report, p.credential_reports) for p in presented):
        # nothing is bound to the presenter: not the learner's answer (someone who saw the
        # request presenting another's credentials); refused without using the nonce
        _note_rejection(ctx, row.id, "no presented credential is bound to the holder")
        raise _invalid("holder_not_subject", "no presented credential has the holder as subject")
    holders = {p.holder for p in presented}
    if len(holders) != 1 or None in holders:
        raise _invalid("holders_disagree", "every presentation must be by the same named holder")
    with ctx.db.session() as session:
        trusted = catalogue.trusted_dids(session, institution)
        names = catalogue.issuer_names(session, institution)
    outcome = assessment.assess(
        Route.from_dict(route_row.rule), presented, trusted=trusted, names=names, now=ctx.now()
    )
    secret = unseal(ctx, row.id, row.sealed)
    secret.update(
        presentations=[p.presentation for p in presented],
        items=outcome.items,
        evidence=outcome.evidence,
        related=outcome.related,
    )
    _consume(
        ctx,
        row,
        "open",
        {
            "holder_did": outcome.holder,
            "presented_at": ctx.now(),
            "sealed": seal(ctx, row.id, secret),
            "evaluation": outcome.evaluation,
            "trusted_only": outcome.trusted_only,
        },
    )
    with ctx.db.session() as session:
        audit.record(
            session,
            institution.id,
            f"wallet:{outcome.holder}",
            "recognition.present",
            ctx.now(),
            details={
                "case": row.id,
                "route": route_row.slug,
                "satisfied": outcome.satisfied,
                "trusted_only": outcome.trusted_only,
                "credentials": len(outcome.items),
            },
        )
    if route_row.auto_award and outcome.satisfied and outcome.trusted_only:
        # if no offer can be made, the case stays open for the exam board
        with suppress(ServiceError):
            decisions.auto_award(ctx, institution, row.id, outcome.evaluation)
    return {"redirect_uri": case_uri(ctx, institution, secret["case_token"])}


def _consume(ctx: IssuerContext, row: RecognitionCase, state: str, values: dict[str, Any]) -> None:
    """Use the nonce and store the outcome in one conditional UPDATE (one answer wins)."""
    now = ctx.now()
    statement = (
        update(RecognitionCase)
        .where(col(RecognitionCase.id) == row.id)
        .where(col(RecognitionCase.nonce_used_at).is_(None))
        .where(col(RecognitionCase.expires_at) > now)
        .values(nonce_used_at=now, state=state, updated_at=now, **values)
    )
    with ctx.db.session() as session:
        won = rowcount(session.execute(statement)) == 1
    if not won:
        raise _invalid(
            "nonce_replayed", "this request has already been answered; its nonce cannot be reused"
        )


def _note_rejection(ctx: IssuerContext, case_id: str, message: str) -> None:
    statement = (
        update(RecognitionCase)
        .where(col(RecognitionCase.id) == case_id)
        .values(
            rejected_attempts=RecognitionCase.rejected_attempts + 1,
            last_rejection=message[:1000],
        )
    )
    with ctx.db.session() as session:
        session.execute(statement)
