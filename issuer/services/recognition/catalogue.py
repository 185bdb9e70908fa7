"""The routes and exemption rules an institution publishes, and the issuers it accepts.

A route's rule is the core's route format (``credentials.rules``) as is, so the wallet's
progress, the verifier's admissions and the exam board evaluate the same thing. Beside it
the issuer keeps what is its own business: the catalogue module whose achievement the
award carries (EU elements, ECTS, level, as for any module credential) and whether a rule
met with trusted issuers only is awarded without a person.

"Trusted" in a rule means the institution's own registry of accepted issuers (DIDs), kept
here: the exam board decides whom it recognises, not the deployment's verifier.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from credentials import MalformedInput, Route
from servicekit.errors import Conflict, Invalid, NotFound

from ...models import AcceptedIssuer, Institution, RecognitionRoute
from ...models import Module as ModuleRow
from .. import audit, modules, urls
from ..clock import iso
from ..context import IssuerContext

KINDS = ("route", "exemption")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_DID = re.compile(r"^did:[a-z0-9]+:\S{1,480}$")


@dataclass(frozen=True)
class RouteSpec:
    """A route as the console form or the API gives it (checked by :func:`parse_spec`)."""

    slug: str
    kind: str
    rule: dict[str, Any]
    award_module: str
    auto_award: bool = False


def parse_spec(data: Any) -> RouteSpec:
    """A route definition from untrusted input; ``Invalid`` naming the field at fault."""
    if not isinstance(data, dict):
        raise Invalid("invalid_route", "a route is a JSON object")
    unknown = sorted(set(data) - {"slug", "kind", "rule", "award_module", "auto_award"})
    if unknown:
        raise Invalid("invalid_route", f"unknown fields: {', '.join(unknown)}", field=unknown[0])
    rule = data.get("rule")
    try:
        route = Route.from_dict(rule) if isinstance(rule, dict) else None
    except MalformedInput as exc:
        raise Invalid(exc.code, exc.message, field="rule") from None
    if route is None:
        raise Invalid("invalid_route", "rule must be a route definition", field="rule")
    slug = data.get("slug", route.id)
    if not isinstance(slug, str) or not _SLUG.match(slug):
        raise Invalid("invalid_slug", "slug: lower-case letters, digits and -", field="slug")
    kind = data.get("kind", "route")
    if kind not in KINDS:
        raise Invalid("invalid_kind", "kind must be route or exemption", field="kind")
    award = data.get("award_module")
    if not isinstance(award, str) or not award:
        raise Invalid(
            "invalid_award", "award_module names a catalogue module", field="award_module"
        )
    auto = data.get("auto_award", False)
    if not isinstance(auto, bool):
        raise Invalid("invalid_auto_award", "auto_award is true or false", field="auto_award")
    return RouteSpec(slug, kind, route.to_dict(), award, auto)


# --------------------------------------------------------------------------- routes


def _module(session: Session, institution: Institution, slug: str) -> ModuleRow:
    row = session.exec(
        select(ModuleRow).where(ModuleRow.institution_id == institution.id, ModuleRow.slug == slug)
    ).first()
    if row is None or row.archived_at is not None:
        raise Invalid(
            "unknown_module", f"there is no current module {slug!r}", field="award_module"
        )
    return row


def route_row(session: Session, institution: Institution, slug: str) -> RecognitionRoute:
    row = session.exec(
        select(RecognitionRoute).where(
            RecognitionRoute.institution_id == institution.id, RecognitionRoute.slug == slug
        )
    ).first()
    if row is None or row.archived_at is not None:
        raise NotFound("unknown_route", f"there is no route {slug!r}")
    return row


def publish(
    ctx: IssuerContext, institution: Institution, spec: RouteSpec, *, actor: str
) -> dict[str, Any]:
    """Create the route, or replace the published one with the same slug."""
    now = ctx.now()
    with ctx.db.session() as session:
        award = _module(session, institution, spec.award_module)
        assert award.id is not None  # a stored row has its primary key
        row = session.exec(
            select(RecognitionRoute).where(
                RecognitionRoute.institution_id == institution.id,
                RecognitionRoute.slug == spec.slug,
            )
        ).first()
        if row is None:
            row = RecognitionRoute(
                institution_id=institution.id,
                slug=spec.slug,
                kind=spec.kind,
                rule=spec.rule,
                award_module_id=award.id,
                auto_award=spec.auto_award,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
        else:
            row.kind, row.rule, row.auto_award = spec.kind, spec.rule, spec.auto_award
            row.award_module_id = award.id
            row.updated_at, row.archived_at = now, None
        audit.record(
            session,
            institution.id,
            actor,
            "recognition.route_publish",
            now,
            details={"route": spec.slug, "kind": spec.kind, "auto_award": spec.auto_award},
        )
        session.flush()
        return public(ctx, institution, row, award)


def archive(ctx: IssuerContext, institution: Institution, slug: str, *, actor: str) -> None:
    """Withdraw a route: no new requests; cases already open are decided as before."""
    now = ctx.now()
    with ctx.db.session() as session:
        row = route_row(session, institution, slug)
        row.archived_at = now
        audit.record(
            session,
            institution.id,
            actor,
            "recognition.route_archive",
            now,
            details={"route": slug},
        )


def route_url(ctx: IssuerContext, institution: Institution, slug: str) -> str:
    return f"{urls.institution_base(ctx.settings.public_url, institution.slug)}/routes/{slug}"


def public(
    ctx: IssuerContext, institution: Institution, row: RecognitionRoute, award: ModuleRow
) -> dict[str, Any]:
    """The route as wallets read it (the contract with the wallet stream, issue 17)."""
    url = route_url(ctx, institution, row.slug)
    achievement = modules.achievement(ctx, institution, award.slug)["achievement"]
    return {
        "id": url,
        "slug": row.slug,
        "institution": {
            "name": institution.name,
            "id": urls.institution_did(ctx.settings.public_url, institution.slug),
            "did": urls.institution_did(ctx.settings.public_url, institution.slug),
            "url": institution.url,
        },
        "name": row.rule.get("name"),
        "description": row.rule.get("description") or None,
        "kind": row.kind,
        "rule": row.rule,
        "award": {
            "module": award.slug,
            "achievement": achievement,
            "auto_award": row.auto_award,
        },
        "recognition_endpoint": f"{url}/recognition",
        "updated": iso(row.updated_at),
    }


def get(ctx: IssuerContext, institution: Institution, slug: str) -> dict[str, Any]:
    with ctx.db.session() as session:
        row = route_row(session, institution, slug)
        award = session.get(ModuleRow, row.award_module_id)
        assert award is not None
        return public(ctx, institution, row, award)


def listing(ctx: IssuerContext, institution: Institution) -> list[dict[str, Any]]:
    with ctx.db.session() as session:
        rows = session.exec(
            select(RecognitionRoute)
            .where(
                RecognitionRoute.institution_id == institution.id,
                col(RecognitionRoute.archived_at).is_(None),
            )
            .order_by(RecognitionRoute.slug)
        ).all()
        out = []
        for row in rows:
            award = session.get(ModuleRow, row.award_module_id)
            assert award is not None
            out.append(public(ctx, institution, row, award))
        return out


# --------------------------------------------------------------------------- accepted issuers


def accepted_issuers(ctx: IssuerContext, institution: Institution) -> list[dict[str, Any]]:
    with ctx.db.session() as session:
        rows = session.exec(
            select(AcceptedIssuer)
            .where(AcceptedIssuer.institution_id == institution.id)
            .order_by(AcceptedIssuer.name)
        ).all()
    return [{"did": r.did, "name": r.name, "added_at": iso(r.added_at)} for r in rows]


def trusted_dids(session: Session, institution: Institution) -> set[str]:
    """The registry as the rules engine takes it ("trusted" in a route)."""
    rows = session.exec(
        select(AcceptedIssuer.did).where(AcceptedIssuer.institution_id == institution.id)
    ).all()
    return set(rows)


def issuer_names(session: Session, institution: Institution) -> dict[str, str]:
    rows = session.exec(
        select(AcceptedIssuer.did, AcceptedIssuer.name).where(
            AcceptedIssuer.institution_id == institution.id
        )
    ).all()
    return dict(rows)


def add_issuer(
    ctx: IssuerContext, institution: Institution, did: Any, name: Any, *, actor: str
) -> dict[str, Any]:
    if not isinstance(did, str) or not _DID.match(did.strip()):
        raise Invalid("invalid_did", "did must be a DID such as did:web:example.nl", field="did")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise Invalid("invalid_name", "name must be 1 to 200 characters", field="name")
    did, name = did.strip(), name.strip()
    now = ctx.now()
    try:
        with ctx.db.session() as session:
            session.add(
                AcceptedIssuer(
                    institution_id=institution.id, did=did, name=name, added_at=now, added_by=actor
                )
            )
            audit.record(
                session,
                institution.id,
                actor,
                "recognition.issuer_add",
                now,
                details={"did": did, "name": name},
            )
    except IntegrityError:
        raise Conflict("issuer_already_accepted", f"{did} is already accepted") from None
    return {"did": did, "name": name, "added_at": iso(now)}


def remove_issuer(ctx: IssuerContext, institution: Institution, did: str, *, actor: str) -> None:
    now = ctx.now()
    with ctx.db.session() as session:
        row = session.exec(
            select(AcceptedIssuer).where(
                AcceptedIssuer.institution_id == institution.id, AcceptedIssuer.did == did
            )
        ).first()
        if row is None:
            raise NotFound("unknown_issuer", f"{did} is not an accepted issuer")
        session.delete(row)
        audit.record(
            session, institution.id, actor, "recognition.issuer_remove", now, details={"did": did}
        )
