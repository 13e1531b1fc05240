"""Reading a rule's fields from an event, and the leaf predicates built on them.

A rule whose logsource product is ``deskguard`` reads the normalised model (``Event.get``); any
other rule reads the vendor's raw record. Raw reads walk the nested dicts directly (the common
case, no allocation) and fall back to ``Event.raw_field`` — case-insensitive, flattened keys, the
parser's ``view`` — only when the exact walk finds nothing.

Null and existence:
- raw: ``field: null`` matches a missing field or a JSON null; ``exists: true`` matches a field
  that is present, whatever its value (null included), as the Sigma specification says;
- normalised: the model writes "" for what is unknown, so "" counts as null and as absent.

A list-valued event field matches when any element matches (nested lists are flattened); a dotted
path through a list of objects (Okta's ``target.alternateId``) reads every element's value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sigma.types import SigmaFieldReference

from deskguard.detection.event import Event
from deskguard.detection.parsing import Record
from deskguard.detection.sigma.model import Predicate
from deskguard.detection.sigma.values import ScalarTest, iter_all_scalars, iter_scalars, scalar_text

Getter = Callable[[Event], Any]
_MISSING = object()


def getter(path: str, *, normalised: bool) -> Getter:
    """A function reading ``path`` from an event (normalised model or raw record)."""
    if normalised:
        return lambda event: event.get(path)
    if "." not in path:

        def get_key(event: Event) -> Any:
            value = event.raw.get(path)
            return event.raw_field(path) if value is None else value

        return get_key
    parts = tuple(path.split("."))

    def get_path(event: Event) -> Any:
        value: Any = event.raw
        for part in parts:
            if type(value) is not dict:
                break
            value = value.get(part)
            if value is None:
                return event.raw_field(path)
        else:
            return value
        return _through_lists(event, parts, path)

    return get_path


def _through_lists(event: Event, parts: tuple[str, ...], path: str) -> Any:
    """The walk met something other than a dict: a list of objects is read through, else fall back."""
    value: Any = event.raw
    for index, part in enumerate(parts):
        if type(value) is list:
            found = _through_list(value, parts, index)
            return event.raw_field(path) if found is None else found
        if type(value) is not dict:
            break
        value = value.get(part)
    return event.raw_field(path)


def _through_list(items: list[Any], parts: tuple[str, ...], index: int) -> list[Any] | None:
    """``target.alternateId`` over Okta's list of targets: the values of every element that has it."""
    found: list[Any] = []
    for item in items:
        value = item
        for position in range(index, len(parts)):
            if type(value) is list:
                value = _through_list(value, parts, position)
                break
            value = value.get(parts[position]) if type(value) is dict else None
            if value is None:
                break
        if type(value) is list:
            found.extend(value)
        elif value is not None:
            found.append(value)
    return found or None


def _any_element(value: Any, test: ScalarTest) -> bool:
    for item in iter_scalars(value):  # noqa: SIM110 - hot path: a loop costs less than any()
        if test(item):
            return True
    return False


def field_predicate(path: str, test: ScalarTest, *, normalised: bool) -> Predicate:
    """The event's field matches ``test`` (any element of a list-valued field)."""
    if not normalised and "." not in path:
        # The most common leaf, spelled out: one dict lookup, one call.
        def raw_key(event: Event) -> bool:
            value = event.raw.get(path)
            if value is None:
                value = event.raw_field(path)
                if value is None:
                    return False
            if type(value) is list:
                return _any_element(value, test)
            return test(value)

        return raw_key
    get = getter(path, normalised=normalised)

    def generic(event: Event) -> bool:
        value = get(event)
        if value is None:
            return False
        if type(value) is list or type(value) is tuple:
            return _any_element(value, test)
        return test(value)

    return generic


def null_predicate(path: str, *, normalised: bool) -> Predicate:
    get = getter(path, normalised=normalised)
    if normalised:

        def unknown(event: Event) -> bool:
            value = get(event)
            return value is None or value == ""

        return unknown
    return lambda event: get(event) is None


def exists_predicate(path: str, expected: bool, *, normalised: bool) -> Predicate:
    get = getter(path, normalised=normalised)
    if normalised:
        if expected:
            return lambda event: get(event) not in (None, "")
        return lambda event: get(event) in (None, "")

    def present(event: Event) -> bool:
        if get(event) is not None:
            return True
        # Present with a null value still exists: look for the key itself.
        if Record(event.raw).get(path, _MISSING) is not _MISSING:
            return True
        return event.view is not None and Record(event.view).get(path, _MISSING) is not _MISSING

    if expected:
        return present
    return lambda event: not present(event)


def fieldref_predicate(path: str, ref: SigmaFieldReference, *, normalised: bool) -> Predicate:
    """The field equals (starts with, ends with, contains) the value of another field."""
    get, get_other = getter(path, normalised=normalised), getter(ref.field, normalised=normalised)
    if ref.starts_with and ref.ends_with:
        compare: Callable[[str, str], bool] = lambda mine, other: other in mine  # noqa: E731
    elif ref.starts_with:
        compare = str.startswith
    elif ref.ends_with:
        compare = str.endswith
    else:
        compare = str.__eq__

    def predicate(event: Event) -> bool:
        others = [text.lower() for text in _texts(get_other(event))]
        if not others:
            return False
        for mine in _texts(get(event)):
            lowered = mine.lower()
            for other in others:
                if compare(lowered, other):
                    return True
        return False

    return predicate


def _texts(value: Any) -> list[str]:
    texts = []
    for item in iter_scalars(value):
        text = scalar_text(item)
        if text is not None:
            texts.append(text)
    return texts


def keyword_predicate(test: ScalarTest, needles: tuple[str, ...] | None = None) -> Predicate:
    """Any scalar anywhere in the raw record (or the parser's view of it) matches.

    Plain keywords (``needles``) are searched in one lower-cased text of all the values, joined by
    NUL so that no keyword spans two values.
    """
    if needles is not None:
        found = needles

        def search(event: Event) -> bool:
            texts = [
                text for value in iter_all_scalars(event.raw) if (text := scalar_text(value)) is not None
            ]
            if event.view is not None:
                texts.extend(
                    t for value in iter_all_scalars(event.view) if (t := scalar_text(value)) is not None
                )
            blob = "\x00".join(texts).lower()
            for needle in found:  # noqa: SIM110 - hot path: a loop costs less than any()
                if needle in blob:
                    return True
            return False

        return search

    def predicate(event: Event) -> bool:
        for value in iter_all_scalars(event.raw):
            if test(value):
                return True
        if event.view is not None:
            for value in iter_all_scalars(event.view):
                if test(value):
                    return True
        return False

    return predicate
