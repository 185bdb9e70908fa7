"""The console's catalogue: every key in both languages, every key the pages use exists.

A raw key on a page (``issuer.offer.state.burnt`` was one) is a missing catalogue entry;
these tests find them before a registrar does.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import issuer

ROOT = Path(issuer.__file__).resolve().parent
NL = json.loads((ROOT / "messages" / "nl.json").read_text(encoding="utf-8"))
EN = json.loads((ROOT / "messages" / "en.json").read_text(encoding="utf-8"))
LITERAL_KEY = re.compile(r"""["'](issuer\.[a-z0-9_.\-]+)["']""")


def test_both_languages_have_the_same_keys() -> None:
    assert sorted(set(NL) ^ set(EN)) == []


def test_every_literal_key_used_by_pages_and_templates_exists() -> None:
    sources = [*(ROOT / "templates").glob("*.html"), *(ROOT / "routes" / "pages").glob("*.py")]
    used = {
        key
        for path in sources
        for key in LITERAL_KEY.findall(path.read_text(encoding="utf-8"))
        if not key.endswith(".")
    }
    assert used, "the pattern found no keys at all"
    plural = {key for key in used if f"{key}.one" in NL and f"{key}.other" in NL}
    assert sorted(used - set(NL) - plural) == []


def test_every_offer_state_and_source_has_words() -> None:
    states = ["offered", "redeemed", "issuing", "issued", "accepted", "failed", "deleted"]
    states += ["burnt", "cancelled", "expired"]
    sources = ["offer", "batch", "module", "vc-api", "reissue", "delivery"]
    needed = [f"issuer.offer.state.{s}" for s in states]
    needed += [f"issuer.source.{s}" for s in sources]
    assert [key for key in needed if key not in NL] == []


def test_no_ui_strings_in_route_modules() -> None:
    """Route modules hold keys, not sentences: no string literal with two Dutch or English
    words and a space that is not a key, a path or a docstring."""
    offenders = []
    for path in (ROOT / "routes" / "pages").glob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            stripped = line.strip()
            if stripped.startswith(("#", '"""')) or "MESSAGES" in stripped:
                continue
            for literal in re.findall(r'"([^"{}]*)"', stripped):
                if re.search(r"\b(de|het|een|the|is|niet|not)\b \w+", literal):
                    offenders.append(f"{path.name}: {literal}")
    assert offenders == []
