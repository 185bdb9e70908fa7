"""Issue 14, item 11: the verifier API states issuer trust explicitly next to ``verified``.

``verified: true`` for a self-signed credential from an unknown issuer was all an API
client saw at the top level; the page flagged it, the API did not.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from credentials.keys import Multikey
from credentials.verify import create_presentation
from tests.verifier.support import microcredential, write_registry


def test_the_verifier_api_states_trust_next_to_verified(
    make_client: Any, tmp_path: Path, issuer: Multikey, holder: Multikey
) -> None:
    registry = write_registry(
        tmp_path / "registry.yaml",
        [{"did": issuer.controller, "name": "Hogeschool Rijnland", "country": "NL"}],
    )
    client = make_client(trust_registry=registry)
    stranger = Multikey.generate()  # a self-signed "diploma" from an unknown issuer
    body = client.post(
        "/credentials/verify", json={"verifiableCredential": microcredential(stranger, holder)}
    ).json()
    assert (body["verified"], body["trust"]) == (True, "unknown")
    known = client.post(
        "/credentials/verify", json={"verifiableCredential": microcredential(issuer, holder)}
    ).json()
    assert (known["verified"], known["trust"]) == (True, "trusted")
    junk = client.post("/credentials/verify", json={"verifiableCredential": {"x": 1}}).json()
    assert junk["trust"] == "not_checked"


def test_a_presentation_is_trusted_only_when_every_issuer_is(
    make_client: Any, tmp_path: Path, issuer: Multikey, holder: Multikey
) -> None:
    registry = write_registry(
        tmp_path / "registry.yaml",
        [{"did": issuer.controller, "name": "Hogeschool Rijnland", "country": "NL"}],
    )
    client = make_client(trust_registry=registry)
    mixed = [microcredential(issuer, holder), microcredential(Multikey.generate(), holder)]
    for credentials, expected in ((mixed[:1], "trusted"), (mixed, "unknown")):
        vp = create_presentation(credentials, holder, challenge="c")
        body = client.post(
            "/presentations/verify",
            json={"verifiablePresentation": vp, "options": {"challenge": "c"}},
        ).json()
        assert (body["verified"], body["trust"]) == (True, expected)
