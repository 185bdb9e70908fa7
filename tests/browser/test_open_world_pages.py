"""Issue 13 on the pages, in Chromium: the verifier's result page and the wallet's credential
detail name the format a credential came in ("VCDM 1.1 · Ed25519Signature2020", "Open
Badges 2.0 · gehost (niet ondertekend)"), in Dutch by default, and every check the open
world brought (``format``, ``related_resource``, ``policy``, the OB 2.0 checks) has a label
in words: no raw check id is ever shown as a label.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from credentials.keys import Multikey
from tests.browser.conftest import LAPTOP, Stack, Visitor
from tests.browser.support import import_credential_file, signup_wallet
from tests.support.badge_host import BadgeHost, badge_host
from tests.wallet.test_open_world_import import vcdm11_ob3

RAW_ID = re.compile(r"^(credential\[\d+\]\.)?[a-z_]+$")


def _jwt_vc() -> str:
    import base64

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    claims = {"iss": "did:example:i", "vc": {"type": ["VerifiableCredential"]}}
    return f"{part({'alg': 'EdDSA', 'typ': 'vc+jwt'})}.{part(claims)}.c2lnbmF0dXJl"


def assert_labels_in_words(page: Any, expected: dict[str, str]) -> None:
    """Every check row's label is words, never its id; the named ids carry these labels."""
    rows = page.locator("li.check")
    assert rows.count() > 0
    labels: dict[str, str] = {}
    for index in range(rows.count()):
        row = rows.nth(index)
        check_id = row.get_attribute("data-check-id") or ""
        label = row.locator(".check-label").inner_text().strip()
        assert label and label != check_id and not RAW_ID.match(label), (check_id, label)
        labels[check_id] = label
    for check_id, label in expected.items():
        assert labels.get(check_id) == label, (check_id, labels)


def check_on_the_verifier(page: Any, stack: Stack, text: str) -> None:
    page.goto(f"{stack.verifier}/")
    page.get_by_label("Plak de credential (JSON)").fill(text)
    page.get_by_role("button", name="Controleer credential").click()
    page.wait_for_selector("[data-verdict]")


@pytest.fixture
def host() -> Iterator[BadgeHost]:
    with badge_host() as running:
        yield running


def test_the_verifier_names_the_format_and_labels_every_check(
    stack: Stack, new_visitor: Callable[..., Visitor], shot: Callable[..., Path], host: BadgeHost
) -> None:
    visitor = new_visitor(LAPTOP)
    page = visitor.page

    # a VCDM 1.1 credential with an Ed25519Signature2020 proof from an unknown did:key issuer
    credential = vcdm11_ob3(Multikey.generate("ed25519"), Multikey.generate().controller)
    check_on_the_verifier(page, stack, json.dumps(credential))
    assert page.locator("[data-verdict]").get_attribute("data-verdict") != "failed"
    assert page.locator(".credential-card .format").inner_text() == (
        "VCDM 1.1 · Ed25519Signature2020"
    )
    assert_labels_in_words(page, {"proof": "Digitale handtekening"})
    shot(page, "open-world-vcdm11")

    # a hosted Open Badges 2.0 assertion: its own checks, and "gehost" in Dutch
    check_on_the_verifier(page, stack, json.dumps(host.publish_edubadges()))
    assert page.locator(".credential-card .format").inner_text() == (
        "Open Badges 2.0 · gehost (niet ondertekend)"
    )
    # nothing is signed: the verdict says where the confirmation comes from, not "ondertekend"
    verdict = page.locator(".verdict h1").inner_text()
    assert verdict.startswith("!Bevestigd door de server van de uitgever"), verdict
    assert "ondertekend" not in verdict
    assert "niet digitaal ondertekend" in page.locator(".verdict").inner_text()
    assert_labels_in_words(
        page,
        {
            "badge_class": "Beschrijving van de badge",
            "origin": "Staat waar de uitgever het toestaat",
            "hosting": "Bewaard op de server van de uitgever",
            "recipient": "Ontvanger van de badge",
        },
    )
    shot(page, "open-world-ob2")

    # a JWT-secured VC: refused as an unsupported format, under a label in words
    check_on_the_verifier(page, stack, _jwt_vc())
    assert page.locator("[data-verdict]").get_attribute("data-verdict") == "failed"
    assert_labels_in_words(page, {"format": "Soort credential"})
    refused = page.locator("li.check[data-check-id='format']").inner_text()
    assert "niet ondersteund" in refused and "unsupported_format" in refused  # words + code

    # the same page in English
    page.get_by_role("link", name="English").first.click()
    page.goto(f"{stack.verifier}/")
    page.get_by_label("Paste the credential (JSON)").fill(json.dumps(credential))
    page.get_by_role("button", name="Check credential").click()
    page.wait_for_selector("[data-verdict]")
    assert page.locator(".credential-card dt", has_text="Format").count() == 1
    assert_labels_in_words(page, {"proof": "Digital signature"})
    visitor.problems.assert_clean()


def test_the_wallet_detail_names_the_format(
    stack: Stack, new_visitor: Callable[..., Visitor], tmp_path: Path
) -> None:
    visitor = new_visitor(LAPTOP)
    page = visitor.page
    did = signup_wallet(page, stack.wallet, "femke", "Zeeuwse-klei-2026")
    path = tmp_path / "vcdm11.json"
    path.write_text(json.dumps(vcdm11_ob3(Multikey.generate("ed25519"), did)))
    import_credential_file(page, stack.wallet, path)
    assert page.locator("h1").inner_text() == "Machine Learning"
    assert page.locator("p.format").inner_text() == "Soort: VCDM 1.1 · Ed25519Signature2020"
    assert_labels_in_words(page, {"schema": "Volledig volgens het EU-microcredentialprofiel"})
    visitor.problems.assert_clean()
