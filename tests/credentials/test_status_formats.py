"""check_status over the older list formats (StatusList2021, the 1EdTech revocation list)
and replayed lists, against the same counting local server as test_status.py."""

from __future__ import annotations

import base64
import gzip

import pytest

from credentials.fetch import SafeFetcher
from credentials.status import StatusListCache
from credentials.status_list import status_entry
from tests.credentials.status_server import (
    ISSUER,
    StatusServer,
    make_credential,
    make_list,
    only,
    run,
)

# --------------------------------------------------------------------------- StatusList2021


def make_2021_list(
    url: str, purpose: str = "revocation", set_indexes: tuple[int, ...] = ()
) -> dict:
    """A VCDM 1.1 StatusList2021Credential: encodedList is base64url GZIP, no multibase."""
    bits = bytearray(16 * 1024)
    for index in set_indexes:
        bits[index // 8] |= 0x80 >> (index % 8)
    encoded = base64.urlsafe_b64encode(gzip.compress(bytes(bits))).rstrip(b"=").decode()
    return {
        "@context": [
            "https://www.w3.org/2018/credentials/v1",
            "https://w3id.org/vc/status-list/2021/v1",
        ],
        "id": url,
        "type": ["VerifiableCredential", "StatusList2021Credential"],
        "issuer": ISSUER,
        "issuanceDate": "2025-01-01T00:00:00Z",
        "credentialSubject": {
            "id": url + "#list",
            "type": "StatusList2021",
            "statusPurpose": purpose,
            "encodedList": encoded,
        },
        "proof": {"type": "Ed25519Signature2020", "proofValue": "zFake"},
    }


def entry_2021(url: str, index: int, purpose: str = "revocation") -> dict:
    return {
        "id": f"{url}#{index}",
        "type": "StatusList2021Entry",
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": url,
    }


def test_status_list_2021_revoked_and_not(
    server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache
) -> None:
    url = server.serve("/2021/1", make_2021_list(server.url("/2021/1"), set_indexes=(94567,)))
    revoked = only(run(make_credential(entry_2021(url, 94567)), fetcher, cache))
    assert (revoked.outcome, revoked.code) == ("failed", "revoked")
    fine = only(run(make_credential(entry_2021(url, 94566)), fetcher, cache))
    assert fine.outcome == "passed"


def test_status_list_2021_entry_needs_a_2021_list(
    server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache
) -> None:
    url = server.serve("/status/1", make_list(server.url("/status/1")))
    check = only(run(make_credential(entry_2021(url, 3)), fetcher, cache))
    assert (check.outcome, check.code) == ("failed", "status_list_not_a_credential")
    assert "StatusList2021Credential" in check.message


def test_status_list_2021_expired_list_by_expiration_date(
    server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache
) -> None:
    document = make_2021_list(server.url("/2021/old"))
    document["expirationDate"] = "2026-01-01T00:00:00Z"
    url = server.serve("/2021/old", document)
    check = only(run(make_credential(entry_2021(url, 3)), fetcher, cache))
    assert (check.outcome, check.code) == ("failed", "status_list_expired")


# --------------------------------------------------------------------------- 1EdTech


CREDENTIAL_ID = "https://issuer.example/credentials/3732"


def revocation_list(*revoked: dict, issuer: str | None = ISSUER) -> dict:
    document: dict = {"id": "https://issuer.example/r", "revokedCredentials": list(revoked)}
    if issuer is not None:
        document["issuer"] = issuer
    return document


def edtech_credential(url: str, credential_id: str | None = CREDENTIAL_ID) -> dict:
    credential = make_credential({"id": url, "type": "1EdTechRevocationList"})
    if credential_id:
        credential["id"] = credential_id
    return credential


def test_1edtech_revocation_list_names_the_revoked_credential(
    server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache
) -> None:
    url = server.serve(
        "/revocations",
        revocation_list({"id": CREDENTIAL_ID, "revocationReason": "issued in error"}),
    )
    check = only(run(edtech_credential(url), fetcher, cache))
    assert (check.outcome, check.code) == ("failed", "revoked")
    assert "issued in error" in check.message


def test_1edtech_revocation_list_entry_with_revoked_true_or_false(
    server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache
) -> None:
    """VCRL 1.0 (the method OB 3.0 § "OpenBadgeCredential Verification" defers to): a
    listed credential is revoked when its entry's ``revoked`` is true or omitted; an entry
    with ``revoked: false`` (reinstated) is not a revocation."""
    revoked = server.serve("/revoked", revocation_list({"id": CREDENTIAL_ID, "revoked": True}))
    check = only(run(edtech_credential(revoked), fetcher, cache))
    assert (check.outcome, check.code) == ("failed", "revoked")
    reinstated = server.serve(
        "/reinstated", revocation_list({"id": CREDENTIAL_ID, "revoked": False})
    )
    assert only(run(edtech_credential(reinstated), fetcher, cache)).outcome == "passed"
    garbled = server.serve("/garbled", revocation_list({"id": CREDENTIAL_ID, "revoked": "no"}))
    check = only(run(edtech_credential(garbled), fetcher, cache))
    assert (check.outcome, check.code) == ("failed", "status_list_not_a_credential")


def test_1edtech_revocation_list_without_the_credential_passes(
    server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache
) -> None:
    url = server.serve("/revocations", revocation_list({"id": "https://issuer.example/c/other"}))
    assert only(run(edtech_credential(url), fetcher, cache)).outcome == "passed"
    empty = server.serve("/empty", {"id": "https://issuer.example/empty"})  # 0..* entries
    assert only(run(edtech_credential(empty), fetcher, cache)).outcome == "passed"


@pytest.mark.parametrize(
    ("document", "credential_id", "outcome", "code"),
    [
        (revocation_list(issuer="did:example:other"), CREDENTIAL_ID, "failed",
         "status_list_issuer_mismatch"),
        ({"revokedCredentials": ["https://x"]}, CREDENTIAL_ID, "failed",
         "status_list_not_a_credential"),
        (revocation_list(), None, "warning", "status_unknown"),
    ],
)  # fmt: skip
def test_1edtech_revocation_list_refusals(
    server: StatusServer,
    fetcher: SafeFetcher,
    cache: StatusListCache,
    document: dict,
    credential_id: str | None,
    outcome: str,
    code: str,
) -> None:
    url = server.serve("/revocations", document)
    check = only(run(edtech_credential(url, credential_id), fetcher, cache))
    assert (check.outcome, check.code) == (outcome, code)


def test_1edtech_revocation_list_unreachable_is_unknown_not_revoked(
    server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache
) -> None:
    check = only(run(edtech_credential(server.url("/missing")), fetcher, cache))
    assert (check.outcome, check.code) == ("warning", "status_unknown")


# --------------------------------------------------------------------------- replay (issue 14.5)
# Before: the list id was not compared with its URL, and an old signed list replayed at the
# list's URL (from before a revocation) made a revoked credential verify again.

NO_STORE = {"Cache-Control": "no-store"}


def test_a_list_signed_for_another_url_is_refused(
    server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache
) -> None:
    other = make_list(server.url("/status/other"))  # genuine, but the list of another URL
    url = server.serve("/status/mine", other)
    check = only(run(make_credential(status_entry(url, 5, "revocation")), fetcher, cache))
    assert (check.outcome, check.code) == ("failed", "status_list_id_mismatch")


def test_an_old_list_replayed_after_a_revocation_is_stale(
    server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache
) -> None:
    url = server.url("/status/1")
    before = make_list(url)  # validFrom 2025-01-01, nothing revoked
    after = make_list(url, set_indexes=(5,))
    after["validFrom"] = "2025-03-01T00:00:00Z"
    credential = make_credential(status_entry(url, 5, "revocation"))
    server.serve("/status/1", after, headers=NO_STORE)
    assert only(run(credential, fetcher, cache)).code == "revoked"
    server.serve("/status/1", before, headers=NO_STORE)  # the attacker replays the old list
    check = only(run(credential, fetcher, cache))
    assert (check.outcome, check.code) == ("failed", "status_list_stale")


def test_an_older_copy_with_the_same_bits_is_no_replay(
    server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache
) -> None:
    url = server.url("/status/1")
    newer = make_list(url)
    newer["validFrom"] = "2025-03-01T00:00:00Z"
    credential = make_credential(status_entry(url, 5, "revocation"))
    server.serve("/status/1", newer, headers=NO_STORE)
    assert only(run(credential, fetcher, cache)).outcome == "passed"
    server.serve("/status/1", make_list(url), headers=NO_STORE)  # re-signed earlier, same bits
    assert only(run(credential, fetcher, cache)).outcome == "passed"


def test_a_list_past_its_valid_until_is_refused(
    server: StatusServer, fetcher: SafeFetcher, cache: StatusListCache
) -> None:
    url = server.url("/status/1")
    server.serve("/status/1", make_list(url, valid_until="2025-01-02T00:00:00Z"))
    check = only(run(make_credential(status_entry(url, 5, "revocation")), fetcher, cache))
    assert (check.outcome, check.code) == ("failed", "status_list_expired")
