"""Administration: institutions (deployment operator), tokens and keys (institution admin)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from ..deps import Admin, JsonBody, ServiceAdmin, ServicesDep
from ..schemas import InstitutionIn, RotateIn, TokenIn, validate
from ..services import institutions, keys, reissue, tokens

router = APIRouter(tags=["administration"])


@router.post("/admin/institutions", status_code=201)
def create_institution(ctx: ServicesDep, operator: ServiceAdmin, body: JsonBody) -> dict[str, Any]:
    """A new institution with its did:web, key 1 and an all-scopes token (shown once)."""
    spec = validate(InstitutionIn, body)
    created = institutions.create(
        ctx,
        slug=spec.slug,
        name=spec.name,
        country_code=spec.country,
        region=spec.region,
        url=spec.url,
        identifiers=spec.identifiers,
        key_type=spec.key_type,
        actor=operator,
    )
    return {"did": created.did, "token": created.token, "slug": spec.slug}


@router.get("/institutions/{slug}/tokens")
def list_tokens(ctx: ServicesDep, principal: Admin) -> dict[str, Any]:
    with ctx.db.session() as session:
        return {"tokens": tokens.listing(session, principal.institution)}


@router.post("/institutions/{slug}/tokens", status_code=201)
def create_token(ctx: ServicesDep, principal: Admin, body: JsonBody) -> dict[str, Any]:
    spec = validate(TokenIn, body)
    with ctx.db.session() as session:
        row, plain = tokens.create(
            session,
            principal.institution,
            name=spec.name,
            scopes=list(spec.scopes),
            actor=principal.actor,
            now=ctx.now(),
        )
        return {**tokens.public(row), "token": plain}


@router.delete("/institutions/{slug}/tokens/{token_id}")
def revoke_token(ctx: ServicesDep, principal: Admin, token_id: str) -> dict[str, Any]:
    with ctx.db.session() as session:
        row = tokens.revoke(
            session, principal.institution, token_id, actor=principal.actor, now=ctx.now()
        )
        return tokens.public(row)


@router.get("/institutions/{slug}/keys")
def list_keys(ctx: ServicesDep, principal: Admin) -> dict[str, Any]:
    with ctx.db.session() as session:
        return {"keys": keys.key_summaries(session, principal.institution)}


@router.post("/institutions/{slug}/keys/rotate", status_code=201)
def rotate_key(ctx: ServicesDep, principal: Admin, body: JsonBody) -> dict[str, Any]:
    """A new current key; the old one stays listed (retired), or is withdrawn from
    ``assertionMethod`` when ``compromised`` is true."""
    spec = validate(RotateIn, body)
    summaries = keys.rotate_key(
        ctx,
        principal.institution,
        actor=principal.actor,
        key_type=spec.key_type,
        compromised=spec.compromised,
    )
    return {"keys": summaries}


@router.post("/institutions/{slug}/keys/{generation}/compromise")
def compromise_key(ctx: ServicesDep, principal: Admin, generation: int) -> dict[str, Any]:
    """Withdraw a retired key from ``assertionMethod``: what it signed stops verifying."""
    return {"keys": keys.compromise(ctx, principal.institution, generation, actor=principal.actor)}


@router.get("/institutions/{slug}/keys/{generation}/credentials")
def credentials_signed_by_key(
    ctx: ServicesDep,
    principal: Admin,
    generation: int,
    before: int | None = Query(default=None, ge=1, le=2**31 - 1),
    limit: int = Query(default=100, ge=1, le=1000),
) -> dict[str, Any]:
    """What key ``generation`` signed, newest first: credential id, module, issue date,
    status and replacement — no learner data (the registrar looks that up per credential
    when needed). ``next`` is the ``before`` cursor of the following page."""
    return reissue.signed_by(ctx, principal.institution, generation, before=before, limit=limit)


@router.post("/institutions/{slug}/keys/{generation}/reissue")
def reissue_credentials(ctx: ServicesDep, principal: Admin, generation: int) -> dict[str, Any]:
    """Replace what a compromised key signed and revoke the originals (409
    ``key_not_compromised`` for any other key). Safe to repeat: a credential is replaced
    once; a repeat finishes what an interrupted run left and reports the rest as done."""
    return reissue.reissue(ctx, principal.institution, generation, actor=principal.actor).to_dict()
