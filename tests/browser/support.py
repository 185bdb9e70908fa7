"""Helpers for the browser tests: hostile texts, locally signed credentials, page reading."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from credentials.keys import Multikey
from credentials.microcredential import (
    IssuerProfile,
    Learner,
    ModuleDefinition,
    QualityAssurance,
    Result,
    build_credential,
)
from credentials.proofs import sign

#: Markup that would run if any page let it through unescaped. Each tries to set a global
#: the tests then look for, so "nothing ran" is checked, not assumed.
SCRIPT_NAME = "<script>window.__pwned = 'script'</script>Hacking 101"
ATTRIBUTE_BREAKOUT = '"><img src=x onerror="window.__pwned=\'img\'">Payload'
HOSTILE_TEXTS = (SCRIPT_NAME, ATTRIBUTE_BREAKOUT)


def hostile_module(module_id: str = "https://evil.example/modules/x") -> ModuleDefinition:
    return ModuleDefinition(
        id=module_id,
        name=SCRIPT_NAME,
        description=ATTRIBUTE_BREAKOUT,
        learning_outcomes=(SCRIPT_NAME, ATTRIBUTE_BREAKOUT),
        ects=2.5,
        eqf_level=5,
        assessment_type=ATTRIBUTE_BREAKOUT,
        participation_form="online",
        quality_assurance=QualityAssurance(name=SCRIPT_NAME, url="javascript:alert(1)"),
    )


def self_signed_hostile_credential(holder: str) -> dict[str, Any]:
    """A microcredential whose every text is an injection attempt, signed by a did:key."""
    key = Multikey.generate("ed25519")
    profile = IssuerProfile(
        id=key.controller,
        name=ATTRIBUTE_BREAKOUT,
        url="https://evil.example",
        country_code="NL",
        region=SCRIPT_NAME,
    )
    credential = build_credential(
        profile,
        hostile_module(),
        Learner(did=holder),
        result=Result(grade=SCRIPT_NAME, awarded_date=datetime(2026, 1, 5, tzinfo=UTC)),
    )
    return sign(credential, key)


def assert_nothing_ran(page: Any) -> None:
    """No injected script ran and no injected element exists on the page."""
    assert page.evaluate("() => window.__pwned === undefined"), "injected script ran"
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("script:not([src])").count() == 0
    assert page.locator("[style]").count() == 0


def decode_qr(png: bytes) -> str:
    """The text of the QR code in a PNG (zxing-cpp, the same decoder the API tests use)."""
    import zxingcpp
    from PIL import Image

    image = Image.open(io.BytesIO(png))
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert found, "no QR code found in the image"
    return found[0].text


def qr_text_of(page: Any, selector: str = ".qr img") -> str:
    """Decode the QR image a page shows (a data: URI PNG), as a phone camera would."""
    import base64

    source = page.locator(selector).first.get_attribute("src")
    assert source and source.startswith("data:image/png;base64,"), source
    return decode_qr(base64.b64decode(source.split(",", 1)[1]))


def login_issuer(page: Any, base: str, token: str) -> None:
    page.goto(f"{base}/")
    page.get_by_label("API-token").fill(token)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(f"{base}/console")


def login_wallet(page: Any, username: str, password: str) -> None:
    """Fill the wallet's log-in form on the page that shows it (the start page)."""
    page.locator("#login-username").fill(username)
    page.locator("#login-password").fill(password)
    page.get_by_role("button", name="Inloggen").click()


def wallet_token(stack: Any) -> str:
    """An API token for the demo learner (the wallet's own API, as another client would)."""
    import httpx

    answer = httpx.post(
        f"{stack.wallet}/api/session",
        json={"username": stack.state.learner_username, "password": stack.state.learner_password},
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["token"])


