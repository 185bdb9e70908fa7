"""Accounts: registration with a password policy, bearer tokens and session cookies with
expiry, log-out, and secrets never stored in the clear."""

from __future__ import annotations

import pytest
from sqlmodel import select

from servicekit.tokens import token_hash
from tests.wallet.conftest import PASSWORD, WalletHarness
from wallet.models import AuthToken, Learner

# counts, not speed: the limiters' clock stands still in these tests
pytestmark = pytest.mark.usefixtures("frozen_rate_limits")


def test_register_log_in_and_see_myself(wallet: WalletHarness) -> None:
    created = wallet.client.post("/api/learners", json={"username": "Jan", "password": PASSWORD})
    assert created.status_code == 201
    assert created.json()["username"] == "jan"
    assert created.json()["did"].startswith("did:key:z6Mk")
    session = wallet.client.post("/api/session", json={"username": "JAN", "password": PASSWORD})
    assert session.status_code == 200
    body = session.json()
    assert body["tokenType"] == "Bearer" and len(body["token"]) >= 40  # 256 bits, base64url
    assert session.headers["cache-control"] == "no-store"
    me = wallet.client.get("/api/learners/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200 and me.json()["did"] == created.json()["did"]


def test_registration_does_not_tell_whether_a_user_name_is_taken(wallet: WalletHarness) -> None:
    """H-9e: a taken name (case-insensitively) gets the same answer as a free one; the
    stand-in account cannot log in and the owner's account is untouched."""
    owner = wallet.signup("marie")
    other = "Another-password-77"
    taken = wallet.client.post("/api/learners", json={"username": "Marie", "password": other})
    free = wallet.client.post("/api/learners", json={"username": "marit", "password": other})
    assert taken.status_code == free.status_code == 201
    assert sorted(taken.json()) == sorted(free.json())
    assert taken.json()["username"] == "marie" and taken.json()["did"] != owner.did
    assert wallet.client.post(
        "/api/session", json={"username": "marie", "password": other}
    ).status_code == 401
    assert wallet.client.post(
        "/api/session", json={"username": "marit", "password": other}
    ).status_code == 200
    mine = wallet.client.post("/api/session", json={"username": "marie", "password": PASSWORD})
    assert mine.status_code == 200
    me = wallet.client.get(
        "/api/learners/me", headers={"Authorization": f"Bearer {mine.json()['token']}"}
    )
    assert me.json()["did"] == owner.did
    with wallet.client.app.state.services.db.session() as session:
        assert len(session.exec(select(Learner).where(Learner.username == "marie")).all()) == 1


def test_the_sign_up_page_answers_alike_for_taken_and_free_names(wallet: WalletHarness) -> None:
    """H-9e over the page: neither answer logs in or says the name is taken."""
    wallet.signup("joris")
    answers = []
    for name in ("joris", "jorien"):
        wallet.client.cookies.clear()
        start = wallet.client.get("/")
        token = start.text.split('name="csrf_token" value="')[1].split('"')[0]
        answer = wallet.client.post(
            "/signup",
            data={"username": name, "password": "Zeeuwse-klei-2026", "csrf_token": token},
            headers={"Origin": "https://wallet.example"},
        )
        assert answer.status_code == 200, answer.text
        assert "microcred_wallet_session" not in answer.cookies
        assert 'id="signup-done"' in answer.text and 'role="alert"' not in answer.text
        answers.append(answer.text.replace(token, "TOKEN").replace(name, "NAME"))
    assert answers[0] == answers[1]



@pytest.mark.parametrize(
    ("username", "password", "code"),
    [
        ("piet", "short1", "weak_password"),
        ("piet", "password123", "weak_password"),
        ("piet", "aaaaaaaaaaaaaa", "weak_password"),
        ("pietjansen", "my pietjansen secret", "weak_password"),
        ("p", PASSWORD, "invalid_username"),
        ("piet jansen", PASSWORD, "invalid_username"),
    ],
)
def test_password_and_user_name_policy(
    wallet: WalletHarness, username: str, password: str, code: str
) -> None:
    response = wallet.client.post(
        "/api/learners", json={"username": username, "password": password}
    )
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert response.headers["content-type"].startswith("application/problem+json")


def test_wrong_password_and_unknown_user_look_the_same(wallet: WalletHarness) -> None:
    wallet.signup("karin")
    wrong = wallet.client.post(
        "/api/session", json={"username": "karin", "password": "nope nope nope"}
    )
    unknown = wallet.client.post("/api/session", json={"username": "nobody", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]


def test_api_needs_a_token(wallet: WalletHarness) -> None:
    for method, path in [
        ("GET", "/api/credentials"),
        ("GET", "/api/shares"),
        ("GET", "/api/export"),
        ("DELETE", "/api/learners/me"),
    ]:
        response = wallet.client.request(method, path)
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"] == "Bearer"
    bad = wallet.client.get("/api/credentials", headers={"Authorization": "Bearer forged"})
    assert bad.status_code == 401


def test_log_out_ends_the_token(wallet: WalletHarness) -> None:
    account = wallet.signup()
    assert wallet.client.delete("/api/session", headers=account.headers).status_code == 204
    assert wallet.client.get("/api/credentials", headers=account.headers).status_code == 401


def test_tokens_expire(wallet: WalletHarness) -> None:
    account = wallet.signup()
    wallet.clock.advance(wallet.settings.token_ttl - 10)
    assert wallet.client.get("/api/credentials", headers=account.headers).status_code == 200
    wallet.clock.advance(20)
    assert wallet.client.get("/api/credentials", headers=account.headers).status_code == 401


def test_secrets_are_not_stored_in_the_clear(wallet: WalletHarness) -> None:
    account = wallet.signup("geheim")
    token = account.headers["Authorization"].removeprefix("Bearer ")
    services = wallet.client.app.state.services
    with services.db.session() as session:
        learner = session.exec(select(Learner).where(Learner.username == "geheim")).one()
        tokens = session.exec(select(AuthToken).where(AuthToken.learner_id == learner.id)).all()
    assert learner.password_hash.startswith("$argon2id$")
    assert PASSWORD not in learner.password_hash
    assert [t.token_hash for t in tokens] == [token_hash(token)]
    key = services.keys.key_for(learner)  # the wrapped key decrypts to the DID's key ...
    assert key.controller == learner.did
    assert key.secret_key_multibase not in learner.wrapped_key  # ... and is not stored plainly
    assert learner.wrapped_key.startswith("v1.test.")


def test_session_cookie_works_for_pages_with_a_csrf_check(wallet: WalletHarness) -> None:
    account = wallet.signup("cookie")
    services = wallet.client.app.state.services
    with services.db.session() as session:
        learner = session.exec(select(Learner).where(Learner.username == "cookie")).one()
    cookie, _ = services.accounts.issue_token(learner.id, "session")
    wallet.client.cookies.set("microcred_wallet_session", cookie)
    try:
        assert wallet.client.get("/api/credentials").status_code == 200
        credential = wallet.credential(account)
        forged = wallet.client.post(
            "/api/credentials/import",
            json={"credential": credential},
            headers={"Origin": "https://evil.example"},
        )
        assert forged.status_code == 403 and forged.json()["code"] == "cross_site_request"
        no_origin = wallet.client.post("/api/credentials/import", json={"credential": credential})
        assert no_origin.status_code == 403
        same_site = wallet.client.post(
            "/api/credentials/import",
            json={"credential": credential},
            headers={"Origin": "https://wallet.example"},
        )
        assert same_site.status_code == 201
        # a session cookie is not an API token and vice versa
        assert services.accounts.authenticate(cookie, "api") is None
    finally:
        wallet.client.cookies.clear()


def test_log_in_is_rate_limited(wallet: WalletHarness) -> None:
    wallet.signup("limited")
    statuses = [
        wallet.client.post(
            "/api/session", json={"username": "limited", "password": "x" * 12}
        ).status_code
        for _ in range(wallet.settings.login_attempts_per_minute)
    ]
    assert statuses[-1] == 429


def test_concurrent_log_ins_hash_no_more_than_the_configured_slots(wallet: WalletHarness) -> None:
    """Issue 14 item 8: 30 concurrent failed log-ins ran 30 argon2 hashes (64 MiB each) at
    once; the number running at once is now bounded by ``max_concurrent_hashes``."""
    import threading

    from fastapi.testclient import TestClient

    accounts = wallet.client.app.state.services.accounts  # type: ignore[attr-defined]
    start = threading.Barrier(16)
    statuses: list[int] = []

    def attempt(n: int) -> None:
        with TestClient(wallet.client.app, client=(f"192.0.2.{n + 1}", 50000)) as own:
            start.wait()
            answer = own.post("/api/session", json={"username": f"u{n}x", "password": "x" * 12})
            statuses.append(answer.status_code)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert statuses == [401] * 16
    assert 1 <= accounts.peak_hashing <= wallet.settings.max_concurrent_hashes
