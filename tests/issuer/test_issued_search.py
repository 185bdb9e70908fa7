"""Issue 16 point 11: the issued list finds a credential by e-mail address as well as by
student number (both stored as keyed hashes, never in plain)."""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import select

from issuer.models import IssuedCredential
from tests.issuer.support import Institution
from tests.issuer.test_cohort_delivery import CSV, log_in, upload


def found(client: TestClient, learner: str) -> int:
    page = client.get("/console/credentials", params={"learner": learner}).text
    return page.count("data-credential-id=")


def test_single_and_cohort_credentials_are_found_by_either_reference(
    client: TestClient, inst: Institution, module: Any
) -> None:
    issued = client.post(
        inst.path("/issuances"),
        json={
            "module_id": "data-wrangling",
            "learner": {"email": "Kees@Example.nl", "student_number": "600001"},
            "result": {"grade": "7"},
        },
        headers=inst.headers,
    )
    assert issued.status_code == 201, issued.text
    csrf = log_in(client, inst)
    started = upload(client, csrf, CSV, how="direct")
    assert started.status_code == 303
    state = started.headers["location"] + "/state"
    deadline = time.monotonic() + 30  # the batch runs in a thread: wait for it, bounded
    while not client.get(state).json()["done"]:
        assert time.monotonic() < deadline, "the cohort batch did not finish"
        time.sleep(0.05)
    assert found(client, "600001") == 1
    assert found(client, "kees@example.nl") == 1
    assert found(client, "KEES@example.NL") == 1
    assert found(client, "bram@example.nl") == 1  # a cohort row with both columns
    assert found(client, "500124") == 1
    assert found(client, "nobody@example.nl") == 0
    with client.app.state.issuer.db.session() as session:  # type: ignore[attr-defined]
        rows = session.exec(select(IssuedCredential)).all()
    assert sum(1 for row in rows if row.learner_alt_ref) == 3
    assert all("example.nl" not in (row.learner_alt_ref or "") for row in rows)