def issue_to_learner(
    stack: Any, slug: str, module_id: str, token: str | None = None, grade: str = "7.5"
) -> str:
    """Issue ``module_id`` of institution ``slug`` into the demo learner's wallet over the
    services' HTTP APIs (offer → wallet claims it); the wallet's id of the credential."""
    import httpx

    offer = httpx.post(
        f"{stack.issuer}/institutions/{slug}/offers",
        json={"module_id": module_id, "learner": {"email": "learner@example.nl"},
              "result": {"grade": grade}},
        headers={"Authorization": f"Bearer {token or stack.token(slug)}"},
    )  # fmt: skip
    assert offer.status_code == 201, offer.text
    received = httpx.post(
        f"{stack.wallet}/api/credentials/offers",
        json={"offer": offer.json()["offer_uri"]},
        headers={"Authorization": f"Bearer {wallet_token(stack)}"},
        timeout=30,
    )
    assert received.status_code == 201, received.text
    body = received.json()
    items = body if isinstance(body, list) else body.get("credentials", [body])
    return str(items[0]["id"])


def share_link(stack: Any, credential_ids: list[str], label: str | None = None) -> str:
    import httpx

    answer = httpx.post(
        f"{stack.wallet}/api/shares",
        json={"credentialIds": credential_ids, **({"label": label} if label else {})},
        headers={"Authorization": f"Bearer {wallet_token(stack)}"},
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["url"])


def settle_status_lists(stack: Any, slug: str, learner_ref: str) -> None:
    """Make the issuer sign its changed status lists now, and wait until their ``validFrom``
    (the signing second) has passed.

    The issuer re-signs a list lazily, stamping ``validFrom`` with the moment of signing,
    and the core's status check compares that with the moment the verification *started*,
    without clock skew: a check that starts just before a second boundary and fetches the
    freshly signed list just after it fails with ``status_list_not_yet_valid``. That race is
    reported to the core/issuer owners; until it is fixed the journeys wait it out here
    instead of failing one run in a few.
    """
    import time
    from datetime import UTC, datetime

    import httpx

    headers = {"Authorization": f"Bearer {stack.token(slug)}"}
    listing = httpx.get(
        f"{stack.issuer}/institutions/{slug}/credentials",
        params={"learner": learner_ref},
        headers=headers,
    ).json()["credentials"]
    latest = 0.0
    for item in listing:
        record = httpx.get(
            f"{stack.issuer}/institutions/{slug}/credentials/{item['credentialId']}",
            headers=headers,
        ).json()
        for entry in record["verifiableCredential"].get("credentialStatus", []):
            status_list = httpx.get(entry["statusListCredential"]).json()
            stamp = datetime.fromisoformat(status_list["validFrom"].replace("Z", "+00:00"))
            latest = max(latest, stamp.timestamp())
    delay = latest + 1.05 - datetime.now(UTC).timestamp()
    if delay > 0:
        time.sleep(delay)


def signup_wallet(page: Any, base: str, username: str, password: str) -> str:
    """Sign up on the wallet's start page; returns the new learner's DID (from /data)."""
    page.goto(f"{base}/")
    page.locator("#signup-username").fill(username)
    page.locator("#signup-password").fill(password)
    page.get_by_role("button", name="Account maken").click()
    # Sign-up does not log in (whether the name was free must not show, H-9e): log in.
    page.locator("#signup-done").wait_for()
    login_wallet(page, username, password)
    page.wait_for_url(f"{base}/credentials")
    page.goto(f"{base}/data")
    return str(page.locator("code").first.inner_text())


def import_credential_file(page: Any, base: str, path: Any) -> None:
    """Import a credential file on the wallet's receive page and wait for its detail page."""
    page.goto(f"{base}/receive")
    page.get_by_label("Credential-bestand (JSON)").set_input_files(str(path))
    page.get_by_role("button", name="Importeren").click()
    page.wait_for_url(re.compile(r".*/credentials/[0-9a-f-]{36}$"))


AXE = Path(__file__).resolve().parents[2] / "interop" / "node_modules" / "axe-core" / "axe.min.js"
"""axe-core from the npm registry (pinned in interop/package.json, installed by scripts/setup)."""


def assert_no_axe_violations(page: Any) -> None:
    """axe-core finds no accessibility violation on the page as it is now.

    axe is evaluated through the DevTools protocol, so the page's CSP ('self' only, no
    inline script) stays on while it runs.
    """
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run scripts/setup (npm ci in interop/)")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;true")
    violations = page.evaluate(
        "async () => (await axe.run(document)).violations.map("
        "v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))"
    )
    assert violations == [], (page.url, violations)
