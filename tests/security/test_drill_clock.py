"""Issue 9, drill "clock skew" (S-4 in docs/security.md): clocks of issuers, holders and the
verifier disagree a little, or a lot.

The verifier runs as a real HTTP server (uvicorn on loopback) with an injected clock (the
``clock=`` hook of ``verifier.main.create_app``) so the drill moves *its* time; the issuer,
where it takes part, is a real server too, with a clock of its own running ahead. Status
lists are fetched over HTTP in dev mode (loopback allowed). The verifier's tolerance is its
``clock_skew`` setting (default 300 s), applied to the credential's ``validFrom`` /
``validUntil`` and to the status list's ``validFrom`` / ``validUntil``.

What must hold:

* within the tolerance everything verifies; beyond it the verifier refuses with a clear
  code (``not_yet_valid``, ``expired``, ``status_list_not_yet_valid``,
  ``status_list_expired``, ``challenge_expired``);
* a status the verifier could not establish (a list that is expired or not yet valid by
  its clock) is never reported as ``revoked`` or ``suspended`` — even when that list has
  the credential's bit set;
* a holder's clock does not matter for presentations: freshness comes from the verifier's
  own single-use challenge, whose lifetime runs on the verifier's clock only.

A proof's ``created`` beyond the tolerance in the verifier's future is refused, and its
``expires`` gets the same tolerance as ``validUntil``.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from credentials.fetch import FetchPolicy, SafeFetcher
from credentials.keys import Multikey
from credentials.keystore import Kek, Keystore
from credentials.proofs import sign
from credentials.status_list import StatusList, status_list_credential
from credentials.verify import create_presentation
from servicekit.migrations import upgrade
from tests.issuer.support import module_spec
from tests.support.databases import fresh_database
from tests.support.servers import free_port, live_server
from tests.verifier.support import CountingServer, counting_server, microcredential
from tests.wallet.fakes import credential_for

SKEW = 300
"""The verifier's default tolerance in seconds (verifier.config.Settings.clock_skew)."""
WITHIN = 240
BEYOND = 600
DOMAIN = "https://drill.example"
NEVER = {"revoked", "suspended"}
"""Status codes that claim knowledge; never allowed from a list the verifier cannot use."""


