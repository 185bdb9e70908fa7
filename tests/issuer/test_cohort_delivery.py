"""Issue 16 point 3: a cohort upload reaches every learner by mail, as an offer for their
own wallet, and the registrar follows each row (sent, opened, collected), re-sends and
cancels (after a confirmation step). A real SMTP server (aiosmtpd) receives the mail."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from fastapi.testclient import TestClient
from PIL import Image

from issuer.config import Settings
from tests.issuer.oid4vci_wallet import CONFIGURATION, Wallet, code_of
from tests.issuer.support import Clock, Institution, issuer_settings
from tests.support.mailbox import Mailbox, mailbox, text_of

COOKIE = "mc_issuer_session"
CSV = (
    "email,student_number,grade,awarded_date\n"
    "anna@example.nl,500123,8,2026-06-30\n"
    "bram@example.nl,500124,7,2026-06-30\n"
)


@pytest.fixture
def smtp() -> Iterator[Mailbox]:
    with mailbox() as box:
        yield box


@pytest.fixture
def settings(migrated: str, port: int, tmp_path: Path, smtp: Mailbox) -> Settings:
    configured = issuer_settings(migrated, port, tmp_path)
    configured.smtp_host = smtp.host
    configured.smtp_port = smtp.port
    configured.smtp_security = "none"
    configured.smtp_from = "studentenadministratie@hsr.example"
    return configured


def log_in(client: TestClient, inst: Institution) -> str:
    client.get("/")
    csrf = client.cookies.get("mc_issuer_csrf")
    assert csrf
    answer = client.post(
        "/login", data={"token": inst.token, "csrf_token": csrf}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    client.get("/console")  # the form token is bound to the session: a fresh one
    fresh = client.cookies.get("mc_issuer_csrf")
    assert fresh
    return fresh


def upload(client: TestClient, csrf: str, data: str, **form: str) -> Any:
    return client.post(
        "/console/batch",
        data={"module_id": "data-wrangling", "csrf_token": csrf} | form,
        files={"file": ("cohort.csv", data.encode(), "text/csv")},
        follow_redirects=False,
    )


def states(client: TestClient, page: str) -> dict[str, str]:
    html = client.get(page).text
    return dict(re.findall(r'data-delivery="(dlv_[0-9a-f]+)" data-state="([a-z_]+)"', html))


def offer_uri_in(text: str) -> str:
    match = re.search(r"openid-credential-offer://\S+", text)
    assert match, text
    return match.group(0)


def collect(client: TestClient, clock: Clock, inst: Institution, port: int, uri: str) -> str:
    wallet = Wallet(client, clock)
    offer = wallet.offer(uri)
    token = wallet.token(inst.path("/token"), code_of(offer))
    assert token.status_code == 200, token.text
    access = token.json()["access_token"]
    nonce = wallet.nonce(inst.path("/nonce"))
    issuer = f"http://127.0.0.1:{port}/institutions/{inst.slug}"
    body = {
        "credential_configuration_id": CONFIGURATION,
        "proofs": {"jwt": [wallet.proof(issuer, nonce)]},
    }
    issued = wallet.credential(inst.path("/credential"), access, body)
    assert issued.status_code == 200, issued.text
    return wallet.did


def test_each_row_gets_a_mail_with_its_own_offer_and_the_registrar_follows_it(
    client: TestClient, inst: Institution, module: Any, smtp: Mailbox, clock: Clock, port: int
) -> None:
    csrf = log_in(client, inst)
    answer = upload(client, csrf, CSV)
    assert answer.status_code == 303, answer.text
    page = answer.headers["location"]
    assert re.fullmatch(r"/console/batch/cohorts/coh_[0-9a-f]+", page)

    mails = smtp.wait_for(2)
    assert sorted(m["To"] for m in mails) == ["anna@example.nl", "bram@example.nl"]
    anna = next(m for m in mails if m["To"] == "anna@example.nl")
    assert "Data Wrangling with Python" in anna["Subject"]
    text = text_of(anna)
    assert "Beste student" in text  # the registrar's language (Dutch by default)
    uris = {m["To"]: offer_uri_in(text_of(m)) for m in mails}
    assert uris["anna@example.nl"] != uris["bram@example.nl"]
    # the QR code travels inside the mail, not as a link back to the issuer
    images = [p for p in anna.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 1
    # QR codes only: zxing's 1-D readers now and then "see" a short barcode in QR modules
    decoded = zxingcpp.read_barcodes(
        Image.open(io.BytesIO(images[0].get_content())), formats=zxingcpp.BarcodeFormat.QRCode
    )
    assert [code.text for code in decoded] == [uris["anna@example.nl"]]

    assert sorted(states(client, page).values()) == ["sent", "sent"]
    html = client.get(page).text
    assert "2 verstuurd" in html
    assert '<a href="/console/batch" aria-current="page">' in html  # the menu knows where

    # Anna's wallet fetches the offer (opened) and collects it (collected, bound to her DID)
    holder = collect(client, clock, inst, port, uris["anna@example.nl"])
    found = states(client, page)
    assert sorted(found.values()) == ["collected", "sent"]
    listed = client.get("/console/credentials").text
    assert "opgehaald" in client.get(page).text
    credential_link = re.search(r'href="(/console/credential\?id=[^"]+)"', client.get(page).text)
    assert credential_link
    detail = client.get(credential_link.group(1).replace("&amp;", "&")).text
    assert holder in detail
    assert "500123" in listed or "anna@example.nl" in listed


def test_opening_the_link_is_seen_and_a_resend_mails_the_same_learner_again(
    client: TestClient, inst: Institution, module: Any, smtp: Mailbox
) -> None:
    csrf = log_in(client, inst)
    page = upload(client, csrf, CSV.splitlines()[0] + "\n" + CSV.splitlines()[1]).headers[
        "location"
    ]
    (mail,) = smtp.wait_for(1)
    Wallet(client, Clock()).offer(offer_uri_in(text_of(mail)))
    (delivery_id, state), *_ = states(client, page).items()
    assert state == "opened"
    again = client.post(
        f"/console/batch/deliveries/{delivery_id}/resend",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert again.status_code == 303
    second = smtp.wait_for(2)[1]
    assert second["To"] == "anna@example.nl"
    assert offer_uri_in(text_of(second)) == offer_uri_in(text_of(mail))


def test_cancelling_asks_first_then_the_link_stops_working(
    client: TestClient, inst: Institution, module: Any, smtp: Mailbox
) -> None:
    csrf = log_in(client, inst)
    page = upload(client, csrf, CSV).headers["location"]
    mails = smtp.wait_for(2)
    delivery_id = next(iter(states(client, page)))
    confirm = client.get(f"/console/batch/deliveries/{delivery_id}/cancel")
    assert confirm.status_code == 200
    assert "werkt daarna niet meer" in confirm.text  # the consequence, before anything happens
    assert set(states(client, page).values()) == {"sent"}  # asking changed nothing
    done = client.post(
        f"/console/batch/deliveries/{delivery_id}/cancel",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert states(client, page)[delivery_id] == "cancelled"
    uris = [offer_uri_in(text_of(m)) for m in mails]
    answers = []
    for uri in uris:
        from urllib.parse import parse_qs, urlsplit

        url = parse_qs(urlsplit(uri).query)["credential_offer_uri"][0]
        answers.append(client.get(url).status_code)
    assert sorted(answers) == [200, 410]


def test_a_grade_off_the_scale_refuses_the_upload_naming_the_row_in_dutch(
    client: TestClient, inst: Institution, module: Any, smtp: Mailbox
) -> None:
    csrf = log_in(client, inst)
    bad = CSV + "cas@example.nl,500125,11,2026-06-30\n"
    answer = upload(client, csrf, bad)
    assert answer.status_code == 422
    assert "Regel 4: cijfer 11 ligt buiten de schaal van deze module (1 tot en met 10)" in (
        answer.text
    )
    assert "outside" not in answer.text
    assert smtp.messages == []  # nothing created, nothing mailed
    client.get("/lang/en?next=/console/batch")
    answer = upload(client, csrf, bad)
    assert "Row 4: grade 11 is outside this module&#39;s scale (1 to 10)." in answer.text


def test_without_a_mail_server_nothing_is_sent_and_the_registrar_is_told(
    client: TestClient, inst: Institution, module: Any, smtp: Mailbox, app: Any
) -> None:
    app.state.issuer.settings.smtp_host = ""
    csrf = log_in(client, inst)
    page = upload(client, csrf, CSV).headers["location"]
    html = client.get(page).text
    assert "data-smtp-unset" in html
    assert "geen mailserver ingesteld" in html
    assert set(states(client, page).values()) == {"not_sent"}
    assert smtp.messages == []
    listing = client.get(page + "/delivery-list.csv")
    assert listing.status_code == 200
    assert listing.headers["content-type"].startswith("text/csv")
    lines = listing.text.strip().splitlines()
    assert lines[0].startswith("Regel,E-mail")
    assert len(lines) == 3 and all("openid-credential-offer://" in line for line in lines[1:])
    assert all(",'" not in line for line in lines)
    pdf = client.get(page + "/delivery-list.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"


def test_the_direct_download_path_stays_and_says_it_is_unbound(
    client: TestClient, inst: Institution, module: Any, smtp: Mailbox
) -> None:
    csrf = log_in(client, inst)
    form = client.get("/console/batch").text
    assert "niet gebonden aan een wallet" in form
    answer = upload(client, csrf, CSV, how="direct")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/console/batch/")
    assert smtp.messages == []


def test_the_delivery_list_never_hands_a_spreadsheet_a_formula(
    client: TestClient, inst: Institution, module: Any, smtp: Mailbox
) -> None:
    csrf = log_in(client, inst)
    # the student number pattern already refuses "=" and "+"; a leading "-" passes it
    page = upload(client, csrf, "email,student_number\nanna@example.nl,-2\n")
    assert page.status_code == 303, page.text
    listing = client.get(page.headers["location"] + "/delivery-list.csv").text
    assert ",'-2," in listing  # a leading minus is a formula to a spreadsheet
