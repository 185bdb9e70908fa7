"""Issue 16 on the learner's wallet pages, in Chromium on a phone-sized screen:

* receiving shows module, institution, ECTS and level before the learner accepts;
* deleting a credential and revoking a share ask first, stating the consequence;
* a suspension shows on the list by itself (no "check again" click), and the detail page
  agrees with the list;
* export with the encrypted key backup → import into a new account → a share link that
  the verifier verifies (holder binding included); an import without the key warns;
* the consent screen names the rule the verifier asks ("minimaal … ECTS op EQF ≥ …");
* every page state: axe-core 0 violations, no horizontal scroll at 390 px, the header under
  a third of the screen, no CSP violation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.browser.conftest import PHONE, Stack, Visitor
from tests.browser.support import assert_no_axe_violations, login_wallet, signup_wallet

HBO = "Hogeschool Rijnland"


def check_page(page: Any) -> None:
    """axe-core finds nothing; nothing is wider than the phone; the header is small."""
    assert_no_axe_violations(page)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], (page.url, width)
    header = page.evaluate("() => document.querySelector('.site-header').offsetHeight")
    assert header < PHONE["height"] / 3, (page.url, header)
    print(f"layout {page.url}: header {header} px, width {width} px, axe 0")  # for the report


def issue_offer(stack: Stack, module_id: str, slug: str = "hs-rijnland") -> str:
    offer = httpx.post(
        f"{stack.issuer}/institutions/{slug}/offers",
        json={"module_id": module_id, "learner": {"email": "learner@example.nl"},
              "result": {"grade": "8"}},
        headers={"Authorization": f"Bearer {stack.token(slug)}"},
    )  # fmt: skip
    assert offer.status_code == 201, offer.text
    return str(offer.json()["offer_uri"])


def receive(phone: Any, stack: Stack, offer: str) -> str:
    """Paste an offer, read what it brings, accept it; the credential page's URL."""
    phone.goto(f"{stack.wallet}/receive")
    check_page(phone)
    phone.get_by_label("Plak de link of de code van het aanbod").fill(offer)
    phone.get_by_role("button", name="Bekijk het aanbod").click()
    phone.locator("[data-offer-preview]").wait_for()
    phone.get_by_role("button", name="Ontvangen", exact=True).click()
    phone.wait_for_url(re.compile(r".*/credentials/[0-9a-f-]{36}$"))
    return str(phone.url)


def test_receiving_shows_what_arrives_before_accepting(
    stack: Stack, new_visitor: Callable[..., Visitor], shot: Callable[..., Path]
) -> None:
    learner = new_visitor(PHONE)
    phone = learner.page
    offer = issue_offer(stack, "datavisualisatie")
    phone.goto(f"{stack.wallet}/")
    login_wallet(phone, stack.state.learner_username, stack.state.learner_password)
    phone.wait_for_url(f"{stack.wallet}/credentials")
    check_page(phone)

    phone.goto(f"{stack.wallet}/receive")
    # the scan button appears where the browser can use a camera (headless has the API)
    assert phone.locator("[data-scan] .scan-button").count() == 1
    phone.get_by_label("Plak de link of de code van het aanbod").fill(offer)
    phone.get_by_role("button", name="Bekijk het aanbod").click()
    preview = phone.locator("[data-offer-preview]")
    preview.wait_for()
    assert preview.locator(".preview-module").inner_text() == "Datavisualisatie"
    assert preview.locator(".preview-institution").inner_text() == HBO
    assert preview.locator(".preview-ects").inner_text() == "5 ECTS"
    assert preview.locator(".preview-level").inner_text() == "EQF-niveau 6"
    check_page(phone)
    shot(phone, "01-offer-preview")
    phone.get_by_role("button", name="Ontvangen", exact=True).click()
    phone.wait_for_url(re.compile(r".*/credentials/[0-9a-f-]{36}$"))
    assert phone.locator("h1").inner_text() == "Datavisualisatie"
    check_page(phone)
    learner.problems.assert_clean()


