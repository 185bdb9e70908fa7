"""The module catalogue: an institution's achievements with every EU element.

A module is stored as its validated API model and turned into the core's
``ModuleDefinition`` when a credential is built. Saving a module also *builds a trial
credential* from it (with a stand-in learner) and runs it through the profile schema: a
definition the profile would reject is refused at the catalogue (422, field named), not
discovered later, one learner at a time.

Modules are archived, never deleted: issued credentials name them by their achievement id
(``…/institutions/<slug>/modules/<module>``), which must keep meaning the same thing.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from credentials import SchemaError
from servicekit.errors import Conflict, NotFound, Unprocessable

from ..models import Institution
from ..models import Module as ModuleRow
from ..schemas import ModuleIn
from . import audit, compose, institutions, urls
from .clock import iso
from .context import IssuerContext

_TRIAL_LEARNER = compose.LearnerSpec(email="trial@example.org")


def _slugify(name: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:50].strip("-") or "module"
    return f"{base}-{secrets.token_hex(3)}"


def _definition(spec: ModuleIn) -> dict[str, Any]:
    return spec.model_dump(mode="json", exclude={"id"}, exclude_none=True)


def _trial(
    ctx: IssuerContext, institution: Institution, slug: str, definition: dict[str, Any]
) -> None:
    """Build (not sign) a credential from the definition; the profile has the last word."""
    job = compose.Job(
        row=0,
        credential_id="urn:uuid:00000000-0000-4000-8000-000000000000",
        learner=_TRIAL_LEARNER,
        result=compose.ResultSpec(grade=(definition.get("grading") or {}).get("value_max")),
        valid_from=datetime.now(UTC).replace(microsecond=0),
    )
    module = compose.module_definition(
        urls.module_url(ctx.settings.public_url, institution.slug, slug), definition
    )
    try:
        compose.compose(
            institutions.profile(ctx, institution), module, definition.get("grading"), job
        )
    except SchemaError as exc:
        field = exc.field or "module"
        raise Unprocessable(
            "validation_error",
            exc.message,
            errors=[{"field": field, "message": exc.message}],
        ) from None


def create(
    ctx: IssuerContext, institution: Institution, spec: ModuleIn, *, actor: str
) -> dict[str, Any]:
    """Add the module ``spec`` (its id, or a slug of its name) and audit it; its public form.

    Raises ``Unprocessable`` (``validation_error``, with ``errors``) when the definition
    does not make a valid micro-credential and ``Conflict`` (``module_exists``) when the
    id is taken; nothing is stored then.
    """
    slug = spec.id or _slugify(spec.name)
    definition = _definition(spec)
    _trial(ctx, institution, slug, definition)
    now = ctx.now()
    row = ModuleRow(
        institution_id=institution.id,
        slug=slug,
        definition=definition,
        created_at=now,
        updated_at=now,
    )
    try:
        with ctx.db.session() as session:
            session.add(row)
            session.flush()
            audit.record(
                session, institution.id, actor, "module.create", now, details={"module": slug}
            )
    except IntegrityError:
        raise Conflict("module_exists", f"a module {slug!r} already exists") from None
    return public(ctx, institution, row)


def replace(
    ctx: IssuerContext, institution: Institution, slug: str, spec: ModuleIn, *, actor: str
) -> dict[str, Any]:
    """Replace the definition of module ``slug`` (version + 1) and audit it; its public form.

    Raises ``Unprocessable`` (``validation_error``) for an invalid definition or a changed
    id, ``NotFound`` (``unknown_module``) and ``Conflict`` (``module_archived``).
    """
    if spec.id is not None and spec.id != slug:
        raise Unprocessable(
            "validation_error",
            "id: a module's id cannot change",
            errors=[{"field": "id", "message": "a module's id cannot change"}],
        )
    definition = _definition(spec)
    _trial(ctx, institution, slug, definition)
    with ctx.db.session() as session:
        row = _row(session, institution, slug)
        if row.archived_at is not None:
            raise Conflict("module_archived", f"module {slug!r} is archived")
        if row.definition.get("image"):  # an update keeps the badge image (issue 16)
            definition = {**definition, "image": row.definition["image"]}
        row.definition = definition
        row.version += 1
        row.updated_at = ctx.now()
        session.add(row)
        audit.record(
            session,
            institution.id,
            actor,
            "module.update",
            row.updated_at,
            details={"module": slug, "version": row.version},
        )
        session.flush()
        return public(ctx, institution, row)


def archive(
    ctx: IssuerContext, institution: Institution, slug: str, *, actor: str
) -> dict[str, Any]:
    """Archive module ``slug`` (idempotent, audited): it stays readable, nothing is issued
    from it any more; its public form. Raises ``NotFound`` (``unknown_module``).
    """
    with ctx.db.session() as session:
        row = _row(session, institution, slug)
        if row.archived_at is None:
            row.archived_at = ctx.now()
            session.add(row)
            audit.record(
                session,
                institution.id,
                actor,
                "module.archive",
                row.archived_at,
                details={"module": slug},
            )
        session.flush()
        return public(ctx, institution, row)


def get(ctx: IssuerContext, institution: Institution, slug: str) -> dict[str, Any]:
    """The public form of module ``slug``. Raises ``NotFound`` (``unknown_module``)."""
    with ctx.db.session() as session:
        return public(ctx, institution, _row(session, institution, slug))


def listing(
    ctx: IssuerContext, institution: Institution, *, include_archived: bool = False
) -> list[dict[str, Any]]:
    """The institution's modules in public form, archived ones only when asked for."""
    with ctx.db.session() as session:
        statement = select(ModuleRow).where(ModuleRow.institution_id == institution.id)
        if not include_archived:
            statement = statement.where(col(ModuleRow.archived_at).is_(None))
        rows = session.exec(statement.order_by(ModuleRow.slug)).all()
        return [public(ctx, institution, row) for row in rows]


def achievement(ctx: IssuerContext, institution: Institution, slug: str) -> dict[str, Any]:
    """The public view of an achievement id: what the module is, as credentials say it."""
    with ctx.db.session() as session:
        row = _row(session, institution, slug)
    definition = compose.module_definition(
        urls.module_url(ctx.settings.public_url, institution.slug, slug), row.definition
    )
    return {
        "achievement": definition.achievement(),
        "issuer": institutions.profile(ctx, institution).profile(),
        "version": row.version,
        "archived": row.archived_at is not None,
    }


def _row(session: Any, institution: Institution, slug: str) -> ModuleRow:
    row = session.exec(
        select(ModuleRow).where(ModuleRow.institution_id == institution.id, ModuleRow.slug == slug)
    ).first()
    if row is None:
        raise NotFound("unknown_module", f"there is no module {slug!r}")
    return row


def public(ctx: IssuerContext, institution: Institution, row: ModuleRow) -> dict[str, Any]:
    """A module row as the API shows it: its definition plus id, version and dates."""
    return {
        "id": row.slug,
        "achievement_id": urls.module_url(ctx.settings.public_url, institution.slug, row.slug),
        **row.definition,
        "version": row.version,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "archived": row.archived_at is not None,
    }
