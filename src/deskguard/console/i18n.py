"""The console's two languages: English and French, chosen from the browser, switchable.

Catalogues are flat YAML files of ``key: text`` with ``{name}`` placeholders, one per area of the
console and language (``i18n/en/agent.yml``, ``i18n/fr/agent.yml``…), merged; a key defined twice is
an error. The English catalogue is the reference: a key missing in French falls back to it (a test
keeps the two complete), and an unknown key renders as the key itself so that it is seen, not hidden.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

LANGUAGES = ("en", "fr")
DEFAULT = "en"
LANG_COOKIE = "dg_lang"
_HERE = Path(__file__).parent / "i18n"


@cache
def catalogue(lang: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in sorted((_HERE / lang).glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise ValueError(f"i18n/{lang}/{path.name} must map keys to texts")
        twice = sorted(set(data) & set(merged))
        if twice:
            raise ValueError(f"i18n/{lang}/{path.name} defines {', '.join(twice)} again")
        merged.update(data)
    return merged


def negotiate(*, cookie: str | None, accept_language: str) -> str:
    """The cookie's choice if valid, else the browser's first supported language, else English."""
    if cookie in LANGUAGES:
        return cookie
    ranked: list[tuple[float, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, f"{position:04d}{tag.strip().lower()[:2]}"))
    for _, key in sorted(ranked):
        if key[4:] in LANGUAGES:
            return key[4:]
    return DEFAULT


class Translator:
    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGUAGES else DEFAULT
        self._texts = catalogue(self.lang)
        self._fallback = catalogue(DEFAULT)

    def __call__(self, key: str, **params: object) -> str:
        text = self._texts.get(key) or self._fallback.get(key) or key
        return text.format(**params) if params else text
