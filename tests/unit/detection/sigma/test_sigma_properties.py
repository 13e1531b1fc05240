"""The compiled predicate agrees with the naive reference interpreter on random rules and events."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sigma_events import make_event
from sigma_reference import rule_matches

from deskguard.detection.sigma import load_rules_text

# Patterns and event texts share an alphabet with the wildcard and escape characters in it, so
# literal "*", "?" and "\" in events meet escaped and unescaped ones in rules.
PATTERN = st.text(alphabet="aAb-*?\\", max_size=4)
PLAIN = st.text(alphabet="aAbB-/", max_size=4)
EVENT_TEXT = st.text(alphabet="aAbB-*?\\ 5.", max_size=5)
SPECIAL_TEXT = st.sampled_from(
    [
        "5",
        "05",
        " 5",
        "5.0",
        "2",
        "-1",
        "true",
        "FALSE",
        "10.1.2.3",
        "192.168.1.7",
        "2001:db8::1",
        "::1",
        "ab\nba",
    ]
)
SCALAR = st.one_of(
    EVENT_TEXT,
    SPECIAL_TEXT,
    st.integers(-3, 6),
    st.sampled_from([0.5, 2.0, 5.0, True, False]),
)
VALUE = st.one_of(SCALAR, st.none(), st.lists(SCALAR, min_size=1, max_size=3))
RAW = st.fixed_dictionaries(
    {},
    optional={
        "a": VALUE,
        "b": VALUE,
        "n": st.one_of(
            st.fixed_dictionaries({}, optional={"x": VALUE}),
            SCALAR,
            st.lists(st.fixed_dictionaries({}, optional={"x": VALUE}), min_size=1, max_size=3),
        ),
    },
)

FIELDS = st.sampled_from(["a", "b", "n.x"])
REGEXES = st.sampled_from(["^a", "b$", "a.b", "A", "[ab]+-", "x|5", "^$", "^a.*b$"])
NETWORKS = st.sampled_from(["10.0.0.0/8", "10.1.0.0/16", "192.168.1.0/24", "2001:db8::/32", "::1/128"])
NUMBERS = st.one_of(st.integers(-3, 6), st.sampled_from([0.5, 2.0]))


def _one_or_list(values: st.SearchStrategy[Any], *, min_list: int = 2) -> st.SearchStrategy[Any]:
    return st.one_of(values, st.lists(values, min_size=min_list, max_size=3))


ITEM = st.one_of(
    st.tuples(
        st.sampled_from(["", "|contains", "|startswith", "|endswith", "|cased", "|contains|cased"]),
        _one_or_list(PATTERN),
    ),
    st.tuples(st.sampled_from(["|contains|all", "|all"]), st.lists(PATTERN, min_size=2, max_size=3)),
    st.tuples(st.just(""), _one_or_list(st.one_of(NUMBERS, st.booleans(), st.none(), PATTERN))),
    st.tuples(st.just("|base64"), _one_or_list(PLAIN)),
    st.tuples(st.sampled_from(["|re", "|re|i"]), _one_or_list(REGEXES)),
    st.tuples(st.just("|cidr"), _one_or_list(NETWORKS)),
    st.tuples(st.just("|exists"), st.booleans()),
    st.tuples(st.sampled_from(["|gt", "|gte", "|lt", "|lte"]), st.integers(-2, 6)),
)


@st.composite
def selections(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 9)) == 0:  # keywords
        return draw(st.lists(PATTERN.filter(bool), min_size=1, max_size=3))
    items = {}
    for _ in range(draw(st.integers(1, 3))):
        modifiers, value = draw(ITEM)
        items[draw(FIELDS) + modifiers] = value
    if draw(st.integers(0, 5)) == 0:  # a list of maps: OR of ANDs
        other_modifiers, other_value = draw(ITEM)
        return [items, {draw(FIELDS) + other_modifiers: other_value}]
    return items


NAMES = ["sel_a", "sel_b", "filter_a"]


@st.composite
def conditions(draw: st.DrawFn, depth: int = 0) -> str:
    choice = draw(st.integers(0, 7 if depth < 2 else 1))
    if choice == 0:
        return draw(st.sampled_from(NAMES))
    if choice == 1:
        return draw(
            st.sampled_from(
                ["1 of sel_*", "all of sel_*", "1 of them", "all of them", "any of filter_*", "1 of sel*"]
            )
        )
    if choice in (2, 3):
        return f"not {draw(conditions(depth + 1))}"
    operator = "and" if choice in (4, 5) else "or"
    left, right = draw(conditions(depth + 1)), draw(conditions(depth + 1))
    return f"({left} {operator} {right})" if draw(st.booleans()) else f"{left} {operator} {right}"


@st.composite
def detections(draw: st.DrawFn) -> dict[str, Any]:
    detection = {name: draw(selections()) for name in NAMES}
    detection["condition"] = draw(conditions())
    return detection


def _compile(detection: dict[str, Any]):
    rule = {"title": "generated", "logsource": {"product": "test", "service": "test"}, "detection": detection}
    result = load_rules_text(yaml.safe_dump(rule, sort_keys=False))
    assert not result.unsupported, result.unsupported[0].reason
    return result.rules[0].predicate


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(detection=detections(), raws=st.lists(RAW, min_size=1, max_size=6))
def test_compiled_rule_agrees_with_reference(detection: dict[str, Any], raws: list[dict[str, Any]]) -> None:
    predicate = _compile(detection)
    for raw in raws:
        assert predicate(make_event(raw, product="test", service="test")) == rule_matches(detection, raw), raw


@settings(max_examples=400, deadline=None)
@given(
    pattern=PATTERN, text=EVENT_TEXT, modifiers=st.sampled_from(["", "|contains", "|startswith", "|endswith"])
)
def test_wildcards_and_escapes_agree(pattern: str, text: str, modifiers: str) -> None:
    detection = {"selection": {"a" + modifiers: pattern}, "condition": "selection"}
    predicate = _compile(detection)
    raw = {"a": text}
    assert predicate(make_event(raw, product="test")) == rule_matches(detection, raw)


@settings(max_examples=1000, deadline=None)
@given(item=ITEM, field=FIELDS, raws=st.lists(RAW, min_size=1, max_size=8))
def test_single_items_agree(item: tuple[str, Any], field: str, raws: list[dict[str, Any]]) -> None:
    modifiers, value = item
    detection = {"selection": {field + modifiers: value}, "condition": "selection"}
    predicate = _compile(detection)
    for raw in raws:
        assert predicate(make_event(raw, product="test")) == rule_matches(detection, raw), raw
