"""RFC 8785 JSON Canonicalization Scheme (JCS): the one byte string a ledger record hashes to.

Every record the ledger appends is canonicalised here, then hashed as an RFC 9162 leaf
(``merkle.leaf_hash``). Any RFC 8785 implementation (Python, Go, JavaScript…) that re-canonicalises
a parsed record must get the same bytes, so this module does exactly what the RFC says and refuses
whatever it cannot say exactly:

- objects: members sorted by the UTF-16 code units of their names (§3.2.3), no whitespace;
- strings: only ``"``, ``\\`` and the controls below U+0020 are escaped, with the short forms
  ``\\b \\f \\n \\r \\t`` and ``\\u00xx`` (lower-case hex) for the others; everything else is literal
  UTF-8, non-BMP characters included (§3.2.2.2). A string holding a lone surrogate is not Unicode
  text and is refused;
- numbers: the ECMAScript ``Number.prototype.toString`` form of the IEEE 754 double (§3.2.2.3):
  ``4.5``, ``1e+30``, ``1e-7``, integers without ``.0``, ``-0`` as ``0``; NaN and infinities are
  refused, as JSON cannot express them;
- integers: exact in the I-JSON safe range ±(2**53 - 1). Beyond it a JSON number is a double
  (§3.2.2.3), so an id or counter would be silently rounded, changing the evidence: such integers
  are refused (encode them as strings) — except those whose digits are already the canonical form
  of a double (``2**53``, ``10**17``, ``66609165897833510``), because that is what ``json.loads``
  hands back for a large integral float, and canonical text must re-canonicalise to itself.

Accepted Python values: ``dict`` with ``str`` keys, ``list``, ``str``, ``int``, ``float``, ``bool``,
``None`` (subclasses such as ``StrEnum`` members serialise as their base value). Anything else —
tuples, sets, bytes, datetimes — is refused, because the ledger must decide its own encoding for
them rather than let a default pick one. Errors are ``CanonicalizationError`` (a ``ValueError``)
whose ``path`` names the offending value, e.g. ``data.items[3]``.
"""

from __future__ import annotations

import json
import math
import re

# The standard library's (C) string encoder behind json.dumps(ensure_ascii=False): it escapes exactly
# what RFC 8785 §3.2.2.2 asks (", \, controls below U+0020 with the short forms, else \u00xx in lower
# case) and leaves every other character literal; test_jcs checks it against JavaScript.
from json.encoder import encode_basestring as _quote

MAX_SAFE_INTEGER = 2**53 - 1

_SURROGATE = re.compile("[\ud800-\udfff]")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class CanonicalizationError(ValueError):
    """A value RFC 8785 cannot canonicalise exactly; ``path`` locates it (``""`` for the top level)."""

    def __init__(self, reason: str, *, path: str) -> None:
        super().__init__(f"{path or '(top level)'}: {reason}")
        self.reason = reason
        self.path = path


class _Failure(Exception):
    """Raised deep in the walk; each enclosing container prepends its key on the way out."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.parts: list[str | int] = []


def canonicalize(value: object) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of a JSON-compatible Python value."""
    out: list[str] = []
    try:
        _write(value, out)
    except _Failure as failure:
        raise CanonicalizationError(failure.reason, path=_render(failure.parts)) from None
    except RecursionError:
        raise CanonicalizationError("nested too deeply, or contains itself", path="") from None
    text = "".join(out)
    # One scan of the whole text instead of one per string: lone surrogates are rare, and only then
    # do we walk the value again to say where.
    if _SURROGATE.search(text):
        found = _find_surrogate(value)
        assert found is not None  # the text is made of the value's own strings
        raise CanonicalizationError(found[1], path=_render(found[0]))
    return text.encode("utf-8")


def _render(parts: list[str | int]) -> str:
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _IDENTIFIER.match(part):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part)}]"
    return text


