"""Hostile credential content is shown as text on every page, in real Chromium.

An institution, a module and a verifier's request whose names, descriptions, outcomes and
purpose are ``<script>…</script>`` and ``"><img src=x onerror=…>``, and a quality-assurance
link of ``javascript:alert(1)``, travel the whole way: issuer console, wallet cards and
detail, share page, the public share link, consent screen, verifier results. On every page
the browser must show the markup literally and run none of it: no injected element, no
inline script, no dialog, no CSP violation, and no ``javascript:`` link.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import httpx

from tests.browser.conftest import LAPTOP, PHONE, Stack, Visitor
from tests.browser.support import (
    ATTRIBUTE_BREAKOUT,
    SCRIPT_NAME,
    assert_nothing_ran,
    issue_to_learner,
    login_issuer,
    login_wallet,
    self_signed_hostile_credential,
    share_link,
)

SLUG = "evil-academy"
HOLDER = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"


def _hostile_institution(stack: Stack) -> str:
    """An institution named like an attack, with a module to match; returns its token."""
    from issuer.services import institutions
    from issuer.services.context import IssuerContext

    ctx = IssuerContext(stack.config.settings("issuer"))
    try:
        created = institutions.create(
            ctx, slug=SLUG, name=SCRIPT_NAME, region=ATTRIBUTE_BREAKOUT, actor="test"
        )
    finally:
        ctx.close()
    module = {
        "id": "evil-module",
        "name": SCRIPT_NAME,
        "description": ATTRIBUTE_BREAKOUT,
        "learning_outcomes": [SCRIPT_NAME, ATTRIBUTE_BREAKOUT],
        "ects": 2.5,
        "eqf_level": 5,
        "assessment_type": ATTRIBUTE_BREAKOUT,
        "participation_form": "online",
        "quality_assurance": {"name": SCRIPT_NAME, "url": "javascript:alert(1)"},
        "prerequisites": [ATTRIBUTE_BREAKOUT],
    }
    answer = httpx.post(
        f"{stack.issuer}/institutions/{SLUG}/modules",
        json=module,
        headers={"Authorization": f"Bearer {created.token}"},
    )
    assert answer.status_code == 201, answer.text
    return created.token


def _claim_and_share(stack: Stack, token: str) -> tuple[str, str]:
    """Offer → the learner's wallet → a share link; (wallet credential id, share URL)."""
    credential_id = issue_to_learner(stack, SLUG, "evil-module", token, grade=SCRIPT_NAME[:32])
    return credential_id, share_link(stack, [credential_id], label=ATTRIBUTE_BREAKOUT)


def _check(visitor: Visitor, url: str, shot: Callable[..., Path], name: str) -> str:
    """Open ``url``; nothing hostile may run; the page text is returned for assertions."""
    page = visitor.page
    page.goto(url)
    page.wait_for_load_state("load")
    assert_nothing_ran(page)
    assert page.locator("a[href^='javascript:' i]").count() == 0
    shot(page, name)
    return page.locator("body").inner_text()


