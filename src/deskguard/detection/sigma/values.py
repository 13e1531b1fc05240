"""Sigma values as tests on one event value: the leaves of a compiled rule.

An ``Alternatives`` collects the values a field may match (a value list is OR) and builds one
function of one scalar event value (str, int, float or bool). The semantics, per the Sigma
specification and what SIEM backends do:

- strings match case-insensitively unless ``cased``; ``*`` matches any run of characters (newlines
  included), ``?`` one character, ``\\*`` ``\\?`` ``\\\\`` are the literal characters, and a backslash
  before anything else is a plain backslash;
- a number matches a numeric event value equal to it, or a string that reads as that number
  (``"5"``, ``" 5.0"``, ``"05"``); a string matches a numeric event value by its text (``"5"``
  matches ``5`` and ``5.0``; ``"5.0"`` matches neither);
- ``true``/``false`` match booleans and the strings ``"true"``/``"false"`` in any case; numbers never
  match booleans; string patterns see a boolean as ``"true"``/``"false"``;
- ``re`` searches (unanchored: write ``^``/``$`` to anchor) case-sensitively unless ``i``; ``m`` and
  ``s`` are the multi-line and dot-all flags;
- ``cidr`` matches a string holding an IPv4 or IPv6 address inside the network;
- ``lt``/``lte``/``gt``/``gte`` compare numbers and numeric strings;
- values expanded by ``windash``/``base64offset`` are alternatives (OR) whatever the linking.

Each constant is prepared once (lower-cased, regexes compiled, prefixes gathered into tuples, plain
equality into a set), so a test does one ``lower()`` and a few C-level operations.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from typing import Any

from sigma.types import (
    CompareOperators,
    Placeholder,
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExpansion,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaString,
    SigmaTimestampPart,
    SigmaType,
    SpecialChars,
)

ScalarTest = Callable[[Any], bool]
_MULTI = SpecialChars.WILDCARD_MULTI
_SINGLE = SpecialChars.WILDCARD_SINGLE


class UnsupportedFeature(Exception):  # noqa: N818 - it names the outcome for the loader
    """The rule uses something this compiler does not implement; ``reason`` says what."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- event values -------------------------------------------------------------------------------

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def number_text(value: int | float) -> str:
    """The text of a number as string patterns see it: ``5`` and ``5.0`` are both ``"5"``."""
    if type(value) is float:
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        return repr(value)
    return str(value)


def scalar_text(value: Any) -> str | None:
    """The text string patterns match against, or None for what is not a scalar."""
    kind = type(value)
    if kind is str:
        return value
    if kind is bool:
        return "true" if value else "false"
    if kind is int or kind is float:
        return number_text(value)
    return None


def as_number(value: Any) -> int | float | None:
    """A number from a numeric value or a string that reads as one; None otherwise (and for bools)."""
    kind = type(value)
    if kind is int or kind is float:
        return value
    if kind is not str:
        return None
    text = value.strip()
    if not _NUMBER.fullmatch(text):
        return None
    if "." in text or "e" in text or "E" in text:
        number = float(text)
        return number if math.isfinite(number) else None
    return int(text)


def iter_scalars(value: Any) -> Iterator[Any]:
    """The scalars of a value: itself, or the elements of a (nested) list. Dicts hold none."""
    if type(value) is list or type(value) is tuple:
        for item in value:
            yield from iter_scalars(item)
    elif value is not None and type(value) is not dict:
        yield value


def iter_all_scalars(value: Any) -> Iterator[Any]:
    """Every scalar anywhere in a record (keyword search)."""
    if type(value) is dict:
        for item in value.values():
            yield from iter_all_scalars(item)
    elif type(value) is list or type(value) is tuple:
        for item in value:
            yield from iter_all_scalars(item)
    elif value is not None:
        yield value


@lru_cache(maxsize=8192)
def _ip(text: str) -> IPv4Address | IPv6Address | None:
    try:
        return ip_address(text.strip())
    except ValueError:
        return None


# --- string patterns ----------------------------------------------------------------------------


def _pattern(parts: list[Any], lower: bool) -> tuple[str, str, re.Pattern[str] | None]:
    """(kind, text, regex) of a parsed Sigma string: eq, prefix, suffix, contains, any or regex."""
    collapsed: list[Any] = []
    for part in parts:
        if isinstance(part, Placeholder):
            raise UnsupportedFeature(
                f"placeholder %{part.name}% (the expand modifier) needs a processing pipeline"
            )
        if isinstance(part, str):
            text = part.lower() if lower else part
            if collapsed and isinstance(collapsed[-1], str):
                collapsed[-1] += text
            elif text:
                collapsed.append(text)
        elif not (part is _MULTI and collapsed and collapsed[-1] is _MULTI):
            collapsed.append(part)
    if not collapsed:
        return "eq", "", None
    if _SINGLE not in collapsed:
        literals = [part for part in collapsed if isinstance(part, str)]
        if not literals:
            return "any", "", None
        if len(literals) == 1:
            shape = tuple(isinstance(part, str) for part in collapsed)
            kind = {
                (True,): "eq",
                (True, False): "prefix",
                (False, True): "suffix",
                (False, True, False): "contains",
            }.get(shape)
            if kind is not None:
                return kind, literals[0], None
    source = "".join(
        re.escape(part) if isinstance(part, str) else (".*" if part is _MULTI else ".") for part in collapsed
    )
    return "regex", "", re.compile(source, re.DOTALL)


