"""Issue 16 points 9b and 10b (issuer side): the institution's link answers people with a
page and software with JSON; a module's badge image is checked by content, re-encoded,
served safely and named in credentials issued afterwards."""

from __future__ import annotations

import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tests.issuer.support import Institution
from tests.issuer.test_cohort_delivery import log_in

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def picture(kind: str = "PNG", size: tuple[int, int] = (200, 120)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 60)).save(buffer, format=kind)
    return buffer.getvalue()


def upload(client: TestClient, csrf: str, data: bytes, name: str = "badge.png") -> Any:
    return client.post(
        "/console/modules/data-wrangling/image",
        data={"csrf_token": csrf},
        files={"image": (name, data, "image/png")},
        follow_redirects=False,
    )


def test_the_institution_link_is_a_page_for_people_and_json_for_software(
    client: TestClient, inst: Institution, module: Any
) -> None:
    path = inst.path("")
    as_json = client.get(path, headers={"Accept": "application/json"})
    assert as_json.status_code == 200 and as_json.json()["did"] == inst.did
    assert client.get(path).json()["name"]  # no Accept header at all: JSON as before

    page = client.get(path, headers={"Accept": BROWSER, "Accept-Language": "nl"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "Accept" in page.headers.get("vary", "")
    html = page.text
    assert '<html lang="nl"' in html
    assert "Hogeschool Rijnland" in html
    assert inst.did in html
    assert "NVAO accreditation (institutional audit)" in html  # the modules' quality assurance
    assert "Data Wrangling with Python" in html
    assert "Accreditatie en kwaliteitszorg" in html


def test_a_png_badge_is_reencoded_served_safely_and_named_in_new_credentials(
    client: TestClient, inst: Institution, module: Any
) -> None:
    csrf = log_in(client, inst)
    original = picture("PNG", (800, 800)) + b"<script>alert(1)</script>"  # trailing junk
    assert upload(client, csrf, original).status_code == 303
    definition = client.get(inst.path("/modules/data-wrangling"), headers=inst.headers).json()
    url = definition["image"]
    assert url.startswith(module["achievement_id"] + "/image.png?v=")
    served = client.get(url)
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in served.headers["content-security-policy"]
    assert b"<script>" not in served.content
    with Image.open(io.BytesIO(served.content)) as again:
        assert again.format == "PNG" and max(again.size) <= 512

    issued = client.post(
        inst.path("/issuances"),
        json={
            "module_id": "data-wrangling",
            "learner": {"email": "anna@example.nl"},
            "result": {"grade": "8"},
        },
        headers=inst.headers,
    )
    assert issued.status_code == 201, issued.text
    achievement = issued.json()["verifiableCredential"]["credentialSubject"]["achievement"]
    assert achievement["image"] == {"id": url, "type": "Image"}

    console = client.get("/console/modules").text
    assert 'class="badge-image"' in console


@pytest.mark.parametrize(
    ("data", "name", "code"),
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "b.svg", 422),
        (b"GIF89a" + b"\0" * 64, "b.png", 422),
        (b"not an image at all", "b.png", 422),
        (b"", "b.png", 400),
    ],
)
def test_svg_and_other_non_images_are_refused_by_content_with_a_dutch_reason(
    client: TestClient, inst: Institution, module: Any, data: bytes, name: str, code: int
) -> None:
    csrf = log_in(client, inst)
    answer = upload(client, csrf, data, name)
    assert answer.status_code == code
    assert "De afbeelding is niet opgeslagen" in answer.text
    definition = client.get(inst.path("/modules/data-wrangling"), headers=inst.headers).json()
    assert "image" not in definition


def test_a_jpeg_is_accepted_and_a_huge_or_tiny_one_refused(
    client: TestClient, inst: Institution, module: Any
) -> None:
    csrf = log_in(client, inst)
    assert upload(client, csrf, picture("JPEG", (10, 10))).status_code == 422
    huge = picture("PNG", (5000, 5000))
    assert len(huge) < 1024 * 1024  # a small file that decodes into a huge bitmap
    assert upload(client, csrf, huge).status_code == 422
    assert upload(client, csrf, picture("JPEG")).status_code == 303