def test_hostile_texts_are_shown_as_text_on_every_page(
    stack: Stack, new_visitor: Callable[..., Visitor], shot: Callable[..., Path]
) -> None:
    token = _hostile_institution(stack)
    credential_id, share_url = _claim_and_share(stack, token)
    dialogs: list[str] = []

    registrar = new_visitor(LAPTOP)
    learner = new_visitor(PHONE)
    employer = new_visitor(LAPTOP)
    for visitor in (registrar, learner, employer):
        visitor.page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    # -- issuer console
    login_issuer(registrar.page, stack.issuer, token)
    text = _check(registrar, f"{stack.issuer}/console", shot, "01-issuer-home")
    assert SCRIPT_NAME in text
    text = _check(registrar, f"{stack.issuer}/console/modules", shot, "02-issuer-modules")
    assert SCRIPT_NAME in text and ATTRIBUTE_BREAKOUT in text
    _check(registrar, f"{stack.issuer}/console/credentials", shot, "03-issuer-credentials")
    registrar.page.locator("table a").first.click()
    assert_nothing_ran(registrar.page)
    text = registrar.page.locator("main").inner_text()
    assert SCRIPT_NAME in text and ATTRIBUTE_BREAKOUT in text
    shot(registrar.page, "04-issuer-credential")
    registrar.page.goto(f"{stack.issuer}/console/issue?module=evil-module")
    registrar.page.get_by_label("E-mailadres van de student").fill("x@example.nl")
    registrar.page.get_by_role("button", name="Uitgeven").click()
    assert_nothing_ran(registrar.page)

    # -- wallet
    phone = learner.page
    phone.goto(f"{stack.wallet}/")
    login_wallet(phone, stack.state.learner_username, stack.state.learner_password)
    text = _check(learner, f"{stack.wallet}/credentials", shot, "05-wallet-cards")
    assert SCRIPT_NAME in text
    text = _check(learner, f"{stack.wallet}/credentials/{credential_id}", shot, "06-wallet-detail")
    assert SCRIPT_NAME in text and ATTRIBUTE_BREAKOUT in text
    # the quality-assurance "link" (javascript:alert(1)) is shown as text, not as a link
    assert phone.locator("dd", has_text=SCRIPT_NAME).locator("a").count() <= 1
    text = _check(learner, f"{stack.wallet}/shares", shot, "07-wallet-shares")
    assert SCRIPT_NAME in text
    share_id = phone.locator("[data-share]").first.get_attribute("data-share")
    _check(learner, f"{stack.wallet}/shares/{share_id}", shot, "08-wallet-share")
    _check(learner, f"{stack.wallet}/routes", shot, "09-wallet-routes")
    _check(employer, share_url, shot, "10-public-share-landing")  # the landing page
    employer.page.get_by_role("button", name="Bekijk en controleer").click()
    assert_nothing_ran(employer.page)
    text = employer.page.locator("body").inner_text()
    shot(employer.page, "10-public-share-page")
    assert SCRIPT_NAME in text

    # -- verifier: the share link, a pasted credential, a hostile request
    desk = employer.page
    desk.goto(f"{stack.verifier}/")
    desk.get_by_label("Plak de deellink").fill(share_url)
    desk.get_by_role("button", name="Controleer link").click()
    assert_nothing_ran(desk)
    assert SCRIPT_NAME in desk.locator("main").inner_text()
    desk.locator("details.more summary").first.click()
    assert ATTRIBUTE_BREAKOUT in desk.locator("main").inner_text()
    assert desk.locator("a[href^='javascript:' i]").count() == 0
    shot(desk, "11-verifier-share-result")

    desk.goto(f"{stack.verifier}/")
    hostile = self_signed_hostile_credential(HOLDER)
    desk.get_by_label("Plak de credential (JSON)").fill(json.dumps(hostile))
    desk.get_by_role("button", name="Controleer credential").click()
    assert_nothing_ran(desk)
    assert SCRIPT_NAME in desk.locator("main").inner_text()
    shot(desk, "12-verifier-pasted")

    desk.goto(f"{stack.verifier}/check/request")
    desk.get_by_label("Waarvoor vraagt u het?").fill(SCRIPT_NAME)
    desk.get_by_label("Een bepaalde module").check()
    desk.get_by_label("Naam van de module").fill(SCRIPT_NAME)
    desk.get_by_role("button", name="Maak verzoek met QR-code").click()
    assert_nothing_ran(desk)
    assert SCRIPT_NAME in desk.locator("main").inner_text()
    shot(desk, "13-verifier-request")
    request_link = desk.locator(".qr input").input_value()
    phone.goto(f"{stack.wallet}/present?request={quote(request_link, safe='')}")
    assert_nothing_ran(phone)
    assert SCRIPT_NAME in phone.locator(".purpose").inner_text()
    shot(phone, "14-wallet-consent")

    assert dialogs == []
    for visitor in (registrar, learner, employer):
        visitor.problems.assert_clean()
