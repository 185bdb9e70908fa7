"""The learning-route rules shared by the wallet (progress) and the verifier (admission)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from credentials.errors import MalformedInput
from credentials.microcredential import (
    Alignment,
    IssuerProfile,
    MicrocredentialView,
    read_microcredential,
)
from credentials.rules import Route, evaluate, load_route
from microcred.samples import FOREIGN, HBO, KWALITEITSKADER, MBO, WO, module, sample_credential

ROUTES = Path(__file__).resolve().parents[2] / "docs" / "examples" / "routes"
NOW = datetime(2026, 3, 1, tzinfo=UTC)

HBO_MODULES = "https://hsrijnland.example/microcredentials/"
WO_MODULES = "https://unidelta.example/modules/"


def earned(
    achievement_id: str,
    name: str,
    *,
    issuer: IssuerProfile = HBO,
    ects: float | None = 7.5,
    hours: int | None = None,
    eqf: int = 6,
    awarded: datetime = datetime(2025, 6, 30, tzinfo=UTC),
    codes: tuple[str, ...] = (),
    credential_id: str | None = None,
    **changes: Any,
) -> MicrocredentialView:
    """A view of a credential as the wallet or verifier holds it (built, then read)."""
    achievement = module(
        id=achievement_id,
        name=name,
        ects=ects,
        hours=hours,
        eqf_level=eqf,
        nlqf_level=None,
        qf_ehea_cycle=None,
        alignments=tuple(
            Alignment(f"keuzedeel {c}", f"https://example.org/{c}", code=c) for c in codes
        ),
        tags=(),
        **changes,
    )
    slug = credential_id or f"urn:example:{achievement_id.rsplit('/', 1)[-1]}"
    credential = sample_credential(
        issuer=issuer, achievement=achievement, credential_id=slug, valid_from=awarded, result=None
    )
    return read_microcredential(credential)


def minor() -> Route:
    return load_route(ROUTES / "minor-data-science.yaml")


def wrangling(**kw: Any) -> MicrocredentialView:
    return earned(HBO_MODULES + "data-wrangling", "Data Wrangling with Python", **kw)


def statistics(**kw: Any) -> MicrocredentialView:
    kw.setdefault("issuer", WO)
    return earned(WO_MODULES + "statistics", "Statistics for Data Science", **kw)


def machine_learning(**kw: Any) -> MicrocredentialView:
    kw.setdefault("issuer", WO)
    return earned(WO_MODULES + "machine-learning", "Machine Learning", **kw)


def visualisation(**kw: Any) -> MicrocredentialView:
    return earned(HBO_MODULES + "data-visualisation", "Data Visualisation", **kw)


def engineering(**kw: Any) -> MicrocredentialView:
    return earned(HBO_MODULES + "big-data-engineering", "Big Data Engineering", **kw)


# --------------------------------------------------------------------------- the minor


def test_cross_institution_30_ects_minor_is_satisfied() -> None:
    held = [wrangling(), statistics(), machine_learning(), visualisation()]
    result = evaluate(minor(), held, now=NOW)
    assert result.satisfied, result.missing
    assert result.ects_total == 30
    assert result.missing == ()
    assert {v.code for v in result.credentials} == {"counted"}
    assert result.explanation("module:data-wrangling").credential_ids == (
        "urn:example:data-wrangling",
    )
    assert result.explanation("module:statistics").credential_ids == ("urn:example:statistics",)
    electives = result.explanation("group:electives")
    assert electives.met
    assert set(electives.credential_ids) == {
        "urn:example:machine-learning",
        "urn:example:data-visualisation",
    }
    assert {v.credential_id: v.fills for v in result.credentials}["urn:example:statistics"] == (
        "module:statistics",
    )


def test_progress_shows_what_is_missing() -> None:
    result = evaluate(minor(), [wrangling(), machine_learning()], now=NOW)
    assert not result.satisfied
    assert result.ects_total == 15
    assert result.explanation("min_ects").message == "15 of 30 ECTS"
    assert not result.explanation("module:statistics").met
    assert "15 more ECTS" in result.missing
    assert "module Statistics for Data Science" in result.missing
    assert any(m.startswith("1 more of Electives") for m in result.missing)
    assert result.explanation("group:electives").message.startswith("Electives: 1 of 2")


def test_nothing_held() -> None:
    result = evaluate(minor(), [], now=NOW)
    assert not result.satisfied
    assert result.ects_total == 0
    assert result.missing[0] == "no credential counts for this route yet"


def test_results_are_json_ready() -> None:
    result = evaluate(minor(), [wrangling(), statistics()], now=NOW)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["route_id"] == "minor-data-science"
    assert data["credentials"][0]["code"] == "counted"


# --------------------------------------------------------------------------- eligibility


def test_eqf_minimum_excludes_lower_levels() -> None:
    low = earned(WO_MODULES + "intro-stats", "Introduction to Statistics", issuer=WO, eqf=5)
    result = evaluate(minor(), [wrangling(), low], now=NOW)
    verdict = result.verdict("urn:example:intro-stats")
    assert verdict is not None and not verdict.counts
    assert verdict.code == "level_too_low"
    assert "EQF 5" in verdict.reasons[0]
    assert result.ects_total == 7.5
    assert not result.explanation("module:statistics").met


def test_unknown_level_does_not_count_when_a_minimum_applies() -> None:
    foreign = MicrocredentialView(
        credential_id="urn:example:nolevel",
        issuer_id=HBO.id,
        title="Statistics without a level",
        ects=5.0,
        valid_from=datetime(2025, 1, 1, tzinfo=UTC),
    )
    verdict = evaluate(minor(), [foreign], now=NOW).verdict("urn:example:nolevel")
    assert verdict is not None and verdict.code == "level_unknown"


def test_per_module_minimum_ects_is_explained() -> None:
    small = statistics(ects=3)
    result = evaluate(minor(), [small], now=NOW)
    explanation = result.explanation("module:statistics")
    assert not explanation.met
    assert "3 ECTS, the module asks at least 5" in explanation.message
    # It is still a valid module at level 6, so its credits count towards the total.
    assert result.verdict("urn:example:statistics").counts
    assert result.ects_total == 3


def test_too_old_credentials_do_not_count() -> None:
    old = statistics(awarded=datetime(2020, 2, 1, tzinfo=UTC))
    recent = machine_learning(awarded=datetime(2021, 3, 2, tzinfo=UTC))
    result = evaluate(minor(), [old, recent], now=NOW)
    assert result.verdict("urn:example:statistics").code == "too_old"
    assert "2020-02-01" in result.verdict("urn:example:statistics").reasons[0]
    assert result.verdict("urn:example:machine-learning").counts
    assert result.ects_total == 7.5


def test_age_boundary_is_calendar_years() -> None:
    route = Route.from_dict(
        {
            "id": "r",
            "name": "R",
            "max_age_years": 5,
            "required_modules": [{"id": "s", "keywords": ["statistics"]}],
        }
    )
    exactly = statistics(awarded=datetime(2021, 3, 1, tzinfo=UTC))
    assert evaluate(route, [exactly], now=NOW).satisfied
    leap = Route.from_dict({**route.to_dict(), "max_age_years": 1})
    on_leap_day = datetime(2024, 2, 29, tzinfo=UTC)
    assert evaluate(
        leap, [statistics(awarded=datetime(2023, 2, 28, tzinfo=UTC))], now=on_leap_day
    ).satisfied


def test_expired_credentials_do_not_count() -> None:
    view = statistics()
    expired = MicrocredentialView(
        **{**view.__dict__, "valid_until": datetime(2026, 1, 1, tzinfo=UTC)}
    )
    verdict = evaluate(minor(), [expired], now=NOW).verdict("urn:example:statistics")
    assert verdict.code == "expired"


def test_institution_outside_the_route_is_not_accepted() -> None:
    elsewhere = earned("https://hochschule-nord.example/statistik", "Statistics", issuer=FOREIGN)
    result = evaluate(minor(), [elsewhere], now=NOW)
    verdict = result.verdict("urn:example:statistik")
    assert verdict.code == "issuer_not_accepted"
    assert "Hochschule Nord" in verdict.reasons[0]
    assert result.ects_total == 0


def test_trusted_means_the_verifiers_trust_registry() -> None:
    route = load_route(ROUTES / "exemption-statistics.yaml")
    stats = statistics(ects=6)
    registry = {WO.id, HBO.id}
    assert evaluate(route, [stats], trusted_issuers=registry, now=NOW).satisfied

    untrusted = evaluate(route, [stats], trusted_issuers={HBO.id}, now=NOW)
    assert not untrusted.satisfied
    verdict = untrusted.verdict("urn:example:statistics")
    assert verdict.code == "untrusted_issuer"
    assert "Universiteit Delta" in verdict.reasons[0]

    no_registry = evaluate(route, [stats], now=NOW)
    assert no_registry.verdict("urn:example:statistics").code == "untrusted_issuer"


def test_every_reason_is_given_not_only_the_first() -> None:
    old_low = earned(
        "https://hochschule-nord.example/stat0",
        "Statistik Grundlagen",
        issuer=FOREIGN,
        eqf=4,
        awarded=datetime(2015, 1, 1, tzinfo=UTC),
    )
    verdict = evaluate(minor(), [old_low], now=NOW).verdict("urn:example:stat0")
    assert verdict.code == "issuer_not_accepted"
    assert len(verdict.reasons) == 3  # institution, age and level


# --------------------------------------------------------------------------- duplicates


def test_the_same_module_counts_once() -> None:
    first = wrangling(awarded=datetime(2024, 1, 15, tzinfo=UTC), credential_id="urn:example:first")
    again = wrangling(credential_id="urn:example:again")
    result = evaluate(minor(), [first, again, statistics()], now=NOW)
    assert result.ects_total == 15
    assert result.verdict("urn:example:again").counts  # the most recent copy is kept
    duplicate = result.verdict("urn:example:first")
    assert duplicate.code == "duplicate"
    assert "urn:example:again" in duplicate.reasons[0]


def test_duplicates_without_achievement_ids_are_matched_by_issuer_and_title() -> None:
    a = MicrocredentialView(
        credential_id="a",
        issuer_id=HBO.id,
        title="Data  Visualisation",
        ects=5.0,
        eqf_level=6,
        valid_from=NOW,
    )
    b = MicrocredentialView(
        credential_id="b",
        issuer_id=HBO.id,
        title="data visualisation",
        ects=5.0,
        eqf_level=6,
        valid_from=NOW,
    )
    c = MicrocredentialView(
        credential_id="c",
        issuer_id=WO.id,
        title="Data Visualisation",
        ects=5.0,
        eqf_level=6,
        valid_from=NOW,
    )
    result = evaluate(minor(), [a, b, c], now=NOW)
    assert [v.code for v in result.credentials] == ["counted", "duplicate", "counted"]
    assert result.ects_total == 10


# --------------------------------------------------------------------------- choices


def test_choose_k_of_a_group() -> None:
    held = [wrangling(), statistics(), machine_learning(), visualisation(), engineering()]
    result = evaluate(minor(), held, now=NOW)
    electives = result.explanation("group:electives")
    assert electives.met
    assert electives.credential_ids == (
        "urn:example:machine-learning",
        "urn:example:data-visualisation",
    )
    assert electives.message.endswith("also recognised: Big Data Engineering")
    extra = result.verdict("urn:example:big-data-engineering")
    assert extra.counts and extra.fills == ()
    assert "beyond what the route asks" in extra.reasons[0]
    assert result.ects_total == 37.5


def test_groups_share_credentials_optimally() -> None:
    """Greedy would give Machine Learning to the first group and leave the second empty."""
    route = Route.from_dict(
        {
            "id": "r",
            "name": "R",
            "module_groups": [
                {
                    "id": "a",
                    "name": "A",
                    "choose": 1,
                    "modules": [
                        {"id": "ml", "keywords": ["machine learning"]},
                        {"id": "viz", "keywords": ["visualisation"]},
                    ],
                },
                {
                    "id": "b",
                    "name": "B",
                    "choose": 1,
                    "modules": [{"id": "ml", "keywords": ["machine learning"]}],
                },
            ],
        }
    )
    result = evaluate(route, [machine_learning(), visualisation()], now=NOW)
    assert result.satisfied, result.explanations
    assert result.explanation("group:a").credential_ids == ("urn:example:data-visualisation",)
    assert result.explanation("group:b").credential_ids == ("urn:example:machine-learning",)


def test_one_credential_cannot_fill_two_requirements() -> None:
    route = Route.from_dict(
        {
            "id": "r",
            "name": "R",
            "required_modules": [
                {"id": "a", "name": "Any statistics", "keywords": ["statistics"]},
                {"id": "b", "name": "Statistics again", "keywords": ["statistics"]},
            ],
        }
    )
    result = evaluate(route, [statistics()], now=NOW)
    assert not result.satisfied
    assert [e.met for e in result.explanations] == [True, False]
    assert "already fills another requirement" in result.explanations[1].message


def test_matching_finds_an_assignment_greedy_would_miss() -> None:
    """The credential that fits both is moved to the slot only it can fill."""
    route = Route.from_dict(
        {
            "id": "r",
            "name": "R",
            "required_modules": [
                {"id": "any", "keywords": ["data"]},
                {"id": "viz", "keywords": ["visualisation"]},
            ],
        }
    )
    result = evaluate(route, [visualisation(), wrangling()], now=NOW)
    assert result.satisfied
    assert result.explanation("module:viz").credential_ids == ("urn:example:data-visualisation",)
    assert result.explanation("module:any").credential_ids == ("urn:example:data-wrangling",)


def test_required_modules_take_precedence_over_group_options() -> None:
    route = Route.from_dict(
        {
            "id": "r",
            "name": "R",
            "module_groups": [
                {
                    "id": "g",
                    "name": "G",
                    "choose": 1,
                    "modules": [{"id": "x", "keywords": ["machine"]}],
                }
            ],
            "required_modules": [{"id": "ml", "keywords": ["machine learning"]}],
        }
    )
    result = evaluate(route, [machine_learning()], now=NOW)
    assert result.explanation("module:ml").met
    assert not result.explanation("group:g").met


# --------------------------------------------------------------------------- mbo keuzedelen


def keuzedeel(code: str, hours: int = 240, **kw: Any) -> MicrocredentialView:
    kw.setdefault("issuer", MBO)
    return earned(
        f"https://rocnoordkust.example/keuzedelen/{code}",
        f"Keuzedeel {code}",
        ects=None,
        hours=hours,
        eqf=4,
        codes=(code,),
        quality_assurance=KWALITEITSKADER,
        participation_form="onsite",
        language="nl",
        **kw,
    )


def test_mbo_keuzedeel_set_counts_hours_and_listed_modules_only() -> None:
    route = load_route(ROUTES / "mbo-keuzedelen-ondernemerschap.json")
    unlisted = keuzedeel("K0999")
    surplus = keuzedeel("K0003")
    held = [keuzedeel("K0001"), keuzedeel("K0002"), keuzedeel("K0004"), unlisted, surplus]
    result = evaluate(route, held, trusted_issuers={MBO.id}, now=NOW)
    assert result.satisfied, result.missing
    assert result.verdict(unlisted.credential_id).code == "not_listed"
    assert result.verdict(surplus.credential_id).counts  # a third listed keuzedeel
    assert result.hours_total == 960


def test_mbo_keuzedeel_set_not_yet_complete() -> None:
    route = load_route(ROUTES / "mbo-keuzedelen-ondernemerschap.json")
    result = evaluate(
        route, [keuzedeel("K0001"), keuzedeel("K0003")], trusted_issuers={MBO.id}, now=NOW
    )
    assert not result.satisfied
    assert result.hours_total == 480
    assert "240 more hours of study" in result.missing
    assert any("Online marketing" in m and "Verkoopvaardigheden" in m for m in result.missing)


# --------------------------------------------------------------------------- definitions


@pytest.mark.parametrize("path", sorted(ROUTES.glob("*")), ids=lambda p: p.name)
def test_example_routes_load_and_round_trip(path: Path) -> None:
    route = load_route(path)
    assert Route.from_dict(route.to_dict()) == route


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"id": "r", "name": "R", "min_etcs": 30}, "unknown keys min_etcs"),
        ({"id": "r", "name": "R", "min_ects": "30"}, "min_ects must be a number"),
        ({"id": "r", "name": "R", "min_eqf_level": 9}, "EQF level from 1 to 8"),
        ({"name": "R"}, "id must be a non-empty string"),
        (
            {"id": "r", "name": "R", "required_modules": [{"id": "m"}]},
            "needs achievement_ids, alignment_codes or keywords",
        ),
        (
            {
                "id": "r",
                "name": "R",
                "module_groups": [
                    {"id": "g", "choose": 2, "modules": [{"id": "m", "keywords": ["x"]}]}
                ],
            },
            "choose must be a whole number from 1 to 1",
        ),
        (
            {
                "id": "r",
                "name": "R",
                "required_modules": [
                    {"id": "m", "keywords": ["x"]},
                    {"id": "m", "keywords": ["y"]},
                ],
            },
            "ids must be unique",
        ),
    ],
    ids=[
        "typo",
        "string-number",
        "eqf-9",
        "no-id",
        "unrecognisable-module",
        "choose-too-many",
        "duplicate-ids",
    ],
)
def test_route_definitions_are_parsed_strictly(data: dict[str, Any], message: str) -> None:
    with pytest.raises(MalformedInput, match=message) as raised:
        Route.from_dict(data)
    assert raised.value.code == "invalid_route"


def test_now_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError):
        evaluate(minor(), [], now=datetime(2026, 1, 1))
