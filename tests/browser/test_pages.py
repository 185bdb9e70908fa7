"""The rest of the pages, in Chromium: the registrar's module catalogue and cohort upload
(with its progress bar), the language switch and keyboard use, the learner's control over
their data (import, export, delete), and the exam board's admission rule.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from credentials.keys import Multikey
from credentials.microcredential import (
    IssuerProfile,
    Learner,
    ModuleDefinition,
    QualityAssurance,
    build_credential,
)
from credentials.proofs import sign
from tests.browser.conftest import LAPTOP, PHONE, Stack, Visitor
from tests.browser.support import (
    assert_nothing_ran,
    issue_to_learner,
    login_issuer,
    login_wallet,
    share_link,
)


def test_registrar_creates_a_module_and_issues_to_a_cohort_with_progress(
    stack: Stack, new_visitor: Callable[..., Visitor], shot: Callable[..., Path], tmp_path: Path
) -> None:
    registrar = new_visitor(LAPTOP)
    page = registrar.page
    login_issuer(page, stack.issuer, stack.token("roc-noordkust"))

    # a module form with a mistake is refused field by field, keeping what was typed
    page.goto(f"{stack.issuer}/console/modules")
    page.get_by_label("Naam van de module").fill("Veilig werken met data")
    page.get_by_label("Omschrijving").fill("Privacy en beveiliging in de praktijk.")
    page.get_by_label("Leerresultaten (één per regel)").fill("past de AVG toe op eigen werk")
    page.get_by_label("Soort toetsing").fill("casustoets")
    page.get_by_label("Kwaliteitszorg (naam)").fill("Kwaliteitskader microcredentials mbo")
    page.get_by_label("Kwaliteitszorg (link)").fill("https://example.org/kwaliteit")
    page.get_by_role("button", name="Module opslaan").click()
    assert "studielast" in page.locator("main").inner_text().lower()  # no ECTS, no hours
    assert page.get_by_label("Naam van de module").input_value() == "Veilig werken met data"
    shot(page, "01-module-refused")
    page.get_by_label("ECTS").fill("1.5")
    page.get_by_role("button", name="Module opslaan").click()
    assert "is aangemaakt" in page.locator(".flash").inner_text()
    assert "Veilig werken met data" in page.locator("table").inner_text()

    # a cohort CSV: the progress page, then a report per row (one row is refused)
    rows = ["email,student_number,grade"]
    rows += [f"student{n}@example.nl,{700000 + n},{6 + n % 4}" for n in range(40)]
    rows.append("bad-address,700999,8")
    csv_file = tmp_path / "cohort.csv"
    csv_file.write_text("\n".join(rows) + "\n")
    page.goto(f"{stack.issuer}/console/batch")
    page.get_by_label("Module").select_option(label="Data in de praktijk")
    page.get_by_label("CSV-bestand").set_input_files(str(csv_file))
    page.get_by_label(re.compile("Direct ondertekenen")).check()  # not mailed (issue 16)
    page.get_by_role("button", name="Uitgeven aan het cohort").click()
    page.wait_for_url(re.compile(r".*/console/batch/[A-Za-z0-9_-]+$"))
    shot(page, "02-batch-progress")
    page.wait_for_selector("[data-batch-done]", timeout=60_000)
    summary = page.locator("[data-batch-done]").inner_text()
    assert "Uitgegeven 40" in summary and "mislukt 1" in summary, summary
    assert page.locator("tr.row-failed").count() == 1
    shot(page, "03-batch-done")

    # uploading the same file again issues nothing twice
    page.goto(f"{stack.issuer}/console/batch")
    page.get_by_label("Module").select_option(label="Data in de praktijk")
    page.get_by_label("CSV-bestand").set_input_files(str(csv_file))
    page.get_by_label(re.compile("Direct ondertekenen")).check()  # not mailed (issue 16)
    page.get_by_role("button", name="Uitgeven aan het cohort").click()
    page.wait_for_selector("[data-batch-done]", timeout=60_000)
    assert "al eerder 40" in page.locator("[data-batch-done]").inner_text()

    # the issued list finds a learner by student number
    page.goto(f"{stack.issuer}/console/credentials?learner=700007")
    assert page.locator("tbody tr").count() == 1
    assert "Data in de praktijk" in page.locator("tbody").inner_text()

    # suspend with a reason, then lift the suspension
    page.locator("tbody a").first.click()
    page.get_by_role("link", name="Schorsen").click()  # asks first (issue 16)
    page.get_by_label("Reden").fill("onderzoek examencommissie")
    page.get_by_role("button", name="Ja, schors de credential").click()
    assert page.locator("[data-status]").get_attribute("data-status") == "suspended"
    shot(page, "04-credential-suspended")
    page.get_by_role("button", name="Schorsing opheffen").click()
    assert page.locator("[data-status]").get_attribute("data-status") == "active"
    assert "onderzoek examencommissie" in page.locator("main").inner_text()  # the history
    registrar.problems.assert_clean()


def test_language_switch_and_keyboard_use(
    stack: Stack, new_visitor: Callable[..., Visitor], shot: Callable[..., Path]
) -> None:
    visitor = new_visitor(PHONE)
    page = visitor.page
    page.goto(f"{stack.verifier}/")
    assert page.locator("html").get_attribute("lang") == "nl"
    # the first Tab lands on the skip link, which moves focus to the content
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"
    page.get_by_role("link", name="Switch to English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Check a microcredential"
    shot(page, "01-verifier-english")
    # the choice is one cookie for all services on this host
    page.goto(f"{stack.wallet}/")
    assert page.locator("h1").inner_text() == "Your microcredentials, in your hands"
    # every form field has a label
    for url in (f"{stack.verifier}/", f"{stack.verifier}/check/request", f"{stack.wallet}/"):
        page.goto(url)
        unlabelled = page.evaluate(
            """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
                 .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
                 .map(e => e.name)"""
        )
        assert unlabelled == [], (url, unlabelled)
    page.get_by_role("link", name="Nederlands").click()
    assert page.locator("html").get_attribute("lang") == "nl"
    visitor.problems.assert_clean()


def _signed_for(holder: str) -> dict:
    """A microcredential from an institution the wallet does not know, signed by a did:key."""
    key = Multikey.generate("ed25519")
    issuer = IssuerProfile(
        id=key.controller, name="Volksuniversiteit Oost", url="https://vu-oost.example",
        country_code="NL",
    )  # fmt: skip
    module = ModuleDefinition(
        id="https://vu-oost.example/modules/spaans-a2",
        name="Spaans A2",
        description="Spaans op niveau A2.",
        learning_outcomes=("voert eenvoudige gesprekken in het Spaans",),
        hours=60,
        eqf_level=3,
        assessment_type="mondeling examen",
        participation_form="onsite",
        quality_assurance=QualityAssurance(name="NRTO-keurmerk", url="https://www.nrto.nl/"),
    )
    return sign(build_credential(issuer, module, Learner(did=holder)), key)


def test_learner_signs_up_imports_exports_and_deletes(
    stack: Stack, new_visitor: Callable[..., Visitor], shot: Callable[..., Path], tmp_path: Path
) -> None:
    visitor = new_visitor(PHONE)
    page = visitor.page
    page.goto(f"{stack.wallet}/")
    page.locator("#signup-username").fill("sanne")
    page.locator("#signup-password").fill("wachtwoord")
    page.get_by_role("button", name="Account maken").click()
    assert page.locator("[role='alert']").count() == 1  # too weak: the service's reason
    page.locator("#signup-password").fill("Zeeuwse-klei-2026")
    page.get_by_role("button", name="Account maken").click()
    # no log-in at sign-up (H-9e): the start page asks to log in, the name filled in
    assert page.locator("#login-username").input_value() == "sanne"
    assert "Log nu in als sanne" in page.locator("#signup-done").inner_text()
    login_wallet(page, "sanne", "Zeeuwse-klei-2026")
    page.wait_for_url(f"{stack.wallet}/credentials")

    page.goto(f"{stack.wallet}/data")
    did = page.locator("code").first.inner_text()
    assert did.startswith("did:key:")
    credential_file = tmp_path / "spaans.json"
    credential_file.write_text(json.dumps(_signed_for(did)))
    page.goto(f"{stack.wallet}/receive")
    page.get_by_label("Credential-bestand (JSON)").set_input_files(str(credential_file))
    page.get_by_role("button", name="Importeren").click()
    page.wait_for_url(re.compile(r".*/credentials/[0-9a-f-]{36}$"))
    assert page.locator("h1").inner_text() == "Spaans A2"
    assert page.locator(".notice").count() >= 1  # unknown institution: a warning, not a refusal
    shot(page, "01-imported")

    page.goto(f"{stack.wallet}/data")
    with page.expect_download() as download:
        page.get_by_role("link", name="Alles exporteren (JSON)").click()
    exported = json.loads(Path(download.value.path()).read_text())
    assert any("Spaans A2" in json.dumps(c, ensure_ascii=False) for c in exported["credentials"])
    shot(page, "02-data")

    page.get_by_label(re.compile("Typ je gebruikersnaam")).fill("iemand-anders")
    page.get_by_role("button", name="Definitief verwijderen").click()
    assert "niets verwijderd" in page.locator("[role='alert']").inner_text()
    page.get_by_label(re.compile("Typ je gebruikersnaam")).fill("sanne")
    page.get_by_role("button", name="Definitief verwijderen").click()
    page.wait_for_url(f"{stack.wallet}/")
    assert "verwijderd" in page.locator(".flash").inner_text()
    login_wallet(page, "sanne", "Zeeuwse-klei-2026")
    assert page.locator("[role='alert']").count() == 1  # the account is gone
    visitor.problems.assert_clean()


def test_exam_board_tests_an_admission_rule_over_a_share_link(
    stack: Stack, new_visitor: Callable[..., Visitor], shot: Callable[..., Path]
) -> None:
    wrangling = issue_to_learner(stack, "hs-rijnland", "data-wrangling")
    statistics = issue_to_learner(stack, "hs-rijnland", "toegepaste-statistiek")
    basics = issue_to_learner(stack, "roc-noordkust", "basis-programmeren")
    url = share_link(stack, [wrangling, statistics, basics])

    board = new_visitor(LAPTOP)
    page = board.page
    page.goto(f"{stack.verifier}/check/admission")
    page.get_by_label("Naam van de regel").fill("Vrijstelling minor Data")
    page.get_by_label("Minimaal aantal ECTS").fill("10")
    page.get_by_label("Minimaal EQF-niveau van elke module").select_option("6")
    page.get_by_label("Deellink van de aanvrager").fill(url)
    page.get_by_role("button", name="Toets aan de regel").click()
    verdict = page.locator("[data-verdict]")
    assert verdict.get_attribute("data-verdict") == "satisfied", page.locator("main").inner_text()
    text = page.locator("main").inner_text()
    assert "10 ECTS telt mee" in text
    assert "Basis programmeren in Python" in text  # listed as not counting: EQF 4 < 6
    assert_nothing_ran(page)
    shot(page, "01-admission-satisfied")

    page.goto(f"{stack.verifier}/check/admission")
    page.get_by_label("Minimaal aantal ECTS").fill("30")
    page.get_by_label("Deellink van de aanvrager").fill(url)
    page.get_by_role("button", name="Toets aan de regel").click()
    assert page.locator("[data-verdict]").get_attribute("data-verdict") == "not-satisfied"
    text = page.locator("main").inner_text()
    assert "Voldoet niet aan de regel: 13 van 30 ECTS" in text  # the headline is the answer
    assert "more ECTS" not in text  # the engine's English stays off the Dutch page
    shot(page, "02-admission-not-satisfied")

    # wallet side: the learning route now shows the progress of three modules
    learner = new_visitor(PHONE)
    learner.page.goto(f"{stack.wallet}/")
    login_wallet(learner.page, stack.state.learner_username, stack.state.learner_password)
    learner.page.goto(f"{stack.wallet}/routes")
    learner.page.get_by_role("link", name="Bekijk voortgang").first.click()
    assert learner.page.locator(".badge", has_text="Voltooid").count() == 1
    shot(learner.page, "03-wallet-route-complete")
    for visitor in (board, learner):
        visitor.problems.assert_clean()
