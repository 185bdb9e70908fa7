"""Issue 18 in real Chromium: a learner shares a microcredential without the grade.

A P-256 institution issues a module with selective disclosure (ecdsa-sd-2023) through the
ordinary offer (OpenID4VCI) — one module chosen over the API, one in the console's module
form; the learner's share form lists what may be left out ("cijfer",
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
from tests.browser.support import issue_to_learner, login_issuer, login_wallet, wallet_token

SLUG = "roc-selectief"
MODULE = "Data Wrangling met Python (selectief)"
GRADE = "9.7"
CONSOLE_MODULE = "Veilig werken met data"


def _selective_institution(stack: Stack, slug: str = SLUG) -> str:
    from issuer.services import institutions
    from issuer.services.context import IssuerContext

    ctx = IssuerContext(stack.config.settings("issuer"))
    try:
        created = institutions.create(
            ctx, slug=slug, name="ROC Selectief", key_type="p256", actor="test"
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
        f"{stack.issuer}/institutions/{slug}/modules",
        json=module,
        headers={"Authorization": f"Bearer {created.token}"},
    )
    assert answer.status_code == 201, answer.text
    return created.token


def _console_module(stack: Stack, visitor: Visitor, token: str, shot: Callable[..., Path]) -> str:
    """The registrar picks selective disclosure for a module in the console; its id."""
    page = visitor.page
    login_issuer(page, stack.issuer, token)
    page.goto(f"{stack.issuer}/console/modules")
    page.get_by_label("Naam van de module").fill(CONSOLE_MODULE)
    page.get_by_label("Omschrijving").fill("Privacy en beveiliging in de praktijk.")
    page.get_by_label("Leerresultaten (één per regel)").fill("past de AVG toe op eigen werk")
    page.get_by_label("Soort toetsing").fill("casustoets")
    page.get_by_label("Kwaliteitszorg (naam)").fill("Kwaliteitskader microcredentials mbo")
    page.get_by_label("Kwaliteitszorg (link)").fill("https://example.org/kwaliteit")
    page.get_by_label("ECTS").fill("1.5")
    page.get_by_label("Ondertekening").select_option("ecdsa-sd-2023")
    page.get_by_role("button", name="Module opslaan").click()
    assert "is aangemaakt" in page.locator(".flash").inner_text()
    shot(page, "sd-00-issuer-module-created")
    listed = httpx.get(
        f"{stack.issuer}/institutions/{SLUG}/modules",
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    items = listed if isinstance(listed, list) else listed.get("modules", [])
    (module,) = [m for m in items if m.get("name") == CONSOLE_MODULE]
    assert module.get("proof_suite") == "ecdsa-sd-2023", module
    return str(module["id"])


def test_share_without_the_grade(
    stack: Stack, new_visitor: Callable[..., Visitor], shot: Callable[..., Path]
) -> None:
    token = _selective_institution(stack)
    registrar = new_visitor(LAPTOP)
    console_module = _console_module(stack, registrar, token, shot)
    credential_id = issue_to_learner(stack, SLUG, "data-wrangling-sd", token, grade=GRADE)
    learner, employer = new_visitor(PHONE), new_visitor(LAPTOP)

    # -- the learner's share form lists what can be left out; she ticks nothing
    phone = learner.page
    phone.goto(f"{stack.wallet}/shares?credential={credential_id}")
    login_wallet(phone, stack.state.learner_username, stack.state.learner_password)
    phone.goto(f"{stack.wallet}/shares?credential={credential_id}")
    choices = phone.locator(f"[data-disclose='{credential_id}']")
    assert "cijfer" in choices.inner_text()
    # a credential bound to the learner's DID carries no identity hashes at all (issue 14
    # item 9: a salted hash of a student number is reversible), so none is offered either
    assert "studentnummer" not in choices.inner_text()
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
    desk.get_by_role("button", name="Bekijk en controleer").click()  # the landing page's
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
    # -- a module the registrar set up in the console issues selectively too
    other = issue_to_learner(stack, SLUG, console_module, token, grade="6.1")
    other_share = httpx.post(
        f"{stack.wallet}/api/shares",
        json={"credentialIds": [other], "disclose": {other: []}},
        headers={"Authorization": f"Bearer {wallet_token(stack)}"},
    )
    assert other_share.status_code == 201, other_share.text
    raw = httpx.get(other_share.json()["url"], headers={"Accept": "application/json"})
    assert CONSOLE_MODULE.encode() in raw.content and b'"6.1"' not in raw.content
    for visitor in (registrar, learner, employer):
        visitor.problems.assert_clean()


def test_a_presentation_request_for_the_module_leaves_the_grade_out(
    stack: Stack, new_visitor: Callable[..., Visitor], shot: Callable[..., Path]
) -> None:
    """OpenID4VP: the request asks for the module only, so the consent screen offers the
    grade unticked; the verifier's result says "cijfer niet gedeeld"."""
    slug = "roc-selectief-vp"
    token = _selective_institution(stack, slug)
    issue_to_learner(stack, slug, "data-wrangling-sd", token, grade=GRADE)
    learner, employer = new_visitor(PHONE), new_visitor(LAPTOP)
    desk = employer.page
    desk.goto(f"{stack.verifier}/check/request")
    desk.get_by_label("Waarvoor vraagt u het?").fill("Sollicitatie data-analist")
    desk.get_by_label("Een bepaalde module").check()
    desk.get_by_label("Naam van de module").fill(MODULE)
    desk.get_by_role("button", name="Maak verzoek met QR-code").click()
    desk.wait_for_url(re.compile(r".*/check/request/[A-Za-z0-9_-]+$"))
    request_link = desk.locator(".qr input").input_value()

    phone = learner.page
    phone.goto(f"{stack.wallet}/")
    login_wallet(phone, stack.state.learner_username, stack.state.learner_password)
    phone.goto(f"{stack.wallet}/present")
    phone.get_by_label("Plak de link of code van het verzoek").fill(request_link)
    phone.get_by_role("button", name="Bekijk het verzoek").click()
    choice = phone.locator(".consent-item", has_text=MODULE).first
    grade_box = choice.locator("input[data-field='grade']")
    assert "cijfer" in choice.locator("fieldset.disclose").inner_text()
    assert grade_box.count() == 1 and not grade_box.is_checked()  # not asked: not pre-ticked
    choice.locator("input[name='credential']").check()
    shot(phone, "sd-04-wallet-consent")
    phone.get_by_label("Ik geef toestemming om dit te delen").check()
    phone.get_by_role("button", name="Delen", exact=True).click()
    phone.wait_for_url(f"{stack.wallet}/shares")

    desk.wait_for_url(re.compile(r".*/check/request/[A-Za-z0-9_-]+/result$"), timeout=20_000)
    card = desk.locator(".credential-card").first
    assert card.locator(".module").inner_text() == MODULE
    assert "cijfer niet gedeeld" in card.inner_text()
    assert GRADE not in desk.locator("main").inner_text()
    shot(desk, "sd-05-verifier-request-result")
    for visitor in (learner, employer):
        visitor.problems.assert_clean()
