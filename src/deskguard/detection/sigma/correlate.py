"""Sigma correlation rules: compiled from pySigma, run over the stream of base-rule matches.

Supported types: ``event_count``, ``value_count``, ``temporal`` and ``temporal_ordered``, with
``rules`` (ids or names of base rules), ``group-by`` and ``aliases``, ``timespan``, ``condition``
(``gt``/``gte``/``lt``/``lte``/``eq``/``neq``, two of them for a range; ``field`` for value_count)
and ``generate``. The group-by fields are read from each base rule's events as that rule reads them:
the normalised model for ``product: deskguard`` rules, the raw record otherwise.

Windows. Events whose times lie within ``timespan`` of each other count together (inclusive:
``last - first <= timespan``). Events may arrive out of order: one older than the watermark (the
newest event time seen in its stream: the same tenant and source) by at most ``lateness_s`` is
placed by its own time; an older one is dropped and counted in ``stats["late_dropped"]``. A lagging
source (a log polled every few minutes, a day ingested late) is thus measured against itself, not
against deskguard's own events; state expires once the slowest stream has passed it (the store's
group bound caps memory meanwhile). After a hit the group's state is reset, so the same evidence
never fires twice.

Conditions that can only become true (``gt``, ``gte``) fire as soon as some window satisfies them
(sliding: any span of ``timespan`` counts). The others (``lt``, ``lte``, ``eq``, ``neq``, ranges)
are decided when a window closes, on consecutive windows: a window opens at a group's first event
and spans ``timespan``; once the watermark has passed its end by ``lateness`` it is decided, and
the next window opens at the next event. ``advance(time)`` moves the watermark without an event;
``flush()`` decides every open window (end of a replay).

Exactness and bounds. State is bounded per group: entries older than timespan + lateness are
dropped, and a window can never usefully hold more than the condition needs. For ``value_count``
and ``temporal`` a newer occurrence of the same value (rule) in a group replaces older ones, and
``temporal_ordered`` keeps the 8 newest occurrences of each rule: exact for in-order streams; with
out-of-order events a late event is matched against what is retained.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import json
import math
from bisect import bisect_left, insort
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any
from uuid import UUID

from sigma.correlations import SigmaCorrelationRule, SigmaCorrelationType, SigmaExtendedCorrelationCondition

from deskguard.detection.event import Event
from deskguard.detection.sigma.fields import getter
from deskguard.detection.sigma.model import (
    DESKGUARD,
    CompiledCorrelation,
    CompiledRule,
    CorrelationCondition,
)
from deskguard.detection.sigma.store import CorrelationStore, Entry, GroupKey, MemoryCorrelationStore, State
from deskguard.detection.sigma.values import UnsupportedFeature, number_text

__all__ = [
    "CompiledCorrelation",
    "CorrelationHit",
    "CorrelationStore",
    "Correlator",
    "Evidence",
    "MemoryCorrelationStore",
    "compile_correlation",
    "explain",
]

RANGE_KEY = "x-deskguard-condition-range"  # where the loader keeps a range pySigma cannot parse
_KINDS = {
    SigmaCorrelationType.EVENT_COUNT: "event_count",
    SigmaCorrelationType.VALUE_COUNT: "value_count",
    SigmaCorrelationType.TEMPORAL: "temporal",
    SigmaCorrelationType.TEMPORAL_ORDERED: "temporal_ordered",
}
_ORDERED_PER_RULE = 8
_DEFERRED_CAP = 4096
_TIME = itemgetter(0)


# --- compiling ----------------------------------------------------------------------------------


def compile_correlation(
    rule: SigmaCorrelationRule,
    meta: dict[str, Any],
    *,
    by_ref: dict[str, CompiledRule],
    refused: dict[str, str],
    correlation_refs: Collection[str],
) -> CompiledCorrelation:
    kind = _KINDS.get(rule.type)
    if kind is None:
        raise UnsupportedFeature(f"correlation type {rule.type.name.lower()} is not supported")
    if isinstance(rule.condition, SigmaExtendedCorrelationCondition):
        raise UnsupportedFeature("extended (boolean expression) temporal conditions are not supported")
    refs = tuple(ref.reference for ref in rule.rules or ())
    if not refs:
        raise UnsupportedFeature("the correlation references no rule")
    rules = tuple(_resolve(ref, by_ref, refused, correlation_refs) for ref in refs)
    condition = _condition(rule, kind, len(rules))
    aliases = {
        alias.alias: {ref.reference: field for ref, field in alias.mapping.items()} for alias in rule.aliases
    }
    return CompiledCorrelation(
        **meta,
        kind=kind,
        rule_refs=refs,
        rules=rules,
        group_by=tuple(rule.group_by or ()),
        timespan_s=float(rule.timespan.seconds),
        timespan=rule.timespan.spec,
        condition=condition,
        generate=bool(rule.generate),
        aliases=aliases,
    )


def _resolve(
    ref: str, by_ref: dict[str, CompiledRule], refused: dict[str, str], correlation_refs: Collection[str]
) -> CompiledRule:
    with contextlib.suppress(ValueError):
        ref = str(UUID(ref))  # a UUID in any spelling
    if ref in by_ref:
        return by_ref[ref]
    if ref in correlation_refs:
        raise UnsupportedFeature(
            f"references correlation {ref}: correlations of correlations are not supported"
        )
    if ref in refused:
        raise UnsupportedFeature(f"references rule {ref}, which is unsupported ({refused[ref]})")
    raise UnsupportedFeature(f"references unknown rule {ref}")


def _condition(rule: SigmaCorrelationRule, kind: str, rule_count: int) -> CorrelationCondition:
    spec = rule.condition
    field = spec.fieldref
    if isinstance(field, list):
        raise UnsupportedFeature("a condition over several fields is not supported")
    written = rule.custom_attributes.get(RANGE_KEY)
    if isinstance(written, dict):
        ops = []
        for op, bound in written.items():
            try:
                ops.append((op, float(bound)))
            except (TypeError, ValueError):
                raise UnsupportedFeature(f"condition {op}: {bound!r} is not a number") from None
    else:
        ops = [(spec.op.name.lower(), float(spec.count))]
    condition = CorrelationCondition(ops=tuple(ops), field=field)
    if kind == "value_count" and not field:
        raise UnsupportedFeature("value_count needs condition.field")
    all_rules = condition.holds(rule_count) and not condition.holds(rule_count - 1)
    if kind == "temporal_ordered" and not (condition.immediate and all_rules):
        raise UnsupportedFeature("temporal_ordered supports only the default condition (all rules, in order)")
    return condition


# --- hits ---------------------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class Evidence:
    id: str  # the event's id
    time: float
    rule: str  # the id of the base rule it matched


@dataclass(slots=True, frozen=True)
class CorrelationHit:
    correlation: CompiledCorrelation
    tenant: str
    group: tuple[tuple[str, str], ...]  # (group-by field, value)
    events: tuple[Evidence, ...]
    first_seen: float
    last_seen: float
    value: float  # what the condition measured: events, distinct values, rules
    explanation: str

    @property
    def event_ids(self) -> tuple[str, ...]:
        return tuple(evidence.id for evidence in self.events)


# --- running ------------------------------------------------------------------------------------


class _Plan:
    """One correlation, prepared for the stream."""

    def __init__(self, correlation: CompiledCorrelation, lateness: float) -> None:
        self.correlation = correlation
        self.cid = correlation.id
        self.kind = correlation.kind
        self.span = correlation.timespan_s
        self.condition = correlation.condition
        self.immediate = correlation.condition.immediate
        self.holds = correlation.condition.test()
        self.groupers = [self._grouper(index) for index in range(len(correlation.rules))]
        self.values = [self._value_getter(index) for index in range(len(correlation.rules))]
        horizon = math.ceil(lateness / self.span) + 2 if self.span > 0 else 2
        need = correlation.condition.needed()
        if self.kind == "temporal_ordered":
            self.per_key: int | None = _ORDERED_PER_RULE
            self.cap = _ORDERED_PER_RULE * len(correlation.rules)
        elif not self.immediate:
            self.per_key, self.cap = None, _DEFERRED_CAP
        else:
            self.per_key = None if self.kind == "event_count" else 1
            self.cap = max(need, (need - 1) * horizon)
        if self.kind == "temporal":
            self.cap = max(self.cap, len(correlation.rules))
        self.metric_key: Callable[[Entry], Any] = {
            "event_count": itemgetter(1),
            "value_count": itemgetter(3),
        }.get(self.kind, itemgetter(2))

    def _field_for(self, index: int, name: str) -> str:
        rule, ref = self.correlation.rules[index], self.correlation.rule_refs[index]
        mapping = self.correlation.aliases.get(name)
        if mapping:
            for key in (ref, rule.id, rule.name, rule.sigma_id):
                if key is not None and key in mapping:
                    return mapping[key]
        return name

    def _normalised(self, index: int) -> bool:
        product = self.correlation.rules[index].logsource[0]
        return (product or "").lower() == DESKGUARD

    def _grouper(self, index: int) -> Callable[[Event], GroupKey | None]:
        normalised = self._normalised(index)
        getters = [
            getter(self._field_for(index, name), normalised=normalised) for name in self.correlation.group_by
        ]

        def key(event: Event) -> GroupKey | None:
            parts = [event.tenant]  # windows never mix two tenants' events
            for get in getters:
                text = _key_text(get(event))
                if text is None:
                    return None
                parts.append(text)
            return tuple(parts)

        return key

    def _value_getter(self, index: int) -> Callable[[Event], str | None]:
        field = self.condition.field
        if not field:
            return lambda event: ""
        get = getter(self._field_for(index, field), normalised=self._normalised(index))
        return lambda event: _key_text(get(event))


def _key_text(value: Any) -> str | None:
    if type(value) is list and len(value) == 1:
        value = value[0]  # Okta's one target: target.alternateId reads ["jane@acme.com"]
    if value is None or value == "" or value == []:
        return None
    if type(value) is str:
        return value
    if type(value) is bool:
        return "true" if value else "false"
    if type(value) is int or type(value) is float:
        return number_text(value)
    return json.dumps(value, sort_keys=True, default=str)


class Correlator:
    """Runs compiled correlations over base-rule matches, with state in a ``CorrelationStore``."""

    def __init__(
        self, correlations: Iterable[CompiledCorrelation], store: CorrelationStore, lateness_s: float = 0.0
    ) -> None:
        self.store = store
        self.lateness = float(lateness_s)
        self._plans = [_Plan(correlation, self.lateness) for correlation in correlations]
        self._by_cid = {plan.cid: index for index, plan in enumerate(self._plans)}
        self._index: dict[str, list[tuple[int, int]]] = {}
        for plan_index, plan in enumerate(self._plans):
            for rule_index, rule in enumerate(plan.correlation.rules):
                names = {plan.correlation.rule_refs[rule_index], rule.id, rule.name, rule.sigma_id} - {None}
                for name in names:
                    self._index.setdefault(name, []).append((plan_index, rule_index))  # type: ignore[arg-type]
        self._longest = max((plan.span for plan in self._plans), default=0.0)
        self._counts = {"late_dropped": 0, "hits": 0, "missing_field": 0, "truncated": 0}
        # Event time per stream (tenant, source): a source that lags (a log polled every few
        # minutes, a backfill) is late only against itself, never against a faster source.
        self._marks: dict[tuple[str, str], float] = {}
        self._slowest: float | None = None
        self._heap: list[tuple[float, int, int, GroupKey, float, str]] = []
        self._sequence = itertools.count()
        self._rebuild_heap()

    @property
    def stats(self) -> dict[str, int]:
        merged = dict(self._counts)
        merged.update(self.store.stats)
        return merged

    def observe(self, rule_ref_ids: Collection[str], event: Event) -> list[CorrelationHit]:
        """The correlation hits one event completes; ``rule_ref_ids``: ids and names it matched."""
        touched: dict[int, list[int]] = {}
        for name in rule_ref_ids:
            for plan_index, rule_index in self._index.get(name, ()):
                indexes = touched.setdefault(plan_index, [])
                if rule_index not in indexes:
                    indexes.append(rule_index)
        if not touched:
            return []
        time = event.time
        stream = (event.tenant, event.source)
        mark = self._marks.get(stream)
        if mark is not None and time < mark - self.lateness:
            self._counts["late_dropped"] += 1
            return []
        if mark is None or time > mark:
            self._marks[stream] = time
            self._slowest = None
        watermark = self.store.watermark
        if watermark is None or time > watermark:
            self.store.watermark = watermark = time
        hits = self._close(watermark - self.lateness) if self._heap else []
        for plan_index, rule_indexes in touched.items():
            hits.extend(self._observe_plan(plan_index, sorted(rule_indexes), event))
        self.store.expire(self._slowest_mark() - self._longest - self.lateness)
        return hits

    def _slowest_mark(self) -> float:
        """The stream furthest behind: state is expired only once every stream has passed it."""
        if self._slowest is None:
            self._slowest = min(self._marks.values())
        return self._slowest

    def advance(self, time: float) -> list[CorrelationHit]:
        """Move the watermark to ``time`` without an event; the hits of windows that closed."""
        if self.store.watermark is None or time > self.store.watermark:
            self.store.watermark = time
        hits = self._close(self.store.watermark - self.lateness)
        self.store.expire(self.store.watermark - self._longest - self.lateness)
        return hits

    def flush(self) -> list[CorrelationHit]:
        """Close every open window now (end of a replay): the hits of the deferred conditions."""
        return self._close(math.inf)

    def _observe_plan(self, plan_index: int, rule_indexes: list[int], event: Event) -> list[CorrelationHit]:
        plan = self._plans[plan_index]
        hits: list[CorrelationHit] = []
        seen: set[GroupKey] = set()
        for rule_index in rule_indexes:
            key = plan.groupers[rule_index](event)
            if key is None:
                self._counts["missing_field"] += 1
                continue
            if plan.kind == "value_count":
                value = plan.values[rule_index](event)
                if value is None:
                    self._counts["missing_field"] += 1
                    continue
                entry: Entry = [event.time, event.id, rule_index, value]
            else:
                entry = [event.time, event.id, rule_index]
            if plan.kind in ("event_count", "value_count"):
                if key in seen:  # one event counts once per group
                    continue
                seen.add(key)
            hit = self._update(plan_index, plan, key, entry)
            if hit is not None:
                hits.append(hit)
        return hits

    def _update(self, plan_index: int, plan: _Plan, key: GroupKey, entry: Entry) -> CorrelationHit | None:
        state = self.store.get(plan.cid, key)
        if state is None:
            state = []
        elif plan.immediate and state:
            _trim(state, max(state[-1][0], entry[0]) - plan.span - self.lateness)  # the group's own time
        counted_once = plan.kind in ("event_count", "value_count")
        for existing in state:
            if existing[1] == entry[1] and (counted_once or existing[2] == entry[2]):
                return None  # the same event again
        anchor = state[0] if state else None
        insort(state, entry, key=_TIME)
        if plan.immediate:
            hit = self._check(plan, key, state, entry)
            if hit is not None:
                self.store.delete(plan.cid, key)
                return hit
            self._bound(plan, state, entry)
        elif len(state) > plan.cap:
            del state[: len(state) - plan.cap]
            self._counts["truncated"] += 1
        self.store.put(plan.cid, key, state, state[-1][0])
        if not plan.immediate and state[0] is not anchor:
            self._push(plan_index, plan, key, state[0])
        return None

    def _bound(self, plan: _Plan, state: State, entry: Entry) -> None:
        if plan.per_key is not None:
            mark = plan.metric_key(entry)
            same = [index for index, item in enumerate(state) if plan.metric_key(item) == mark]
            for index in reversed(same[: max(0, len(same) - plan.per_key)]):
                del state[index]
        if len(state) > plan.cap:
            del state[: len(state) - plan.cap]
            self._counts["truncated"] += 1

    def _check(self, plan: _Plan, key: GroupKey, state: State, entry: Entry) -> CorrelationHit | None:
        if plan.kind == "temporal_ordered":
            chain = _ordered_chain(state, len(plan.correlation.rules), plan.span)
            return None if chain is None else self._hit(plan, key, chain, len(chain))
        found = _window(state, entry[0], plan.span, plan.metric_key, plan.holds)
        if found is None:
            return None
        start, end, value = found
        return self._hit(plan, key, state[start:end], value)

    # deferred conditions: decided when the window anchored at a group's oldest event closes

    def _push(self, plan_index: int, plan: _Plan, key: GroupKey, anchor: Entry) -> None:
        heapq.heappush(
            self._heap, (anchor[0] + plan.span, next(self._sequence), plan_index, key, anchor[0], anchor[1])
        )

    def _rebuild_heap(self) -> None:
        self._heap.clear()
        for cid, key, state in self.store.items():
            plan_index = self._by_cid.get(cid)
            if plan_index is not None and state and not self._plans[plan_index].immediate:
                self._push(plan_index, self._plans[plan_index], key, state[0])

    def _close(self, threshold: float) -> list[CorrelationHit]:
        hits: list[CorrelationHit] = []
        heap = self._heap
        while heap and heap[0][0] < threshold:
            _, _, plan_index, key, anchor_time, anchor_id = heapq.heappop(heap)
            plan = self._plans[plan_index]
            state = self.store.get(plan.cid, key)
            if not state or state[0][0] != anchor_time or state[0][1] != anchor_id:
                continue  # stale: the group was reset or its anchor moved
            end = 0
            while end < len(state) and state[end][0] - anchor_time <= plan.span:
                end += 1
            window = state[:end]
            value = len({plan.metric_key(item) for item in window})
            if plan.holds(value):
                self.store.delete(plan.cid, key)
                hits.append(self._hit(plan, key, window, value))
                continue
            del state[:end]  # the next window opens at the first event after this one
            if state:
                self.store.put(plan.cid, key, state, state[-1][0])
                self._push(plan_index, plan, key, state[0])
            else:
                self.store.delete(plan.cid, key)
        return hits

    def _hit(self, plan: _Plan, key: GroupKey, window: State, value: float) -> CorrelationHit:
        correlation = plan.correlation
        if correlation.kind == "temporal":
            window = _first_per_rule(window)
        evidence = tuple(Evidence(item[1], item[0], correlation.rules[item[2]].id) for item in window)
        group = tuple(zip(correlation.group_by, key[1:], strict=True))
        self._counts["hits"] += 1
        return CorrelationHit(
            correlation=correlation,
            tenant=key[0],
            group=group,
            events=evidence,
            first_seen=window[0][0],
            last_seen=window[-1][0],
            value=value,
            explanation=explain(correlation, group, window, value),
        )

    def snapshot(self) -> bytes:
        return self.store.snapshot()

    def restore(self, data: bytes) -> None:
        self.store.restore(data)
        self._rebuild_heap()


def _trim(state: State, before: float) -> None:
    cut = bisect_left(state, before, key=_TIME)
    if cut:
        del state[:cut]


def _window(
    state: State, time: float, span: float, mark: Callable[[Entry], Any], holds: Callable[[float], bool]
) -> tuple[int, int, int] | None:
    """A window ``[s, s + span]`` containing ``time`` whose distinct marks satisfy ``holds``."""
    size = len(state)
    start = bisect_left(state, time - span, key=_TIME)
    while start > 0 and time - state[start - 1][0] <= span:
        start -= 1
    while start < size and time - state[start][0] > span:
        start += 1
    counts: dict[Any, int] = {}
    end = start
    while start < size and state[start][0] <= time:
        first = state[start][0]
        while end < size and state[end][0] - first <= span:
            name = mark(state[end])
            counts[name] = counts.get(name, 0) + 1
            end += 1
        if holds(len(counts)):
            return start, end, len(counts)
        name = mark(state[start])
        counts[name] -= 1
        if not counts[name]:
            del counts[name]
        start += 1
    return None


def _ordered_chain(state: State, steps: int, span: float) -> State | None:
    """Events of rules 0, 1, … steps-1 in that order by time, all within ``span`` of the first."""
    for first in state:
        if first[2] != 0:
            continue
        chain, used, previous = [first], {first[1]}, first[0]
        for step in range(1, steps):
            found = None
            for item in state[bisect_left(state, previous, key=_TIME) :]:
                if item[0] - first[0] > span:
                    break
                if item[2] == step and item[1] not in used:
                    found = item
                    break
            if found is None:
                break
            chain.append(found)
            used.add(found[1])
            previous = found[0]
        if len(chain) == steps:
            return chain
    return None


def _first_per_rule(window: State) -> State:
    chosen: dict[int, Entry] = {}
    for item in window:
        chosen.setdefault(item[2], item)
    return sorted(chosen.values(), key=_TIME)


# --- explanations -------------------------------------------------------------------------------


def explain(
    correlation: CompiledCorrelation, group: tuple[tuple[str, str], ...], window: State, value: float
) -> str:
    """A sentence with the numbers: what happened, for whom, within which time, against which bound."""
    where = (" for " + ", ".join(f"{name}={text}" for name, text in group)) if group else ""
    within = f"within {correlation.timespan}"
    condition = correlation.condition.text()
    titles = " or ".join(dict.fromkeys(rule.title for rule in correlation.rules))
    events = len(window)
    noun = "event" if events == 1 else "events"
    if correlation.kind == "event_count":
        return f"{events} {noun} of {titles}{where} {within} ({condition})"
    if correlation.kind == "value_count":
        distinct = list(dict.fromkeys(item[3] for item in window))
        shown = ", ".join(distinct[:5]) + (", …" if len(distinct) > 5 else "")
        field = correlation.condition.field
        return f"{int(value)} distinct {field} values ({shown}) in {titles}{where} {within} ({condition})"
    steps = ", ".join(f"{correlation.rules[item[2]].title} at {_clock(item[0])}" for item in window)
    if correlation.kind == "temporal_ordered":
        return f"{steps}{where}, in order, {within}"
    total = len(correlation.rules)
    suffix = "" if int(value) >= total else f" ({int(value)} of {total} rules, {condition})"
    return f"{steps}{where}, {within}{suffix}"


def _clock(time: float) -> str:
    moment = datetime.fromtimestamp(time, UTC)
    if moment.second or moment.microsecond:
        return moment.strftime("%H:%M:%S")
    return moment.strftime("%H:%M")
