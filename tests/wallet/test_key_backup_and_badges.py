"""The encrypted key backup's failure modes, and which badge images the wallet will show."""

from __future__ import annotations

import base64
import copy
from typing import Any

import httpx
import pytest

from credentials.fetch import FetchPolicy, SafeFetcher
from credentials.keys import Multikey
from servicekit.errors import Invalid
from wallet.services import key_backup
from wallet.services.issuer_info import BadgeImages, image_url, issuer_origin

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PASS = "een-lange-passphrase"


@pytest.fixture(autouse=True)
def cheap_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id at its minimum cost, so these tests stay quick; the bounds are unchanged."""
    monkeypatch.setattr(key_backup, "KDF_T", 1)
    monkeypatch.setattr(key_backup, "KDF_M_KIB", 1024)


def test_a_backup_opens_with_its_passphrase_only() -> None:
    key = Multikey.generate("Ed25519")
    backup = key_backup.seal(key, PASS)
    assert key_backup.open_backup(backup, PASS).controller == key.controller
    with pytest.raises(Invalid) as wrong:
        key_backup.open_backup(backup, PASS + "!")
    assert wrong.value.code == "key_backup_passphrase_wrong"
    with pytest.raises(Invalid) as short:
        key_backup.seal(key, "kort")
    assert short.value.code == "weak_passphrase"


@pytest.mark.parametrize(
    "change",
    [
        lambda b: b.update(did=Multikey.generate("Ed25519").controller),  # relabelled
        lambda b: b.update(ciphertext=b["ciphertext"][:-4] + "AAAA"),  # tampered
        lambda b: b["kdf"].update(m=10_000_000),  # a memory bomb
        lambda b: b["kdf"].update(name="pbkdf2"),
        lambda b: b.update(nonce="AAAA"),
        lambda b: b.update(version=2),
    ],
)
def test_a_changed_backup_is_refused(change: Any) -> None:
    backup = copy.deepcopy(key_backup.seal(Multikey.generate("Ed25519"), PASS))
    change(backup)
    with pytest.raises(Invalid) as refused:
        key_backup.open_backup(backup, PASS)
    assert refused.value.code in ("invalid_key_backup", "key_backup_passphrase_wrong")


def _credential(image: Any, issuer: Any = "did:web:hs.example") -> dict[str, Any]:
    return {
        "issuer": issuer,
        "credentialStatus": {"statusListCredential": "https://status.example/lists/1"},
        "credentialSubject": {"achievement": {"image": image}},
    }


def test_only_images_of_the_issuers_own_hosts_are_shown() -> None:
    assert image_url(_credential("https://hs.example/badge.png")) is not None
    assert image_url(_credential({"id": "https://status.example/b.png"})) is not None
    assert image_url(_credential("https://tracker.example/pixel.png")) is None
    assert image_url(_credential("javascript:alert(1)")) is None
    assert image_url(_credential("http://169.254.169.254/x.png", issuer={"id": "x"})) is None
    assert issuer_origin(_credential(None)) == "https://status.example"


def test_a_badge_is_fetched_capped_sniffed_and_cached() -> None:
    served: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        served.append(request.url.path)
        body = PNG if request.url.path == "/badge.png" else b"<svg onload=alert(1)>"
        return httpx.Response(200, content=body, headers={"content-type": "image/png"})

    fetcher = SafeFetcher(
        FetchPolicy(), httpx.MockTransport(handle), resolver=lambda host, port: ["93.184.216.34"]
    )
    badges = BadgeImages(fetcher)
    uri = badges.data_uri(_credential("https://hs.example/badge.png"))
    assert uri == "data:image/png;base64," + base64.b64encode(PNG).decode()
    assert badges.data_uri(_credential("https://hs.example/badge.png")) == uri
    assert served == ["/badge.png"]  # cached
    assert badges.data_uri(_credential("https://hs.example/fake.png")) is None  # not an image
    inline = "data:image/png;base64," + base64.b64encode(PNG).decode()
    assert badges.data_uri(_credential(inline)) == inline
    assert badges.data_uri(_credential("data:image/svg+xml;base64,PHN2Zz4=")) is None
