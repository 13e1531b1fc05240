"""Both languages are complete, and every text a template asks for exists."""

from __future__ import annotations

import re
from pathlib import Path

from deskguard.console.i18n import catalogue, negotiate

TEMPLATES = Path(__file__).parents[2] / "src" / "deskguard" / "console" / "templates"
LITERAL_KEY = re.compile(r"""\bt\(\s*["']([a-z0-9_.]+)["']""")


def test_english_and_french_have_the_same_keys() -> None:
    en, fr = set(catalogue("en")), set(catalogue("fr"))
    assert sorted(en - fr) == [], "missing in French"
    assert sorted(fr - en) == [], "missing in English"


def test_every_key_a_template_names_exists() -> None:
    known = set(catalogue("en"))
    used = {
        (path.relative_to(TEMPLATES).as_posix(), key)
        for path in TEMPLATES.rglob("*.html")
        for key in LITERAL_KEY.findall(path.read_text(encoding="utf-8"))
        if not key.endswith(".")  # a prefix completed at run time: t("role." + role)
    }
    assert sorted((where, key) for where, key in used if key not in known) == []


def test_french_texts_are_not_english_copies() -> None:
    en, fr = catalogue("en"), catalogue("fr")
    same = [k for k in en if en[k] == fr.get(k) and " " in en[k].strip() and "{" not in en[k]]
    assert same == []


def test_negotiation() -> None:
    assert negotiate(cookie=None, accept_language="fr-CA,fr;q=0.9,en;q=0.8") == "fr"
    assert negotiate(cookie=None, accept_language="de-DE,de;q=0.9,en;q=0.5") == "en"
    assert negotiate(cookie=None, accept_language="en;q=0.2, fr;q=0.8") == "fr"
    assert negotiate(cookie="fr", accept_language="en") == "fr"
    assert negotiate(cookie="xx", accept_language="") == "en"
    assert negotiate(cookie=None, accept_language="fr;q=abc, en") == "en"
