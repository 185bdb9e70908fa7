"""Open Badges 2.0 in the core: hosted and signed assertions against a real local host.

The host (tests/support/badge_host.py) is a threaded HTTP server on 127.0.0.1 serving
edubadges-shaped fixtures; the verifier fetches through the real SafeFetcher (dev mode lets
loopback through; production mode must refuse it before sending anything).
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from credentials.fetch import FetchPolicy, SafeFetcher
from credentials.microcredential import identity_matches
from credentials.ob2 import (
    FORMAT_HOSTED,
    FORMAT_SIGNED,
    is_ob2,
    read_ob2,
    sign_ob2,
    verify_with,
)
from credentials.reading import read_credential
from credentials.rules import Route, evaluate
from credentials.setup import default_verifier
from credentials.verify import Verifier
from tests.support.badge_host import ASSERTION, BADGE, ISSUER, REVOCATIONS, BadgeHost, badge_host

NOW = datetime(2026, 1, 15, tzinfo=UTC)


@pytest.fixture
def host() -> Iterator[BadgeHost]:
    with badge_host() as running:
        yield running


@pytest.fixture
def dev() -> Verifier:
    return default_verifier(allow_insecure=True)


def outcome(report: Any, check_id: str) -> tuple[str, str] | None:
    check = report.outcome_of(check_id)
    return (check.outcome, check.code) if check else None


# --------------------------------------------------------------------------- hosted


def test_a_hosted_edubadges_assertion_verifies_and_reads(host: BadgeHost, dev: Verifier) -> None:
    assertion = host.publish_edubadges()
    result = verify_with(dev, assertion, now=NOW)
    report = result.report
    assert report.verified, report.to_dict()
    assert report.summary["format"] == FORMAT_HOSTED == "Open Badges 2.0 · hosted"
    hosting = report.outcome_of("hosting")
    assert hosting is not None and hosting.outcome == "warning"
    assert "only as trustworthy as the server that hosts it" in hosting.message
    assert outcome(report, "status") == ("passed", "ok")
    assert host.requests == [ASSERTION, BADGE, ISSUER, REVOCATIONS]
    # the same entry point as any credential
    assert dev.verify_credential(assertion, now=NOW).verified

    view = read_credential(result.resolved)
    assert view.title == "Statistics for Data Science"
    assert view.achievement_id == host.url(BADGE)
    assert (view.ects, view.eqf_level, view.hours, view.language) == (5.0, 6, 140.0, "en")
    assert view.issuer_id == host.url(ISSUER)
    assert view.issuer_name == "Universiteit van Amsterdam – Informatica"
    assert view.issuer_url == "https://www.uva.nl/"
    assert view.issued == datetime(2025, 6, 30, 12, tzinfo=UTC)
    assert view.credential_id == host.url(ASSERTION)
    (identity,) = view.holder_identities
    assert identity_matches(identity, "Jan@Example.nl")
    assert not identity_matches(identity, "piet@example.nl")


def test_the_resolved_assertion_verifies_again(host: BadgeHost, dev: Verifier) -> None:
    """What a wallet stores (BadgeClass embedded) is checked against the host again."""
    resolved = verify_with(dev, host.publish_edubadges(), now=NOW).resolved
    assert resolved is not None and isinstance(resolved["badge"], dict)
    assert dev.verify_credential(resolved, now=NOW).verified


def test_a_tampered_assertion_is_refused(host: BadgeHost, dev: Verifier) -> None:
    assertion = host.publish_edubadges()
    assertion["issuedOn"] = "2020-01-01T00:00:00Z"
    report = dev.verify_credential(assertion, now=NOW)
    assert not report.verified
    assert outcome(report, "proof") == ("failed", "ob2_hosted_mismatch")
    assert "issuedOn" in report.outcome_of("proof").message


def test_a_tampered_embedded_badgeclass_is_refused(host: BadgeHost, dev: Verifier) -> None:
    resolved = verify_with(dev, host.publish_edubadges(), now=NOW).resolved
    forged = copy.deepcopy(resolved)
    forged["badge"]["extensions:ECTSExtension"]["ECTS"] = 30
    report = dev.verify_credential(forged, now=NOW)
    assert outcome(report, "proof") == ("failed", "ob2_hosted_mismatch")


def test_a_badgeclass_of_another_issuer_is_refused(host: BadgeHost, dev: Verifier) -> None:
    assertion = host.publish_edubadges()
    badge = host.fixture("badgeclass")
    badge["id"] = host.url("/public/badges/other")
    host.serve("/public/badges/other", badge)
    host.serve(BADGE, {**badge, "id": host.url(BADGE) + "-moved"})  # names itself otherwise
    report = dev.verify_credential(assertion, now=NOW)
    assert outcome(report, "badge_class") == ("failed", "ob2_link_mismatch")


@pytest.mark.parametrize("how", ["revoked_flag", "revocation_list", "gone"], ids=lambda how: how)
def test_a_revoked_assertion_is_refused(host: BadgeHost, dev: Verifier, how: str) -> None:
    assertion = host.publish_edubadges()
    if how == "revoked_flag":
        host.serve(ASSERTION, {**assertion, "revoked": True, "revocationReason": "fraud"})
        assertion = {**assertion, "revoked": True, "revocationReason": "fraud"}
    elif how == "revocation_list":
        listing = host.fixture("revocations")
        listing["revokedAssertions"].append({"id": assertion["id"], "revocationReason": "fraud"})
        host.serve(REVOCATIONS, listing)
    else:
        host.serve(ASSERTION, {"revoked": True}, status=410)
    report = dev.verify_credential(assertion, now=NOW)
    assert not report.verified
    assert outcome(report, "status") == ("failed", "revoked")
    if how != "gone":
        assert "fraud" in report.outcome_of("status").message


def test_an_unreachable_revocation_list_is_a_warning(host: BadgeHost, dev: Verifier) -> None:
    assertion = host.publish_edubadges()
    del host.routes[REVOCATIONS]
    report = dev.verify_credential(assertion, now=NOW)
    assert outcome(report, "status") == ("warning", "status_unknown")
    assert report.verified


def test_an_expired_assertion_is_refused(host: BadgeHost, dev: Verifier) -> None:
    assertion = {**host.publish_edubadges(), "expires": "2025-12-31T00:00:00Z"}
    host.serve(ASSERTION, assertion)
    report = dev.verify_credential(assertion, now=NOW)
    assert outcome(report, "validity") == ("failed", "expired")
    assert read_ob2(assertion).valid_until == datetime(2025, 12, 31, tzinfo=UTC)


def test_an_assertion_outside_allowed_origins_is_refused(host: BadgeHost, dev: Verifier) -> None:
    assertion = host.publish_edubadges()
    issuer = host.fixture("issuer")
    issuer["verification"] = {"type": "VerificationObject", "allowedOrigins": "badges.uva.nl"}
    host.serve(ISSUER, issuer)
    report = dev.verify_credential(assertion, now=NOW)
    assert not report.verified
    assert outcome(report, "origin") == ("failed", "ob2_origin_not_allowed")
    assert "badges.uva.nl" in report.outcome_of("origin").message


def test_a_badgeclass_on_another_origin_is_refused(host: BadgeHost, dev: Verifier) -> None:
    """The issuer's profile lives on 127.0.0.1; the same server reached as 'localhost' is
    another origin, and the issuer allows only its own."""
    assertion = host.publish_edubadges()
    other = host.url(BADGE).replace("127.0.0.1", "localhost")
    badge = {**host.fixture("badgeclass"), "id": other}
    host.serve(BADGE, badge)
    for document in (assertion, host.routes[ASSERTION].body):
        document["badge"] = other
    report = dev.verify_credential(assertion, now=NOW)
    assert outcome(report, "origin") == ("failed", "ob2_origin_not_allowed")
    assert "BadgeClass" in report.outcome_of("origin").message


def test_starts_with_is_honoured(host: BadgeHost, dev: Verifier) -> None:
    assertion = host.publish_edubadges()
    issuer = host.fixture("issuer")
    issuer["verification"] = {"startsWith": host.url("/public/")}
    host.serve(ISSUER, issuer)
    assert dev.verify_credential(assertion, now=NOW).verified
    issuer["verification"] = {"startsWith": host.url("/elsewhere/")}
    host.serve(ISSUER, issuer)
    report = dev.verify_credential(assertion, now=NOW)
    assert outcome(report, "origin") == ("failed", "ob2_origin_not_allowed")


def test_production_mode_fetches_nothing_from_a_private_address(host: BadgeHost) -> None:
    assertion = host.publish_edubadges()
    production = default_verifier(fetcher=SafeFetcher(FetchPolicy()))
    report = production.verify_credential(assertion, now=NOW)
    assert not report.verified
    assert outcome(report, "proof") == ("failed", "fetch_refused_scheme")
    https = {**assertion, "id": assertion["id"].replace("http://", "https://")}
    report = production.verify_credential(https, now=NOW)
    assert outcome(report, "proof") == ("failed", "fetch_refused_address")
    assert "loopback" in report.outcome_of("proof").message
    assert host.requests == []


def test_a_redirect_loop_is_refused(host: BadgeHost, dev: Verifier) -> None:
    assertion = host.publish_edubadges()
    host.redirect(ASSERTION, ASSERTION)
    report = dev.verify_credential(assertion, now=NOW)
    assert outcome(report, "proof") == ("failed", "fetch_too_many_redirects")
    assert len(host.requests) == 4  # the first request and three redirects, then it stops


def test_a_20_mb_response_is_refused(host: BadgeHost, dev: Verifier) -> None:
    assertion = host.publish_edubadges()
    host.huge(BADGE, 20 * 1024 * 1024)
    report = dev.verify_credential(assertion, now=NOW)
    assert outcome(report, "badge_class") == ("failed", "fetch_too_large")
    assert "exceeds the limit" in report.outcome_of("badge_class").message


def test_not_an_assertion_or_no_verification_is_a_structure_failure(dev: Verifier) -> None:
    document = {"@context": "https://w3id.org/openbadges/v2", "type": "Assertion", "id": "x"}
    report = dev.verify_credential(document, now=NOW)
    assert outcome(report, "structure") == ("failed", "ob2_invalid")
    document["verification"] = {"type": "HostedBadge"}
    report = dev.verify_credential(document, now=NOW)
    assert outcome(report, "structure") == ("failed", "ob2_invalid")
    assert "no recipient" in report.outcome_of("structure").message


# --------------------------------------------------------------------------- signed


def _signed_setup(host: BadgeHost, key: Any, alg: str) -> dict[str, Any]:
    host.publish_edubadges()
    key_url = host.url("/public/issuers/UvA-informatica/keys/1")
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    host.serve(
        key_url.removeprefix(host.base),
        {
            "@context": "https://w3id.org/openbadges/v2",
            "type": "CryptographicKey",
            "id": key_url,
            "owner": host.url(ISSUER),
            "publicKeyPem": pem.decode(),
        },
    )
    issuer = {**host.fixture("issuer"), "publicKey": key_url}
    host.serve(ISSUER, issuer)
    assertion = host.fixture("assertion")
    assertion["id"] = f"urn:uuid:{uuid.uuid4()}"
    assertion["verification"] = {"type": "SignedBadge", "creator": key_url}
    return assertion


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_a_signed_assertion_verifies(host: BadgeHost, dev: Verifier, alg: str) -> None:
    key = (
        rsa.generate_private_key(65537, 2048)
        if alg == "RS256"
        else ec.generate_private_key(ec.SECP256R1())
    )
    assertion = _signed_setup(host, key, alg)
    jws = sign_ob2(assertion, key, alg=alg)
    assert is_ob2(jws)
    result = verify_with(dev, jws, now=NOW)
    assert result.report.verified, result.report.to_dict()
    assert result.report.summary["format"] == FORMAT_SIGNED
    assert outcome(result.report, "proof") == ("passed", "ob2_signed")
    assert result.report.outcome_of("hosting") is None  # a signature proves the issuer
    # kept as an object (what a wallet stores), it verifies again
    assert result.resolved is not None and result.resolved["jws"] == jws
    assert dev.verify_credential(result.resolved, now=NOW).verified
    assert read_credential(result.resolved).ects == 5.0


def test_a_tampered_signed_assertion_is_refused(host: BadgeHost, dev: Verifier) -> None:
    key = rsa.generate_private_key(65537, 2048)
    assertion = _signed_setup(host, key, "RS256")
    jws = sign_ob2(assertion, key)
    header, _payload, signature = jws.split(".")
    forged = sign_ob2({**assertion, "issuedOn": "2019-01-01T00:00:00Z"}, key).split(".")[1]
    report = dev.verify_credential(f"{header}.{forged}.{signature}", now=NOW)
    assert outcome(report, "proof") == ("failed", "invalid_signature")
    # the object form whose content differs from its JWS
    kept = verify_with(dev, jws, now=NOW).resolved
    report = dev.verify_credential({**kept, "issuedOn": "2019-01-01T00:00:00Z"}, now=NOW)
    assert outcome(report, "proof") == ("failed", "ob2_signature_mismatch")


def test_a_key_the_issuer_does_not_list_is_refused(host: BadgeHost, dev: Verifier) -> None:
    key = rsa.generate_private_key(65537, 2048)
    assertion = _signed_setup(host, key, "RS256")
    host.serve(ISSUER, host.fixture("issuer"))  # no publicKey
    report = dev.verify_credential(sign_ob2(assertion, key), now=NOW)
    assert outcome(report, "issuer") == ("failed", "ob2_key_not_issuers")
    assert not report.verified


# --------------------------------------------------------------------------- rules


def test_route_rules_count_an_ob2_badge(host: BadgeHost, dev: Verifier) -> None:
    resolved = verify_with(dev, host.publish_edubadges(), now=NOW).resolved
    route = Route.from_dict(
        {
            "id": "minor-ds",
            "name": "Minor Data Science",
            "min_ects": 5,
            "min_eqf_level": 6,
            "required_modules": [{"id": "stats", "name": "Statistics", "keywords": ["statistic"]}],
        }
    )
    result = evaluate(route, [read_credential(resolved)], now=NOW)
    assert result.satisfied, result.to_dict()
    assert result.ects_total == 5.0
    too_much = Route.from_dict({**route.to_dict(), "min_ects": 6})
    assert not evaluate(too_much, [read_credential(resolved)], now=NOW).satisfied
    old = NOW + timedelta(days=365 * 3)
    aged = Route.from_dict({**route.to_dict(), "max_age_years": 2})
    assert not evaluate(aged, [read_credential(resolved)], now=old).satisfied


@pytest.mark.parametrize(
    "change",
    [
        {"badge": ["not", "a", "badge"]},
        {"recipient": {"identity": 5}},
        {"issuedOn": "yesterday"},
        {"verification": {"type": "SignedBadge", "creator": "x"}, "jws": "not.a.jws.at.all"},
        {"verification": {"type": "SignedBadge", "creator": "http://[::1"}, "jws": "a.b.c"},
        {"id": "http://[::1"},
    ],
)
def test_malformed_assertions_are_findings_not_crashes(
    host: BadgeHost, dev: Verifier, change: dict[str, Any]
) -> None:
    assertion = {**host.publish_edubadges(), **change}
    report = dev.verify_credential(assertion, now=NOW)
    assert not report.verified
    assert report.failed and all(c.code for c in report.failed)


def test_a_linked_document_of_the_wrong_shape_is_a_finding(host: BadgeHost, dev: Verifier) -> None:
    assertion = host.publish_edubadges()
    host.serve(BADGE, {**host.fixture("badgeclass"), "issuer": {"id": ["a", "list"]}})
    report = dev.verify_credential(assertion, now=NOW)
    assert not report.verified and report.failed


def test_profile_required_is_not_met_by_an_ob2_badge(host: BadgeHost) -> None:
    """OB 2.0 has no EU micro-credential profile: under ``profile-required`` the genuine
    badge fails that policy by name (its proof still passed), and only under it."""
    strict = default_verifier(allow_insecure=True, policies=["profile-required"])
    report = strict.verify_credential(host.publish_edubadges(), now=NOW)
    assert [(c.id, c.code) for c in report.failed] == [("policy", "policy_profile_required")]
    assert outcome(report, "proof") == ("passed", "ob2_hosted")
    assert (
        default_verifier(allow_insecure=True)
        .verify_credential(host.publish_edubadges(), now=NOW)
        .verified
    )
