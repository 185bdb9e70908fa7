"""The product as its three users meet it, in real Chromium against the real services.

1. A registrar issues a module; the learner claims it through the offer link; the learner
   shares it; an employer opens the share link in the verifier and sees green with the
   right module and institution; the registrar revokes it; the employer checks again and
   sees red, "revoked".
2. An employer creates a presentation request; its QR code (decoded from the page, as a
   phone camera would) is opened in the wallet; the learner consents; the result appears
   on the employer's page by itself.

Every step leaves a screenshot under test-artifacts/browser/; three of them also become
the README's pictures (docs/screenshots/).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from tests.browser.conftest import LAPTOP, PHONE, Stack, Visitor
from tests.browser.support import login_issuer, login_wallet, qr_text_of, settle_status_lists

MODULE = "Data Wrangling met Python"
HBO = "Hogeschool Rijnland"


def test_issue_claim_share_verify_revoke(
    stack: Stack, new_visitor: Callable[..., Visitor], shot: Callable[..., Path]
) -> None:
    registrar = new_visitor(LAPTOP)
    learner = new_visitor(PHONE)
    employer = new_visitor(LAPTOP)

    # -- the registrar issues the module as an offer for the learner's wallet
    page = registrar.page
    login_issuer(page, stack.issuer, stack.token("hs-rijnland"))
    assert HBO in page.locator("h1").inner_text()
    shot(page, "01-issuer-console")
    page.goto(f"{stack.issuer}/console/issue?module=data-wrangling")
    page.get_by_label("E-mailadres van de student").fill("learner@example.nl")
    page.get_by_label("Cijfer").fill("8")
    page.get_by_role("button", name="Uitgeven").click()
    page.wait_for_url(re.compile(r".*/console/offers/off_[0-9a-f]+$"))
    offer = qr_text_of(page)
    assert offer.startswith("openid-credential-offer://?credential_offer_uri=")
    assert page.locator(".qr input").input_value() == offer
    shot(page, "02-issuer-offer")

    # -- the learner opens the offer link on a phone, logs in and accepts it
    phone = learner.page
    phone.goto(f"{stack.wallet}/receive?offer={quote(offer, safe='')}")
    login_wallet(phone, stack.state.learner_username, stack.state.learner_password)
    phone.wait_for_url(re.compile(r".*/receive\?offer=.*"))
    assert phone.locator("#offer").input_value() == offer
    shot(phone, "03-wallet-offer")
    phone.get_by_role("button", name="Ontvangen", exact=True).click()
    phone.wait_for_url(re.compile(r".*/credentials/[0-9a-f-]{36}$"))
    credential_page = phone.url
    assert phone.locator("h1").inner_text() == MODULE
    assert phone.locator(".badge[data-state]").first.get_attribute("data-state") == "verified"
    assert HBO in phone.locator("main").inner_text()
    shot(phone, "04-wallet-credential")
    phone.goto(f"{stack.wallet}/credentials")
    card = phone.locator(".credential-card", has_text=MODULE)
    assert card.locator(".institution").inner_text() == HBO
    assert "5 ECTS" in card.inner_text() and "EQF-niveau 6" in card.inner_text()
    assert phone.locator("progress").count() >= 1  # the learning route's progress bar
    shot(phone, "05-wallet-credentials", readme="wallet-credentials")

    # -- the registrar's offer page notices the collection by itself (poll.js)
    page.wait_for_selector("[data-offer-state='accepted']", timeout=20_000)  # wallet confirmed
    shot(page, "06a-issuer-offer-collected")
    page.goto(f"{stack.issuer}/console")
    assert MODULE in page.locator("main").inner_text()
    shot(page, "06b-issuer-console", readme="issuer-console")

    # -- the learner shares it as a link with a QR code
    phone.goto(credential_page)
    phone.get_by_role("link", name="Deel deze").click()
    phone.get_by_role("button", name="Maak deellink").click()
    phone.wait_for_url(re.compile(r".*/shares/[0-9a-f-]{36}$"))
    share_page = phone.url
    share_url = phone.locator(".qr input").input_value()
    assert qr_text_of(phone) == share_url
    assert share_url.startswith(f"{stack.wallet}/s/")
    shot(phone, "06c-wallet-share")

    # -- the employer pastes the link into the verifier: green, the right module and school
    desk = employer.page
    desk.goto(f"{stack.verifier}/")
    desk.get_by_label("Plak de deellink").fill(share_url)
    desk.get_by_role("button", name="Controleer link").click()
    verdict = desk.locator("[data-verdict]")
    assert verdict.get_attribute("data-verdict") == "verified", desk.locator("main").inner_text()
    assert "Echt en geldig" in verdict.inner_text()
    card = desk.locator(".credential-card")
    assert card.locator(".institution").inner_text() == HBO
    assert card.locator(".module").inner_text() == MODULE
    assert card.locator(".ects").inner_text() == "5"
    assert "EQF-niveau 6" in card.locator(".level").inner_text()
    card.locator("details summary", has_text="Digitale handtekening").first.click()
    shot(desk, "07-verifier-verified", readme="verifier-result")

    # -- the learner sees that a verifier checked the link
    phone.goto(share_page)
    assert phone.locator(".accesses [data-client='microcred-verifier']").count() >= 1

    # -- the registrar revokes it, with a reason
    page.goto(f"{stack.issuer}/console/credentials")
    page.locator("tr", has_text=MODULE).first.get_by_role("link").click()
    page.get_by_role("link", name="Intrekken").click()  # asks first (issue 16)
    page.get_by_label("Reden").fill("fraude bij de toets")
    page.get_by_role("button", name="Ja, trek de credential in").click()
    assert page.locator("[data-status]").get_attribute("data-status") == "revoked"
    assert "fraude bij de toets" in page.locator("main").inner_text()
    shot(page, "08-issuer-revoked")
    settle_status_lists(stack, "hs-rijnland", "learner@example.nl")

    # -- the employer checks again: red, revoked
    desk.get_by_role("button", name="Opnieuw controleren").click()
    verdict = desk.locator("[data-verdict]")
    assert verdict.get_attribute("data-verdict") == "revoked", desk.locator("main").inner_text()
    assert "Ingetrokken" in verdict.inner_text()
    assert "verdict-bad" in (verdict.get_attribute("class") or "")
    shot(desk, "09-verifier-revoked")

    # -- and the learner's wallet says so too after a fresh status check
    phone.goto(credential_page + "?recheck=1")
    assert phone.locator(".badge[data-state]").first.get_attribute("data-state") == "revoked"
    shot(phone, "10-wallet-revoked")

    for visitor in (registrar, learner, employer):
        visitor.problems.assert_clean()


def test_request_qr_consent_and_result_on_the_verifier_page(
    stack: Stack, new_visitor: Callable[..., Visitor], shot: Callable[..., Path]
) -> None:
    module = "Basis programmeren in Python"
    registrar = new_visitor(LAPTOP)
    learner = new_visitor(PHONE)
    employer = new_visitor(LAPTOP)

    # the learner holds an mbo module from ROC Noordkust (issued through the pages)
    page = registrar.page
    login_issuer(page, stack.issuer, stack.token("roc-noordkust"))
    page.goto(f"{stack.issuer}/console/issue?module=basis-programmeren")
    page.get_by_label("Studentnummer").fill("500123")
    page.get_by_role("button", name="Uitgeven").click()
    offer = qr_text_of(page)
    phone = learner.page
    phone.goto(f"{stack.wallet}/")
    login_wallet(phone, stack.state.learner_username, stack.state.learner_password)
    phone.goto(f"{stack.wallet}/receive")
    phone.get_by_label("Plak de link of de code van het aanbod").fill(offer)
    phone.get_by_role("button", name="Bekijk het aanbod").click()  # what arrives, first
    phone.get_by_role("button", name="Ontvangen", exact=True).click()
    phone.wait_for_url(re.compile(r".*/credentials/[0-9a-f-]{36}$"))

    # -- the employer asks for that module and shows the QR code
    desk = employer.page
    desk.goto(f"{stack.verifier}/check/request")
    desk.get_by_label("Waarvoor vraagt u het?").fill("Sollicitatie junior developer")
    desk.get_by_label("Een bepaalde module").check()
    desk.get_by_label("Naam van de module").fill(module)
    desk.get_by_role("button", name="Maak verzoek met QR-code").click()
    desk.wait_for_url(re.compile(r".*/check/request/[A-Za-z0-9_-]+$"))
    request_link = qr_text_of(desk)
    assert request_link.startswith("openid4vp://")
    shot(desk, "01-verifier-request-qr")

    # -- the learner opens it in the wallet and sees exactly what is asked and shared
    phone.goto(f"{stack.wallet}/present")
    phone.get_by_label("Plak de link of code van het verzoek").fill(request_link)
    phone.get_by_role("button", name="Bekijk het verzoek").click()
    assert phone.locator(".purpose").inner_text() == "Sollicitatie junior developer"
    choice = phone.locator(".consent-item", has_text=module)
    assert choice.locator("input[name='credential']").is_checked()
    shot(phone, "02-wallet-consent")
    choice.locator("details summary").click()
    assert "ROC Noordkust" in choice.locator(".shared-fields").inner_text()
    # without the consent box nothing is sent
    phone.get_by_role("button", name="Delen", exact=True).click()
    assert "toestemming" in phone.locator("[role='alert']").inner_text()
    assert desk.locator("[data-poll-url]").count() == 1  # still waiting
    phone.get_by_label("Ik geef toestemming om dit te delen").check()
    phone.get_by_role("button", name="Delen", exact=True).click()
    phone.wait_for_url(f"{stack.wallet}/shares")
    assert "Gedeeld met" in phone.locator(".flash").inner_text()
    shot(phone, "03-wallet-shared")

    # -- the employer's page turns into the result without anyone touching it
    desk.wait_for_url(re.compile(r".*/check/request/[A-Za-z0-9_-]+/result$"), timeout=20_000)
    verdict = desk.locator("[data-verdict]")
    assert verdict.get_attribute("data-verdict") == "verified", desk.locator("main").inner_text()
    card = desk.locator(".credential-card")
    assert card.locator(".institution").inner_text() == "ROC Noordkust"
    assert card.locator(".module").inner_text() == module
    assert card.locator(".ects").inner_text() == "3"
    shot(desk, "04-verifier-request-result")

    for visitor in (registrar, learner, employer):
        visitor.problems.assert_clean()
