"""The module catalogue: CRUD with every EU element, and field-by-field 422s."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.issuer.support import Institution, module_spec, problem, snapshot


def test_a_module_is_created_with_every_eu_element(
    client: TestClient, inst: Institution, port: int
) -> None:
    response = client.post(inst.path("/modules"), json=module_spec(), headers=inst.headers)
    assert response.status_code == 201, response.text
    module = response.json()
    assert module["id"] == "data-wrangling"
    assert module["achievement_id"] == (
        f"http://127.0.0.1:{port}/institutions/hsr/modules/data-wrangling"
    )
    assert module["version"] == 1 and module["archived"] is False
    for name, value in module_spec().items():
        if name != "id":
            assert module[name] == value, name


def test_the_achievement_id_is_public_and_says_what_credentials_say(
    client: TestClient, inst: Institution, module: dict[str, Any]
) -> None:
    response = client.get(inst.path("/modules/data-wrangling"))
    assert response.status_code == 200
    achievement = response.json()["achievement"]
    assert achievement["id"] == module["achievement_id"]
    assert achievement["achievementType"] == "MicroCredential"
    assert achievement["creditsAvailable"] == 7.5
    codes = {a.get("targetType"): a.get("targetCode") for a in achievement["alignment"]}
    assert codes["ext:ECTS"] == "7.5" and codes["ext:NotionalWorkload"] == "210"
    assert {"ext:EQF", "ext:NLQF", "ext:QF-EHEA", "ext:QualityAssurance"} <= set(codes)
    assert "ects" not in achievement and "workloadHours" not in achievement
    assert response.json()["issuer"]["name"] == "Hogeschool Rijnland"


def test_modules_are_listed_replaced_and_archived(
    client: TestClient, inst: Institution, module: dict[str, Any]
) -> None:
    second = module_spec(id="sql-basics", name="SQL basics", ects=None, hours=28, eqf_level=4)
    assert client.post(inst.path("/modules"), json=second, headers=inst.headers).status_code == 201
    listed = client.get(inst.path("/modules"), headers=inst.headers).json()["modules"]
    assert [m["id"] for m in listed] == ["data-wrangling", "sql-basics"]
    assert "ects" not in listed[1]

    changed = client.put(
        inst.path("/modules/sql-basics"),
        json=module_spec(id="sql-basics", name="SQL basics (2026)", hours=30, eqf_level=4),
        headers=inst.headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 2 and changed.json()["name"] == "SQL basics (2026)"
    problem(
        client.put(
            inst.path("/modules/sql-basics"), json=module_spec(id="other"), headers=inst.headers
        ),
        422,
        "validation_error",
    )

    archived = client.delete(inst.path("/modules/sql-basics"), headers=inst.headers)
    assert archived.json()["archived"] is True
    listed = client.get(inst.path("/modules"), headers=inst.headers).json()["modules"]
    assert [m["id"] for m in listed] == ["data-wrangling"]
    everything = client.get(inst.path("/modules?archived=true"), headers=inst.headers).json()
    assert len(everything["modules"]) == 2
    issue = {"module_id": "sql-basics", "learner": {"email": "jan@example.nl"}}
    problem(
        client.post(inst.path("/issuances"), json=issue, headers=inst.headers),
        409,
        "module_archived",
    )
    problem(
        client.put(inst.path("/modules/sql-basics"), json=second, headers=inst.headers),
        409,
        "module_archived",
    )


def test_a_module_id_is_generated_when_absent(client: TestClient, inst: Institution) -> None:
    spec = module_spec()
    del spec["id"]
    response = client.post(inst.path("/modules"), json=spec, headers=inst.headers)
    assert response.status_code == 201
    assert response.json()["id"].startswith("data-wrangling-with-python-")


def test_module_ids_are_unique_per_institution(
    client: TestClient, app: Any, inst: Institution, other: Institution, module: dict[str, Any]
) -> None:
    before = snapshot(app)
    problem(
        client.post(inst.path("/modules"), json=module_spec(), headers=inst.headers),
        409,
        "module_exists",
    )
    assert snapshot(app) == before
    # another institution may use the same id
    assert (
        client.post(other.path("/modules"), json=module_spec(), headers=other.headers).status_code
        == 201
    )


def without(name: str) -> dict[str, Any]:
    spec = module_spec()
    del spec[name]
    return spec


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (without("name"), "name"),
        (without("description"), "description"),
        (without("eqf_level"), "eqf_level"),
        (without("assessment_type"), "assessment_type"),
        (without("participation_form"), "participation_form"),
        (without("quality_assurance"), "quality_assurance"),
        (module_spec(ects=None, hours=None), "ects"),
        (module_spec(learning_outcomes=[], criteria=None), "learning_outcomes"),
        (module_spec(eqf_level=9), "eqf_level"),
        (module_spec(nlqf_level=0), "nlqf_level"),
        (module_spec(ects=-1), "ects"),
        (module_spec(hours=0), "hours"),
        (module_spec(participation_form="by carrier pigeon"), "participation_form"),
        (module_spec(supervision="sometimes"), "supervision"),
        (module_spec(qf_ehea_cycle="fourth"), "qf_ehea_cycle"),
        (module_spec(language="Dutch"), "language"),
        (module_spec(quality_assurance={"name": "NVAO"}), "quality_assurance.url"),
        (module_spec(quality_assurance={"name": "", "url": "https://x"}), "quality_assurance.name"),
        (module_spec(stackable_into=["not a uri"]), "stackable_into[0]"),
        (module_spec(learning_outcomes=["ok", ""]), "learning_outcomes[1]"),
        (module_spec(stackability="standalone"), "stackability"),
        (module_spec(grading={"value_min": "10", "value_max": "1"}), "grading.value_max"),
        (module_spec(id="Not A Slug"), "id"),
        (module_spec(colour="blue"), "colour"),
        (module_spec(alignments=[{"name": "ESCO skill"}]), "alignments[0].url"),
    ],
)
def test_invalid_modules_are_refused_field_by_field(
    client: TestClient, app: Any, inst: Institution, spec: dict[str, Any], field: str
) -> None:
    before = snapshot(app)
    answer = problem(
        client.post(inst.path("/modules"), json=spec, headers=inst.headers), 422, "validation_error"
    )
    assert field in [error["field"] for error in answer["errors"]], answer
    assert answer["detail"].startswith(answer["errors"][0]["field"])
    assert snapshot(app) == before


def test_every_problem_of_a_module_is_listed(client: TestClient, inst: Institution) -> None:
    spec = module_spec(eqf_level=0, participation_form="x", ects=-2)
    answer = client.post(inst.path("/modules"), json=spec, headers=inst.headers).json()
    assert {e["field"] for e in answer["errors"]} == {"eqf_level", "participation_form", "ects"}


def test_unknown_modules_are_404(client: TestClient, inst: Institution) -> None:
    problem(client.get(inst.path("/modules/nope")), 404, "unknown_module")
    problem(client.delete(inst.path("/modules/nope"), headers=inst.headers), 404, "unknown_module")
