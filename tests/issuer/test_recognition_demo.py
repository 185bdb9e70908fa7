"""The demo seeds a route with an award (issue 17), once, however often it starts."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from issuer.models import AuditEvent
from issuer.services import institutions
from issuer.services.context import IssuerContext
from issuer.services.recognition import catalogue
from microcred.demo import ROUTE_ID, SERVICES, DemoConfig, prepare, route_definition
from microcred.demo_recognition import OWNER


def test_the_demo_seeds_the_route_and_its_award_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MICROCRED_KEK", raising=False)
    config = DemoConfig(data_dir=tmp_path, ports={s: 28001 + i for i, s in enumerate(SERVICES)})
    state = prepare(config)
    prepare(config)  # a restart creates nothing twice
    ctx = IssuerContext(config.settings("issuer"))
    try:
        with ctx.db.session() as session:
            owner = institutions.by_slug(session, OWNER)
            published = session.exec(
                select(AuditEvent).where(AuditEvent.action == "recognition.route_publish")
            ).all()
        (route,) = catalogue.listing(ctx, owner)
        assert route["slug"] == ROUTE_ID and route["award"]["module"] == "doorstroomroute-data"
        assert (
            route["rule"]["required_modules"] == route_definition(config, state)["required_modules"]
        )  # the rule the wallet shows the learner
        assert route["award"]["auto_award"] is False  # the walk-through meets the exam board
        trusted = {i["did"] for i in catalogue.accepted_issuers(ctx, owner)}
        assert trusted == {i.did for i in state.institutions.values()}
        assert len(published) == 1
    finally:
        ctx.close()
