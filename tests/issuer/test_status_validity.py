"""Status lists carry a validity window the issuer keeps fresh (issue 14.5).

Before: lists had no ``validUntil``, so a signed list stayed acceptable forever and an old
one replayed at its URL could hide a revocation.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.issuer.support import Clock, Institution
from tests.issuer.test_status import issue


def _list_path(credential: dict[str, Any]) -> str:
    entry = credential["credentialStatus"][0]
    return "/" + entry["statusListCredential"].split("/", 3)[3]


def test_a_served_list_has_a_window_and_is_resigned_before_it_closes(
    client: TestClient, inst: Institution, clock: Clock, app: Any
) -> None:
    path = _list_path(issue(client, inst))
    validity = app.state.issuer.settings.status_list_validity
    first = client.get(path)
    document = first.json()
    start = datetime.fromisoformat(document["validFrom"])
    until = datetime.fromisoformat(document["validUntil"])
    assert until > start
    window = (until - start).total_seconds()
    assert window == validity
    assert document["id"].endswith(path)

    clock.advance(window * 0.25)  # plenty left: the same signed list
    assert client.get(path).json()["validUntil"] == document["validUntil"]

    clock.advance(window * 0.3)  # less than half left: signed anew, with a new ETag
    later = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert later.status_code == 200
    renewed = later.json()
    assert datetime.fromisoformat(renewed["validUntil"]) > until
    assert datetime.fromisoformat(renewed["validUntil"]) - clock.now >= timedelta(
        seconds=window / 2
    )