def test_destructive_actions_ask_first(
    stack: Stack, new_visitor: Callable[..., Visitor], shot: Callable[..., Path]
) -> None:
    learner = new_visitor(PHONE)
    phone = learner.page
    phone.goto(f"{stack.wallet}/")
    login_wallet(phone, stack.state.learner_username, stack.state.learner_password)
    phone.wait_for_url(f"{stack.wallet}/credentials")
    page_url = receive(phone, stack, issue_offer(stack, "toegepaste-statistiek"))
    credential_id = page_url.rsplit("/", 1)[1]

    # a share link with it, then revoking the link asks first
    phone.goto(f"{stack.wallet}/shares?credential={credential_id}")
    phone.get_by_role("button", name="Maak deellink").click()
    phone.wait_for_url(re.compile(r".*/shares/[0-9a-f-]{36}$"))
    share_page = phone.url
    check_page(phone)
    phone.goto(f"{stack.wallet}/shares")
    check_page(phone)
    phone.goto(share_page)
    phone.get_by_role("link", name="Link intrekken").click()
    phone.wait_for_url(share_page + "/revoke")
    main = phone.locator("main").inner_text()
    assert "Deellink intrekken?" in main and "ziet je microcredentials niet meer" in main
    check_page(phone)
    shot(phone, "02-confirm-revoke")
    phone.get_by_role("link", name="Annuleren").click()  # cancel: nothing happened
    phone.wait_for_url(share_page)
    assert phone.locator("[data-share-state]").get_attribute("data-share-state") == "active"
    phone.get_by_role("link", name="Link intrekken").click()
    phone.get_by_role("button", name="Ja, trek de link in").click()
    phone.wait_for_url(share_page)
    assert phone.locator("[data-share-state]").get_attribute("data-share-state") == "revoked"

    # deleting the credential asks first and says what happens to its share links
    phone.goto(page_url)
    phone.get_by_role("link", name="Verwijder uit mijn wallet").click()
    phone.wait_for_url(page_url + "/delete")
    main = phone.locator("main").inner_text()
    assert "Credential verwijderen?" in main and "niet ongedaan maken" in main
    check_page(phone)
    shot(phone, "03-confirm-delete")
    phone.get_by_role("button", name="Ja, verwijder de credential").click()
    phone.wait_for_url(f"{stack.wallet}/credentials")
    assert phone.locator(f"[data-credential='{credential_id}']").count() == 0
    learner.problems.assert_clean()


def test_a_suspension_shows_on_the_list_by_itself(
    stack: Stack, new_visitor: Callable[..., Visitor], shot: Callable[..., Path]
) -> None:
    learner = new_visitor(PHONE)
    phone = learner.page
    phone.goto(f"{stack.wallet}/")
    login_wallet(phone, stack.state.learner_username, stack.state.learner_password)
    phone.wait_for_url(f"{stack.wallet}/credentials")
    page_url = receive(phone, stack, issue_offer(stack, "data-wrangling"))
    credential_id = page_url.rsplit("/", 1)[1]
    phone.goto(f"{stack.wallet}/credentials")
    card = phone.locator(f".credential-card[data-credential='{credential_id}']")
    assert card.get_attribute("data-state") == "verified"

    # the registrar suspends it, with a reason (the issuer's API, as its console does)
    headers = {"Authorization": f"Bearer {stack.token('hs-rijnland')}"}
    listing = httpx.get(
        f"{stack.issuer}/institutions/hs-rijnland/credentials",
        params={"learner": "learner@example.nl"},
        headers=headers,
    ).json()["credentials"]
    newest = max(listing, key=lambda c: str(c.get("issuedAt") or c.get("issued") or ""))
    suspended = httpx.post(
        f"{stack.issuer}/institutions/hs-rijnland/credentials/{newest['credentialId']}/suspend",
        json={"reason": "onderzoek naar de toets"},
        headers=headers,
    )
    assert suspended.status_code == 200, suspended.text

    # no click: the list's own poll re-checks the status and changes the badge (bounded)
    badge = card.locator("[data-state-badge]")
    badge.and_(phone.locator("[data-state='suspended']")).wait_for(timeout=60_000)
    assert badge.inner_text() == "Geschorst"
    check_page(phone)
    shot(phone, "04-list-suspended")
    # ... and the detail page agrees with the list
    phone.goto(page_url)
    assert phone.locator(".badge[data-state]").first.get_attribute("data-state") == "suspended"
    assert phone.locator("[data-status-notice='suspended']").count() == 1
    assert "Geverifieerd" not in phone.locator(".credential-head").inner_text()
    check_page(phone)
    learner.problems.assert_clean()


