"""Cohort issuance from CSV: per-row reports, nothing half-issued, idempotent re-runs,
upload limits, and a 10,000-row cohort."""

from __future__ import annotations

import dataclasses
import random
import threading
import time
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from issuer.main import create_app
from issuer.models import IssuedCredential, StatusSlot
from issuer.services import batch
from issuer.services.institutions import by_slug
from tests.issuer.support import (
    Institution,
    make_institution,
    module_spec,
    problem,
    snapshot,
    verifier,
)
from tests.support.servers import live_server

HEADER = "student_number,email,grade,awarded_date\n"


def upload(
    client: TestClient,
    inst: Institution,
    text: str | bytes,
    key: str | None = "cohort-1",
    **params: Any,
) -> Any:
    headers = {**inst.headers, "Content-Type": "text/csv"}
    if key:
        headers["Idempotency-Key"] = key
    params.setdefault("module_id", "data-wrangling")
    query = "&".join(f"{k}={v}" for k, v in params.items())
    data = text.encode() if isinstance(text, str) else text
    return client.post(inst.path(f"/batches?{query}"), content=data, headers=headers)


def counts(app: Any) -> tuple[int, int]:
    """(issued credentials, claimed status slots): a row half-issued would make them differ."""
    with app.state.issuer.db.engine.connect() as connection:
        issued = connection.execute(select(func.count()).select_from(IssuedCredential)).scalar_one()
        slots = connection.execute(select(func.count()).select_from(StatusSlot)).scalar_one()
    return issued, slots


MIXED = (
    HEADER
    + "500001,anna@example.nl,8,2026-06-30\n"
    + "500002,not-an-address,7,2026-06-30\n"  # bad e-mail
    + "500003,cees@example.nl,4,2026-06-30\n"  # below the pass mark
    + "500004,dirk@example.nl,9,2026-02-31\n"  # no such date
    + "500001,anna2@example.nl,8,2026-06-30\n"  # same row key as row 2
    + ",,7,2026-06-30\n"  # nobody
    + "500007,eva@example.nl,6\n"  # too few fields
    + "500008,fay@example.nl,,\n"  # no grade: fine
)


def test_a_batch_reports_per_row_and_failing_rows_leave_nothing(
    client: TestClient, app: Any, inst: Institution, module: Any
) -> None:
    response = upload(client, inst, MIXED)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["counts"] == {"issued": 2, "already_issued": 0, "conflict": 0, "failed": 6}
    rows = {r["row"]: r for r in report["rows"]}
    assert rows[2]["status"] == "issued" and rows[2]["credential_id"].startswith("urn:uuid:")
    assert rows[3]["error"]["field"] == "email"
    assert rows[4]["error"]["field"] == "grade" and "pass mark" in rows[4]["error"]["message"]
    assert rows[5]["error"]["field"] == "awarded_date"
    assert rows[6]["error"]["code"] == "duplicate_row_key"
    assert rows[7]["error"]["field"] == "email"
    assert rows[8]["error"]["code"] == "csv_row_shape"
    assert rows[9]["status"] == "issued"
    assert counts(app) == (2, 2)
    assert report["idempotency_key"] == "cohort-1" and report["rows_per_second"] > 0

    # the same batch again: nothing is issued twice, the failing rows fail again
    before = counts(app)
    again = upload(client, inst, MIXED).json()
    assert again["counts"] == {"issued": 0, "already_issued": 2, "conflict": 0, "failed": 6}
    assert {
        r["row"]: r.get("credential_id") for r in again["rows"] if r["status"] == "already_issued"
    } == {
        2: rows[2]["credential_id"],
        9: rows[9]["credential_id"],
    }
    assert counts(app) == before

    # the registrar fixes row 3 and changes row 9's grade: 3 is issued, 9 is a conflict
    fixed = MIXED.replace("not-an-address", "bram@example.nl").replace(
        "fay@example.nl,,", "fay@example.nl,7,"
    )
    third = upload(client, inst, fixed).json()
    assert third["counts"]["issued"] == 1 and third["counts"]["conflict"] == 1
    assert [r["row"] for r in third["rows"] if r["status"] == "conflict"] == [9]
    assert counts(app) == (3, 3)


def test_batch_credentials_verify_and_carry_the_learner(
    client: TestClient, app: Any, inst: Institution, module: Any, port: int
) -> None:
    text = HEADER.replace("\n", ",did\n") + (
        "600001,gert@example.nl,7,2026-06-30,did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK\n"
    )
    report = upload(client, inst, text).json()
    credential_id = report["rows"][0]["credential_id"]
    stored = client.get(inst.path(f"/credentials/{credential_id}"), headers=inst.headers).json()
    credential = stored["verifiableCredential"]
    assert stored["learner_ref"] == "600001" and stored["source"] == "batch"
    assert credential["credentialSubject"]["id"].startswith("did:key:z6Mk")
    # the DID binds it; no reversible hash of the student number or e-mail (issue 14 item 9)
    assert "identifier" not in credential["credentialSubject"]
    with live_server(app, port):
        report = verifier().verify_credential(credential)
    assert report.verified, report.to_dict()


