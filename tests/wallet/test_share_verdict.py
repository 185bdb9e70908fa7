"""Issue 14, item 6: the share page vouched too much, and share presentations lived for ever.

- the page said "The learner's wallet verified this credential" for a self-signed
  credential from an unknown issuer, and for one revoked after sharing;
- a presentation captured before the share was revoked still verified.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from credentials.keys import Multikey
from credentials.proofs import parse_datetime
from credentials.verify import Verifier
from tests.wallet.conftest import WalletHarness
from tests.wallet.fakes import credential_for


def _share(wallet: WalletHarness, account: Any, credential_id: str) -> str:
    share = wallet.client.post(
        "/api/shares",
        json={"credentialIds": [credential_id], "expiresIn": 3600},
        headers=account.headers,
    ).json()
    return "/s/" + share["url"].rsplit("/", 1)[1]


def _known(wallet: WalletHarness, did: str) -> None:
    wallet.client.app.state.services.known.names[did] = "Hogeschool Test"


def test_a_self_signed_credential_from_an_unknown_issuer_is_not_vouched_for(
    wallet: WalletHarness,
) -> None:
    account = wallet.signup()
    stranger = Multikey.generate()  # "issued" by the learner's friend, or by themselves
    link = _share(wallet, account, wallet.store(account, credential_for(stranger, account.did)))
    page = wallet.client.post(link).text
    assert 'data-state="verified"' not in page
    assert 'data-state="untrusted"' in page and "Instelling onbekend" in page


def test_a_credential_revoked_after_sharing_is_shown_as_revoked(wallet: WalletHarness) -> None:
    issuer = wallet.internet.issuer
    _known(wallet, issuer.key.controller)
    account = wallet.signup()
    credential = credential_for(issuer.key, account.did, status=issuer.status_entry())
    link = _share(wallet, account, wallet.store(account, credential))
    before = wallet.client.post(link).text
    assert 'data-verdict="verified"' in before and "Ingetrokken" not in before
    issuer.revoke(credential)  # after sharing; the wallet's list cache still says active
    after = wallet.client.post(link).text
    assert 'data-verdict="revoked"' in after and "Ingetrokken" in after
    assert 'data-verdict="verified"' not in after


def test_share_presentations_are_short_lived_and_signed_afresh(wallet: WalletHarness) -> None:
    account = wallet.signup()
    link = _share(wallet, account, wallet.store(account))
    json_accept = {"Accept": "application/json"}
    first = wallet.client.get(link, headers=json_accept).json()
    second = wallet.client.get(link, headers=json_accept).json()
    assert first["proof"]["proofValue"] != second["proof"]["proofValue"]
    created = parse_datetime(first["proof"]["created"])
    expires = parse_datetime(first["proof"]["expires"])
    assert timedelta(0) < expires - created <= timedelta(minutes=5)
    # a captured presentation stops verifying once its proof has expired (beyond the skew)
    verifier = Verifier()
    proof = first["proof"]
    fresh, _ = verifier.verify_presentation(
        first, challenge=proof["challenge"], domain=proof["domain"], now=created,
        check_status=False,
    )  # fmt: skip
    assert fresh.outcome_of("proof").outcome == "passed", fresh.to_dict()
    later, _ = verifier.verify_presentation(
        first, challenge=proof["challenge"], domain=proof["domain"],
        now=expires + verifier.clock_skew + timedelta(seconds=1), check_status=False,
    )  # fmt: skip
    assert later.outcome_of("proof").code == "proof_expired"
