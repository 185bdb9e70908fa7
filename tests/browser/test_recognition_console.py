"""Recognition over the running services (issue 17), with the exam board in Chromium.

The demo stack: the learner's wallet holds three modules of two institutions; it answers
Hogeschool Rijnland's recognition request with its existing OpenID4VP client (the wallet's
JSON API: preview, consent, respond — its page is the wallet stream's part); the exam board
opens the case in the issuer console, sees the reports and the rule line by line, approves
after the confirmation step; the wallet collects the route certificate with its existing
OpenID4VCI client, and the certificate references the three modules by digest.
"""

from __future__ import annotations

from typing import Any

import httpx

from credentials.evidence import check_stack
from tests.browser.conftest import PHONE
from tests.browser.support import issue_to_learner, login_issuer, wallet_token

ROUTE = "/institutions/hs-rijnland/routes/doorstroom-data"
MODULES = [
    ("roc-noordkust", "basis-programmeren"),
    ("hs-rijnland", "data-wrangling"),
    ("hs-rijnland", "datavisualisatie"),
]


def _wallet(stack: Any, token: str, method: str, path: str, **kwargs: Any) -> Any:
    return httpx.request(
        method,
        f"{stack.wallet}{path}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
        **kwargs,
    )


def test_the_exam_board_approves_and_the_wallet_collects_the_route_certificate(
    stack: Any, new_visitor: Any, shot: Any
) -> None:
    held = [issue_to_learner(stack, slug, module) for slug, module in MODULES]
    token = wallet_token(stack)

    started = httpx.post(f"{stack.issuer}{ROUTE}/recognition", json={})
    assert started.status_code == 201, started.text
    request = started.json()["authorization_request"]
    preview = _wallet(stack, token, "POST", "/api/requests/preview", json={"request": request})
    assert preview.status_code == 200, preview.text
    answer = _wallet(
        stack,
        token,
        "POST",
        "/api/requests/respond",
        json={"request": request, "credentialIds": held, "consent": True},
    )
    assert answer.status_code == 200, answer.text
    case_uri = started.json()["case_uri"]
    assert httpx.get(case_uri).json()["state"] == "open"

    board = new_visitor(viewport=PHONE)
    page = board.page
    login_issuer(page, stack.issuer, stack.token("hs-rijnland"))
    page.get_by_role("link", name="Erkenning").first.click()
    page.get_by_role("link", name="Bekijken").first.click()
    page.get_by_role("heading", name="Beoordeling van de regel").wait_for()
    assert page.locator(".credential-report").count() == 3
    assert page.locator("html").get_attribute("lang") == "nl"
    shot(page, "01-case")
    page.get_by_role("button", name="Toekennen").click()
    page.get_by_role("heading", name="Weet je het zeker?").wait_for()
    assert httpx.get(case_uri).json()["state"] == "open"  # nothing yet: it asked first
    page.get_by_role("button", name="Ja, doorgaan").click()
    page.get_by_text("Toegekend. De student kan de credential ophalen.").wait_for()
    shot(page, "02-approved")
    board.problems.assert_clean()

    case = httpx.get(case_uri).json()
    assert case["state"] == "approved"
    received = _wallet(
        stack, token, "POST", "/api/credentials/offers", json={"offer": case["offer_uri"]}
    )
    assert received.status_code == 201, received.text
    assert httpx.get(case_uri).json()["state"] == "awarded"

    documents = {
        item["id"]: _wallet(stack, token, "GET", f"/api/credentials/{item['id']}").json()
        for item in _wallet(stack, token, "GET", "/api/credentials").json()
    }
    award = next(
        d["credential"] for d in documents.values() if d.get("credential", {}).get("evidence")
    )
    modules = [documents[i]["credential"] for i in held]
    stack_result = check_stack(award, modules)
    assert stack_result.complete, stack_result
    assert (stack_result.modules, stack_result.institutions) == (3, 2)
