"""Property tests every identity-provider parser passes: a record either parses into well-formed
events or is quarantined, never anything else. Each vendor's test module binds them to its parser::

    test_arbitrary_objects_parse_or_are_quarantined = arbitrary_objects_test(parser, KEYS)
    test_valid_records_with_any_field_replaced_parse_or_are_quarantined = replaced_fields_test(parser, BASES)

(``KEYS``: the top-level keys the parser looks for; ``BASES``: valid records to damage.)
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deskguard.detection.event import ACTIVITIES, CLASSES, Event
from deskguard.detection.parsing import Quarantined

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=25,
)
PROPERTY = settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])


def check(parser: ModuleType, raw: dict[str, Any]) -> None:
    """``detect`` answers a bool; ``parse`` gives well-formed events or raises ``Quarantined``."""
    assert parser.detect(raw) in (True, False)
    try:
        events = parser.parse(raw)
    except Quarantined as quarantined:
        assert quarantined.reason, "a quarantine without a reason"
        return
    for event in events:
        assert isinstance(event, Event), repr(event)
        assert event.activity in ACTIVITIES, event.activity
        assert event.class_name in CLASSES, event.class_name
        assert isinstance(event.time, float), repr(event.time)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path (keys and indexes) of every value nested in ``value``."""
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            out.extend(paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out.extend(paths(item, (*prefix, index)))
    return out


def arbitrary_objects_test(parser: ModuleType, keys: Sequence[str]) -> Callable[..., None]:
    """Any object, its keys partly the parser's own ``keys``, parses or is quarantined."""

    @PROPERTY
    @given(st.dictionaries(st.sampled_from(keys) | st.text(max_size=8), JSON, max_size=8))
    def test_arbitrary_objects_parse_or_are_quarantined(raw: dict[str, Any]) -> None:
        check(parser, raw)

    return test_arbitrary_objects_parse_or_are_quarantined


def replaced_fields_test(parser: ModuleType, bases: Sequence[dict[str, Any]]) -> Callable[..., None]:
    """One of ``bases`` with one to three of its values (at any depth) replaced by arbitrary JSON
    parses or is quarantined."""

    @PROPERTY
    @given(st.data())
    def test_valid_records_with_any_field_replaced_parse_or_are_quarantined(data: st.DataObject) -> None:
        raw = copy.deepcopy(data.draw(st.sampled_from(bases)))
        for _ in range(data.draw(st.integers(1, 3))):
            path = data.draw(st.sampled_from(paths(raw)))
            node = raw
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = data.draw(JSON)
        check(parser, raw)

    return test_valid_records_with_any_field_replaced_parse_or_are_quarantined
