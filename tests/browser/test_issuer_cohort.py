"""Issue 16 on the registrar's pages, in Chromium against the real services:

1. a cohort CSV is uploaded; the mail arrives at a local SMTP server; the learner follows
   the link in it into the wallet and collects the credential, bound to the wallet's DID;
   the registrar's cohort page says "opgehaald";
2. every destructive action of the issuer asks first, saying what happens (revoke,
   suspend, cancel an offer, cancel a delivery, archive a module);
3. the console's pages at 390 px: no horizontal scroll;

and on every page state on the way: axe-core finds 0 violations and the CSP saw nothing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import LAPTOP, PHONE, Stack, Visitor
from tests.browser.support import assert_no_axe_violations, login_issuer, login_wallet
from tests.support.mailbox import Mailbox, mailbox, text_of

SLUG = "hs-rijnland"
MODULE = "Data Wrangling met Python"
SMTP_ENV = ("HOST", "PORT", "FROM", "SECURITY")


@pytest.fixture(scope="module")
def smtp() -> Iterator[Mailbox]:
    """The local mail server, and the issuer told about it before the stack starts."""
    with mailbox() as box:
        values = {"HOST": box.host, "PORT": str(box.port), "FROM": "onderwijs@hsr.example"}
        values["SECURITY"] = "none"
        saved = {k: os.environ.get(f"MICROCRED_ISSUER_SMTP_{k}") for k in SMTP_ENV}
        os.environ.update({f"MICROCRED_ISSUER_SMTP_{k}": v for k, v in values.items()})
        try:
            yield box
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(f"MICROCRED_ISSUER_SMTP_{key}", None)
                else:
                    os.environ[f"MICROCRED_ISSUER_SMTP_{key}"] = value


@pytest.fixture(scope="module")
def stack(smtp: Mailbox, stack: Stack) -> Stack:
    """The shared stack, started after the SMTP settings are in the environment."""
    return stack


def check_page(visitor: Visitor, *, phone: bool = False) -> None:
    """axe-core: 0 violations; no CSP violation; at 390 px nothing wider than the screen."""
    page = visitor.page
    assert_no_axe_violations(page)
    visitor.problems.assert_clean()
    if phone:
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE["width"], (page.url, width)
        assert page.evaluate(BROKEN_HEADER_WORDS) == [], page.url


BROKEN_HEADER_WORDS = """() => [...document.querySelectorAll('th')].flatMap(th => {
  const broken = [];
  const walker = document.createTreeWalker(th, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest('.visually-hidden')) continue;
    for (const m of node.data.matchAll(/\\S+/g)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
      if (lines.size > 1) broken.push(m[0]);
    }
  }
  return broken;
})"""
"""Words of table headers split over lines ("EC" / "TS"): none may be."""


def upload_cohort(visitor: Visitor, stack: Stack, csv_text: str) -> str:
    page = visitor.page
    page.goto(f"{stack.issuer}/console/batch?module=data-wrangling")
    check_page(visitor)
    page.get_by_label("CSV-bestand").set_input_files(
        {"name": "cohort.csv", "mimeType": "text/csv", "buffer": csv_text.encode()}
    )
    assert page.get_by_label(re.compile("Per e-mail een aanbod")).is_checked()
    page.get_by_role("button", name="Uitgeven aan het cohort").click()
    page.wait_for_url(re.compile(r".*/console/batch/cohorts/coh_[0-9a-f]+$"))
    return str(page.url)


def link_in(mail: Any) -> str:
    match = re.search(r"https?://\S+/receive\?offer=\S+", text_of(mail))
    assert match, text_of(mail)
    return match.group(0)


def test_a_cohort_mail_reaches_the_learner_who_collects_it_into_the_wallet(
    stack: Stack, smtp: Mailbox, new_visitor: Callable[..., Visitor], shot: Callable[..., Path]
) -> None:
    registrar = new_visitor(LAPTOP)
    learner = new_visitor(PHONE)
    page = registrar.page
    login_issuer(page, stack.issuer, stack.token(SLUG))
    before = len(smtp.messages)
    cohort = upload_cohort(
        registrar,
        stack,
        "email,student_number,grade,awarded_date\n"
        "learner@example.nl,700001,8,2026-06-30\n"
        "tweede@example.nl,700002,7,2026-06-30\n",
    )
    rows = page.locator("tr[data-delivery]")
    assert rows.count() == 2
    assert [rows.nth(i).get_attribute("data-state") for i in range(2)] == ["sent", "sent"]
    check_page(registrar)
    shot(page, "01-issuer-cohort-sent")

    mails = smtp.wait_for(before + 2)[before:]
    mail = next(m for m in mails if m["To"] == "learner@example.nl")
    assert MODULE in mail["Subject"]
    link = link_in(mail)
    assert link.startswith(f"{stack.wallet}/receive?offer=")

    # -- the learner follows the link on a phone, logs in and accepts the offer
    phone = learner.page
    phone.goto(link)
    login_wallet(phone, stack.state.learner_username, stack.state.learner_password)
    phone.wait_for_url(re.compile(r".*/receive\?offer=.*"))
    phone.get_by_role("button", name="Ontvangen", exact=True).click()
    phone.wait_for_url(re.compile(r".*/credentials/[0-9a-f-]{36}$"))
    assert phone.locator("h1").inner_text() == MODULE

    # -- the registrar sees the row collected, and the credential bound to the wallet
    page.goto(cohort)
    row = page.locator("tr[data-delivery]", has_text="learner@example.nl")
    assert row.get_attribute("data-state") == "collected"
    assert "opgehaald" in row.inner_text()
    check_page(registrar)
    shot(page, "02-issuer-cohort-collected", readme="issuer-cohort")
    row.get_by_role("link", name="Bekijk de uitgegeven credential").click()
    page.wait_for_url(re.compile(r".*/console/credential\?id=.*"))
    holder = page.locator("dt", has_text="Wallet (DID)").locator("xpath=..").locator("dd")
    assert holder.inner_text().startswith("did:")
    check_page(registrar)


def test_every_destructive_action_of_the_issuer_asks_first(
    stack: Stack, smtp: Mailbox, new_visitor: Callable[..., Visitor], shot: Callable[..., Path]
) -> None:
    registrar = new_visitor(LAPTOP)
    page = registrar.page
    login_issuer(page, stack.issuer, stack.token(SLUG))

    # -- cancelling a delivery
    cohort = upload_cohort(
        registrar, stack, "email,student_number,grade\nderde@example.nl,700003,8\n"
    )
    page.get_by_role("link", name="Aanbod annuleren voor regel 2").click()
    assert "werkt daarna niet meer" in page.locator("[data-confirm]").inner_text()
    check_page(registrar)
    shot(page, "03-confirm-cancel-delivery")
    page.get_by_role("button", name="Ja, annuleer het aanbod").click()
    page.wait_for_url(cohort)
    assert page.locator("tr[data-delivery]").get_attribute("data-state") == "cancelled"

    # -- cancelling a single offer
    page.goto(f"{stack.issuer}/console/issue?module=data-wrangling")
    page.get_by_label("E-mailadres van de student").fill("vierde@example.nl")
    page.get_by_label("Cijfer").fill("8")
    page.get_by_role("button", name="Uitgeven").click()
    page.wait_for_url(re.compile(r".*/console/offers/off_[0-9a-f]+$"))
    offer_page = page.url
    page.get_by_role("link", name="Aanbod annuleren").click()
    assert "werken daarna niet meer" in page.locator("[data-confirm]").inner_text()
    check_page(registrar)
    page.get_by_role("link", name="Nee, terug").click()
    page.wait_for_url(offer_page)
    assert page.locator("[data-offer-state]").get_attribute("data-offer-state") == "offered"

    # -- revoking and suspending a credential: a reason the learner will read
    issued = httpx.post(
        f"{stack.issuer}/institutions/{SLUG}/issuances",
        json={"module_id": "data-wrangling", "learner": {"email": "vijfde@example.nl"}},
        headers={"Authorization": f"Bearer {stack.token(SLUG)}"},
    )
    assert issued.status_code == 201, issued.text
    credential_id = issued.json()["verifiableCredential"]["id"]
    page.goto(f"{stack.issuer}/console/credential?id={credential_id}")
    page.get_by_role("link", name="Intrekken").click()
    assert "niet ongedaan maken" in page.locator("[data-confirm]").inner_text()
    check_page(registrar)
    shot(page, "04-confirm-revoke")
    page.get_by_role("link", name="Nee, terug").click()
    page.get_by_role("link", name="Schorsen").click()
    page.get_by_label("Reden").fill("Onderzoek naar de toets loopt")
    check_page(registrar)
    page.get_by_role("button", name="Ja, schors de credential").click()
    page.wait_for_url(re.compile(r".*/console/credential\?id=.*"))
    assert page.locator("[data-status]").get_attribute("data-status") == "suspended"
    notice = httpx.get(f"{stack.issuer}/credentials/status-notice", params={"id": credential_id})
    assert notice.json()["reason"] == "Onderzoek naar de toets loopt"

    # -- archiving a module
    page.goto(f"{stack.issuer}/console/modules")
    page.locator("a[href='/console/modules/data-wrangling/archive']").click()
    assert "niet meer worden uitgegeven" in page.locator("[data-confirm]").inner_text()
    check_page(registrar)
    page.get_by_role("link", name="Nee, terug").click()
    page.wait_for_url(f"{stack.issuer}/console/modules")


def test_the_console_fits_a_phone_at_390px(
    stack: Stack, smtp: Mailbox, new_visitor: Callable[..., Visitor], shot: Callable[..., Path]
) -> None:
    registrar = new_visitor(PHONE)
    page = registrar.page
    login_issuer(page, stack.issuer, stack.token(SLUG))
    cohort = upload_cohort(registrar, stack, "email,grade\nzesde@example.nl,9\n")
    pages = [
        "/console",
        "/console/modules",
        "/console/issue",
        "/console/batch",
        "/console/credentials",
        cohort.removeprefix(stack.issuer),
        f"/institutions/{SLUG}",
    ]
    for path in pages:
        page.goto(f"{stack.issuer}{path}")
        check_page(registrar, phone=True)
    shot(page, "05-institution-page-phone")
