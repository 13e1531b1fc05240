"""Small helpers the parsers share (private to ``normalize``).

The identity-provider parsers (Okta, Entra ID, Google Workspace) are on the hot path: ``event_time``,
``as_text`` and ``coordinate`` test exact types (``type(x) is str``) rather than ``isinstance``.

Quarantine reason codes used by these parsers:

- ``missing_field``: a field the event cannot do without (its id, its type) is absent or empty;
- ``bad_timestamp``: the event's time is absent or not a time (``parse_time`` wording);
- ``wrong_shape``: the record, or a part of it that must be an object or a list, is not;
- ``wrong_type``: a field has the wrong JSON type (a list where an id should be...);
- ``bad_value``: a field of a documented format holds a value outside its domain;
- ``unsupported_version`` / ``unsupported_event``: the record is the source's, but not one we read.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Any

from deskguard.detection.parsing import Quarantined, canon, parse_time

_INF = float("inf")
_from_iso = datetime.fromisoformat


def keys_of(value: Any) -> set[str]:
    """The spelling-insensitive keys of an object (empty for anything else)."""
    return {canon(str(key)) for key in value} if isinstance(value, dict) else set()


def ident(value: Any, field: str) -> str:
    """An identifier: a non-empty string, or an integer (also as an integral float, as pipelines write)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise Quarantined("missing_field", f"{field} is missing")
    if isinstance(value, bool):
        raise Quarantined("wrong_type", f"{field} must be a string or an integer, not a boolean")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return value.strip()
    raise Quarantined("wrong_type", f"{field} must be a string or an integer, not {type(value).__name__}")


def scalar(value: Any) -> str:
    """A vendor field as text, forgivingly: strings and numbers as they are, anything else ``""``.

    An object that names itself (``{"name": ...}``, ServiceNow's ``{"display_value", "value"}``) gives
    that name."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, dict):
        for key in ("display_value", "name", "value", "displayName", "label"):
            inner = value.get(key)
            if isinstance(inner, str | int) and not isinstance(inner, bool) and inner != "":
                return scalar(inner)
    return ""


def strict_text(value: Any, field: str, *, numbers: bool = True) -> str:
    """A documented text field: a string (or a number, when ``numbers``), ``""`` when null or absent."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if numbers and isinstance(value, int | float) and not isinstance(value, bool):
        return scalar(value)
    raise Quarantined("wrong_type", f"{field} must be a string, not {type(value).__name__}")


def mapping(value: Any, field: str) -> dict[str, Any]:
    """An optional nested object: ``{}`` when absent or null, the object itself, else ``wrong_shape``."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    raise Quarantined("wrong_shape", f"{field} must be an object, not {type(value).__name__}")


def when(value: Any, field: str) -> float:
    """``parse_time``, with whatever else it may raise on odd text turned into ``bad_timestamp``."""
    try:
        return parse_time(value, field=field)
    except Quarantined:
        raise
    except (ValueError, OverflowError, TypeError) as exc:
        raise Quarantined("bad_timestamp", f"{field} is not a time: {value!r} ({exc})") from None


def number(value: Any) -> float | None:
    """A number from a number or a numeric string; ``None`` for anything else."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, str) and value.strip():
        try:
            result = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return result if result == result and result not in (float("inf"), float("-inf")) else None


def integer(value: Any) -> int | None:
    result = number(value)
    return int(result) if result is not None else None


def fold(text: str) -> str:
    """Lower case without accents: ``"Accès"`` -> ``"acces"`` (for keyword matching)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def compact(extra: dict[str, Any]) -> dict[str, Any]:
    """``extra`` without the empty values (``None``, ``""``, empty lists and objects)."""
    return {key: value for key, value in extra.items() if value not in (None, "", [], {})}


def event_time(value: Any, field: str) -> float:
    """``parse_time``, with every failure a quarantine (huge numbers, non-ASCII digits) and no NaN."""
    if type(value) is str and len(value) >= 20 and value[-1] == "Z" and value[10] == "T":
        # Okta's own form (2024-03-04T09:15:42.318Z): the common case, straight to the C parser.
        try:
            return _from_iso(value).timestamp()
        except ValueError:
            pass
    try:
        when = parse_time(value, field=field)
    except (ValueError, OverflowError):
        raise Quarantined("bad_timestamp", f"{field} is not a time: {value!r:.80}") from None
    if when != when or when in (_INF, -_INF):
        raise Quarantined("bad_timestamp", f"{field} is not a finite time")
    return when


def as_text(value: Any) -> str:
    """A field as text, cheaply: a string as it is, ``""`` for null, booleans, objects and lists,
    ``str()`` of anything else (numbers)."""
    if type(value) is str:
        return value
    if value is None or type(value) is bool or type(value) is dict or type(value) is list:
        return ""
    return str(value)


def coordinate(value: Any, *, bound_text: bool = True) -> float | None:
    """A latitude or longitude: a float as it is (``None`` for NaN), an integer within ±1000, a numeric
    string (within ±1000 too unless ``bound_text`` is false); anything else ``None``."""
    if type(value) is float:
        return value if value == value else None
    if type(value) is int:
        return float(value) if -1000 < value < 1000 else None
    if type(value) is str:
        try:
            number = float(value)
        except ValueError:
            return None
        if number != number:
            return None
        return number if not bound_text or -1000 < number < 1000 else None
    return None


def later(modified: Any, created: Any) -> bool:
    """Both times are given and ``modified`` is after ``created`` (a time that does not read: no)."""
    if created in (None, "") or modified in (None, ""):
        return False
    try:
        return when(modified, "modified") > when(created, "created")
    except Quarantined:
        return False
