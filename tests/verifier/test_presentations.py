"""POST /presentations/verify and POST /challenges: holder proof, challenge and domain,
holder = subject, and challenges from this verifier accepted exactly once — also when the
second attempt goes to another instance on the same database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from credentials.keys import Multikey
from credentials.verify import create_presentation
from tests.verifier.support import microcredential, tampered

DOMAIN = "https://employer.example"


def verify(client: Any, presentation: Any, **options: Any) -> Any:
    return client.post(
        "/presentations/verify",
        json={"verifiablePresentation": presentation, "options": options},
    )


def errors(body: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["code"] for c in body["errors"]}


def check(body: dict[str, Any], check_id: str) -> tuple[str, str] | None:
    found = next((c for c in body["checks"] if c["id"] == check_id), None)
    return (found["outcome"], found["code"]) if found else None


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def test_challenges_are_fresh_random_strings(client: Any) -> None:
    first = client.post("/challenges")
    second = client.post("/challenges")
    assert first.status_code == 200
    assert first.headers["cache-control"] == "no-store"
    assert first.json()["challenge"] != second.json()["challenge"]
    assert len(first.json()["challenge"]) >= 32


def test_a_presentation_with_an_issued_challenge_verifies_once(
    client: Any, issuer_key: Multikey, holder: Multikey
) -> None:
    challenge = client.post("/challenges").json()["challenge"]
    vp = create_presentation(
        [microcredential(issuer_key, holder)], holder, challenge=challenge, domain=DOMAIN
    )
    first = verify(client, vp, challenge=challenge, domain=DOMAIN)
    assert first.status_code == 200, first.json()["errors"]
    body = first.json()
    assert check(body, "challenge") == ("passed", "ok")
    assert check(body, "holder") == ("passed", "ok")
    assert check(body, "credential[0].holder_binding") == ("passed", "ok")
    assert body["summary"]["holder"] == holder.controller
    assert body["summary"]["credentials"][0]["module"] == "Data Wrangling with Python"
    assert len(body["credentials"]) == 1 and body["credentials"][0]["verified"]

    replay = verify(client, vp, challenge=challenge, domain=DOMAIN)
    assert replay.status_code == 400
    assert errors(replay.json()) == {"challenge": "challenge_replayed"}


def test_a_challenge_used_at_one_instance_is_refused_at_another(
    make_client: Any, issuer: Multikey, holder: Multikey
) -> None:
    one, two = make_client(), make_client()
    challenge = one.post("/challenges").json()["challenge"]
    vp = create_presentation([microcredential(issuer, holder)], holder, challenge=challenge)
    assert verify(two, vp, challenge=challenge).status_code == 200
    replay = verify(one, vp, challenge=challenge)
    assert errors(replay.json()) == {"challenge": "challenge_replayed"}


def test_the_challenge_is_enforced_even_when_options_do_not_name_it(
    client: Any, issuer: Multikey, holder: Multikey
) -> None:
    challenge = client.post("/challenges").json()["challenge"]
    vp = create_presentation([microcredential(issuer, holder)], holder, challenge=challenge)
    assert verify(client, vp).status_code == 200
    assert errors(verify(client, vp).json()) == {"challenge": "challenge_replayed"}


def test_an_expired_challenge_is_refused(
    make_client: Any, issuer: Multikey, holder: Multikey
) -> None:
    clock = Clock()
    client = make_client(clock=clock, challenge_ttl=60)
    challenge = client.post("/challenges").json()["challenge"]
    vp = create_presentation([microcredential(issuer, holder)], holder, challenge=challenge)
    clock.now += timedelta(seconds=61)
    response = verify(client, vp, challenge=challenge)
    assert errors(response.json()) == {"challenge": "challenge_expired"}


def test_a_forged_presentation_does_not_use_up_the_challenge(
    client: Any, issuer: Multikey, holder: Multikey
) -> None:
    challenge = client.post("/challenges").json()["challenge"]
    genuine = create_presentation([microcredential(issuer, holder)], holder, challenge=challenge)
    forged = tampered(genuine, "proof.proofValue", "z" + "2" * 87)
    rejected = verify(client, forged, challenge=challenge)
    assert rejected.status_code == 400
    assert check(rejected.json(), "challenge") == ("skipped", "challenge_not_consumed")
    assert verify(client, genuine, challenge=challenge).status_code == 200


def test_a_wrong_challenge_or_domain_fails_the_proof_purpose(
    client: Any, issuer: Multikey, holder: Multikey
) -> None:
    vp = create_presentation(
        [microcredential(issuer, holder)], holder, challenge="abc", domain=DOMAIN
    )
    wrong_challenge = verify(client, vp, challenge="xyz", domain=DOMAIN).json()
    assert errors(wrong_challenge)["proof_purpose"] == "challenge_mismatch"
    wrong_domain = verify(client, vp, challenge="abc", domain="https://other.example").json()
    assert errors(wrong_domain)["proof_purpose"] == "domain_mismatch"


def test_a_challenge_not_issued_here_is_checked_but_not_tracked(
    client: Any, issuer: Multikey, holder: Multikey
) -> None:
    vp = create_presentation([microcredential(issuer, holder)], holder, challenge="caller-nonce")
    body = verify(client, vp, challenge="caller-nonce").json()
    assert body["verified"]
    assert check(body, "challenge") == ("skipped", "challenge_external")


def test_a_presentation_without_challenge_or_domain_warns_of_replay(
    client: Any, issuer: Multikey, holder: Multikey
) -> None:
    vp = create_presentation([microcredential(issuer, holder)], holder)
    body = verify(client, vp).json()
    assert check(body, "proof_purpose") == ("warning", "no_challenge_checked")


def test_a_credential_of_someone_else_conforms_but_fails_the_holder_policy(
    client: Any, issuer: Multikey, holder: Multikey
) -> None:
    """VCDM 2.0: a holder who is not the subject is conforming (a warning at the VC-API);
    ``holder-is-subject`` refuses it as a named policy."""
    someone_else = Multikey.generate()
    vp = create_presentation([microcredential(issuer, someone_else)], holder, challenge="c")
    response = verify(client, vp, challenge="c")
    assert response.status_code == 200, response.json()["errors"]
    assert check(response.json(), "credential[0].holder_binding") == (
        "warning",
        "holder_not_subject",
    )
    vp = create_presentation([microcredential(issuer, someone_else)], holder, challenge="c2")
    strict = verify(client, vp, challenge="c2", policies=["holder-is-subject"])
    assert strict.status_code == 400
    assert errors(strict.json()) == {"credential[0].policy": "policy_holder_not_subject"}


def test_a_tampered_embedded_credential_fails_with_the_credential_named(
    client: Any, issuer: Multikey, holder: Multikey
) -> None:
    credential = tampered(microcredential(issuer, holder), "credentialSubject.achievement.ects", 30)
    vp = create_presentation([credential], holder, challenge="c")
    body = verify(client, vp, challenge="c").json()
    assert "credential[0].proof" in errors(body)
    assert body["credentials"][0]["verified"] is False


def test_a_presentation_not_signed_by_its_holder_fails(
    client: Any, issuer: Multikey, holder: Multikey
) -> None:
    vp = create_presentation([microcredential(issuer, holder)], holder, challenge="c")
    vp["holder"] = Multikey.generate().controller
    body = verify(client, vp, challenge="c").json()
    assert not body["verified"]
    assert "proof" in errors(body)


def test_malformed_presentation_bodies_get_the_report_shape(client: Any) -> None:
    for content in (b"{", b"[]", b'{"presentation": {}}', b'{"verifiablePresentation": []}'):
        response = client.post(
            "/presentations/verify", content=content, headers={"content-type": "application/json"}
        )
        assert response.status_code == 400, content
        body = response.json()
        assert body["verified"] is False and "structure" in errors(body)
    bad_options = client.post(
        "/presentations/verify",
        json={"verifiablePresentation": {}, "options": {"challenge": 5}},
    )
    assert errors(bad_options.json()) == {"structure": "invalid_request"}