def test_semicolons_a_bom_and_multipart_uploads_are_accepted(
    client: TestClient, inst: Institution, module: Any
) -> None:
    text = "\ufeffEmail;Grade\nhans@example.nl;7,5\n"
    assert upload(client, inst, text.encode("utf-8")).json()["counts"]["issued"] == 1
    form = client.post(
        inst.path("/batches"),
        files={"file": ("cohort.csv", b"email\nida@example.nl\n", "text/csv")},
        data={"module_id": "data-wrangling", "idempotency_key": "multipart-1"},
        headers=inst.headers,
    )
    assert form.status_code == 200, form.text
    assert form.json()["counts"]["issued"] == 1 and form.json()["idempotency_key"] == "multipart-1"


def test_without_a_key_the_file_itself_is_the_key(
    client: TestClient, app: Any, inst: Institution, module: Any
) -> None:
    first = upload(client, inst, HEADER + "1,a@b.nl,8,2026-06-30\n", key=None).json()
    assert first["idempotency_key"].startswith("sha256:")
    again = upload(client, inst, HEADER + "1,a@b.nl,8,2026-06-30\n", key=None).json()
    assert again["counts"]["already_issued"] == 1 and counts(app) == (1, 1)


def test_bad_uploads_are_problems_and_change_nothing(
    client: TestClient, app: Any, inst: Institution, module: Any
) -> None:
    second = module_spec(id="sql-basics", name="SQL basics")
    client.post(inst.path("/modules"), json=second, headers=inst.headers)
    assert upload(client, inst, HEADER + "1,a@b.nl,8,2026-06-30\n", key="k1").status_code == 200
    before = snapshot(app)
    good = HEADER + "2,b@b.nl,8,2026-06-30\n"
    problem(upload(client, inst, good, module_id="nope"), 404, "unknown_module")
    problem(
        upload(client, inst, good, key="k1", module_id="sql-basics"), 409, "idempotency_key_reused"
    )
    problem(upload(client, inst, "name,grade\nx,8\n"), 400, "csv_unknown_column")
    problem(upload(client, inst, "grade\n8\n"), 400, "csv_missing_column")
    problem(upload(client, inst, "email,email\na@b.nl,c@d.nl\n"), 400, "csv_duplicate_column")
    problem(upload(client, inst, ""), 400, "csv_empty")
    problem(upload(client, inst, "email\n"), 400, "csv_empty")
    problem(upload(client, inst, "email\n\xe9@b.nl\n".encode("latin-1")), 400, "csv_encoding")
    problem(upload(client, inst, 'email\n"unterminated\n'), 400, "csv_malformed")
    headers = {**inst.headers, "Content-Type": "application/json"}
    problem(
        client.post(
            inst.path("/batches?module_id=data-wrangling"), json={"rows": []}, headers=headers
        ),
        415,
        "unsupported_media_type",
    )
    csv_headers = {**inst.headers, "Content-Type": "text/csv"}
    problem(
        client.post(inst.path("/batches"), content=good.encode(), headers=csv_headers),
        400,
        "module_id_missing",
    )
    problem(
        client.post(
            "/institutions/nobody/batches?module_id=x", content=good.encode(), headers=csv_headers
        ),
        404,
        "unknown_institution",
    )
    app.state.issuer.settings.max_batch_rows = 3
    problem(
        upload(client, inst, HEADER + "".join(f"{i},x{i}@b.nl,8,\n" for i in range(4))),
        413,
        "batch_too_large",
    )
    assert snapshot(app) == before


def test_an_oversized_upload_is_413(
    settings: Any, keystore: Any, clock: Any, inst: Institution, module: Any
) -> None:
    small = create_app(
        dataclasses.replace(settings, max_csv_bytes=2000), keystore=keystore, clock=clock
    )
    before = snapshot(small)
    with TestClient(small) as client:
        text = HEADER + "".join(f"{i},s{i}@example.nl,8,2026-06-30\n" for i in range(200))
        problem(upload(client, inst, text), 413, "body_too_large")
        # the JSON endpoints keep their own (smaller) limit while the CSV one is larger
        assert upload(client, inst, HEADER + "1,a@b.nl,8,\n").status_code == 200
    assert snapshot(small)["issued_credentials"] == before["issued_credentials"] + 1


def test_two_runs_of_one_batch_at_once_issue_each_row_once(
    client: TestClient, app: Any, inst: Institution, module: Any
) -> None:
    text = HEADER + "".join(f"{i},s{i}@example.nl,8,2026-06-30\n" for i in range(40))
    ctx = app.state.issuer
    with ctx.db.session() as session:
        institution = by_slug(session, inst.slug)
    results: list[dict[str, Any]] = []
    start = threading.Barrier(2)

    def run() -> None:
        start.wait()
        results.append(
            batch.run(
                ctx,
                institution,
                "data-wrangling",
                text.encode(),
                actor="t",
                idempotency_key="twice",
            )
        )

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    issued = sum(r["counts"]["issued"] for r in results)
    assert issued == 40 and counts(app) == (40, 40)


