"""Share links: a holder-signed presentation at an unguessable URL, a QR of it, expiry,
revocation, view limits and an access log the learner can read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from credentials.verify import Verifier
from tests.wallet.conftest import PUBLIC_URL, Account, WalletHarness
from tests.wallet.qr import decode_png, decode_svg, png_matrix, svg_matrix

REPO = Path(__file__).resolve().parents[2]


def _share(wallet: WalletHarness, account: Account, ids: list[str], **extra: object) -> dict:
    response = wallet.client.post(
        "/api/shares",
        json={"credentialIds": ids, "expiresIn": 3600, **extra},
        headers=account.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


def _path(url: str) -> str:
    return urlsplit(url).path


def _fetch(
    wallet: WalletHarness, url: str, accept: str = "application/json", agent: str = "curl/8"
) -> object:
    return wallet.client.get(_path(url), headers={"Accept": accept, "User-Agent": agent})


def _open(wallet: WalletHarness, url: str, agent: str = "Mozilla/5.0") -> object:
    """A person pressing the landing page's button: the credentials, one view."""
    return wallet.client.post(_path(url), headers={"Accept": "text/html", "User-Agent": agent})


def test_share_link_serves_a_presentation_that_verifies(wallet: WalletHarness) -> None:
    account = wallet.signup()
    ids = [wallet.store(account), wallet.store(account)]
    share = _share(wallet, account, ids)
    assert share["url"].startswith(f"{PUBLIC_URL}/s/")
    assert len(share["url"].rsplit("/", 1)[1]) >= 43  # 256-bit token
    response = _fetch(wallet, share["url"])
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    vp = response.json()
    proof = vp["proof"]
    assert proof["proofPurpose"] == "authentication"
    assert proof["domain"] == share["url"]
    assert proof["verificationMethod"].startswith(account.did)
    assert vp["holder"] == account.did and len(vp["verifiableCredential"]) == 2
    report, _ = Verifier().verify_presentation(
        vp, challenge=proof["challenge"], domain=share["url"], check_status=False
    )
    assert report.verified, report.to_dict()
    wrong, _ = Verifier().verify_presentation(
        vp, challenge=proof["challenge"], domain=f"{PUBLIC_URL}/s/other", check_status=False
    )
    assert not wrong.verified
    # the challenge is the share's own value: the same on every fetch, different per share
    again = _fetch(wallet, share["url"]).json()["proof"]["challenge"]
    other = _share(wallet, account, ids[:1])
    assert again == proof["challenge"]
    assert _fetch(wallet, other["url"]).json()["proof"]["challenge"] != proof["challenge"]