def test_export_with_key_backup_import_and_share_that_verifies(
    stack: Stack, new_visitor: Callable[..., Visitor], shot: Callable[..., Path], tmp_path: Path
) -> None:
    learner = new_visitor(PHONE)
    phone = learner.page
    signup_wallet(phone, stack.wallet, "verhuizer", "Zeeuwse-klei-2026")
    receive(phone, stack, issue_offer(stack, "data-wrangling"))

    # export: the plain one and the one with the key, under a passphrase
    phone.goto(f"{stack.wallet}/data")
    check_page(phone)
    phone.get_by_label("Wachtwoord voor de sleutel").fill("lange-zin-voor-de-sleutel")
    phone.get_by_label("Hetzelfde wachtwoord nog eens").fill("lange-zin-voor-de-sleutel")
    with phone.expect_download() as download:
        phone.get_by_role("button", name="Exporteren met sleutel").click()
    with_key = tmp_path / "met-sleutel.json"
    download.value.save_as(with_key)
    assert (
        '"keyBackup"' in with_key.read_text() and "secretKeyMultibase" not in with_key.read_text()
    )
    with phone.expect_download() as download:
        phone.get_by_role("link", name="Alles exporteren (JSON)").click()
    plain = tmp_path / "zonder-sleutel.json"
    download.value.save_as(plain)

    # an import without the key warns: at import, on the list and on the share form
    other = new_visitor(PHONE).page
    signup_wallet(other, stack.wallet, "zonder-sleutel", "Zeeuwse-klei-2026")
    other.goto(f"{stack.wallet}/data")
    other.get_by_label("Exportbestand").set_input_files(str(plain))
    other.get_by_role("button", name="Importeren").click()
    other.wait_for_url(f"{stack.wallet}/credentials")
    assert "zonder sleutel" in other.locator(".flash").inner_text()
    assert other.locator("[data-keys-missing]").count() == 1
    check_page(other)
    other.goto(f"{stack.wallet}/shares")
    assert other.locator("[data-keys-missing]").count() == 1

    # a wrong passphrase imports nothing
    fresh = new_visitor(PHONE).page
    signup_wallet(fresh, stack.wallet, "nieuwe-telefoon", "Zeeuwse-klei-2026")
    fresh.goto(f"{stack.wallet}/data")
    fresh.get_by_label("Exportbestand").set_input_files(str(with_key))
    fresh.get_by_label("Wachtwoord van de sleutelback-up").fill("niet-het-goede-wachtwoord")
    fresh.get_by_role("button", name="Importeren").click()
    assert "opent de sleutelback-up niet" in fresh.locator("[role=alert]").inner_text()
    check_page(fresh)
    # the right one restores the key: no warning, and a share link that verifies
    fresh.get_by_label("Exportbestand").set_input_files(str(with_key))
    fresh.get_by_label("Wachtwoord van de sleutelback-up").fill("lange-zin-voor-de-sleutel")
    fresh.get_by_role("button", name="Importeren").click()
    fresh.wait_for_url(f"{stack.wallet}/credentials")
    assert fresh.locator("[data-keys-missing]").count() == 0
    assert fresh.locator(".credential-card[data-state='verified']").count() == 1
    fresh.goto(f"{stack.wallet}/shares")
    fresh.locator("input[name='credential']").first.check()
    fresh.get_by_role("button", name="Maak deellink").click()
    fresh.wait_for_url(re.compile(r".*/shares/[0-9a-f-]{36}$"))
    url = fresh.locator(".qr input").input_value()
    shot(fresh, "05-share-after-import")
    report = httpx.post(f"{stack.verifier}/shares/verify", json={"url": url}, timeout=30).json()
    assert report["verified"] is True, report
    holder = [c for c in report["checks"] if c["id"] == "holder"]
    assert holder and all(c["outcome"] == "passed" for c in holder), report["checks"]
    learner.problems.assert_clean()


