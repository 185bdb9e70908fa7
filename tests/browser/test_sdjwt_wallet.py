"""SD-JWT VC in microcred's own wallet (issue 19, build 4), in real Chromium against the
real services: the learner collects an offer as SD-JWT VC (choosing that form on the
receive page), sees it on the list and detail pages like any credential, and answers an
employer's OpenID4VP request for ``dc+sd-jwt`` ticking the grade but leaving the e-mail
address and student number out; the verifier accepts it and gets exactly that."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.browser.conftest import PHONE, Stack, Visitor
from tests.browser.support import login_wallet

MODULE = "Basis programmeren in Python"
SLUG = "roc-noordkust"


def test_collect_show_and_present_an_sd_jwt_vc_with_a_claim_left_out(
    stack: Stack, new_visitor: Callable[..., Visitor], shot: Callable[..., Path]
) -> None:
    offer = httpx.post(
        f"{stack.issuer}/institutions/{SLUG}/offers",
        json={
            "module_id": "basis-programmeren",
            "learner": {"email": "learner@example.nl", "student_number": "500123"},
            "result": {"grade": "8"},
        },
        headers={"Authorization": f"Bearer {stack.token(SLUG)}"},
        timeout=30,
    )
    assert offer.status_code == 201, offer.text
    learner = new_visitor(PHONE)
    phone = learner.page
    phone.goto(f"{stack.wallet}/")
    login_wallet(phone, stack.state.learner_username, stack.state.learner_password)

    # -- collect: the learner picks the SD-JWT VC form (OB 3.0 is the default)
    phone.goto(f"{stack.wallet}/receive")
    phone.get_by_label("Plak de link of de code van het aanbod").fill(offer.json()["offer_uri"])
    phone.get_by_role("button", name="Bekijk het aanbod").click()  # what arrives, first
    assert phone.get_by_label("Open Badges 3.0 (standaard)").is_checked()
    phone.locator("input[name='format'][value='dc+sd-jwt']").check()
    phone.get_by_role("button", name="Ontvangen", exact=True).click()
    phone.wait_for_url(re.compile(r".*/credentials/[0-9a-f-]{36}$"))

    # -- show: the same employer-readable fields, no raw token
    main = phone.locator("main").inner_text()
    assert MODULE in main and "ROC Noordkust" in main
    assert phone.locator("[data-format-note='dc+sd-jwt']").count() == 1
    assert "~ey" not in phone.content()
    shot(phone, "sdjwt-01-wallet-detail")
    phone.goto(f"{stack.wallet}/credentials")
    card = phone.locator(".credential-card", has_text=MODULE).filter(
        has=phone.locator("[data-format='dc+sd-jwt']")
    )
    assert card.count() == 1

    # -- present: an employer asks for the SD-JWT VC of this institution
    vct = f"{stack.issuer}/institutions/{SLUG}/vct/microcredential"
    created = httpx.post(
        f"{stack.verifier}/requests",
        json={"purpose": "Sollicitatie junior developer", "formats": ["dc+sd-jwt"],
              "vct_values": [vct]},
        timeout=30,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    request = created.json()
    phone.goto(f"{stack.wallet}/present")
    phone.get_by_label("Plak de link of code van het verzoek").fill(
        request["openid4vp_by_reference_uri"]
    )
    phone.get_by_role("button", name="Bekijk het verzoek").click()
    item = phone.locator(".consent-item").filter(has=phone.locator("fieldset.disclosures"))
    assert item.locator("input[name='credential']").is_checked()
    grade = item.locator("input[data-path='result.grade']")
    email = item.locator("input[data-path='learner.email']")
    number = item.locator("input[data-path='learner.student_number']")
    # nothing personal is asked by this request, so nothing starts ticked
    assert not grade.is_checked() and not email.is_checked() and not number.is_checked()
    assert "Cijfer" in item.inner_text() and "E-mailadres" in item.inner_text()
    grade.check()
    shot(phone, "sdjwt-02-wallet-consent")
    phone.get_by_label("Ik geef toestemming om dit te delen").check()
    phone.get_by_role("button", name="Delen", exact=True).click()
    phone.wait_for_url(f"{stack.wallet}/shares")
    assert "Gedeeld met" in phone.locator(".flash").inner_text()
    logged = phone.locator(".disclosed").first.inner_text()
    assert "Cijfer" in logged and "E-mailadres" not in logged
    shot(phone, "sdjwt-03-wallet-shared")

    # -- the verifier got the grade, and not the e-mail address or student number
    result = httpx.get(
        request["result_uri"],
        headers={"Authorization": f"Bearer {request['result_token']}"},
        timeout=30,
    ).json()["result"]
    assert result["accepted"], result
    [credential] = result["summary"]["credentials"]
    assert credential["module"] == MODULE and credential["grade"] == "8"
    assert "learner" not in credential["claims"]
    learner.problems.assert_clean()
