"""Issue 14 item 10: console log-out ends the session on the server, not just in the browser."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.issuer.support import Institution

COOKIE = "mc_issuer_session"


def _log_in(client: TestClient, inst: Institution) -> str:
    client.get("/")
    csrf = client.cookies.get("mc_issuer_csrf")
    assert csrf
    answer = client.post(
        "/login", data={"token": inst.token, "csrf_token": csrf}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    session = client.cookies.get(COOKIE)
    assert session
    return session


def _console(client: TestClient, session: str) -> int:
    client.cookies.set(COOKIE, session)
    return client.get("/console", follow_redirects=False).status_code


def test_a_copied_session_cookie_is_dead_after_log_out(
    client: TestClient, inst: Institution
) -> None:
    session = _log_in(client, inst)
    assert _console(client, session) == 200
    csrf = client.cookies.get("mc_issuer_csrf")
    out = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303
    # the cookie an attacker copied before log-out no longer opens the console
    assert _console(client, session) != 200
    # the API token itself is untouched
    assert client.get(inst.path("/tokens"), headers=inst.headers).status_code == 200


def test_revoking_the_api_token_ends_its_console_sessions(
    client: TestClient, inst: Institution
) -> None:
    session = _log_in(client, inst)
    listed = client.get(inst.path("/tokens"), headers=inst.headers).json()
    items = listed["tokens"] if isinstance(listed, dict) else listed
    parent = next(t for t in items if t["name"] != "console session")
    assert client.delete(inst.path(f"/tokens/{parent['id']}"), headers=inst.headers).is_success
    assert _console(client, session) != 200


def test_an_oversized_before_cursor_is_a_4xx_not_a_500(
    client: TestClient, inst: Institution
) -> None:
    """Issue 14 item 10: ``before`` beyond a 64-bit integer overflowed into a 500."""
    huge = "9" * 30
    for path in (inst.path("/credentials"), inst.path("/audit")):
        answer = client.get(path, params={"before": huge}, headers=inst.headers)
        assert 400 <= answer.status_code < 500, (path, answer.status_code, answer.text)
        assert answer.json().get("code")
    session = _log_in(client, inst)
    client.cookies.set(COOKIE, session)
    page = client.get("/console/credentials", params={"before": huge}, follow_redirects=False)
    assert 400 <= page.status_code < 500