def test_ten_thousand_rows(
    client: TestClient, app: Any, inst: Institution, module: Any, port: int
) -> None:
    """A realistic cohort file through the HTTP API, signed by the worker pool."""
    app.state.issuer.settings.batch_workers = -1  # production default: one process per CPU
    grades = ["6", '"7,5"', "8", "9"]  # a decimal comma must be quoted in a comma CSV
    rows = [
        f"{500000 + i},student{i}@example.nl,{random.choice(grades)},2026-06-30\n"
        for i in range(10_000)
    ]
    text = HEADER + "".join(rows)
    started = time.perf_counter()
    response = upload(client, inst, text, key="cohort-2026")
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.text[:500]
    report = response.json()
    assert report["counts"] == {"issued": 10_000, "already_issued": 0, "conflict": 0, "failed": 0}
    print(
        f"\n10,000-row batch: {elapsed:.1f} s over HTTP, {10_000 / elapsed:.0f} rows/s "
        f"(service: {report['rows_per_second']} rows/s)"
    )
    assert counts(app) == (10_000, 10_000)
    with app.state.issuer.db.engine.connect() as connection:
        distinct = connection.execute(
            select(func.count()).select_from(
                select(StatusSlot.list_id, StatusSlot.status_index).distinct().subquery()
            )
        ).scalar_one()
    assert distinct == 10_000
    sample = random.sample(report["rows"], 2)
    with live_server(app, port):
        for row in sample:
            stored = client.get(
                inst.path(f"/credentials/{row['credential_id']}"), headers=inst.headers
            )
            result = verifier().verify_credential(stored.json()["verifiableCredential"])
            assert result.verified, result.to_dict()

    started = time.perf_counter()
    again = upload(client, inst, text, key="cohort-2026").json()
    print(f"re-run: {time.perf_counter() - started:.1f} s, nothing issued")
    assert again["counts"] == {"issued": 0, "already_issued": 10_000, "conflict": 0, "failed": 0}
    assert counts(app) == (10_000, 10_000)
    audit = client.get(inst.path("/audit?action=batch.run"), headers=inst.headers).json()["events"]
    assert [e["details"]["counts"] for e in audit] == [again["counts"], report["counts"]]


def test_another_institution_cannot_reuse_a_batch_key(
    client: TestClient, app: Any, inst: Institution, module: Any
) -> None:
    other = make_institution(app, "third", name="Third")
    client.post(other.path("/modules"), json=module_spec(), headers=other.headers)
    text = HEADER + "1,a@b.nl,8,\n"
    assert upload(client, inst, text, key="shared").json()["counts"]["issued"] == 1
    # keys are per institution: the same key elsewhere is a different batch
    assert upload(client, other, text, key="shared").json()["counts"]["issued"] == 1


COHORT = (
    HEADER
    + "600001,anna@example.nl,8,2026-06-30\n"
    + "600002,bert@example.nl,7,2026-06-30\n"
    + "600003,cees@example.nl,4,2026-06-30\n"  # below the pass mark: fixed in the re-upload
    + "600004,dirk@example.nl,9,2026-06-30\n"
    + "600005,eva@example.nl,6,2026-06-30\n"
)


def test_a_reupload_with_one_row_fixed_asks_before_issuing_anyone_twice(
    client: TestClient, app: Any, inst: Institution, module: Any
) -> None:
    """Issue 14 item 10: without an Idempotency-Key the fixed file is a new batch, and the
    four unchanged learners got a second credential. Now they are ``duplicate`` rows."""
    first = upload(client, inst, COHORT, key=None).json()
    assert first["counts"]["issued"] == 4 and first["counts"]["failed"] == 1
    fixed = COHORT.replace("600003,cees@example.nl,4", "600003,cees@example.nl,6")
    second = upload(client, inst, fixed, key=None)
    assert second.status_code == 200, second.text
    report = second.json()
    assert report["counts"]["issued"] == 1 and report["counts"]["duplicate"] == 4
    rows = {r["row_key"]: r for r in report["rows"]}
    assert rows["600003"]["status"] == "issued"
    earlier = {r["row_key"]: r["credential_id"] for r in first["rows"] if "credential_id" in r}
    for key in ("600001", "600002", "600004", "600005"):
        assert rows[key]["status"] == "duplicate"
        assert rows[key]["error"]["code"] == "possible_duplicate"
        assert rows[key]["credential_id"] == earlier[key]
    assert counts(app)[0] == 5
    # the registrar confirms: then they are issued
    confirmed = upload(client, inst, fixed, key=None, allow_duplicates="true").json()
    assert confirmed["counts"]["issued"] == 4
    assert counts(app)[0] == 9


def test_the_same_learner_and_result_twice_in_one_file_is_asked_about(
    client: TestClient, app: Any, inst: Institution, module: Any
) -> None:
    text = "row_key,student_number,grade\nr1,700001,8\nr2,700001,8\nr3,700002,8\n"
    report = upload(client, inst, text).json()
    rows = {r["row_key"]: r for r in report["rows"]}
    assert rows["r1"]["status"] == "issued" and rows["r3"]["status"] == "issued"
    assert rows["r2"]["status"] == "duplicate"
    assert "line 2" in rows["r2"]["error"]["message"]
