"""The batch's bulk paths: status slots claimed many at a time, signed chunks stored in one
transaction each, and what happens when either meets another run's rows."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from issuer.models import AuditEvent, IssuedCredential, StatusSlot
from issuer.services import batch, batch_store, status_lists
from issuer.services.institutions import by_slug
from tests.issuer.support import Institution
from tests.issuer.test_batches import HEADER, counts, upload


def institution_row(app: Any, inst: Institution) -> Any:
    with app.state.issuer.db.session() as session:
        return by_slug(session, inst.slug)


def claim(app: Any, inst: Institution, ids: list[str]) -> dict[str, status_lists.Slot]:
    ctx = app.state.issuer
    with ctx.db.session() as session:
        return status_lists.allocate(ctx, session, institution_row(app, inst), ids)


def stored_slots(app: Any) -> dict[tuple[str, int], str]:
    with app.state.issuer.db.engine.connect() as connection:
        rows = connection.execute(
            select(StatusSlot.list_id, StatusSlot.status_index, StatusSlot.credential_id)
        ).all()
    return {(list_id, index): cid for list_id, index, cid in rows}


def test_bulk_claims_give_every_id_its_own_slot_and_open_new_lists_when_full(
    app: Any, inst: Institution
) -> None:
    """150 ids on lists of 60: random rounds, the exhaustive pass, full lists closed."""
    app.state.issuer.settings.status_list_capacity = 60
    ids = [f"urn:uuid:bulk-{i}" for i in range(150)]
    slots = claim(app, inst, ids)
    assert set(slots) == set(ids)
    assert len(set(slots.values())) == 150, "two ids share a slot"
    per_list = Counter(slot.list_id for slot in slots.values())
    assert len(per_list) == 3 and all(n <= 60 for n in per_list.values())
    assert all(0 <= slot.index < 60 for slot in slots.values())
    assert stored_slots(app) == {(s.list_id, s.index): cid for cid, s in slots.items()}
    # the next claim goes to the list with room, never to an index already taken
    more = claim(app, inst, [f"urn:uuid:more-{i}" for i in range(20)])
    assert len(set(more.values())) == 20 and not set(more.values()) & set(slots.values())
    assert len(stored_slots(app)) == 170


def test_a_claim_whose_index_is_taken_draws_again_and_leaves_the_owner_alone(
    app: Any, inst: Institution, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database refuses the taken indexes; only those pairs are drawn again."""
    first = claim(app, inst, [f"urn:uuid:owner-{i}" for i in range(10)])
    taken = sorted(slot.index for slot in first.values())
    real_sample = status_lists._random.sample
    draws: list[list[int]] = []

    def colliding(population: Any, k: int) -> list[int]:
        # the first draw offers every taken index, then fresh ones; later draws are random
        drawn = real_sample(population, k)
        if not draws:
            drawn = taken + [i for i in drawn if i not in taken][: k - len(taken)]
        draws.append(drawn)
        return drawn

    monkeypatch.setattr(status_lists._random, "sample", colliding)
    ids = [f"urn:uuid:newcomer-{i}" for i in range(25)]
    slots = claim(app, inst, ids)
    assert len(draws) >= 2, "the losing pairs were not drawn again"
    assert set(slots) == set(ids) and len(set(slots.values())) == 25
    assert not {slot.index for slot in slots.values()} & set(taken)
    after = stored_slots(app)
    assert {after[(s.list_id, s.index)] for s in first.values()} == set(first)
    assert len(after) == 35


def test_rows_another_run_stored_meanwhile_are_already_issued_and_leave_nothing(
    client: TestClient,
    app: Any,
    inst: Institution,
    module: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A run that signs rows another run stored after it looked (its check of earlier
    rows is blinded here) collides in the chunk insert; the chunk is then stored row by
    row: every row reported already issued, nothing stored twice, its own claims given
    back, one audit event per credential."""
    text = HEADER + "".join(f"{i},s{i}@example.nl,8,2026-06-30\n" for i in range(30))
    first = upload(client, inst, text, key="meanwhile").json()
    assert first["counts"]["issued"] == 30
    monkeypatch.setattr(batch, "_earlier_rows", lambda ctx, b: {})
    real_store_record = batch_store._store_record
    row_by_row: list[str] = []

    def store_record(connection: Any, target: Any, record: dict[str, Any]) -> str:
        row_by_row.append(record["credential_id"])
        return real_store_record(connection, target, record)

    monkeypatch.setattr(batch_store, "_store_record", store_record)
    again = upload(client, inst, text, key="meanwhile").json()
    assert again["counts"] == {"issued": 0, "already_issued": 30, "conflict": 0, "failed": 0}
    assert len(row_by_row) == 30, "the colliding chunk was not stored row by row"
    assert counts(app) == (30, 30)
    with app.state.issuer.db.engine.connect() as connection:
        events = connection.execute(
            select(func.count()).where(AuditEvent.action == "credential.issue")
        ).scalar_one()
    assert events == 30


def test_a_run_that_fails_part_way_is_completed_exactly_once_by_the_next(
    client: TestClient,
    app: Any,
    inst: Institution,
    module: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first chunk is stored, then the run dies (as a crash would, without giving
    anything back); the re-run takes over the dead run's claims and issues the rest."""
    rows = 2 * batch.CHUNK + 17
    text = HEADER + "".join(f"{i},s{i}@example.nl,8,2026-06-30\n" for i in range(rows))
    ctx = app.state.issuer
    real_store = batch._store_chunk
    stored_chunks: list[int] = []

    def dies_after_one_chunk(*args: Any) -> Any:
        if stored_chunks:
            raise RuntimeError("the process died")
        stored_chunks.append(1)
        return real_store(*args)

    monkeypatch.setattr(batch, "_store_chunk", dies_after_one_chunk)
    with pytest.raises(RuntimeError):
        batch.run(
            ctx,
            institution_row(app, inst),
            "data-wrangling",
            text.encode(),
            actor="t",
            idempotency_key="dies",
        )
    issued, slots = counts(app)
    assert issued == batch.CHUNK and slots == rows, "claims are kept for the re-run"
    monkeypatch.setattr(batch, "_store_chunk", real_store)
    again = upload(client, inst, text, key="dies").json()
    assert again["counts"] == {
        "issued": rows - batch.CHUNK,
        "already_issued": batch.CHUNK,
        "conflict": 0,
        "failed": 0,
    }
    assert counts(app) == (rows, rows)
    with ctx.db.engine.connect() as connection:
        pairs = connection.execute(
            select(IssuedCredential.status_list_id, IssuedCredential.status_index)
        ).all()
    assert len(set(pairs)) == rows
    assert set(pairs) == set(stored_slots(app))
