"""POST /shares/verify: fetch the presentation behind a share link and verify it with
domain = that URL. The links are served by a local server, so these run in dev mode (the
refusals outside dev mode are in test_outbound)."""

from __future__ import annotations

from typing import Any

import pytest

from credentials.keys import Multikey
from credentials.verify import create_presentation
from tests.verifier.support import CountingServer, microcredential


def errors(body: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["code"] for c in body["errors"]}


def shared(server: CountingServer, path: str, issuer: Multikey, holder: Multikey, **kw: Any) -> str:
    """What the wallet does: sign a VP for this very URL with a per-share challenge."""
    url = server.url(path)
    vp = create_presentation(
        [microcredential(issuer, holder)], holder, challenge="per-share-7f3a", domain=url, **kw
    )
    server.serve(path, vp)
    return url


def test_a_share_link_verifies(
    dev_client: Any, server: CountingServer, issuer_key: Multikey, holder: Multikey
) -> None:
    url = shared(server, "/s/Zx81kq", issuer_key, holder)
    response = dev_client.post("/shares/verify", json={"url": url})
    assert response.status_code == 200, response.json()["errors"]
    body = response.json()
    assert body["verified"] is True
    assert {"share_link", "proof", "proof_purpose", "holder"} <= {
        c["id"] for c in body["checks"] if c["outcome"] == "passed"
    }
    assert body["summary"]["holder"] == holder.controller
    assert body["summary"]["credentials"][0]["module"] == "Data Wrangling with Python"
    assert server.requests == ["/s/Zx81kq"]


def test_a_wrapped_presentation_is_accepted(
    dev_client: Any, server: CountingServer, issuer: Multikey, holder: Multikey
) -> None:
    url = server.url("/s/wrapped")
    vp = create_presentation([microcredential(issuer, holder)], holder, challenge="c", domain=url)
    server.serve("/s/wrapped", {"verifiablePresentation": vp})
    assert dev_client.post("/shares/verify", json={"url": url}).status_code == 200


def test_a_presentation_lifted_to_another_url_fails_the_domain_check(
    dev_client: Any, server: CountingServer, issuer: Multikey, holder: Multikey
) -> None:
    original = shared(server, "/s/original", issuer, holder)
    server.routes["/s/copy"] = server.routes["/s/original"]
    response = dev_client.post("/shares/verify", json={"url": server.url("/s/copy")})
    assert response.status_code == 400
    assert errors(response.json()) == {"proof_purpose": "domain_mismatch"}
    assert original != server.url("/s/copy")


def test_a_tampered_shared_presentation_fails(
    dev_client: Any, server: CountingServer, issuer: Multikey, holder: Multikey
) -> None:
    url = server.url("/s/t")
    vp = create_presentation([microcredential(issuer, holder)], holder, challenge="c", domain=url)
    vp["verifiableCredential"][0]["credentialSubject"]["achievement"]["name"] = "Brain Surgery"
    server.serve("/s/t", vp)
    body = dev_client.post("/shares/verify", json={"url": url}).json()
    assert {"proof", "credential[0].proof"} <= set(errors(body))


@pytest.mark.parametrize(
    ("status", "document", "code"),
    [
        (404, {"error": "gone"}, "share_not_found"),
        (410, {"error": "revoked"}, "share_not_found"),
        (500, {"error": "oops"}, "share_fetch_failed"),
        (200, b"<html>not a presentation</html>", "share_not_a_presentation"),
    ],
)
def test_a_share_link_that_does_not_serve_a_presentation(
    dev_client: Any, server: CountingServer, status: int, document: Any, code: str
) -> None:
    url = server.serve("/s/x", document, status=status)
    response = dev_client.post("/shares/verify", json={"url": url})
    assert response.status_code == 400
    assert errors(response.json()) == {"share_link": code}


def test_a_share_link_serving_something_else_fails_the_structure_check(
    dev_client: Any, server: CountingServer
) -> None:
    url = server.serve("/s/odd", {"hello": "world"})
    body = dev_client.post("/shares/verify", json={"url": url}).json()
    assert errors(body) == {"structure": "non_conformant"}


@pytest.mark.parametrize(
    "body",
    [{"url": ""}, {"url": 5}, {}, {"url": "https://" + "a" * 3000}, {"url": "not a url"}],
)
def test_unusable_share_urls_are_refused(client: Any, body: dict[str, Any]) -> None:
    response = client.post("/shares/verify", json=body)
    assert response.status_code == 400
    assert "share_link" in errors(response.json())


@pytest.mark.parametrize("content", [b"", b"{", b"[]"])
def test_malformed_bodies_get_the_report_shape(client: Any, content: bytes) -> None:
    response = client.post(
        "/shares/verify", content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["verified"] is False
