"""Institutions: creation (with their first key and token), lookup, and their OB Profile.

An institution's identity is its did:web under this deployment's public URL; its slug is
part of that DID and of every URL in its credentials, so slugs are checked strictly and
never change.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from credentials import COUNTRY_NAMES, IssuerProfile, MicrocredError
from servicekit.errors import Conflict, NotFound, Unprocessable

from ..models import Institution
from . import audit, keys, tokens, urls
from .context import IssuerContext

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
COUNTRY = re.compile(r"^[A-Z]{2}$")


@dataclass(frozen=True)
class Created:
    institution: Institution
    did: str
    token: str
    token_id: str


def _invalid(field: str, message: str) -> Unprocessable:
    return Unprocessable(
        "validation_error",
        f"{field}: {message}",
        errors=[{"field": field, "message": message}],
    )


def create(
    ctx: IssuerContext,
    *,
    slug: str,
    name: str,
    country_code: str = "NL",
    region: str | None = None,
    url: str | None = None,
    identifiers: dict[str, str] | None = None,
    key_type: str = "ed25519",
    actor: str = "cli",
) -> Created:
    """A new institution with key 1 and an all-scopes token, in one transaction."""
    if not SLUG.match(slug or ""):
        raise _invalid("slug", "lowercase letters, digits and inner hyphens, at most 63")
    if not name or not name.strip() or len(name) > 200:
        raise _invalid("name", "must be 1 to 200 characters")
    country_code = (country_code or "").upper()
    if not COUNTRY.match(country_code):
        raise _invalid("country", "must be an ISO 3166-1 alpha-2 code such as NL")
    if url is not None and not re.match(r"^https?://[^\s/]+\S*$", url):
        raise _invalid("url", "must be an http(s) URL")
    now = ctx.now()
    institution = Institution(
        id=secrets.token_hex(16),
        slug=slug,
        name=name.strip(),
        country_code=country_code,
        region=region or None,
        url=url or urls.institution_base(ctx.settings.public_url, slug),
        identifiers=dict(identifiers or {}),
        key_generation=1,
        created_at=now,
    )
    try:
        key_row = keys.new_key(ctx, institution, 1, key_type)
    except MicrocredError as exc:  # an unknown key type is the caller's mistake
        raise _invalid("key_type", exc.message) from None
    try:
        with ctx.db.session() as session:
            session.add(institution)
            session.flush()
            session.add(key_row)
            audit.record(
                session,
                institution.id,
                actor,
                "institution.create",
                now,
                details={"slug": slug, "key_type": key_row.algorithm},
            )
            token_row, plain = tokens.create(
                session,
                institution,
                name="initial",
                scopes=list(tokens.SCOPES),
                actor=actor,
                now=now,
            )
    except IntegrityError:
        raise Conflict("slug_taken", f"an institution {slug} already exists") from None
    return Created(
        institution=institution,
        did=urls.institution_did(ctx.settings.public_url, slug),
        token=plain,
        token_id=token_row.id,
    )


def by_slug(session: Session, slug: str) -> Institution:
    """The institution called ``slug``.

    Raises ``NotFound`` (``unknown_institution``) when there is none.
    """
    institution = session.exec(select(Institution).where(Institution.slug == slug)).first()
    if institution is None:
        raise NotFound("unknown_institution", f"there is no institution {slug!r}")
    return institution


def profile(ctx: IssuerContext, institution: Institution) -> IssuerProfile:
    """The OB 3.0 Profile (EU elements 3 and 4) credentials name as their issuer."""
    return IssuerProfile(
        id=urls.institution_did(ctx.settings.public_url, institution.slug),
        name=institution.name,
        url=institution.url,
        country_code=institution.country_code,
        country=COUNTRY_NAMES.get(institution.country_code),
        region=institution.region,
        identifiers=institution.identifiers or {},
    )


def public(ctx: IssuerContext, institution: Institution) -> dict[str, Any]:
    """The public facts of an institution (name, DID, country, identifiers)."""
    return {
        "slug": institution.slug,
        "name": institution.name,
        "did": urls.institution_did(ctx.settings.public_url, institution.slug),
        "country": institution.country_code,
        "region": institution.region,
        "url": institution.url,
        "identifiers": institution.identifiers or {},
        "credential_issuer": urls.institution_base(ctx.settings.public_url, institution.slug),
    }
