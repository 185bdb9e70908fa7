"""Issue 16, point 1: the employer's landing page behind a shared QR.

The link itself (GET/HEAD: what chat apps, mail scanners and prefetchers fetch) is a
styled Dutch page that counts no view and shows nothing of the learner; the page's button
(a plain POST) shows the credentials, verified on the spot, and counts one view.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote, urlsplit

from credentials.proofs import sign
from tests.wallet.conftest import Account, WalletHarness
from tests.wallet.fakes import credential_for

WHATSAPP = "WhatsApp/2.23.20.0 A"
BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 16).decode()


def _share(wallet: WalletHarness, account: Account, ids: list[str], **extra: Any) -> dict:
    response = wallet.client.post(
        "/api/shares",
        json={"credentialIds": ids, "expiresIn": 3600, **extra},
        headers=account.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


def _path(url: str) -> str:
    return urlsplit(url).path


def _views(wallet: WalletHarness, account: Account) -> int:
    views: int = wallet.client.get("/api/shares", headers=account.headers).json()[0]["views"]
    return views


def test_a_whatsapp_preview_does_not_burn_a_one_view_link(wallet: WalletHarness) -> None:
    account = wallet.signup()
    share = _share(wallet, account, [wallet.store(account)], maxViews=1)
    path = _path(share["url"])
    for _ in range(3):  # the preview bot, then its retries, then a HEAD and a prefetch
        preview = wallet.client.get(path, headers={"User-Agent": WHATSAPP, "Accept": "*/*"})
        assert preview.status_code == 200
        assert "Hogeschool Rijnland" not in preview.text  # nothing of the learner
        assert 'property="og:title" content="Gedeelde microcredentials"' in preview.text
    assert wallet.client.head(path, headers={"User-Agent": WHATSAPP}).status_code == 200
    prefetch = {"User-Agent": BROWSER, "Sec-Purpose": "prefetch", "Accept": "text/html"}
    assert wallet.client.get(path, headers=prefetch).status_code == 200
    assert _views(wallet, account) == 0
    landing = wallet.client.get(path, headers={"User-Agent": BROWSER, "Accept": "text/html"})
    assert 'data-views-left="1"' in landing.text
    opened = wallet.client.post(path, headers={"User-Agent": BROWSER})
    assert opened.status_code == 200
    assert "Hogeschool Rijnland" in opened.text and 'data-verdict="' in opened.text
    assert _views(wallet, account) == 1
    # used up now: the page says so in the site's words, and so does the API
    again = wallet.client.post(path, headers={"User-Agent": BROWSER})
    assert again.status_code == 410 and "Link ingetrokken of verlopen" in again.text
    assert wallet.client.get(path).status_code == 410
    machine = wallet.client.get(path, headers={"Accept": "application/json"})
    assert machine.status_code == 410 and machine.json()["code"] == "share_exhausted"
    log = wallet.client.get(f"/api/shares/{share['id']}/accesses", headers=account.headers)
    # previews are not accesses; the one open and the refusals after it are
    assert [(a["outcome"], a["representation"]) for a in log.json()] == [
        ("served", "html"),
        ("exhausted", "html"),
        ("exhausted", "json"),
    ]


def test_the_landing_page_is_dutch_styled_and_switches_language(wallet: WalletHarness) -> None:
    account = wallet.signup()
    path = _path(_share(wallet, account, [wallet.store(account)])["url"])
    page = wallet.client.get(path, headers={"Accept-Language": "en", "Accept": "text/html"})
    assert page.status_code == 200
    assert '<html lang="nl">' in page.text
    assert "/static/wallet/site.css" in page.text  # the site's design, not a bare page
    assert 'name="viewport"' in page.text
    assert "Bekijk en controleer" in page.text and f'action="{path}"' in page.text
    assert "/lang/en?next=" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    wallet.client.cookies.set("mc_lang", "en")
    try:
        english = wallet.client.get(path, headers={"Accept": "text/html"})
        assert '<html lang="en">' in english.text and "View and check" in english.text
        shown = wallet.client.post(path)
        assert '<html lang="en">' in shown.text and "Shared microcredentials" in shown.text
    finally:
        wallet.client.cookies.delete("mc_lang")


def test_the_opened_page_verifies_like_a_verifier(wallet: WalletHarness) -> None:
    issuer = wallet.internet.issuer
    wallet.client.app.state.services.known.names[issuer.key.controller] = "Hogeschool Test"
    account = wallet.signup()
    credential = credential_for(issuer.key, account.did, status=issuer.status_entry())
    path = _path(_share(wallet, account, [wallet.store(account, credential)])["url"])
    page = wallet.client.post(path).text
    assert 'data-verdict="verified"' in page and "Echt en geldig" in page
    assert "Controles van het delen" in page and page.count("Controles van het delen") == 1
    assert 'data-check-id="proof"' in page  # the checks, one click away
    assert "data-holder-warning" not in page
    assert "de persoon die deze link deelde (sleutel did:key:" in page
    issuer.revoke(credential)
    revoked = wallet.client.post(path).text
    assert 'data-verdict="revoked"' in revoked and "Ingetrokken" in revoked


def test_a_credential_not_bound_to_the_sharer_warns(wallet: WalletHarness) -> None:
    account = wallet.signup()
    unbound = credential_for(wallet.issuer_key, None)  # issued to nobody's key
    path = _path(_share(wallet, account, [wallet.store(account, unbound)])["url"])
    page = wallet.client.post(path).text
    assert "data-holder-warning" in page
    assert "niet bewezen dat deze credentials op naam staan" in page


def test_own_verifier_link_carries_the_share_url(wallet: WalletHarness) -> None:
    account = wallet.signup()
    share = _share(wallet, account, [wallet.store(account)])
    wallet.client.app.state.services.settings.verifier_url = "https://verifier.example/"
    page = wallet.client.post(_path(share["url"])).text
    expected = "https://verifier.example/?share=" + quote(share["url"], safe="")
    assert f'href="{expected}"' in page and "Controleer in uw eigen verifier" in page


def _with_image(wallet: WalletHarness, account: Account, image: str) -> dict[str, Any]:
    """A credential whose achievement carries an OB 3.0 ``image``, signed by the issuer."""
    credential = wallet.credential(account)
    credential.pop("proof")
    credential["credentialSubject"]["achievement"]["image"] = {"id": image, "type": "Image"}
    signed: dict[str, Any] = sign(credential, wallet.issuer_key)
    return signed


def test_badge_images_only_inline_rasters(wallet: WalletHarness) -> None:
    account = wallet.signup()
    with_png = wallet.store(account, _with_image(wallet, account, f"data:image/png;base64,{PNG}"))
    svg = "data:image/svg+xml;base64," + base64.b64encode(b"<svg onload=alert(1)/>").decode()
    with_svg = wallet.store(account, _with_image(wallet, account, svg))
    page = wallet.client.post(_path(_share(wallet, account, [with_png, with_svg])["url"])).text
    assert page.count('class="badge-image"') == 1
    assert f"data:image/png;base64,{PNG}" in page and "svg+xml;base64" not in page


def test_unknown_and_withdrawn_links_are_styled_pages(wallet: WalletHarness) -> None:
    missing = wallet.client.get("/s/nothing-here", headers={"Accept": "text/html"})
    assert missing.status_code == 404 and '<html lang="nl">' in missing.text
    account = wallet.signup()
    share = _share(wallet, account, [wallet.store(account)])
    wallet.client.delete(f"/api/shares/{share['id']}", headers=account.headers)
    gone = wallet.client.get(_path(share["url"]), headers={"Accept": "text/html"})
    assert gone.status_code == 410
    assert "Link ingetrokken of verlopen" in gone.text and "ingetrokken" in gone.text
    assert "/static/wallet/site.css" in gone.text
