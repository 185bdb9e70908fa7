"""API tokens: opaque bearer secrets of one institution, with scopes.

A token is 256 random bits (``servicekit.tokens``); the database keeps only its SHA-256,
so a leaked table or backup yields no usable token. Looking a token up by its hash is
also what makes the check constant-time in effect: nothing is compared byte by byte.

Scopes: ``issue`` (issue credentials, create offers, run batches), ``revoke`` (change a
credential's status), ``admin`` (modules, tokens, keys, the audit log).
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlmodel import Session, col, select

from servicekit.errors import NotFound, Unprocessable
from servicekit.tokens import new_token, token_hash

from ..models import ApiToken, Institution
from . import audit
from .clock import iso

SCOPES = ("issue", "revoke", "admin")
TOKEN_PREFIX = "mci"


def parse_scopes(scopes: list[str] | str) -> list[str]:
    """The scopes of a token request, as a list (a space-separated string is accepted).

    Raises ``Unprocessable`` (``validation_error``, field ``scopes``) when the list is
    empty or names a scope that does not exist.
    """
    values = scopes.split() if isinstance(scopes, str) else list(scopes)
    unknown = [s for s in values if s not in SCOPES]
    if unknown or not values:
        raise Unprocessable(
            "validation_error",
            f"scopes: must be a non-empty list of {', '.join(SCOPES)}",
            errors=[{"field": "scopes", "message": f"unknown or missing scopes: {unknown}"}],
        )
    return [s for s in SCOPES if s in values]


def create(
    session: Session,
    institution: Institution,
    *,
    name: str,
    scopes: list[str] | str,
    actor: str,
    now: Any,
) -> tuple[ApiToken, str]:
    """A new token row (added to the session) and the token itself, shown only once."""
    plain = new_token(TOKEN_PREFIX, 32)
    row = ApiToken(
        id="tok_" + secrets.token_hex(8),
        institution_id=institution.id,
        name=name,
        token_hash=token_hash(plain),
        scopes=" ".join(parse_scopes(scopes)),
        created_at=now,
        created_by=actor,
    )
    session.add(row)
    audit.record(
        session,
        institution.id,
        actor,
        "token.create",
        now,
        details={"token": row.id, "name": name, "scopes": row.scopes},
    )
    return row, plain


def authenticate(session: Session, plain: str) -> ApiToken | None:
    """The live token row for a presented token, or None."""
    if not plain or len(plain) > 200:
        return None
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == token_hash(plain))).first()
    if row is None or row.revoked_at is not None:
        return None
    return row


def listing(session: Session, institution: Institution) -> list[dict[str, Any]]:
    """The institution's API tokens, oldest first, without any secret."""
    rows = session.exec(
        select(ApiToken)
        .where(ApiToken.institution_id == institution.id)
        .order_by(col(ApiToken.created_at))
    ).all()
    return [public(row) for row in rows]


def public(row: ApiToken) -> dict[str, Any]:
    """An API token as the API shows it: name, scopes, dates; never the token itself."""
    return {
        "id": row.id,
        "name": row.name,
        "scopes": row.scopes.split(),
        "created_at": iso(row.created_at),
        "created_by": row.created_by,
        "revoked_at": iso(row.revoked_at),
    }


def revoke(
    session: Session, institution: Institution, token_id: str, *, actor: str, now: Any
) -> ApiToken:
    """Revoke the institution's API token ``token_id`` (idempotent) and audit it.

    Raises ``NotFound`` (``unknown_token``) for a token of no or another institution.
    """
    row = session.get(ApiToken, token_id)
    if row is None or row.institution_id != institution.id:
        raise NotFound("unknown_token", f"there is no token {token_id}")
    if row.revoked_at is None:
        row.revoked_at = now
        session.add(row)
        audit.record(session, institution.id, actor, "token.revoke", now, details={"token": row.id})
    return row
