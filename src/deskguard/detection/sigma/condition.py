"""A rule's condition tree, as pySigma parses it, compiled to one predicate; and its dispatch set.

pySigma resolves the condition (``and``, ``or``, ``not``, parentheses, ``1 of x*``, ``all of them``)
and the detections it names into a tree of AND/OR/NOT nodes over field/value leaves. Here:

- sibling leaves of an OR on the same field become one field read and one value test (an equality
  list becomes a set lookup); the children of an AND are reordered cheapest first (the predicates
  are pure, so order does not change the result, only how soon a miss is known);
- ``dispatch``: when every way of satisfying the condition requires the event type field (Okta
  ``eventType``, Entra ``operationName``/``activityDisplayName``, Google ``eventName``; ``activity``
  or ``type`` for deskguard rules) to equal one of some plain values, those values — each as
  written and lower-cased, since the predicate ignores case. A ``not``, a pattern, or an ``or``
  branch that does not constrain the type gives None: any event. This assumes ``Event.type`` holds
  the value of the type field the source's rules use (the parsers' contract).
"""

from __future__ import annotations

from dataclasses import dataclass

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.types import SigmaExists, SigmaExpansion, SigmaFieldReference, SigmaNull, SigmaType

from deskguard.detection.event import Event
from deskguard.detection.parsing import canon
from deskguard.detection.sigma.fields import (
    exists_predicate,
    field_predicate,
    fieldref_predicate,
    keyword_predicate,
    null_predicate,
)
from deskguard.detection.sigma.model import Predicate
from deskguard.detection.sigma.values import Alternatives, UnsupportedFeature, is_plain

_KEYWORD_COST = 10

# Raw fields holding the vendor event type, in their forgiving (canonical) spelling.
RAW_TYPE_FIELDS = frozenset({"eventtype", "activitydisplayname", "operationname", "eventname"})
NORMALISED_DISPATCH = {
    "activity": "activity",
    "activity_name": "activity",
    "type": "type",
    "type_name": "type",
}


def compile_condition(node: object, *, normalised: bool) -> Predicate:
    predicate, _ = _compile(node, normalised)
    return predicate


def _compile(node: object, normalised: bool) -> tuple[Predicate, int]:
    if isinstance(node, ConditionAND):
        parts = sorted((_compile(arg, normalised) for arg in node.args), key=lambda part: part[1])
        return _all([part[0] for part in parts]), sum(part[1] for part in parts)
    if isinstance(node, ConditionOR):
        return _compile_any(node.args, normalised)
    if isinstance(node, ConditionNOT):
        inner, cost = _compile(node.args[0], normalised)
        return (lambda event: not inner(event)), cost
    if isinstance(node, ConditionFieldEqualsValueExpression | ConditionValueExpression):
        return _compile_any([node], normalised)
    if node is None:
        raise UnsupportedFeature("the condition selects an empty detection")
    raise UnsupportedFeature(f"condition element {type(node).__name__} is not supported")


def _compile_any(args: list[object], normalised: bool) -> tuple[Predicate, int]:
    groups: dict[str | None, Alternatives] = {}  # field (None: keywords) -> its alternatives
    parts: list[tuple[Predicate, int]] = []
    for arg in args:
        if isinstance(arg, ConditionValueExpression):
            groups.setdefault(None, Alternatives(keyword=True)).add(arg.value)
        elif isinstance(arg, ConditionFieldEqualsValueExpression) and _groupable(arg.value):
            groups.setdefault(arg.field, Alternatives()).add(arg.value)
        elif isinstance(arg, ConditionFieldEqualsValueExpression):
            parts.append(_special_leaf(arg, normalised))
        else:
            parts.append(_compile(arg, normalised))
    for path, alternatives in groups.items():
        test = alternatives.build()
        if path is None:
            parts.append((keyword_predicate(test, alternatives.needles()), _KEYWORD_COST))
        else:
            parts.append((field_predicate(path, test, normalised=normalised), alternatives.cost()))
    parts.sort(key=lambda part: part[1])
    return _any([part[0] for part in parts]), sum(part[1] for part in parts)


