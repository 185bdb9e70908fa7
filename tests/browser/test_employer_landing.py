"""Issue 16, the employer's side in Debian's Chromium (phone viewport, Dutch).

* the learner's QR URL opened on a phone: a styled Dutch landing page; a chat-app preview
  fetched before it does not burn the one-view link; the button shows the verdict, checked
  on the spot; "controleer in uw eigen verifier" carries the link to the verifier;
* a rule failure whose headline is the rule ("Voldoet niet aan de regel: … van 30 ECTS");
* a pasted, tampered credential: its values are struck through, and the page says a pasted
  credential proves nothing about who sent it;
* every page state: axe-core finds no violation, nothing is wider than the phone.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.browser.conftest import PHONE, Stack, Visitor
from tests.browser.support import (
    assert_no_axe_violations,
    assert_nothing_ran,
    issue_to_learner,
    settle_status_lists,
    wallet_token,
)

WHATSAPP = "WhatsApp/2.23.20.0 A"


def check_page(page: Any, states: list[str]) -> None:
    """axe-core: no violation; no horizontal scroll at 390 px; Dutch."""
    assert_no_axe_violations(page)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    wide = page.evaluate(
        "() => [...document.querySelectorAll('body *')].filter("
        "e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)"
        ".map(e => e.tagName + '.' + e.className + '#' + e.id).slice(0, 8)"
    )
    assert width <= PHONE["width"], (page.url, width, wide)
    assert page.evaluate("() => document.documentElement.lang") == "nl"
    states.append(page.url)


def one_view_share(stack: Stack, credential_id: str) -> str:
    answer = httpx.post(
        f"{stack.wallet}/api/shares",
        json={"credentialIds": [credential_id], "maxViews": 1, "label": "Sollicitatie"},
        headers={"Authorization": f"Bearer {wallet_token(stack)}"},
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["url"])


def test_employer_opens_the_learners_qr_on_a_phone(
    stack: Stack, new_visitor: Callable[..., Visitor], shot: Callable[..., Path]
) -> None:
    credential = issue_to_learner(stack, "hs-rijnland", "data-wrangling")
    settle_status_lists(stack, "hs-rijnland", "learner@example.nl")
    url = one_view_share(stack, credential)
    states: list[str] = []

    # the link pasted into a chat: the app fetches a preview (GET and HEAD) first
    preview = httpx.get(url, headers={"User-Agent": WHATSAPP, "Accept": "*/*"})
    assert preview.status_code == 200 and "Data Wrangling" not in preview.text
    assert httpx.head(url, headers={"User-Agent": WHATSAPP}).status_code == 200

    employer = new_visitor(PHONE)
    page = employer.page
    page.goto(url)  # what the phone camera opens
    assert page.title().startswith("Gedeelde microcredentials")
    assert page.locator("[data-views-left]").get_attribute("data-views-left") == "1"
    check_page(page, states)
    shot(page, "01-landing", readme="employer-landing-phone")

    page.get_by_role("button", name="Bekijk en controleer").click()
    verdict = page.locator("[data-verdict]")
    assert verdict.get_attribute("data-verdict") == "verified", page.locator("main").inner_text()
    text = page.locator("main").inner_text()
    assert "Echt en geldig" in text and "Data Wrangling met Python" in text
    assert "de persoon die deze link deelde" in text
    assert page.locator("[data-holder-warning]").count() == 0
    assert page.get_by_role("heading", name="Controles van het delen").count() == 1
    assert_nothing_ran(page)
    check_page(page, states)
    shot(page, "02-verdict", readme="employer-verdict-phone")

    # the employer checks it in a verifier of their own: the link goes along
    link = page.get_by_role("link", name="Open in de verifier")
    assert (link.get_attribute("href") or "").startswith(f"{stack.verifier}/?share=")
    link.click()
    assert page.locator("#share-url").input_value() == url
    check_page(page, states)
    page.get_by_role("button", name="Controleer link").click()
    # one view was allowed, and the employer used it: the verifier says so plainly
    verdict = page.locator("[data-verdict]")
    assert verdict.get_attribute("data-verdict") == "withdrawn"
    assert "Link ingetrokken of verlopen" in page.locator("h1").inner_text()
    check_page(page, states)
    shot(page, "03-verifier-link-used-up")

    page.goto(url)  # and the link itself, opened again
    assert "Link ingetrokken of verlopen" in page.locator("h1").inner_text()
    check_page(page, states)
    employer.problems.assert_clean()
    assert len(states) == 5


def test_a_rule_failure_leads_with_the_rule(
    stack: Stack, new_visitor: Callable[..., Visitor], shot: Callable[..., Path]
) -> None:
    wrangling = issue_to_learner(stack, "hs-rijnland", "data-wrangling")
    settle_status_lists(stack, "hs-rijnland", "learner@example.nl")
    share = httpx.post(
        f"{stack.wallet}/api/shares",
        json={"credentialIds": [wrangling]},
        headers={"Authorization": f"Bearer {wallet_token(stack)}"},
    ).json()["url"]
    states: list[str] = []
    board = new_visitor(PHONE)
    page = board.page
    page.goto(f"{stack.verifier}/check/admission")
    check_page(page, states)
    page.get_by_label("Naam van de regel").fill("Vrijstelling minor Data")
    page.get_by_label("Minimaal aantal ECTS").fill("30")
    page.get_by_label("Deellink van de aanvrager").fill(share)
    page.get_by_role("button", name="Toets aan de regel").click()
    headline = page.locator("h1").inner_text()
    assert "Voldoet niet aan de regel:" in headline and "van 30 ECTS" in headline, headline
    assert page.locator("[data-answer]").get_attribute("data-answer") == "not_met"
    text = page.locator("main").inner_text()
    assert "more ECTS" not in text and " of 30 ECTS" not in text  # no engine English
    check_page(page, states)
    shot(page, "01-rule-not-met")
    board.problems.assert_clean()


def test_a_pasted_tampered_credential_is_not_shown_as_fact(
    stack: Stack, new_visitor: Callable[..., Visitor], shot: Callable[..., Path]
) -> None:
    held = issue_to_learner(stack, "hs-rijnland", "data-wrangling")
    detail = httpx.get(
        f"{stack.wallet}/api/credentials/{held}",
        headers={"Authorization": f"Bearer {wallet_token(stack)}"},
    ).json()
    forged = json.loads(json.dumps(detail["credential"]))
    forged["credentialSubject"]["achievement"]["name"] = "Master Data Science (vervalst)"
    states: list[str] = []
    visitor = new_visitor(PHONE)
    page = visitor.page
    page.goto(f"{stack.verifier}/")
    check_page(page, states)
    page.get_by_label("Plak de credential (JSON)").fill(json.dumps(forged))
    page.get_by_role("button", name="Controleer credential").click()
    assert page.locator("[data-verdict]").get_attribute("data-verdict") == "failed"
    card = page.locator(".credential-card")
    assert card.get_attribute("data-trustworthy") == "false"
    assert "Inhoud niet betrouwbaar" in card.inner_text()
    headline = page.locator("h1").inner_text()
    assert "vervalst" not in headline and "Master Data Science" not in headline
    assert page.locator("[data-pasted]").count() == 1  # proves nothing about the sender
    assert page.locator("del", has_text="Master Data Science").count() == 1
    check_page(page, states)
    shot(page, "01-tampered")
    visitor.problems.assert_clean()
