"""Recognition across institutions (issue 17), as its four people meet it, in Debian's
Chromium against the three running services.

A learner holds two modules from two institutions: "Basis programmeren in Python" from ROC
Noordkust (a microcred issuer) and "Statistiek" from Open Leren Academie, an OB 3.0 issuer
outside microcred whose credential is signed here by Digital Bazaar's reference
implementation (interop/ref.mjs). Hogeschool Rijnland publishes the route "Doorstroomroute
Data" that needs both. Then:

1. the learner follows the route in the wallet, sees it complete and asks Hogeschool
   Rijnland for recognition, consenting on the wallet's consent screen;
2. an exam board member approves in the issuer's console (after its confirmation step);
3. the route credential arrives in the wallet (collected with the same holder key), and its
   page shows the parts it stands on;
4. a share of route + modules verifies at the verifier with the tree shown;
5. an employer asks for "the route certificate"; the learner answers; it verifies.

The institution's route and its registry of accepted issuers are set up over the issuer's
API (as its administrator would), the credentials are put in the wallet over the wallet's
API; everything the four people do happens in the browser.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from credentials.microcredential import (
    IssuerProfile,
    Learner,
    ModuleDefinition,
    QualityAssurance,
    Result,
    build_credential,
)
from tests.browser.conftest import LAPTOP, PHONE, Stack, Visitor
from tests.browser.support import login_issuer, login_wallet, qr_text_of

HBO, MBO = "hs-rijnland", "roc-noordkust"
ROUTE = "doorstroom-data-e2e"
AWARD_MODULE = "certificaat-doorstroom-data"
AWARD_NAME = "Certificaat Doorstroomroute Data"
OUTSIDE_MODULE = "https://open-leren.example/modules/statistiek"
PASSWORD = "recognition journey 2026"


@pytest.fixture(scope="module")
def reference() -> Iterator[Any]:
    """Digital Bazaar's reference implementation (Node), as tests/interop runs it (the same
    check: skipped without Node locally, a failure under MICROCRED_REQUIRE_INTEROP=1)."""
    from interop.reference import ReferenceImplementation
    from tests.interop.conftest import _require_node

    _require_node()
    with ReferenceImplementation() as ref:
        yield ref


def _api(stack: Stack, slug: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.token(slug)}"}


def _publish_route(stack: Stack, outside_did: str) -> str:
    """Hogeschool Rijnland's route: the mbo module and the outside statistics module."""
    base = f"{stack.issuer}/institutions/{HBO}"
    award = {
        "id": AWARD_MODULE,
        "name": AWARD_NAME,
        "description": "Doorstroom van mbo naar hbo in data: programmeren en statistiek.",
        "learning_outcomes": ["programmeert en analyseert data op instroomniveau hbo"],
        "ects": 8,
        "eqf_level": 5,
        "assessment_type": "erkenning door de examencommissie",
        "participation_form": "blended",
        "quality_assurance": {"name": "NVAO-accreditatie", "url": "https://www.nvao.net/"},
        "language": "nl",
    }
    created = httpx.post(f"{base}/modules", json=award, headers=_api(stack, HBO))
    assert created.status_code in (201, 409), created.text
    for did, name in (
        (stack.state.institutions[MBO].did, "ROC Noordkust"),
        (outside_did, "Open Leren Academie"),
    ):
        added = httpx.post(
            f"{base}/accepted-issuers", json={"did": did, "name": name}, headers=_api(stack, HBO)
        )
        assert added.status_code in (201, 409), added.text
    mbo_module = httpx.get(f"{stack.issuer}/institutions/{MBO}/modules/basis-programmeren").json()[
        "achievement_id"
    ]
    rule = {
        "id": ROUTE,
        "name": "Doorstroomroute Data",
        "required_modules": [
            {"id": "programmeren", "name": "Programmeren", "achievement_ids": [mbo_module]},
            {"id": "statistiek", "name": "Statistiek", "achievement_ids": [OUTSIDE_MODULE]},
        ],
    }
    published = httpx.post(
        f"{base}/routes",
        json={"kind": "route", "rule": rule, "award_module": AWARD_MODULE},
        headers=_api(stack, HBO),
    )
    assert published.status_code == 201, published.text
    return f"{base}/routes/{ROUTE}"


