"""What the Sigma loader produces: compiled rules, compiled correlations and the rules it refused.

A ``CompiledRule`` is a Sigma rule's metadata plus ``predicate``, a plain function of one ``Event``.
``dispatch`` names the event types (or, for ``product: deskguard`` rules, the activities) the rule
can possibly match, so the engine offers each event only to the rules that can match it. The set holds each
value as the rule writes it and lower-cased (rule predicates ignore case), so either lookup works:

    rule.dispatch is None or event.type in rule.dispatch
    rule.dispatch is None or dispatch_value(event, rule.dispatch_on) in rule.dispatch  # any case

``logsource_matches`` says whether a rule applies to an event's source at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from deskguard.detection.event import Event

Predicate = Callable[[Event], bool]
LogSource = tuple[str | None, str | None, str | None]  # (product, service, category)

DESKGUARD = "deskguard"  # the logsource product of rules written on the normalised model
# A Sigma logsource category is checked only when the event declares one under this ``extra`` key:
# the normalised model carries no category of its own (``Event.category`` is a ticket's category).
CATEGORY_KEY = "logsource_category"


@dataclass(slots=True, eq=False)
class CompiledRule:
    id: str  # the rule's name (Source.Area.Behavior) when it has one, else its Sigma id
    name: str | None
    title: str
    description: str | None
    level: str | None
    status: str | None
    tags: tuple[str, ...]
    attack: tuple[str, ...]  # ATT&CK technique ids from attack.tXXXX tags ("T1098.005")
    falsepositives: tuple[str, ...]
    references: tuple[str, ...]
    logsource: LogSource
    fields: tuple[str, ...]
    custom: dict[str, Any]  # pySigma's custom attributes: top-level keys Sigma does not define
    predicate: Predicate
    dispatch: frozenset[str] | None  # values of ``dispatch_on``, as written and lower-cased; None: any
    path: str
    sigma_id: str | None = None  # the Sigma id (a UUID) as written, when the rule has one
    dispatch_on: str = "type"  # "type" (the vendor event type) or "activity" (deskguard rules)
    # False when the rule is referenced only by correlations with ``generate: false``: per Sigma,
    # its matches feed the correlations but raise no alert of their own.
    generate: bool = True

    def matches(self, event: Event) -> bool:
        return self.predicate(event)


@dataclass(slots=True, frozen=True)
class CorrelationCondition:
    """A correlation threshold: every ``(op, value)`` holds (two of them make a range)."""

    ops: tuple[tuple[str, float], ...]  # op in gt, gte, lt, lte, eq, neq
    field: str | None = None  # value_count: the field whose distinct values are counted

    @property
    def immediate(self) -> bool:
        """True when the condition, once met in a window, stays met as the window grows."""
        return all(op in ("gt", "gte") for op, _ in self.ops)

    def holds(self, value: float) -> bool:
        return all(_OPS[op](value, bound) for op, bound in self.ops)

    def test(self) -> Callable[[float], bool]:
        """``holds`` as one fast function (the correlator calls it for every window it tries)."""
        if len(self.ops) == 1:
            op, bound = self.ops[0]
            compare = _OPS[op]
            return lambda value: compare(value, bound)
        return self.holds

    def needed(self) -> int:
        """How many items a window can usefully hold: past this the answer cannot change."""
        return max(1, *(int(bound) + 1 for _, bound in self.ops))

    def text(self) -> str:
        return " and ".join(f"{_SYMBOLS[op]} {_number(bound)}" for op, bound in self.ops)


_OPS: dict[str, Callable[[float, float], bool]] = {
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
    "eq": lambda a, b: a == b,
    "neq": lambda a, b: a != b,
}
_SYMBOLS = {"gt": ">", "gte": "≥", "lt": "<", "lte": "≤", "eq": "=", "neq": "≠"}


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


@dataclass(slots=True, eq=False)
class CompiledCorrelation:
    id: str  # name, else Sigma id, as for CompiledRule
    name: str | None
    title: str
    description: str | None
    level: str | None
    status: str | None
    tags: tuple[str, ...]
    attack: tuple[str, ...]
    falsepositives: tuple[str, ...]
    references: tuple[str, ...]
    fields: tuple[str, ...]
    custom: dict[str, Any]
    path: str
    kind: str  # event_count | value_count | temporal | temporal_ordered
    rule_refs: tuple[str, ...]  # as written in the rule
    rules: tuple[CompiledRule, ...]  # the base rules, in the order of rule_refs
    group_by: tuple[str, ...]
    timespan_s: float
    timespan: str  # as written ("10m")
    condition: CorrelationCondition
    generate: bool = False
    sigma_id: str | None = None
    logsource: LogSource = (None, None, None)  # correlations have none; kept for uniform handling
    # group-by alias -> {rule reference -> field name in that rule's events}
    aliases: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass(slots=True, frozen=True)
class Unsupported:
    path: str
    rule_id: str | None
    title: str | None
    reason: str


@dataclass(slots=True)
class LoadResult:
    rules: list[CompiledRule] = field(default_factory=list)
    correlations: list[CompiledCorrelation] = field(default_factory=list)
    unsupported: list[Unsupported] = field(default_factory=list)

    def rule(self, ref: str) -> CompiledRule:
        """A loaded rule by id, name or title (tests and tools)."""
        for rule in self.rules:
            if ref in (rule.id, rule.name, rule.sigma_id, rule.title):
                return rule
        raise KeyError(ref)

    def correlation(self, ref: str) -> CompiledCorrelation:
        for correlation in self.correlations:
            if ref in (correlation.id, correlation.name, correlation.sigma_id, correlation.title):
                return correlation
        raise KeyError(ref)


def logsource_matches(logsource: LogSource, event: Event) -> bool:
    """Whether a rule with this logsource applies to the event.

    - product ``deskguard`` applies to every event (it reads the normalised model); its service,
      when given, must equal ``event.source`` (``okta``, ``glpi``, ``telephony``…);
    - any other product must equal ``event.product``, and the service, when given,
      ``event.service``; a rule without product applies to every product;
    - the category is ignored unless the event declares one in ``event.extra["logsource_category"]``,
      in which case the two must be equal.

    Comparisons ignore case.
    """
    product, service, category = logsource
    if product is not None and product.lower() == DESKGUARD:
        if service is not None and service.lower() != event.source.lower():
            return False
    else:
        if product is not None and product.lower() != event.product.lower():
            return False
        if service is not None and service.lower() != event.service.lower():
            return False
    if category is not None:
        declared = event.extra.get(CATEGORY_KEY) if event.extra else None
        if isinstance(declared, str) and declared and declared.lower() != category.lower():
            return False
    return True


def dispatch_value(event: Event, on: str) -> str:
    """The value to look up in ``rule.dispatch`` whatever the case the source writes it in."""
    value = event.activity if on == "activity" else event.type
    return value.lower() if value else ""
