"""Every check id a report can carry has a label in words, in Dutch and in English, and the
format line is shown in the page's language (servicekit/web/)."""

from __future__ import annotations

import pytest

from servicekit.web import KIT_MESSAGES, Translator, format_text, report_view

CHECK_IDS = [
    # VC checks (credentials/verify.py, proofs.py, model.py, status.py, profile.py)
    "structure", "context", "proof", "proof_purpose", "verification_method", "issuer",
    "validity", "status", "trust", "schema", "related_resource", "format", "policy",
    # presentations
    "holder", "credential[0].holder_binding", "credential[2].policy", "credential[1].format",
    # Open Badges 2.0 (credentials/ob2.py)
    "badge_class", "origin", "hosting", "recipient",
]  # fmt: skip


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_every_check_id_has_a_label_in_words(lang: str) -> None:
    t = Translator(KIT_MESSAGES, lang)
    view = report_view(
        {"verified": False, "checks": [
            {"id": i, "outcome": "warning", "code": "x", "message": ""} for i in CHECK_IDS
        ]},
        t,
    )  # fmt: skip
    for row in view.checks:
        assert row.label != row.id and "_" not in row.label and "." not in row.label, row


def test_the_format_line_in_the_page_language() -> None:
    nl, en = Translator(KIT_MESSAGES, "nl"), Translator(KIT_MESSAGES, "en")
    assert format_text("Open Badges 2.0 · hosted", nl) == (
        "Open Badges 2.0 · gehost (niet ondertekend)"
    )
    assert format_text("Open Badges 2.0 · signed", nl) == "Open Badges 2.0 · ondertekend"
    assert format_text("VC 2.0 presentation · ecdsa-rdfc-2019", nl) == (
        "VC 2.0 presentatie · ecdsa-rdfc-2019"
    )
    assert format_text("VCDM 1.1 · Ed25519Signature2020", nl) == "VCDM 1.1 · Ed25519Signature2020"
    assert format_text("Open Badges 2.0 · hosted", en) == "Open Badges 2.0 · hosted (not signed)"
    assert format_text(None, nl) is None
    view = report_view(
        {"verified": True, "checks": [], "format": "VCDM 1.1 · Ed25519Signature2020"}, nl
    )
    assert (view.format, view.format_label) == ("VCDM 1.1 · Ed25519Signature2020",) * 2