def test_share_link_verifies_with_the_microcred_command(
    wallet: WalletHarness, tmp_path: Path
) -> None:
    account = wallet.signup()
    share = _share(wallet, account, [wallet.store(account)])
    vp = _fetch(wallet, share["url"]).json()
    path = tmp_path / "vp.json"
    path.write_text(json.dumps(vp))
    command = [
        str(REPO / ".venv/bin/microcred"),
        "verify",
        str(path),
        "--challenge",
        vp["proof"]["challenge"],
        "--domain",
        share["url"],
    ]
    # PYTHONPATH: the installed command does not package servicekit yet (pyproject's
    # packages.find), and every service's CLI module imports it when microcred starts
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=120, check=False, env=env
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["verified"] is True
    wrong = subprocess.run(
        [*command[:-1], share["url"] + "x"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert wrong.returncode == 1
    assert sys.executable  # the venv's interpreter ran the command


def test_qr_images_decode_to_the_exact_url(wallet: WalletHarness) -> None:
    account = wallet.signup()
    share = _share(wallet, account, [wallet.store(account)])
    assert decode_png(share["qrPng"]) == [share["url"]]
    assert share["qrSvg"].lstrip().startswith("<svg")
    assert decode_svg(share["qrSvg"]) == [share["url"]]
    assert svg_matrix(share["qrSvg"]) == png_matrix(share["qrPng"])


def test_people_get_a_readable_escaped_page(wallet: WalletHarness) -> None:
    account = wallet.signup()
    stored = wallet.store(account, name="<script>alert('x')</script> Data")
    share = _share(wallet, account, [stored])
    landing = _fetch(
        wallet,
        share["url"],
        accept="text/html,application/xhtml+xml,*/*;q=0.8",
        agent="Mozilla/5.0",
    )
    assert landing.status_code == 200 and "Hogeschool Rijnland" not in landing.text
    page = _open(wallet, share["url"])
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "&lt;script&gt;" in page.text and "<script>alert" not in page.text
    assert "Hogeschool Rijnland" in page.text
    assert (
        _fetch(wallet, share["url"], accept="*/*").headers["content-type"].startswith("text/html")
    )


def test_revoked_share_is_gone(wallet: WalletHarness) -> None:
    account = wallet.signup()
    share = _share(wallet, account, [wallet.store(account)])
    assert (
        wallet.client.delete(f"/api/shares/{share['id']}", headers=account.headers).status_code
        == 204
    )
    response = _fetch(wallet, share["url"])
    assert response.status_code == 410
    assert response.json()["code"] == "share_revoked"
    assert _fetch(wallet, share["url"], accept="text/html").status_code == 410


def test_expired_share_is_gone(wallet: WalletHarness) -> None:
    account = wallet.signup()
    share = _share(wallet, account, [wallet.store(account)])
    wallet.clock.advance(3601)
    response = _fetch(wallet, share["url"])
    assert response.status_code == 410 and response.json()["code"] == "share_expired"
    listed = wallet.client.get("/api/shares", headers=account.headers).json()
    assert listed[0]["state"] == "expired"


def test_view_limit(wallet: WalletHarness) -> None:
    account = wallet.signup()
    share = _share(wallet, account, [wallet.store(account)], maxViews=2)
    assert _fetch(wallet, share["url"]).status_code == 200
    assert _open(wallet, share["url"]).status_code == 200
    third = _fetch(wallet, share["url"])
    assert third.status_code == 410 and third.json()["code"] == "share_exhausted"
    listed = wallet.client.get("/api/shares", headers=account.headers).json()[0]
    assert listed["views"] == 2 and listed["state"] == "exhausted"


def test_unknown_link_is_404(wallet: WalletHarness) -> None:
    assert (
        wallet.client.get("/s/nothing-here", headers={"Accept": "application/json"}).status_code
        == 404
    )
    assert wallet.client.get("/s/nothing-here").status_code == 404


def test_every_access_is_logged(wallet: WalletHarness) -> None:
    account = wallet.signup()
    share = _share(wallet, account, [wallet.store(account)])
    _fetch(wallet, share["url"], agent="microcred/0.1 (+https://github.com/microcred)")
    _open(wallet, share["url"])
    _fetch(wallet, share["url"], agent="python-httpx/0.28")
    wallet.client.delete(f"/api/shares/{share['id']}", headers=account.headers)
    _fetch(wallet, share["url"], agent="microcred/0.1")
    log = wallet.client.get(f"/api/shares/{share['id']}/accesses", headers=account.headers)
    assert log.status_code == 200
    entries = [
        (a["outcome"], a["representation"], a["verifierChecked"], a["client"]) for a in log.json()
    ]
    assert entries == [
        ("served", "json", True, "microcred-verifier"),
        ("served", "html", False, "browser"),
        ("served", "json", True, "software"),
        ("revoked", "json", False, "microcred-verifier"),
    ]
    assert all(a["at"] for a in log.json())
    listed = wallet.client.get("/api/shares", headers=account.headers).json()
    assert listed[0]["accessCount"] == 4 and listed[0]["url"] == share["url"]


def test_share_input_is_checked(wallet: WalletHarness) -> None:
    account = wallet.signup()
    stored = wallet.store(account)
    for body, code in [
        ({"credentialIds": []}, "invalid_share"),
        ({"credentialIds": [stored, stored]}, "invalid_share"),
        ({"credentialIds": [stored], "expiresIn": 10}, "invalid_expiry"),
        ({"credentialIds": [stored], "expiresIn": 10**9}, "invalid_expiry"),
        ({"credentialIds": [stored], "maxViews": 0}, "invalid_max_views"),
    ]:
        response = wallet.client.post("/api/shares", json=body, headers=account.headers)
        assert response.status_code == 400, body
        assert response.json()["code"] == code
    missing = wallet.client.post(
        "/api/shares", json={"credentialIds": ["nope"]}, headers=account.headers
    )
    assert missing.status_code == 404


def test_default_expiry_and_share_detail(wallet: WalletHarness) -> None:
    account = wallet.signup()
    response = wallet.client.post(
        "/api/shares", json={"credentialIds": [wallet.store(account)]}, headers=account.headers
    )
    share = response.json()
    detail = wallet.client.get(f"/api/shares/{share['id']}", headers=account.headers).json()
    assert detail["url"] == share["url"] and decode_png(detail["qrPng"]) == [share["url"]]
    assert detail["state"] == "active" and detail["maxViews"] is None


def test_deleting_a_credential_revokes_its_shares(wallet: WalletHarness) -> None:
    account = wallet.signup()
    stored = wallet.store(account)
    share = _share(wallet, account, [stored])
    wallet.client.delete(f"/api/credentials/{stored}", headers=account.headers)
    assert _fetch(wallet, share["url"]).status_code == 410


def test_share_tokens_are_not_stored_in_the_clear(wallet: WalletHarness) -> None:
    from sqlmodel import select

    from wallet.models import Share

    account = wallet.signup()
    share = _share(wallet, account, [wallet.store(account)])
    token = share["url"].rsplit("/", 1)[1]
    with wallet.client.app.state.services.db.session() as session:
        row = session.exec(select(Share)).one()
    assert token not in (row.token_hash, row.token_wrapped or "")
