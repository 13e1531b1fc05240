"""A naive Sigma interpreter, written for clarity, that the property tests hold the compiler to.

It evaluates the detection *as written* (the YAML dict) against a raw record: plain recursion, a
character-by-character wildcard matcher and a tiny recursive-descent condition parser. It shares
no code with ``deskguard.detection.sigma``. It covers what the generators produce: fields with
``contains``, ``startswith``, ``endswith``, ``all``, ``cased``, ``base64``, ``re`` (+ ``i``),
``cidr``, ``exists``, ``gt``/``gte``/``lt``/``lte``, null, numbers, booleans, keyword lists.
"""

from __future__ import annotations

import base64
import ipaddress
import math
import re
from functools import cache
from typing import Any

MISSING = object()
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def lookup(raw: dict[str, Any], path: str) -> Any:
    """The value at a dotted path; through a list of objects, the list of their values."""
    return _find(raw, path.split("."))


def _find(value: Any, parts: list[str]) -> Any:
    if not parts:
        return value
    if isinstance(value, dict):
        return _find(value[parts[0]], parts[1:]) if parts[0] in value else MISSING
    if isinstance(value, list):
        found: list[Any] = []
        for item in value:
            result = _find(item, parts)
            if isinstance(result, list):
                found.extend(result)
            elif result is not MISSING and result is not None:
                found.append(result)
        return found if found else MISSING
    return MISSING


def scalars(value: Any) -> list[Any]:
    if value is MISSING or value is None or isinstance(value, dict):
        return []
    if isinstance(value, list):
        out = []
        for item in value:
            out.extend(scalars(item))
        return out
    return [value]


def all_scalars(value: Any) -> list[Any]:
    """Every scalar anywhere: inside dicts, lists, and dicts inside lists."""
    if isinstance(value, dict | list):
        out = []
        for item in value.values() if isinstance(value, dict) else value:
            out.extend(all_scalars(item))
        return out
    return scalars(value)


def text_of(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value):
            return str(int(value))
        return repr(value)
    if isinstance(value, str):
        return value
    return None


def number_of(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        number = float(value.strip())
        return number if math.isfinite(number) else None
    return None


# --- wildcard patterns --------------------------------------------------------------------------


def tokens(pattern: str) -> list[str]:
    """Each token: "*" (any run), "?" (one char) or "=c" (the literal character c)."""
    out, index = [], 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern) and pattern[index + 1] in "*?\\":
            out.append("=" + pattern[index + 1])
            index += 2
            continue
        out.append(char if char in "*?" else "=" + char)
        index += 1
    return out


def glob(pattern: list[str], text: str) -> bool:
    @cache
    def match(p: int, t: int) -> bool:
        if p == len(pattern):
            return t == len(text)
        token = pattern[p]
        if token == "*":
            return any(match(p + 1, k) for k in range(t, len(text) + 1))
        if t == len(text):
            return False
        if token == "?":
            return match(p + 1, t + 1)
        return token[1] == text[t] and match(p + 1, t + 1)

    return match(0, 0)


def lowered(pattern: list[str]) -> list[str]:
    return [token.lower() if token.startswith("=") else token for token in pattern]


# --- detection items ----------------------------------------------------------------------------