def _learner(stack: Stack) -> tuple[str, str, dict[str, str]]:
    """A new learner account: (username, DID, API headers)."""
    username = f"lerner{os.getpid()}"
    created = httpx.post(
        f"{stack.wallet}/api/learners", json={"username": username, "password": PASSWORD}
    )
    assert created.status_code == 201, created.text
    session = httpx.post(
        f"{stack.wallet}/api/session", json={"username": username, "password": PASSWORD}
    )
    assert session.status_code == 200, session.text
    return username, created.json()["did"], {"Authorization": f"Bearer {session.json()['token']}"}


def _outside_credential(reference: Any, holder: str) -> tuple[dict[str, Any], str]:
    """An OB 3.0 credential from an issuer outside microcred, signed by the reference
    implementation; and that issuer's DID."""
    key = reference.generate_key("ed25519")
    profile = IssuerProfile(
        id=key["controller"],
        name="Open Leren Academie",
        url="https://open-leren.example",
        country_code="NL",
    )
    module = ModuleDefinition(
        id=OUTSIDE_MODULE,
        name="Statistiek",
        description="Beschrijvende statistiek en kansrekening voor data-analyse.",
        learning_outcomes=("kiest en interpreteert een passende statistische toets",),
        ects=5,
        eqf_level=5,
        assessment_type="online tentamen met surveillance",
        participation_form="online",
        quality_assurance=QualityAssurance(name="Open Leren kwaliteitskader",
                                           url="https://open-leren.example/kwaliteit"),
    )  # fmt: skip
    unsigned = build_credential(
        profile,
        module,
        Learner(did=holder),
        result=Result(grade="7.8", awarded_date=datetime(2026, 6, 30, tzinfo=UTC)),
        credential_id="urn:uuid:5f0c7d3e-2b7a-4e4b-9d51-0a1b2c3d4e5f",
    )
    return reference.sign(unsigned, key), key["controller"]


def _hold_modules(stack: Stack, reference: Any, holder: str, headers: dict[str, str]) -> str:
    """The learner's two modules, put in the wallet over its API; the outside DID."""
    offer = httpx.post(
        f"{stack.issuer}/institutions/{MBO}/offers",
        json={"module_id": "basis-programmeren", "learner": {"email": "sam@example.nl"}},
        headers=_api(stack, MBO),
    )
    assert offer.status_code == 201, offer.text
    claimed = httpx.post(
        f"{stack.wallet}/api/credentials/offers",
        json={"offer": offer.json()["offer_uri"]},
        headers=headers,
        timeout=30,
    )
    assert claimed.status_code == 201, claimed.text
    credential, outside_did = _outside_credential(reference, holder)
    imported = httpx.post(
        f"{stack.wallet}/api/credentials/import", json={"credential": credential}, headers=headers
    )
    assert imported.status_code == 201, imported.text
    assert imported.json()["verified"] is True
    return outside_did


def _consent(phone: Any, expected: list[str]) -> None:
    """The wallet's consent screen: the credentials asked are ticked; consent, share."""
    for title in expected:
        item = phone.locator(".consent-item", has_text=title)
        assert item.locator("input[name='credential']").first.is_checked(), title
    phone.get_by_label("Ik geef toestemming om dit te delen").check()
    phone.get_by_role("button", name="Delen", exact=True).click()