def _groupable(value: SigmaType) -> bool:
    return not isinstance(value, SigmaNull | SigmaExists | SigmaFieldReference)


def _special_leaf(leaf: ConditionFieldEqualsValueExpression, normalised: bool) -> tuple[Predicate, int]:
    value = leaf.value
    if isinstance(value, SigmaNull):
        return null_predicate(leaf.field, normalised=normalised), 1
    if isinstance(value, SigmaExists):
        return exists_predicate(leaf.field, value.exists, normalised=normalised), 2
    if isinstance(value, SigmaFieldReference):
        return fieldref_predicate(leaf.field, value, normalised=normalised), 3
    raise UnsupportedFeature(f"value type {type(value).__name__} is not supported")  # pragma: no cover


def _all(predicates: list[Predicate]) -> Predicate:
    if len(predicates) == 1:
        return predicates[0]
    if len(predicates) == 2:
        first, second = predicates
        return lambda event: first(event) and second(event)
    if len(predicates) == 3:
        first, second, third = predicates
        return lambda event: first(event) and second(event) and third(event)
    frozen = tuple(predicates)

    def every(event: Event) -> bool:
        for predicate in frozen:  # noqa: SIM110 - a loop costs less than all() over a generator
            if not predicate(event):
                return False
        return True

    return every


def _any(predicates: list[Predicate]) -> Predicate:
    if len(predicates) == 1:
        return predicates[0]
    if len(predicates) == 2:
        first, second = predicates
        return lambda event: first(event) or second(event)
    frozen = tuple(predicates)

    def some(event: Event) -> bool:
        for predicate in frozen:  # noqa: SIM110 - a loop costs less than any() over a generator
            if predicate(event):
                return True
        return False

    return some


# --- dispatch -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Constraint:
    on: str  # "type" | "activity"
    fields: frozenset[str]  # the rule fields the values come from
    values: frozenset[str]


def derive_dispatch(node: object, *, normalised: bool) -> tuple[str, frozenset[str] | None]:
    """``(dispatch_on, values)``; values None when the condition does not pin the type down."""
    constraint = _constraint(node, normalised)
    if constraint is None:
        return ("activity" if normalised else "type"), None
    return constraint.on, constraint.values


def _dispatch_on(field: str, normalised: bool) -> str | None:
    if normalised:
        return NORMALISED_DISPATCH.get(field)
    return "type" if canon(field) in RAW_TYPE_FIELDS else None


def _constraint(node: object, normalised: bool) -> _Constraint | None:
    if isinstance(node, ConditionFieldEqualsValueExpression):
        on = _dispatch_on(node.field, normalised)
        if on is None:
            return None
        values = _plain_values(node.value)
        return None if values is None else _Constraint(on, frozenset({node.field}), values)
    if isinstance(node, ConditionOR):
        parts = [_constraint(arg, normalised) for arg in node.args]
        if any(part is None for part in parts):
            return None
        known = [part for part in parts if part is not None]
        if len({part.on for part in known}) != 1:
            return None
        return _Constraint(
            known[0].on,
            frozenset().union(*(part.fields for part in known)),
            frozenset().union(*(part.values for part in known)),
        )
    if isinstance(node, ConditionAND):
        known = [part for arg in node.args if (part := _constraint(arg, normalised)) is not None]
        if not known:
            return None
        first = known[0]
        if all(part.on == first.on and part.fields == first.fields for part in known):
            # The same field pinned twice: both must hold.
            values = first.values.intersection(*(part.values for part in known[1:]))
            return _Constraint(first.on, first.fields, values)
        # Different fields: each alone bounds the event type; the tightest one is enough.
        return min(known, key=lambda part: len(part.values))
    return None  # NOT, keywords, anything else: no bound


def _plain_values(value: SigmaType) -> frozenset[str] | None:
    """Each value as written and lower-cased: the predicate ignores case, an engine may look up
    ``event.type`` as it is or lower-cased (``dispatch_value``)."""
    items = value.values if isinstance(value, SigmaExpansion) else [value]
    texts = set()
    for item in items:
        text = is_plain(item)
        if text is None:
            return None
        texts.update((text, text.lower()))
    return frozenset(texts)