class MovableClock:
    """A clock the drill sets by hand (never sleeps)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def checks(body: dict[str, Any], check_id: str) -> list[tuple[str, str]]:
    return [(c["outcome"], c["code"]) for c in body["checks"] if c["id"] == check_id]


# --------------------------------------------------------------------------- servers


@contextlib.contextmanager
def verifier_server(tmp_path: Path, clock: MovableClock) -> Iterator[str]:
    """The verifier over HTTP in dev mode, on its own database, with ``clock``."""
    from verifier.config import Settings
    from verifier.main import create_app

    name = f"verifier-{secrets.token_hex(3)}"
    (tmp_path / name).mkdir()
    with fresh_database(tmp_path / name) as url:
        upgrade("verifier", url)
        settings = Settings(
            database_url=url,
            public_url="http://127.0.0.1:8003",
            dev=True,
            data_dir=tmp_path / name,
        )
        app = create_app(
            settings,
            clock=clock,
            fetcher=SafeFetcher(FetchPolicy(allow_insecure=True, timeout=30)),
        )
        with live_server(app) as base_url:
            yield base_url


@pytest.fixture
def verifier_clock() -> MovableClock:
    return MovableClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def verifier(tmp_path: Path, verifier_clock: MovableClock) -> Iterator[httpx.Client]:
    with (
        verifier_server(tmp_path, verifier_clock) as base_url,
        httpx.Client(base_url=base_url, timeout=60) as client,
    ):
        yield client


@pytest.fixture
def lists() -> Iterator[CountingServer]:
    with counting_server() as server:
        yield server


def verify(client: httpx.Client, credential: dict[str, Any]) -> httpx.Response:
    return client.post("/credentials/verify", json={"verifiableCredential": credential})


# --------------------------------------------------------------------------- credentials


@pytest.mark.parametrize(
    ("valid_from", "valid_until", "status", "code"),
    [
        (WITHIN, None, 200, "ok"),  # an issuer whose clock is 4 min ahead
        (-WITHIN, None, 200, "ok"),
        (BEYOND, None, 400, "not_yet_valid"),  # 10 min ahead: not valid yet
        (-3600, -WITHIN, 200, "ok"),  # expired 4 min ago by our clock: tolerated
        (-3600, -BEYOND, 400, "expired"),
    ],
    ids=["from+4min", "from-4min", "from+10min", "until-4min", "until-10min"],
)
def test_validity_window_is_judged_with_the_configured_tolerance(
    verifier: httpx.Client,
    verifier_clock: MovableClock,
    valid_from: int,
    valid_until: int | None,
    status: int,
    code: str,
) -> None:
    issuer, holder = Multikey.generate(), Multikey.generate()
    now = verifier_clock.now
    credential = microcredential(
        issuer,
        holder,
        valid_from=now + timedelta(seconds=valid_from),
        valid_until=now + timedelta(seconds=valid_until) if valid_until is not None else None,
    )
    response = verify(verifier, credential)
    assert response.status_code == status, response.text
    outcome = "passed" if code == "ok" else "failed"
    assert checks(response.json(), "validity") == [(outcome, code)]


@pytest.mark.parametrize("offset", [-BEYOND * 6, -WITHIN, WITHIN])
def test_a_proof_created_at_another_clock_within_tolerance_verifies(
    verifier: httpx.Client, verifier_clock: MovableClock, offset: int
) -> None:
    """The proof's ``created`` is when the issuer's clock said it signed; a few minutes
    either way (and any time in the past) is no reason to refuse."""
    issuer, holder = Multikey.generate(), Multikey.generate()
    now = verifier_clock.now
    credential = microcredential(issuer, holder, valid_from=now - timedelta(days=1))
    credential.pop("proof")
    signed = sign(credential, issuer, created=iso(now + timedelta(seconds=offset)))
    response = verify(verifier, signed)
    assert response.status_code == 200, response.text


def test_a_proof_created_beyond_the_tolerance_in_the_future_is_refused(
    verifier: httpx.Client, verifier_clock: MovableClock
) -> None:
    issuer, holder = Multikey.generate(), Multikey.generate()
    now = verifier_clock.now
    credential = microcredential(issuer, holder, valid_from=now - timedelta(days=1))
    credential.pop("proof")
    signed = sign(credential, issuer, created=iso(now + timedelta(seconds=BEYOND)))
    response = verify(verifier, signed)
    assert response.status_code == 400
    assert any(c["outcome"] == "failed" for c in response.json()["checks"] if c["id"] == "proof")


# --------------------------------------------------------------------------- presentations


def present(
    client: httpx.Client, holder: Multikey, credential: dict[str, Any], **sign_options: Any
) -> tuple[str, dict[str, Any]]:
    challenge = client.post("/challenges").json()["challenge"]
    presentation = create_presentation(
        [credential], holder, challenge=challenge, domain=DOMAIN, **sign_options
    )
    return challenge, presentation


def submit(client: httpx.Client, challenge: str, presentation: dict[str, Any]) -> httpx.Response:
    return client.post(
        "/presentations/verify",
        json={
            "verifiablePresentation": presentation,
            "options": {"challenge": challenge, "domain": DOMAIN},
        },
    )


@pytest.mark.parametrize("holder_offset", [-BEYOND, -WITHIN, WITHIN, BEYOND])
def test_a_holder_clock_off_does_not_matter_the_challenge_does(
    verifier: httpx.Client, verifier_clock: MovableClock, holder_offset: int
) -> None:
    """The holder signs with its own (wrong) clock; the verifier judges freshness by its
    challenge, issued and expired on its own clock (600 s by default)."""
    issuer, holder = Multikey.generate(), Multikey.generate()
    now = verifier_clock.now
    credential = credential_for(issuer, holder.controller)
    created = iso(now + timedelta(seconds=holder_offset))
    challenge, presentation = present(verifier, holder, credential, created=created)
    verifier_clock.now = now + timedelta(seconds=590)  # answered just in time
    response = submit(verifier, challenge, presentation)
    assert response.status_code == 200, response.text
    assert checks(response.json(), "challenge") == [("passed", "ok")]

    challenge, presentation = present(verifier, holder, credential, created=created)
    verifier_clock.now += timedelta(seconds=601)  # answered too late
    late = submit(verifier, challenge, presentation)
    assert late.status_code == 400
    assert checks(late.json(), "challenge") == [("failed", "challenge_expired")]


def test_a_proof_expiring_a_moment_ago_by_the_verifiers_clock_is_tolerated(
    verifier: httpx.Client, verifier_clock: MovableClock
) -> None:
    issuer, holder = Multikey.generate(), Multikey.generate()
    credential = credential_for(issuer, holder.controller)
    challenge = verifier.post("/challenges").json()["challenge"]
    presentation = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": holder.controller,
        "verifiableCredential": [credential],
    }
    # a holder whose clock is 2 min behind signs a proof valid for 60 s by its clock
    expires = iso(verifier_clock.now - timedelta(seconds=60))
    signed = sign(
        presentation,
        holder,
        purpose="authentication",
        challenge=challenge,
        domain=DOMAIN,
        expires=expires,
        strict=False,
    )
    response = submit(verifier, challenge, signed)
    assert response.status_code == 200, response.text


# --------------------------------------------------------------------------- status lists


def served_list(
    lists: CountingServer,
    issuer: Multikey,
    path: str,
    *,
    valid_from: datetime,
    valid_until: datetime | None,
    revoked: tuple[int, ...] = (),
) -> str:
    bits = StatusList()
    for index in revoked:
        bits.set(index, 1)
    url = lists.url(path)
    unsigned = status_list_credential(
        url, issuer.controller, "revocation", bits.encode(), valid_from=iso(valid_from),
        valid_until=iso(valid_until) if valid_until else None,
    )  # fmt: skip
    return lists.serve(path, sign(unsigned, issuer, created=iso(valid_from)))


@pytest.mark.parametrize(
    ("list_from", "list_until", "revoked", "expected"),
    [
        (-3600, -60, False, ("passed", "ok")),  # validUntil just passed: within tolerance
        (-3600, -60, True, ("failed", "revoked")),  # … and its answer counts
        (-3600, -BEYOND, True, ("failed", "status_list_expired")),  # stale: not "revoked"
        (-3600, -BEYOND, False, ("failed", "status_list_expired")),
        (WITHIN, None, True, ("failed", "revoked")),  # list signed by a clock 4 min ahead
        (BEYOND, None, True, ("failed", "status_list_not_yet_valid")),  # 10 min: not usable
    ],
    ids=[
        "until-1min",
        "until-1min-revoked",
        "until-10min-bit-set",
        "until-10min",
        "from+4min-revoked",
        "from+10min-bit-set",
    ],
)
def test_status_lists_at_the_edge_of_their_validity(
    verifier: httpx.Client,
    verifier_clock: MovableClock,
    lists: CountingServer,
    list_from: int,
    list_until: int | None,
    revoked: bool,
    expected: tuple[str, str],
) -> None:
    issuer, holder = Multikey.generate(), Multikey.generate()
    now = verifier_clock.now
    path = f"/status/{secrets.token_hex(4)}"
    url = served_list(
        lists,
        issuer,
        path,
        valid_from=now + timedelta(seconds=list_from),
        valid_until=now + timedelta(seconds=list_until) if list_until is not None else None,
        revoked=(7,) if revoked else (),
    )
    entry = {
        "id": f"{url}#7",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "7",
        "statusListCredential": url,
    }
    credential = microcredential(issuer, holder, valid_from=now - timedelta(days=1), status=[entry])
    response = verify(verifier, credential)
    status = checks(response.json(), "status")
    assert status == [expected], response.text
    assert response.status_code == (200 if expected == ("passed", "ok") else 400)
    if expected[1] not in NEVER:
        assert not any(code in NEVER for _, code in status)


# --------------------------------------------------------------------------- issuer ahead


@contextlib.contextmanager
def issuer_server(tmp_path: Path, clock: MovableClock) -> Iterator[tuple[str, dict[str, str]]]:
    """The real issuer over HTTP (dev mode) with ``clock``; an institution and a module."""
    from issuer.config import Settings
    from issuer.main import create_app
    from issuer.services import institutions

    port = free_port()
    with fresh_database(tmp_path, "issuer") as url:
        upgrade("issuer", url)
        settings = Settings(
            database_url=url,
            public_url=f"http://127.0.0.1:{port}",
            port=port,
            dev=True,
            data_dir=tmp_path / "issuer",
            batch_workers=0,
        )
        app = create_app(
            settings, keystore=Keystore([Kek.from_secret(secrets.token_bytes(32))]), clock=clock
        )
        created = institutions.create(app.state.issuer, slug="hsr", name="Hogeschool Rijnland")
        headers = {"Authorization": f"Bearer {created.token}"}
        with live_server(app, port=port) as base_url:
            module = httpx.post(
                f"{base_url}/institutions/hsr/modules", json=module_spec(), headers=headers
            )
            assert module.status_code == 201, module.text
            yield base_url, headers


@pytest.mark.parametrize("ahead", [WITHIN, BEYOND], ids=["issuer+4min", "issuer+10min"])
def test_an_issuer_clock_ahead_of_the_verifiers(
    tmp_path: Path, verifier_clock: MovableClock, ahead: int
) -> None:
    """The issuer stamps validFrom and signs its status lists by its own, fast clock.

    Within the tolerance the verifier accepts both. Beyond it the credential is "not yet
    valid" and the list "not yet valid" — and after the registrar revokes, the verifier
    still does not say "revoked" from a list it cannot use; once its clock has caught up,
    it does.
    """
    issuer_clock = MovableClock(verifier_clock.now + timedelta(seconds=ahead))
    with issuer_server(tmp_path, issuer_clock) as (issuer_url, headers):
        holder = Multikey.generate()
        issued = httpx.post(
            f"{issuer_url}/institutions/hsr/issuances",
            json={
                "module_id": "data-wrangling",
                "learner": {"email": "jan@example.nl", "did": holder.controller},
                "result": {"grade": "8"},
            },
            headers=headers,
            timeout=60,
        )
        assert issued.status_code == 201, issued.text
        credential = issued.json()["verifiableCredential"]

        with (
            verifier_server(tmp_path, verifier_clock) as verifier_url,
            httpx.Client(base_url=verifier_url, timeout=60) as client,
        ):
            response = verify(client, credential)
            body = response.json()
            if ahead <= SKEW:
                assert response.status_code == 200, response.text
                assert checks(body, "validity") == [("passed", "ok")]
                assert set(checks(body, "status")) == {("passed", "ok")}
            else:
                assert response.status_code == 400
                assert checks(body, "validity") == [("failed", "not_yet_valid")]
                assert set(checks(body, "status")) == {("failed", "status_list_not_yet_valid")}

        revoke = httpx.post(
            f"{issuer_url}/institutions/hsr/credentials/{quote(credential['id'], safe='')}/revoke",
            json={"reason": "issued in error"},
            headers=headers,
            timeout=60,
        )
        assert revoke.status_code == 200, revoke.text

        # a fresh verifier process (no cached list) at the same moment …
        with (
            verifier_server(tmp_path, verifier_clock) as verifier_url,
            httpx.Client(base_url=verifier_url, timeout=60) as client,
        ):
            status = checks(verify(client, credential).json(), "status")
            if ahead <= SKEW:
                assert ("failed", "revoked") in status
            else:
                assert not any(code in NEVER for _, code in status), status
                assert set(status) == {("failed", "status_list_not_yet_valid")}

        # … and once the verifier's clock has caught up with the issuer's
        verifier_clock.now = issuer_clock.now
        with (
            verifier_server(tmp_path, verifier_clock) as verifier_url,
            httpx.Client(base_url=verifier_url, timeout=60) as client,
        ):
            response = verify(client, credential)
            assert ("failed", "revoked") in checks(response.json(), "status")
            assert checks(response.json(), "validity") == [("passed", "ok")]