def _keyword_parts(value: SigmaString) -> list[Any]:
    """A keyword is found anywhere in a value: surround it with ``*`` unless it already is."""
    parts = list(value.s)
    if not parts or parts[0] is not _MULTI:
        parts.insert(0, _MULTI)
    if parts[-1] is not _MULTI:
        parts.append(_MULTI)
    return parts


class _Texts:
    """String patterns of one case mode, tested on one (already lower-cased, if so) string."""

    def __init__(self) -> None:
        self.eq: set[str] = set()
        self.prefixes: list[str] = []
        self.suffixes: list[str] = []
        self.contains: list[str] = []
        self.regexes: list[re.Pattern[str]] = []

    def add(self, kind: str, text: str, regex: re.Pattern[str] | None) -> None:
        if kind == "eq":
            self.eq.add(text)
        elif kind == "prefix":
            self.prefixes.append(text)
        elif kind == "suffix":
            self.suffixes.append(text)
        elif kind == "contains":
            self.contains.append(text)
        elif regex is not None:
            self.regexes.append(regex)

    def empty(self) -> bool:
        return not (self.eq or self.prefixes or self.suffixes or self.contains or self.regexes)

    def only_eq(self) -> bool:
        return bool(self.eq) and not (self.prefixes or self.suffixes or self.contains or self.regexes)

    def build(self) -> Callable[[str], bool]:
        eq = frozenset(self.eq)
        prefixes, suffixes = tuple(self.prefixes), tuple(self.suffixes)
        contains, regexes = tuple(self.contains), tuple(self.regexes)
        if self.only_eq():
            return eq.__contains__
        if not (eq or suffixes or contains or regexes):
            return lambda text: text.startswith(prefixes)
        if not (eq or prefixes or contains or regexes):
            return lambda text: text.endswith(suffixes)
        if len(contains) == 1 and not (eq or prefixes or suffixes or regexes):
            needle = contains[0]
            return lambda text: needle in text

        def test(text: str) -> bool:
            if text in eq:
                return True
            if prefixes and text.startswith(prefixes):
                return True
            if suffixes and text.endswith(suffixes):
                return True
            for needle in contains:
                if needle in text:
                    return True
            for regex in regexes:  # noqa: SIM110 - hot path: a loop costs less than any()
                if regex.fullmatch(text) is not None:
                    return True
            return False

        return test


# --- alternatives -------------------------------------------------------------------------------

_COMPARE: dict[CompareOperators, Callable[[float, float], bool]] = {
    CompareOperators.LT: lambda a, b: a < b,
    CompareOperators.LTE: lambda a, b: a <= b,
    CompareOperators.GT: lambda a, b: a > b,
    CompareOperators.GTE: lambda a, b: a >= b,
    CompareOperators.NEQ: lambda a, b: a != b,
}


def _cidr_test(network: IPv4Network | IPv6Network) -> ScalarTest:
    version = network.version

    def test(value: Any) -> bool:
        if type(value) is not str:
            return False
        address = _ip(value)
        return address is not None and address.version == version and address in network

    return test


def _compare_test(op: CompareOperators, bound: int | float) -> ScalarTest:
    compare = _COMPARE[op]

    def test(value: Any) -> bool:
        number = as_number(value) if type(value) is not bool else None
        return number is not None and compare(number, bound)

    return test


