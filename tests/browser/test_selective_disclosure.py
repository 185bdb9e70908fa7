"""Issue 18 in real Chromium: a learner shares a microcredential without the grade.

A P-256 institution issues a module with selective disclosure (ecdsa-sd-2023) through the
ordinary offer (OpenID4VCI); the learner's share form lists what may be left out ("cijfer",
"studentnummer (versleuteld)"); she ticks nothing; the employer opens the link and sees
the module and its level with "cijfer niet gedeeld"; the verifier checks it; and the raw
share JSON does not contain the grade, byte for byte.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.browser.conftest import LAPTOP, PHONE, Stack, Visitor
from tests.browser.support import issue_to_learner, login_wallet

SLUG = "roc-selectief"
MODULE = "Data Wrangling met Python (selectief)"
GRADE = "9.7"


def _selective_institution(stack: Stack) -> str:
    from issuer.services import institutions
    from issuer.services.context import IssuerContext

    ctx = IssuerContext(stack.config.settings("issuer"))
    try:
        created = institutions.create(
            ctx, slug=SLUG, name="ROC Selectief", key_type="p256", actor="test"
        )
    finally:
        ctx.close()
    module = {
        "id": "data-wrangling-sd",
        "name": MODULE,
        "description": "Schoonmaken, koppelen en omvormen van echte datasets.",
        "learning_outcomes": ["datasets koppelen"],
        "ects": 5,
        "eqf_level": 6,
        "assessment_type": "praktijkopdracht",
        "participation_form": "online",
        "quality_assurance": {"name": "NVAO", "url": "https://www.nvao.net/"},
        "proof_suite": "ecdsa-sd-2023",
    }
    answer = httpx.post(
        f"{stack.issuer}/institutions/{SLUG}/modules",
        json=module,
        headers={"Authorization": f"Bearer {created.token}"},
    )
    assert answer.status_code == 201, answer.text
    return created.token


def test_share_without_the_grade(
    stack: Stack, new_visitor: Callable[..., Visitor], shot: Callable[..., Path]
) -> None:
    token = _selective_institution(stack)
    credential_id = issue_to_learner(stack, SLUG, "data-wrangling-sd", token, grade=GRADE)
    learner, employer = new_visitor(PHONE), new_visitor(LAPTOP)

    # -- the learner's share form lists what can be left out; she ticks nothing
    phone = learner.page
    phone.goto(f"{stack.wallet}/shares?credential={credential_id}")
    login_wallet(phone, stack.state.learner_username, stack.state.learner_password)
    phone.goto(f"{stack.wallet}/shares?credential={credential_id}")
    choices = phone.locator(f"[data-disclose='{credential_id}']")
    assert "cijfer" in choices.inner_text()
    assert "studentnummer (versleuteld)" in choices.inner_text() or "e-mailadres" in (
        choices.inner_text()
    )
    assert choices.locator("input[data-field='grade']").is_checked() is False
    shot(phone, "sd-01-wallet-share-form")
    phone.get_by_role("button", name="Maak deellink").click()
    phone.wait_for_url(re.compile(r".*/shares/[0-9a-f-]{36}$"))
    share_url = phone.locator(".qr input").input_value()

    # -- the raw share JSON (what software gets) lacks the grade, byte for byte
    raw = httpx.get(share_url, headers={"Accept": "application/json"})
    assert raw.status_code == 200
    assert MODULE.encode() in raw.content
    assert GRADE.encode() not in raw.content
    assert b'"result"' not in raw.content

    # -- the employer opens the link: module, level, "cijfer niet gedeeld"
    desk = employer.page
    desk.goto(share_url)
    text = desk.locator("main").inner_text()
    assert MODULE in text and "6" in text
    assert "cijfer niet gedeeld" in text
    assert GRADE not in text
    shot(desk, "sd-02-employer-share-page")

    # -- and the verifier checks it: the proof holds, the grade is said to be withheld
    desk.goto(f"{stack.verifier}/")
    desk.get_by_label("Plak de deellink").fill(share_url)
    desk.get_by_role("button", name="Controleer link").click()
    verdict = desk.locator("[data-verdict]")
    assert verdict.get_attribute("data-verdict") in ("verified", "untrusted"), desk.locator(
        "main"
    ).inner_text()
    card = desk.locator(".credential-card")
    assert card.locator(".module").inner_text() == MODULE
    assert "EQF-niveau 6" in card.locator(".level").inner_text()
    assert "cijfer niet gedeeld" in card.inner_text()
    assert GRADE not in desk.locator("main").inner_text()
    shot(desk, "sd-03-verifier-share")
    for visitor in (learner, employer):
        visitor.problems.assert_clean()