def test_the_consent_screen_names_the_rule_and_who_asks(
    stack: Stack, new_visitor: Callable[..., Visitor], shot: Callable[..., Path]
) -> None:
    learner = new_visitor(PHONE)
    phone = learner.page
    phone.goto(f"{stack.wallet}/")
    login_wallet(phone, stack.state.learner_username, stack.state.learner_password)
    phone.wait_for_url(f"{stack.wallet}/credentials")
    # a credential of its own to consent over: the stack is shared by the module's tests,
    # and this one must not depend on which of them ran before it
    receive(phone, stack, issue_offer(stack, "datavisualisatie"))
    rule = {"id": "toelating", "name": "Toelating", "min_ects": 10, "min_eqf_level": 4}
    created = httpx.post(
        f"{stack.verifier}/requests", json={"purpose": "Toelating minor", "rule": rule}
    )
    assert created.status_code == 201, created.text
    phone.goto(f"{stack.wallet}/present")
    phone.get_by_label("Plak de link of code van het verzoek").fill(
        created.json()["openid4vp_by_reference_uri"]
    )
    phone.get_by_role("button", name="Bekijk het verzoek").click()
    requirement = phone.locator(".requirement")
    requirement.wait_for()
    assert "minimaal 10 ECTS op EQF ≥ 4" in requirement.inner_text()
    who = phone.locator(".consent-who").inner_text()
    assert "microcred verifier" not in who  # the software's name is not a who
    assert "Gecontroleerd" in who or "adres" in who
    legend = phone.locator("fieldset.panel legend").first.inner_text()
    assert "OpenBadgeCredential" not in legend and "microcredential" in legend
    summary = phone.locator(".consent-item details summary").first.inner_text()
    assert re.search(r"\d+ gegevens uit deze microcredential", summary), summary
    # pre-ticked: only credentials that are verified and count for the rule
    for box in phone.locator("input[name='credential']").all():
        item = box.locator("xpath=ancestor::div[contains(@class,'consent-item')]")
        state = item.locator("[data-state]").first.get_attribute("data-state")
        if box.is_checked():
            assert state == "verified"
    check_page(phone)
    shot(phone, "06-consent-rule")
    phone.get_by_role("button", name="Weigeren").click()
    learner.problems.assert_clean()


def test_the_other_wallet_pages_and_the_printed_credential(
    stack: Stack, new_visitor: Callable[..., Visitor], shot: Callable[..., Path]
) -> None:
    learner = new_visitor(PHONE)
    phone = learner.page
    phone.goto(f"{stack.wallet}/")
    check_page(phone)  # the start page, logged out
    login_wallet(phone, stack.state.learner_username, stack.state.learner_password)
    phone.wait_for_url(f"{stack.wallet}/credentials")
    for path in ("/routes", "/present", "/data", "/credentials/00000000-0000-0000-0000-0"):
        phone.goto(f"{stack.wallet}{path}")
        check_page(phone)
    assert "Deze credential staat niet (meer) in je wallet." in phone.locator("main").inner_text()
    phone.goto(f"{stack.wallet}/routes")
    route = phone.get_by_role("link", name="Bekijk voortgang").first
    route.click()  # the demo learner follows the demo's route
    check_page(phone)
    assert re.search(r"\d+(,\d+|\.\d+)? van \d+ ECTS", phone.locator("main").inner_text())
    # the credential page prints as a document: no header, navigation or buttons
    receive(phone, stack, issue_offer(stack, "datavisualisatie"))
    check_page(phone)
    phone.emulate_media(media="print")
    assert not phone.locator(".site-header").is_visible()
    assert not phone.get_by_role("button", name="Download als PDF").is_visible()
    assert phone.locator("h1").is_visible()
    shot(phone, "07-credential-print")
    phone.emulate_media(media="screen")
    with phone.expect_download() as download:
        phone.get_by_role("button", name="Download als PDF").click()
    path = download.value.path()
    assert path is not None and Path(path).read_bytes().startswith(b"%PDF-")
    learner.problems.assert_clean()
