"""Batch composition fills in a checked template per row shape, exactly as the core builds."""

from __future__ import annotations

import dataclasses
import itertools
import pickle
from datetime import UTC, datetime
from typing import Any

import pytest

from credentials.errors import SchemaError
from credentials.keys import Multikey
from credentials.microcredential import IssuerProfile
from credentials.schema import validate_microcredential
from issuer.services import compose
from tests.issuer.support import module_spec

NOW = datetime(2026, 7, 1, 9, 30, tzinfo=UTC)
PROFILE = IssuerProfile(
    id="did:web:issuer.example:institutions:hsr",
    name="Hogeschool Rijnland",
    url="https://issuer.example/institutions/hsr",
    country_code="NL",
)


def definition() -> tuple[Any, dict[str, Any]]:
    spec = module_spec()
    spec.pop("id")
    return compose.module_definition("https://issuer.example/modules/dw", spec), spec["grading"]


def jobs() -> list[compose.Job]:
    """Two jobs of every row shape."""
    out = []
    shapes = itertools.product(
        [None, "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"],
        [None, "jan@example.nl"],
        [None, "500123"],
        [
            None,
            compose.ResultSpec(),
            compose.ResultSpec("8", datetime(2026, 6, 30, 14, tzinfo=UTC), "Completed"),
        ],
        [None, datetime(2031, 1, 1, tzinfo=UTC)],
    )
    for did, email, student, result, until in shapes:
        if not (did or email or student):
            continue
        for copy in range(2):
            out.append(
                compose.Job(
                    row=len(out),
                    credential_id=f"urn:uuid:00000000-0000-4000-8000-{len(out):012d}",
                    learner=compose.LearnerSpec(
                        email=email and f"{copy}{email}", student_number=student, did=did
                    ),
                    result=result,
                    valid_from=NOW,
                    valid_until=until,
                )
            )
    return out


def test_every_shape_is_trusted_only_after_matching_the_core() -> None:
    module, grading = definition()
    composer = compose.Composer(PROFILE, module, grading)
    for job in jobs():
        validate_microcredential(composer.compose(job))
    assert composer._trusted and all(composer._trusted.values())
    # a third job of a shape is filled in, and still valid
    filled = composer.compose(jobs()[-1])
    validate_microcredential(filled)
    assert filled["id"] == jobs()[-1].credential_id


def test_a_template_that_does_not_match_the_core_is_never_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    module, grading = definition()
    composer = compose.Composer(PROFILE, module, grading)

    def wrong(credential: dict[str, Any], job: compose.Job, salts: Any) -> dict[str, Any]:
        credential["name"] = "something else"
        return credential

    monkeypatch.setattr(compose, "_fill", wrong)
    made = [composer.compose(job) for job in jobs()[:4]]
    assert composer._trusted and not any(composer._trusted.values())
    assert all(c["name"] == "Data Wrangling with Python" for c in made)


def test_sign_jobs_reports_failures_per_job() -> None:
    module, grading = definition()
    key = Multikey.generate("ed25519", controller=PROFILE.id, id=f"{PROFILE.id}#key-1")
    good, *_ = jobs()
    bad = compose.Job(
        row=99,
        credential_id="urn:uuid:00000000-0000-4000-8000-000000000099",
        learner=compose.LearnerSpec(email="a@b.nl"),
        result=None,
        valid_from=NOW,
        status_entries=[{"type": "BitstringStatusListEntry", "favouriteColour": "blue"}],
    )
    outcomes = compose.sign_jobs(
        PROFILE, module, grading, compose.KeyMaterial.of(key), NOW, [good, bad]
    )
    assert outcomes[0].ok and not outcomes[1].ok
    assert outcomes[1].code == "undefined_term" and outcomes[1].row == 99


def test_a_filled_in_credential_is_still_checked_against_the_profile() -> None:
    """Once a shape is trusted its credentials are filled in, not built by the core; a
    learner value the profile refuses must still be refused."""
    module, grading = definition()
    composer = compose.Composer(PROFILE, module, grading)
    did = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    shaped = [job for job in jobs() if job.learner.did == did]
    for job in shaped[:2]:
        composer.compose(job)
    assert all(composer._trusted.values())
    bad = dataclasses.replace(shaped[0], learner=compose.LearnerSpec(did="did:key:has a space"))
    with pytest.raises(SchemaError) as refused:
        composer.compose(bad)
    assert refused.value.field == "credentialSubject.id"


def test_each_process_keeps_one_composer_per_module() -> None:
    """Chunks arrive with their own unpickled copies: equal constants, same composer."""
    module, grading = definition()
    first = compose.composer_for(PROFILE, module, grading)
    copy_of = pickle.loads(pickle.dumps((PROFILE, module, grading)))
    assert compose.composer_for(*copy_of) is first
    other = dataclasses.replace(module, name="Another module")
    assert compose.composer_for(PROFILE, other, grading) is not first
