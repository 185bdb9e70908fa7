"""Issue 14 item 10: issuers starting at once share one status list.

Two issuer instances starting at once opened 8 status lists, 7 with a single credential:
a list that holds one credential tells everyone whose status it is. Here eight clients
(threads, each its own connection, as instances would be) issue the first credentials of a
new institution at the same moment; they must all land in one list.
"""

from __future__ import annotations

import threading
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from issuer.models import StatusList
from tests.issuer.support import Institution

HOLDER = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"


def test_concurrent_first_issuances_share_one_status_list(
    app: Any, client: TestClient, inst: Institution, module: Any
) -> None:
    with app.state.issuer.db.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(StatusList)).scalar_one() == 0
    start = threading.Barrier(8)
    statuses: list[int] = []

    def issue() -> None:
        with TestClient(app) as own:
            start.wait()
            answer = own.post(
                inst.path("/issuances"),
                json={"module_id": "data-wrangling", "learner": {"did": HOLDER}},
                headers=inst.headers,
            )
            statuses.append(answer.status_code)

    threads = [threading.Thread(target=issue) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert statuses == [201] * 8
    with app.state.issuer.db.engine.connect() as connection:
        lists = connection.execute(select(func.count()).select_from(StatusList)).scalar_one()
    assert lists == 1
