"""The demo's recognition world (issue 17): Hogeschool Rijnland owns the learning route
"Doorstroomroute Data (mbo → hbo)" and awards a route certificate for it.

Seeded through the issuer's own services, idempotently (nothing is created twice on a
restart): the award module in the hbo's catalogue, both demo institutions in its registry
of trusted issuers, and the route itself with the same rule the wallet shows the learner
(so the wallet's progress and the exam board's evaluation agree). The route is decided by
the exam board (no auto-award), so the walk-through shows the console's case page.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

OWNER = "hs-rijnland"
AWARD_MODULE: dict[str, Any] = {
    "id": "doorstroomroute-data",
    "name": "Doorstroomroute Data (mbo → hbo)",
    "description": "Certificaat voor de doorstroomroute Data: programmeren op het ROC en "
    "data science op de hogeschool, samen minstens 13 ECTS.",
    "learning_outcomes": [
        "programmeert, bewerkt en analyseert data op hbo-instapniveau",
        "verantwoordt de herkomst en bewerking van data",
    ],
    "ects": 13,
    "eqf_level": 6,
    "nlqf_level": 6,
    "qf_ehea_cycle": "first",
    "assessment_type": "erkenning door de examencommissie op grond van modules",
    "participation_form": "blended",
    "quality_assurance": {
        "name": "NVAO-accreditatie (instellingstoets)",
        "url": "https://www.nvao.net/",
    },
    "language": "nl",
}


def seed_recognition(settings: Any, institutions: dict[str, Any], rule: dict[str, Any]) -> str:
    """Seed the route and its award at ``OWNER``; returns the route's public URL.

    ``institutions`` maps slugs to the demo's seeded institutions (``did``, ``name``)."""
    from issuer.schemas import ModuleIn, validate
    from issuer.services import institutions as institution_service
    from issuer.services import modules
    from issuer.services.context import IssuerContext
    from issuer.services.recognition import catalogue
    from servicekit.errors import Conflict, NotFound

    ctx = IssuerContext(settings)
    try:
        with ctx.db.session() as session:
            owner = institution_service.by_slug(session, OWNER)
        try:
            modules.get(ctx, owner, AWARD_MODULE["id"])
        except NotFound:
            modules.create(ctx, owner, validate(ModuleIn, AWARD_MODULE), actor="demo")
        for seeded in institutions.values():
            with suppress(Conflict):  # already trusted on an earlier start
                catalogue.add_issuer(ctx, owner, seeded.did, seeded.name, actor="demo")
        try:
            return str(catalogue.get(ctx, owner, rule["id"])["id"])
        except NotFound:
            spec = catalogue.parse_spec(
                {"kind": "route", "rule": rule, "award_module": AWARD_MODULE["id"]}
            )
            return str(catalogue.publish(ctx, owner, spec, actor="demo")["id"])
    finally:
        ctx.close()
