"""What every parser shares: the quarantine error, vendor timestamps and forgiving field lookup.

A parser turns one raw record (a ``dict`` decoded from JSON) into normalised events. It raises
``Quarantined`` with a stable reason code when the record is not what it should be; the caller
counts the reason and goes on with the next record.

Field lookup accepts a field as the vendor spells it (``actor.alternateId``) and also as log
pipelines rewrite it: lower-cased (``actor.alternateid``), flattened (``"actor.alternateId"`` as one
key, ``actor_alternate_id``), or both. The exact nested walk runs first; the forgiving view is built
only when it misses, once per record.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

_MISSING = object()


class Quarantined(Exception):  # noqa: N818 - it names the outcome, not a failure of the caller
    """The record cannot be normalised. ``reason`` is a stable code; ``detail`` says what was wrong."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def canon(key: str) -> str:
    """The spelling-insensitive form of a field path: lower case, no dots, no underscores."""
    return key.lower().replace("_", "").replace(".", "").replace("-", "")


def _flatten(value: dict[str, Any], prefix: str, out: dict[str, Any]) -> None:
    for key, item in value.items():
        path = prefix + canon(str(key))
        out[path] = item
        if isinstance(item, dict):
            _flatten(item, path, out)


class Record:
    """A raw record with forgiving lookup. ``get("a.b.c")`` walks nested dicts, then falls back."""

    __slots__ = ("raw", "_flat")

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self._flat: dict[str, Any] | None = None

    def get(self, path: str, default: Any = None) -> Any:
        value: Any = self.raw
        for part in path.split("."):
            if type(value) is not dict:
                value = _MISSING
                break
            value = value.get(part, _MISSING)
            if value is _MISSING:
                break
        if value is not _MISSING:
            return value
        if self._flat is None:
            self._flat = {}
            _flatten(self.raw, "", self._flat)
        return self._flat.get(canon(path), default)

    def text(self, path: str) -> str:
        value = self.get(path)
        if value is None:
            return ""
        return value if isinstance(value, str) else str(value)

    def first(self, *paths: str) -> Any:
        for path in paths:
            value = self.get(path)
            if value not in (None, ""):
                return value
        return None


_EPOCH_MS_ABOVE = 100_000_000_000  # 1973 in ms, year 5138 in seconds: larger numbers are ms


def parse_time(value: Any, *, field: str = "time") -> float:
    """Epoch seconds from what vendors and pipelines write.

    ISO 8601 with or without ``T``, ``Z`` or an offset, any number of fraction digits; epoch
    seconds or milliseconds, as numbers or digit strings. A time without zone is UTC.
    """
    if isinstance(value, bool) or value is None or value == "":
        raise Quarantined("bad_timestamp", f"{field} is missing")
    if isinstance(value, int | float):
        return _from_epoch(float(value), field)
    if not isinstance(value, str):
        raise Quarantined("bad_timestamp", f"{field} is not a time: {value!r}")
    text = value.strip()
    if text.isascii() and text.replace(".", "", 1).isdigit():
        return _from_epoch(float(text), field)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = _iso_fallback(text, field)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _from_epoch(number: float, field: str) -> float:
    if number < 0:
        raise Quarantined("bad_timestamp", f"{field} is negative: {number}")
    return number / 1000.0 if number > _EPOCH_MS_ABOVE else number


def _iso_fallback(text: str, field: str) -> datetime:
    """Forms ``fromisoformat`` refuses: lower-case ``t``/``z``, a space before the zone, ``UTC``."""
    fixed = text.replace("t", "T").replace("z", "Z")
    for suffix in (" UTC", " Z", " +00:00"):
        if fixed.endswith(suffix):
            fixed = fixed[: -len(suffix)] + "+00:00"
    try:
        return datetime.fromisoformat(fixed)
    except ValueError:
        raise Quarantined("bad_timestamp", f"{field} is not ISO 8601 or epoch: {text!r}") from None


def lower(value: Any) -> str:
    return value.lower() if isinstance(value, str) else ""


def e164(number: Any) -> str:
    """A phone number in E.164 when it looks like one (``+33 6 12-34-56-78`` -> ``+33612345678``)."""
    if not isinstance(number, str) or not number:
        return ""
    digits = "".join(ch for ch in number if ch.isdigit())
    if not digits:
        return ""
    if number.strip().startswith("+"):
        return "+" + digits
    if number.strip().startswith("00"):
        return "+" + digits[2:]
    return digits
