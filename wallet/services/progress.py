"""Learning routes in the wallet: adopt a route, see how far along it you are.

Route definitions come from the catalogue the operator publishes (``microcred wallet
add-route FILE``) or from the learner (a route file from their programme). Progress is the
shared rules engine (``credentials.rules.evaluate``, the same code the verifier uses for
admission), fed with the learner's credentials that a verifier would accept: verified on
arrival and not revoked, suspended or with an invalid status. Credentials left out for
that reason are listed with the reason, so the learner sees why a module does not count.
The wallet's known issuers stand in for the ``"trusted"`` entry of a route.
"""

from __future__ import annotations

import builtins
import uuid
from dataclasses import replace
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from credentials import MicrocredError, Route, evaluate, read_credential
from servicekit.db import Database
from servicekit.errors import Conflict, Invalid, NotFound

from ..models import Learner, LearnerRoute, PublishedRoute
from .checking import KnownIssuers
from .clock import Clock, iso
from .store import CredentialStore

_EXCLUDED = {
    "revoked": "revoked by the issuer",
    "suspended": "suspended by the issuer",
    "invalid": "its status list could not be trusted",
}


def parse_route(definition: Any) -> Route:
    """A route definition (``credentials.rules``) from untrusted JSON.

    Raises ``Invalid`` (``invalid_route`` or the core's code) when it is not one.
    """
    if not isinstance(definition, dict):
        raise Invalid("invalid_route", "a route definition must be a JSON object")
    try:
        return Route.from_dict(definition)
    except MicrocredError as exc:
        raise Invalid(exc.code, exc.message) from None