class Alternatives:
    """The values one field may match, any of them (OR). ``keyword`` values match anywhere."""

    def __init__(self, *, keyword: bool = False) -> None:
        self.keyword = keyword
        self.insensitive = _Texts()
        self.sensitive = _Texts()
        self.any_scalar = False
        self.searches: list[re.Pattern[str]] = []
        self.numbers: set[int | float] = set()
        self.booleans: set[bool] = set()
        self.tests: list[ScalarTest] = []

    def add(self, value: SigmaType) -> None:
        if isinstance(value, SigmaExpansion):
            for item in value.values:
                self.add(item)
        elif isinstance(value, SigmaString):
            parts = _keyword_parts(value) if self.keyword else list(value.s)
            cased = isinstance(value, SigmaCasedString)
            kind, text, regex = _pattern(parts, lower=not cased)
            if kind == "any":
                self.any_scalar = True
            else:
                (self.sensitive if cased else self.insensitive).add(kind, text, regex)
        elif isinstance(value, SigmaTimestampPart):
            raise UnsupportedFeature("timestamp part modifiers (minute, hour, day…) are not supported")
        elif isinstance(value, SigmaNumber):
            if self.keyword:
                self.insensitive.add("contains", number_text(value.number), None)
            else:
                self.numbers.add(value.number)
        elif isinstance(value, SigmaBool):
            if self.keyword:
                self.insensitive.add("contains", "true" if value.boolean else "false", None)
            else:
                self.booleans.add(value.boolean)
        elif isinstance(value, SigmaRegularExpression):
            self.searches.append(_regex(value))
        elif isinstance(value, SigmaCIDRExpression):
            self.tests.append(_cidr_test(value.network))
        elif isinstance(value, SigmaCompareExpression):
            if isinstance(value.number, SigmaTimestampPart):
                raise UnsupportedFeature("timestamp part modifiers (minute, hour, day…) are not supported")
            self.tests.append(_compare_test(value.op, value.number.number))
        else:
            raise UnsupportedFeature(f"value type {type(value).__name__} is not supported")

    def needles(self) -> tuple[str, ...] | None:
        """Keywords that are plain case-insensitive substrings (the usual case), else None."""
        texts = self.insensitive
        plain = not (texts.eq or texts.prefixes or texts.suffixes or texts.regexes) and self.sensitive.empty()
        others = self.any_scalar or self.searches or self.numbers or self.booleans or self.tests
        if not plain or others or not texts.contains or any("\x00" in needle for needle in texts.contains):
            return None
        return tuple(texts.contains)

    def cost(self) -> int:
        """A rough cost rank: equality sets first, regexes and network tests last."""
        if self.any_scalar:
            return 1
        cost = 1
        for texts in (self.insensitive, self.sensitive):
            if texts.prefixes or texts.suffixes or texts.contains:
                cost = max(cost, 2)
            if texts.regexes:
                cost = max(cost, 3)
        if self.searches or self.tests:
            cost = max(cost, 3)
        return cost

    def build(self) -> ScalarTest:
        if self.any_scalar:
            return lambda value: scalar_text(value) is not None
        simple = not (self.searches or self.numbers or self.booleans or self.tests) and self.sensitive.empty()
        if simple and self.insensitive.only_eq():
            return _eq_test(frozenset(self.insensitive.eq))
        if simple:
            return _insensitive_test(self.insensitive.build())
        return self._general()

    def _general(self) -> ScalarTest:
        insensitive = None if self.insensitive.empty() else self.insensitive.build()
        sensitive = None if self.sensitive.empty() else self.sensitive.build()
        searches, tests = tuple(self.searches), tuple(self.tests)
        numbers, booleans = frozenset(self.numbers), frozenset(self.booleans)

        def test(value: Any) -> bool:
            kind = type(value)
            if kind is str:
                text = value
            elif kind is bool:
                if value in booleans:
                    return True
                text = "true" if value else "false"
            elif kind is int or kind is float:
                if value in numbers:
                    return True
                text = number_text(value)
            else:
                return False
            if insensitive is not None and insensitive(text.lower()):
                return True
            if sensitive is not None and sensitive(text):
                return True
            for regex in searches:
                if regex.search(text) is not None:
                    return True
            if kind is str:
                if numbers:
                    number = as_number(text)
                    if number is not None and number in numbers:
                        return True
                if booleans:
                    lowered = text.lower()
                    if lowered in ("true", "false") and (lowered == "true") in booleans:
                        return True
            for extra in tests:  # noqa: SIM110 - hot path: a loop costs less than any()
                if extra(value):
                    return True
            return False

        return test


def _eq_test(eq: frozenset[str]) -> ScalarTest:
    def test(value: Any) -> bool:
        if type(value) is str:
            return value.lower() in eq
        text = scalar_text(value)
        return text is not None and text in eq

    return test


def _insensitive_test(texts: Callable[[str], bool]) -> ScalarTest:
    def test(value: Any) -> bool:
        if type(value) is str:
            return texts(value.lower())
        text = scalar_text(value)
        return text is not None and texts(text)

    return test


_FLAGS = {"IGNORECASE": re.IGNORECASE, "MULTILINE": re.MULTILINE, "DOTALL": re.DOTALL}


def _regex(value: SigmaRegularExpression) -> re.Pattern[str]:
    flags = 0
    for flag in value.flags:
        flags |= _FLAGS[flag.name]
    source = str(value.regexp)
    try:
        return re.compile(source, flags)
    except re.error as error:  # pySigma checked it with its own engine; ours must agree
        raise UnsupportedFeature(f"regular expression {source!r} does not compile: {error}") from None


def is_plain(value: SigmaType) -> str | None:
    """The text of a value that only equality can satisfy (for dispatch), else None."""
    if isinstance(value, SigmaString):
        if any(not isinstance(part, str) for part in value.s):
            return None
        return "".join(value.s)
    return None  # numbers also match numeric strings (" 5.0"): not a dispatch key