def _write(value: object, out: list[str]) -> None:
    # Most frequent types first; identity checks before int, as bool is an int subclass.
    if isinstance(value, str):
        out.append(_quote(value))
    elif isinstance(value, dict):
        _write_object(value, out)
    elif isinstance(value, list):
        _write_array(value, out)
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(_integer(value))
    elif isinstance(value, float):
        out.append(_number(value))
    else:
        raise _Failure(
            f"{type(value).__name__} is not a JSON value (dict, list, str, int, float, bool, None)"
        )


def _write_object(value: dict[str, object], out: list[str]) -> None:
    try:
        ascii_names = "".join(value).isascii()  # a non-str key raises TypeError here
    except TypeError:
        key = next(key for key in value if not isinstance(key, str))
        raise _Failure(f"object key {key!r} is a {type(key).__name__}, not a str") from None
    # UTF-16 code-unit order (§3.2.3) equals code-point order for ASCII names; otherwise compare
    # UTF-16BE bytes, where non-BMP names sort below U+E000 (surrogatepass: reported afterwards).
    keys = sorted(value) if ascii_names else sorted(value, key=_utf16)
    if not keys:
        out.append("{}")
        return
    for position, key in enumerate(keys):
        item = value[key]
        head = ("," if position else "{") + _quote(key) + ":"
        if type(item) is str:  # the common member, inlined: a call per value is most of the cost
            out.append(head + _quote(item))
            continue
        out.append(head)
        try:
            _write(item, out)
        except _Failure as failure:
            failure.parts.insert(0, key)
            raise
    out.append("}")


def _utf16(name: str) -> bytes:
    return name.encode("utf-16-be", "surrogatepass")


def _write_array(value: list[object], out: list[str]) -> None:
    out.append("[")
    for position, item in enumerate(value):
        if position:
            out.append(",")
        try:
            _write(item, out)
        except _Failure as failure:
            failure.parts.insert(0, position)
            raise
    out.append("]")


def _find_surrogate(value: object) -> tuple[list[str | int], str] | None:
    """Where the first lone surrogate sits in ``value`` (in insertion order), and what holds it."""
    if isinstance(value, str):
        return (
            ([], "string holds a lone surrogate, which is not Unicode text")
            if _SURROGATE.search(value)
            else None
        )
    items: list[tuple[str | int, object]] = []
    if isinstance(value, dict):
        for key in value:
            if _SURROGATE.search(key):
                return [], f"object key {key!r} holds a lone surrogate, which is not Unicode text"
        items = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    for part, item in items:
        found = _find_surrogate(item)
        if found is not None:
            found[0].insert(0, part)
            return found
    return None


def _integer(value: int) -> str:
    # int.__repr__, not str(): an int subclass (IntEnum, flags) may print its name instead.
    digits = int.__repr__(value)
    if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        return digits
    # Beyond the safe range only digits that already spell a double canonically pass: they are what
    # json.loads returns for a big integral float (1e17, 2**53), so canonical text re-canonicalises.
    if abs(value) < 2**1024 and _number(float(value)) == digits:
        return digits
    raise _Failure(f"integer {digits} is outside ±(2**53 - 1) and would not survive as a JSON number")


def _number(value: float) -> str:
    """ECMAScript Number.prototype.toString (ECMA-262 §6.1.6.1.20) of a finite double.

    Python's ``float.__repr__`` already yields the shortest digit string that round-trips, which is
    the digit string ECMAScript requires; only the placement of the point and exponent differs.
    """
    if not math.isfinite(value):
        raise _Failure(f"{value!r} is not a JSON number")
    if value == 0:
        return "0"  # covers -0.0
    sign = "-" if value < 0 else ""
    mantissa, _, exponent = float.__repr__(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    raw = whole + fraction
    digits = raw.lstrip("0")
    # n: the position of the decimal point relative to the first significant digit (ECMA-262's n).
    n = len(whole) + int(exponent or 0) - (len(raw) - len(digits))
    digits = digits.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * -n + digits
    e = n - 1
    head = digits[0] + ("." + digits[1:] if k > 1 else "")
    return f"{sign}{head}e{'+' if e > 0 else '-'}{abs(e)}"
