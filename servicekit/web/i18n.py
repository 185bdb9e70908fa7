"""Languages and message catalogues: what a page says, in Dutch (default) or English.

Catalogues are flat ``key -> string`` JSON files per language, so translators edit data
rather than code and tests can compare the languages key by key. The kit's own text
(``KIT_MESSAGES``) lives in ``servicekit/messages/``; each service adds its own keys.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: ``servicekit/`` itself: the kit's templates, static files and messages live there.
KIT_DIR = Path(__file__).resolve().parent.parent
KIT_MESSAGES_DIR = KIT_DIR / "messages"

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"
LANG_COOKIE = "mc_lang"

Messages = Mapping[str, Mapping[str, str]]


class Translator:
    """``t(key, **params)`` for one language, falling back to English, then to the key.

    The result is a plain string, not markup: Jinja escapes it like any other value, so a
    credential's text passed in as a parameter can never become HTML.
    """

    def __init__(self, catalogue: Messages, lang: str) -> None:
        self.catalogue = catalogue
        self.lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE

    def __call__(self, key: str, /, **params: Any) -> str:
        text = self.catalogue.get(self.lang, {}).get(key)
        if text is None:
            text = self.catalogue.get("en", {}).get(key, key)
        if params:
            try:
                return text.format(**params)
            except (KeyError, IndexError, ValueError):
                return text
        return text

    def has(self, key: str) -> bool:
        return key in self.catalogue.get(self.lang, {}) or key in self.catalogue.get("en", {})

    def plural(self, key: str, count: int, /, **params: Any) -> str:
        """``key.one`` for exactly one, ``key.other`` otherwise (Dutch and English agree
        on that rule); ``count`` is passed on as a parameter too."""
        form = "one" if count == 1 else "other"
        return self(f"{key}.{form}", count=count, **params)


def load_messages(directory: Path) -> dict[str, dict[str, str]]:
    """Read a message catalogue: one flat ``<lang>.json`` per language in ``directory``.

    Catalogues are data, not code, so translators can edit them and tests can compare the
    languages key by key; a key missing in one language is a test failure, not a fallback
    anybody sees.
    """
    catalogue: dict[str, dict[str, str]] = {}
    for lang in LANGUAGES:
        path = directory / f"{lang}.json"
        if path.is_file():
            catalogue[lang] = json.loads(path.read_text(encoding="utf-8"))
    return catalogue


def merge_messages(*catalogues: Messages) -> dict[str, dict[str, str]]:
    """Later catalogues extend (and may override) earlier ones, per language."""
    merged: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}
    for catalogue in catalogues:
        for lang, entries in catalogue.items():
            merged.setdefault(lang, {}).update(entries)
    return merged


#: What every service's pages say. Services add their own keys (``<service>.*``).
KIT_MESSAGES: dict[str, dict[str, str]] = load_messages(KIT_MESSAGES_DIR)
