"""The benchmark workload: distinct, complete OB 3.0 microcredentials.

Every credential comes from ``credentials.microcredential.build_credential`` with all
eleven EU elements and the optional ones (NLQF and QF-EHEA levels, language,
prerequisites, stackability, supervision, identity check, a hashed learner identity and a
result), and differs from the others in its id, learner and grade — so nothing can be
cached between iterations by either implementation.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from credentials.microcredential import (
    Alignment,
    IssuerProfile,
    Learner,
    Result,
    build_credential,
)
from microcred.samples import DATA_WRANGLING

# the tests' complete sample module, with the optional elements the tests leave out
MODULE = replace(
    DATA_WRANGLING,
    field_of_study="Data science",
    human_code="DW-PY-01",
    identifiers={"CROHO": "30020"},
    alignments=(
        Alignment(
            name="Manage data",
            url="http://data.europa.eu/esco/skill/2e6c8a3b-3d7c-4a6b-9a2e-3f1b4c5d6e7f",
            type="ext:ESCO",
            framework="ESCO",
        ),
    ),
    version="2025",
)

GRADES = ("6", "6.5", "7", "7.5", "8", "8.5", "9", "9.5", "10")


def issuer_profile(issuer_id: str) -> IssuerProfile:
    return IssuerProfile(
        id=issuer_id,
        name="Hogeschool Rijnland",
        url="https://hsrijnland.example",
        country_code="NL",
        region="Zuid-Holland",
        locality="Leiden",
        identifiers={"BRIN": "99HR"},
        email="registrar@hsrijnland.example",
    )


def microcredentials(count: int, issuer_id: str) -> list[dict[str, Any]]:
    """``count`` distinct unsigned microcredentials issued by ``issuer_id``."""
    issuer = issuer_profile(issuer_id)
    awarded = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)
    out = []
    for i in range(count):
        learner = Learner(
            did=f"did:example:learner-{i:06d}",
            identity=f"student{i}@hsrijnland.example",
            salt=f"{i:016x}",
        )
        result = Result(
            grade=GRADES[i % len(GRADES)],
            value_min="1",
            value_max="10",
            required_value="5.5",
            status="Completed",
            awarded_date=awarded + timedelta(minutes=i),
        )
        out.append(
            build_credential(
                issuer,
                MODULE,
                learner,
                result=result,
                credential_id=f"urn:uuid:{uuid.uuid4()}",
                valid_from=awarded + timedelta(minutes=i),
            )
        )
    return out