def _fits_the_phone(page: Any) -> bool:
    """No horizontal scrolling at phone width (the wallet is made for a phone first)."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_recognition_journey(
    stack: Stack,
    reference: Any,
    new_visitor: Callable[..., Visitor],
    shot: Callable[..., Path],
) -> None:
    username, did, headers = _learner(stack)
    outside_did = _hold_modules(stack, reference, did, headers)
    route_url = _publish_route(stack, outside_did)
    learner, board, employer = new_visitor(PHONE), new_visitor(LAPTOP), new_visitor(LAPTOP)

    # -- 1. the learner follows the route, sees it complete and asks for recognition
    phone = learner.page
    phone.goto(f"{stack.wallet}/")
    login_wallet(phone, username, PASSWORD)
    phone.goto(f"{stack.wallet}/recognition")
    phone.get_by_label("Adres van de leerroute").fill(route_url)
    phone.get_by_role("button", name="Volg deze leerroute").click()
    ask = phone.get_by_role("button", name="Erkenning aanvragen bij Hogeschool Rijnland")
    ask.wait_for()
    assert _fits_the_phone(phone)
    shot(phone, "01-wallet-route-complete")
    ask.click()
    phone.wait_for_url(re.compile(r".*/present\?request_uri=.*"))
    assert "Hogeschool Rijnland" in phone.locator(".verifier-name").inner_text()
    shot(phone, "02-wallet-consent")
    _consent(phone, ["Basis programmeren in Python", "Statistiek"])
    phone.wait_for_url(re.compile(r".*/recognition/cases/[0-9a-f-]{36}$"))
    case_url = phone.url
    assert phone.locator(".case-state").inner_text() == "In behandeling"
    assert _fits_the_phone(phone)

    # -- 2. an exam board member approves in the console, after the confirmation step
    desk = board.page
    login_issuer(desk, stack.issuer, stack.token(HBO))
    desk.goto(f"{stack.issuer}/console/recognition")
    desk.locator("a[href^='/console/recognition/cases/']").first.click()
    assert "Statistiek" in desk.locator("main").inner_text()
    shot(desk, "03-issuer-case")
    desk.locator("button[name='decision'][value='approve']").click()
    desk.get_by_role("button", name="Ja, doorgaan").click()
    desk.wait_for_url(re.compile(r".*/console/recognition/cases/[^/]+$"))

    # -- 3. the route credential arrives in the wallet, with its parts
    phone.goto(case_url)
    assert phone.locator(".case-state").inner_text() in ("Toegekend", "Toegekend en uitgegeven")
    phone.get_by_role("link", name="Bekijk je credential").first.click()
    phone.wait_for_url(re.compile(r".*/credentials/[0-9a-f-]{36}$"))
    assert AWARD_NAME in phone.locator("h1").inner_text()
    parts = phone.locator(".recognition-parts")
    assert parts.locator("[data-part-status='found']").count() == 2
    assert "Gebaseerd op 2 modules van 2 instellingen." in parts.inner_text()
    shot(phone, "04-wallet-award-parts")

    # -- 4. a share of route + modules verifies at the verifier, with the tree
    parts.get_by_role("button", name="Maak één deellink").click()
    phone.wait_for_url(re.compile(r".*/shares/[0-9a-f-]{36}$"))
    share_url = phone.locator(".qr input.copy-source").input_value()
    office = employer.page
    office.goto(f"{stack.verifier}/")
    office.locator("#share-url").fill(share_url)
    office.locator("form[action='/check/share'] button[type='submit']").click()
    tree = office.locator(".stack-tree")
    tree.wait_for()
    assert tree.get_attribute("data-stack-verdict") == "complete", tree.inner_text()
    headline = tree.locator(".stack-headline").inner_text()
    assert headline.startswith(f"{AWARD_NAME} — Hogeschool Rijnland"), headline
    assert "gebaseerd op 2 modules van 2 instellingen ✓" in headline
    assert tree.locator("[data-part-status='verified']").count() == 2
    shot(office, "05-verifier-stack-tree")

    # -- 5. an employer asks for "the route certificate"; the learner answers
    office.goto(f"{stack.verifier}/check/request")
    office.get_by_label("Waarvoor vraagt u het?").fill("Sollicitatie data-analist")
    office.get_by_label("Het certificaat van een leerroute").check()
    office.get_by_label("Naam van de leerroute of het certificaat").fill(AWARD_NAME)
    office.get_by_role("button", name="Maak verzoek met QR-code").click()
    office.wait_for_url(re.compile(r".*/check/request/[A-Za-z0-9_-]+$"))
    request_link = qr_text_of(office)
    phone.goto(f"{stack.wallet}/present")
    phone.get_by_label("Plak de link of code van het verzoek").fill(request_link)
    phone.get_by_role("button", name="Bekijk het verzoek").click()
    _consent(phone, [AWARD_NAME])
    office.wait_for_url(re.compile(r".*/check/request/[A-Za-z0-9_-]+/result$"), timeout=20_000)
    verdict = office.locator("[data-verdict]").first.get_attribute("data-verdict")
    assert verdict == "verified", office.locator("main").inner_text()
    assert office.locator(".stack-tree").get_attribute("data-stack-verdict") == "alone"
    assert "De onderliggende modules zijn niet getoond" in office.locator("main").inner_text()
    shot(office, "06-verifier-route-certificate")

    for visitor in (learner, board, employer):
        visitor.problems.assert_clean()
