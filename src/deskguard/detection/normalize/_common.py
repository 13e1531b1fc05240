"""Small helpers the helpdesk, ticket and telephony parsers share (private to ``normalize``).

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
from typing import Any

from deskguard.detection.parsing import Quarantined, canon, parse_time


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
