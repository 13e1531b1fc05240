"""Is the number a caller presented one of the numbers registered for the person they claim to be?

Callers' numbers arrive as carriers and PBXs write them: E.164 (``+33612345678``), national
(``06 12 34 56 78``), international with ``00``. A registered number is E.164, so its country says
how to read a national one: ``0612345678`` against ``+33612345678`` is read as French and matches.
``phonenumbers`` (Google's libphonenumber data) does the parsing.
"""

from __future__ import annotations

from collections.abc import Iterable

import phonenumbers


def _e164(number: str, region: str | None) -> str | None:
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def same_number(presented: str, registered: str) -> bool:
    reference = _e164(registered, None)
    if not presented or reference is None:
        return False
    region = phonenumbers.region_code_for_number(phonenumbers.parse(reference, None))
    text = "+" + presented[2:] if presented.startswith("00") else presented
    return _e164(text, region) == reference


def registered(presented: str, numbers: Iterable[str]) -> bool:
    return any(same_number(presented, number) for number in numbers)