def value_matches(value: Any, modifiers: list[str], candidate: Any) -> bool:
    """One detection value against one scalar from the event."""
    text = text_of(candidate)
    if "re" in modifiers:
        flags = re.IGNORECASE if "i" in modifiers else 0
        return text is not None and re.search(value, text, flags) is not None
    if "cidr" in modifiers:
        if not isinstance(candidate, str):
            return False
        try:
            address = ipaddress.ip_address(candidate.strip())
        except ValueError:
            return False
        network = ipaddress.ip_network(value)
        return address.version == network.version and address in network
    for op, compare in (
        ("gte", float.__ge__),
        ("gt", float.__gt__),
        ("lte", float.__le__),
        ("lt", float.__lt__),
    ):
        if op in modifiers:
            number = number_of(candidate)
            return number is not None and compare(float(number), float(value))
    if isinstance(value, bool):
        if isinstance(candidate, bool):
            return candidate == value
        if isinstance(candidate, str) and candidate.lower() in ("true", "false"):
            return (candidate.lower() == "true") == value
        return False
    if isinstance(value, int | float):
        if isinstance(candidate, bool):
            return False
        number = number_of(candidate) if isinstance(candidate, str) else candidate
        return isinstance(number, int | float) and number == value
    pattern = value
    if "base64" in modifiers:
        pattern = base64.b64encode(value.encode()).decode()
    parsed = tokens(pattern)
    if "contains" in modifiers:
        parsed = ["*", *parsed, "*"]
    if "startswith" in modifiers:
        parsed = [*parsed, "*"]
    if "endswith" in modifiers:
        parsed = ["*", *parsed]
    if text is None:
        return False
    if "cased" in modifiers:
        return glob(parsed, text)
    return glob(lowered(parsed), text.lower())


def item_matches(key: str, value: Any, raw: dict[str, Any]) -> bool:
    field, *modifiers = key.split("|")
    found = lookup(raw, field)
    values = value if isinstance(value, list) else [value]
    if "exists" in modifiers:
        return (found is not MISSING) == value
    results = []
    for one in values:
        if one is None:
            results.append(found is MISSING or found is None)
        else:
            results.append(any(value_matches(one, modifiers, candidate) for candidate in scalars(found)))
    return all(results) if "all" in modifiers else any(results)


def keyword_matches(keyword: Any, raw: dict[str, Any]) -> bool:
    pattern = lowered(["*", *tokens(str(keyword)), "*"])
    return any(
        (text := text_of(candidate)) is not None and glob(pattern, text.lower())
        for candidate in all_scalars(raw)
    )


def selection_matches(selection: Any, raw: dict[str, Any]) -> bool:
    if isinstance(selection, dict):
        return all(item_matches(key, value, raw) for key, value in selection.items())
    if isinstance(selection, list):
        if all(isinstance(item, dict) for item in selection):
            return any(selection_matches(item, raw) for item in selection)
        return any(keyword_matches(item, raw) for item in selection)
    return keyword_matches(selection, raw)


# --- conditions ---------------------------------------------------------------------------------


def condition_matches(condition: str, detection: dict[str, Any], raw: dict[str, Any]) -> bool:
    names = [name for name in detection if name != "condition"]
    words = re.findall(r"\(|\)|[A-Za-z0-9_*\-]+", condition)
    position = 0

    def peek() -> str | None:
        return words[position] if position < len(words) else None

    def take() -> str:
        nonlocal position
        position += 1
        return words[position - 1]

    def selected(pattern: str) -> list[str]:
        if pattern == "them":
            return [name for name in names if not name.startswith("_")]
        regex = re.compile(re.escape(pattern).replace(r"\*", ".*"))
        return [name for name in names if regex.fullmatch(name) and not name.startswith("_")]

    def atom() -> bool:
        word = take()
        if word == "(":
            result = either()
            take()  # ")"
            return result
        if word in ("1", "any", "all") and peek() == "of":
            take()
            chosen = [selection_matches(detection[name], raw) for name in selected(take())]
            return all(chosen) if word == "all" else any(chosen)
        return selection_matches(detection[word], raw)

    def negation() -> bool:
        if peek() == "not":
            take()
            return not negation()
        return atom()

    def both() -> bool:
        result = negation()
        while peek() == "and":
            take()
            right = negation()
            result = result and right
        return result

    def either() -> bool:
        result = both()
        while peek() == "or":
            take()
            right = both()
            result = result or right
        return result

    return either()


def rule_matches(detection: dict[str, Any], raw: dict[str, Any]) -> bool:
    return condition_matches(detection["condition"], detection, raw)
