"""Issue 16 point 2 for the console: every page state in Dutch carries no English from the
engines (problem details, row errors, raw keys), with ``lang="nl"`` on the page."""

from __future__ import annotations

import re
import time
from typing import Any

from fastapi.testclient import TestClient

from tests.issuer.oid4vci_wallet import create_offer
from tests.issuer.support import Institution, module_spec
from tests.issuer.test_cohort_delivery import log_in, upload

ENGLISH = re.compile(
    r"\b(the|is not|must|cannot|expected|outside|pass mark|unknown|invalid|there is no)\b"
)
RAW_KEY = re.compile(r"\b(issuer|error|field)\.[a-z_]+\.[a-z_.]+\b")
DUTCH_MODULE = module_spec(
    id="data-nl",
    name="Data bewerken met Python",
    description="Gegevens opschonen, koppelen en omvormen met pandas.",
    learning_outcomes=["rommelige tabellen opschonen", "herkomst van gegevens vastleggen"],
    assessment_type="praktijkopdracht met mondelinge verdediging",
    quality_assurance={"name": "NVAO-accreditatie", "url": "https://www.nvao.net/"},
    prerequisites=["basiskennis Python"],
    tags=["datakunde"],
)


def visible_text(html: str) -> str:
    html = re.sub(r'<a class="lang-switch".*?</a>', "", html, flags=re.S)
    html = re.sub(r"<(script|style|code)\b.*?</\1>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def assert_dutch(page: Any, where: str) -> None:
    assert '<html lang="nl"' in page.text, where
    text = visible_text(page.text)
    assert ENGLISH.findall(text) == [], (where, ENGLISH.findall(text))
    assert RAW_KEY.findall(text) == [], (where, RAW_KEY.findall(text))


def test_every_console_page_state_is_dutch_without_engine_english(
    client: TestClient, inst: Institution
) -> None:
    created = client.post(inst.path("/modules"), json=DUTCH_MODULE, headers=inst.headers)
    assert created.status_code == 201, created.text
    offer = create_offer(client, inst, module_id="data-nl")
    issued = client.post(
        inst.path("/issuances"),
        json={"module_id": "data-nl", "learner": {"email": "a@example.nl"}},
        headers=inst.headers,
    ).json()["verifiableCredential"]
    csrf = log_in(client, inst)
    cohort = upload(client, csrf, "email,grade\nb@example.nl,8\n", module_id="data-nl")
    bad_rows = "email,grade\nc@example.nl,11\nd@example.nl,4\n,7\n"
    refused = upload(client, csrf, bad_rows, module_id="data-nl")
    assert refused.status_code == 422
    assert_dutch(refused, "refused cohort")
    direct = upload(client, csrf, bad_rows, module_id="data-nl", how="direct")
    job = direct.headers["location"]
    deadline = time.monotonic() + 30
    while not client.get(job + "/state").json()["done"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    report = client.get(job)
    assert "Regel 2: cijfer 11 ligt buiten de schaal" in report.text
    assert "Regel 3: cijfer 4 is lager dan de voldoende" in report.text
    bad_issue = client.post(
        "/console/issue",
        data={"csrf_token": csrf, "module_id": "data-nl", "email": "x@example.nl", "grade": "12"},
    )
    assert bad_issue.status_code == 422
    cid = issued["id"]
    pages = {
        "home": client.get("/console"),
        "modules": client.get("/console/modules"),
        "issue": client.get("/console/issue"),
        "batch": client.get("/console/batch"),
        "batch report": report,
        "cohort": client.get(cohort.headers["location"]),
        "issued": client.get("/console/credentials"),
        "credential": client.get("/console/credential", params={"id": cid}),
        "revoke?": client.get(
            "/console/credential/confirm", params={"id": cid, "action": "revoke"}
        ),
        "offer": client.get(f"/console/offers/{offer['id']}"),
        "cancel?": client.get(f"/console/offers/{offer['id']}/cancel"),
        "archive?": client.get("/console/modules/data-nl/archive"),
        "bad issue": bad_issue,
        "institution": client.get(inst.path(""), headers={"Accept": "text/html"}),
    }
    for where, page in pages.items():
        assert page.status_code < 500, where
        assert_dutch(page, where)