class RouteService:
    def __init__(
        self, db: Database, store: CredentialStore, known: KnownIssuers, *, clock: Clock
    ) -> None:
        self.db = db
        self.store = store
        self.known = known
        self.clock = clock

    # -- the catalogue -----------------------------------------------------------------

    def published(self) -> list[dict[str, Any]]:
        """The catalogue of published route definitions, by route id."""
        with self.db.session() as session:
            rows = session.exec(select(PublishedRoute).order_by(col(PublishedRoute.route_id)))
            return [{**row.definition, "publishedAt": iso(row.published_at)} for row in rows]

    def publish(self, definition: Any) -> Route:
        """Add or replace a route in the catalogue (operator command)."""
        route = parse_route(definition)
        with self.db.session() as session:
            row = session.get(PublishedRoute, route.id)
            if row is None:
                row = PublishedRoute(route_id=route.id, definition={}, published_at=self.clock())
            row.definition = route.to_dict()
            row.published_at = self.clock()
            session.add(row)
        return route

    def unpublish(self, route_id: str) -> bool:
        """Take a route out of the catalogue; False when it was not there."""
        with self.db.session() as session:
            row = session.get(PublishedRoute, route_id)
            if row is None:
                return False
            session.delete(row)
            return True

    # -- the learner's routes ----------------------------------------------------------

    def add(
        self, learner: Learner, *, definition: Any = None, published_id: str | None = None
    ) -> dict[str, Any]:
        """Follow a route: the learner's own ``definition`` or a ``published_id`` from the
        catalogue (exactly one); the progress over the learner's credentials.

        Raises ``Invalid`` (``invalid_route``), ``NotFound`` (``published_route_not_found``)
        and ``Conflict`` (``route_already_added``).
        """
        if (definition is None) == (published_id is None):
            raise Invalid("invalid_route", "give either route (a definition) or published")
        if published_id is not None:
            with self.db.session() as session:
                row = session.get(PublishedRoute, published_id)
            if row is None:
                raise NotFound("published_route_not_found", "no such published route")
            route, source = parse_route(row.definition), "published"
        else:
            route, source = parse_route(definition), "own"
        return self.adopt(learner, route, source)

    def adopt(self, learner: Learner, route: Route, source: str) -> dict[str, Any]:
        """Store ``route`` for the learner; its progress.

        Raises ``Conflict`` (``route_already_added``) when the learner follows it already.
        """
        row = LearnerRoute(
            id=str(uuid.uuid4()),
            learner_id=learner.id,
            route_id=route.id,
            definition=route.to_dict(),
            source=source,
            added_at=self.clock(),
        )
        try:
            with self.db.session() as session:
                session.add(row)
        except IntegrityError:
            raise Conflict(
                "route_already_added", f"you already follow the route {route.id}"
            ) from None
        return self.progress(learner, row.id)

    def list(self, learner: Learner) -> list[dict[str, Any]]:
        """The routes the learner follows, each with its progress summary."""
        with self.db.session() as session:
            rows = session.exec(
                select(LearnerRoute)
                .where(LearnerRoute.learner_id == learner.id)
                .order_by(col(LearnerRoute.added_at), col(LearnerRoute.id))
            ).all()
        out = []
        for row in rows:
            full = self._evaluate(learner, row)
            out.append(
                {
                    k: full[k]
                    for k in (
                        "id",
                        "routeId",
                        "name",
                        "source",
                        "addedAt",
                        "satisfied",
                        "ectsTotal",
                        "hoursTotal",
                        "missing",
                    )
                }
            )
        return out

    def progress(self, learner: Learner, route_row_id: str) -> dict[str, Any]:
        """One followed route evaluated over the learner's verified credentials.

        Raises ``NotFound`` (``route_not_found``) for one of no or another learner.
        """
        return self._evaluate(learner, self._own(learner.id, route_row_id))

    def remove(self, learner: Learner, route_row_id: str) -> None:
        """Stop following a route. Raises ``NotFound`` (``route_not_found``)."""
        row = self._own(learner.id, route_row_id)
        with self.db.session() as session:
            found = session.get(LearnerRoute, row.id)
            if found is not None:
                session.delete(found)

    def rows(self, learner_id: str) -> builtins.list[LearnerRoute]:
        """The learner's followed-route rows (for export)."""
        with self.db.session() as session:
            return list(
                session.exec(select(LearnerRoute).where(LearnerRoute.learner_id == learner_id))
            )

    # -- helpers -----------------------------------------------------------------------

    def _own(self, learner_id: str, route_row_id: str) -> LearnerRoute:
        with self.db.session() as session:
            row = session.get(LearnerRoute, route_row_id) if len(route_row_id) <= 36 else None
        if row is None or row.learner_id != learner_id:
            raise NotFound("route_not_found", "no such route")
        return row

    def _evaluate(self, learner: Learner, row: LearnerRoute) -> dict[str, Any]:
        route = Route.from_dict(row.definition)
        views, excluded = [], []
        for credential in self.store.current_rows(learner.id):  # status re-checked when stale
            view = replace(read_credential(credential.document), credential_id=credential.id)
            if not credential.verified:
                excluded.append(
                    _excluded(
                        credential.id,
                        view.title,
                        "unverified",
                        "kept although it did not pass verification",
                    )
                )
            elif credential.status in _EXCLUDED:
                excluded.append(
                    _excluded(
                        credential.id, view.title, credential.status, _EXCLUDED[credential.status]
                    )
                )
            else:
                views.append(view)
        result = evaluate(route, views, trusted_issuers=set(self.known.names), now=self.clock())
        data = result.to_dict()
        return {
            "id": row.id,
            "routeId": route.id,
            "name": route.name,
            "description": route.description or None,
            "source": row.source,
            "addedAt": iso(row.added_at),
            "satisfied": result.satisfied,
            "ectsTotal": result.ects_total,
            "ectsRequired": route.min_ects,
            "hoursTotal": result.hours_total,
            "hoursRequired": route.min_hours,
            "requirements": data["explanations"],
            "credentials": data["credentials"] + excluded,
            "missing": data["missing"],
            "route": route.to_dict(),
        }


def _excluded(credential_id: str, title: str | None, code: str, reason: str) -> dict[str, Any]:
    return {
        "credential_id": credential_id,
        "title": title,
        "counts": False,
        "code": code,
        "reasons": [reason],
        "ects": 0.0,
        "hours": 0.0,
        "fills": [],
    }
