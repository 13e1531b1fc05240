"""Sigma correlations at their edges: window bounds, lateness, groups, order, eviction, snapshots."""

from __future__ import annotations

import tracemalloc

import pytest
from sigma_events import make_event, okta

from deskguard.detection.event import Event
from deskguard.detection.sigma import (
    CorrelationHit,
    Correlator,
    LoadResult,
    MemoryCorrelationStore,
    load_rules_text,
)

T0 = 1_767_258_000.0  # 2026-01-01 09:00:00 UTC

BASE = """
title: Okta MFA reset
id: 50e068d7-1e6b-4054-87e5-0a592c40c7e0
name: Okta.MFA.Reset
logsource: {product: okta, service: okta}
detection:
  selection: {eventType: [user.mfa.factor.reset_all, user.mfa.factor.deactivate]}
  condition: selection
---
title: reset
name: Chain.Reset
logsource: {product: deskguard}
detection:
  selection: {activity: password_reset}
  condition: selection
---
title: mfa reset
name: Chain.Mfa
logsource: {product: deskguard}
detection:
  selection: {activity: mfa_reset}
  condition: selection
---
title: new factor
name: Chain.Factor
logsource: {product: deskguard}
detection:
  selection: {activity: mfa_factor_enrolled}
  condition: selection
---
title: sign-in
name: Okta.SignIn
logsource: {product: okta, service: okta}
detection:
  selection: {eventType: user.session.start}
  condition: selection
"""


def correlation(body: str, *, name: str = "Test.Correlation") -> str:
    return f"title: {name}\nname: {name}\ncorrelation:\n" + body


COUNT = correlation(
    """  type: event_count
  rules: [Okta.MFA.Reset]
  group-by: [target.alternateId]
  timespan: 10m
  condition: {gte: 3}
"""
)
BY_USER = correlation(
    """  type: event_count
  rules: [50e068d7-1e6b-4054-87e5-0a592c40c7e0]
  aliases:
    user:
      50e068d7-1e6b-4054-87e5-0a592c40c7e0: target.alternateId
  group-by: [user]
  timespan: 10m
  condition: {gte: 3}
"""
)
DISTINCT_IPS = correlation(
    """  type: value_count
  rules: [Okta.SignIn]
  group-by: [actor.alternateId]
  timespan: 1h
  condition: {gte: 3, field: client.ipAddress}
"""
)
CHAIN = """  rules: [Chain.Reset, Chain.Mfa, Chain.Factor]
  group-by: [user]
  timespan: 30m
"""


def load(*documents: str) -> LoadResult:
    result = load_rules_text("\n---\n".join([BASE, *documents]))
    assert not result.unsupported, result.unsupported
    return result


def correlator(*documents: str, lateness: float = 0.0, max_groups: int = 1000) -> Correlator:
    loaded = load(*documents)
    return Correlator(loaded.correlations, MemoryCorrelationStore(max_groups=max_groups), lateness_s=lateness)


def matched(result: LoadResult, event: Event) -> list[str]:
    names = []
    for rule in result.rules:
        if rule.predicate(event):
            names.extend([rule.id, rule.sigma_id] if rule.sigma_id else [rule.id])
    return names


class Stream:
    """Base rules and correlations together, as the engine runs them."""

    def __init__(self, *documents: str, lateness: float = 0.0, max_groups: int = 1000) -> None:
        self.loaded = load(*documents)
        self.store = MemoryCorrelationStore(max_groups=max_groups)
        self.correlator = Correlator(self.loaded.correlations, self.store, lateness_s=lateness)

    def feed(self, event: Event) -> list[CorrelationHit]:
        return self.correlator.observe(matched(self.loaded, event), event)


def mfa_reset(offset: float, user: str = "jane@acme.com", **raw: object) -> Event:
    return okta("user.mfa.factor.reset_all", user=user, time=T0 + offset, **raw)


def desk(activity: str, offset: float, user: str = "jane@acme.com") -> Event:
    return make_event({}, product="okta", activity=activity, time=T0 + offset, target_user=user)


# --- event_count --------------------------------------------------------------------------------


def test_event_count_inside_the_window_and_on_its_exact_boundary() -> None:
    stream = Stream(COUNT)
    assert not stream.feed(mfa_reset(0))
    assert not stream.feed(mfa_reset(300))
    (hit,) = stream.feed(mfa_reset(600))  # last - first == timespan: still inside
    assert hit.value == 3 and len(hit.events) == 3
    assert (hit.first_seen, hit.last_seen) == (T0, T0 + 600)
    assert hit.group == (("target.alternateId", "jane@acme.com"),)
    assert (
        hit.explanation == "3 events of Okta MFA reset for target.alternateId=jane@acme.com within 10m (≥ 3)"
    )
    assert hit.event_ids == tuple(evidence.id for evidence in hit.events)
    assert {evidence.rule for evidence in hit.events} == {"Okta.MFA.Reset"}


def test_event_count_just_outside_the_window() -> None:
    stream = Stream(COUNT)
    stream.feed(mfa_reset(0))
    stream.feed(mfa_reset(300))
    assert not stream.feed(mfa_reset(600.001))  # the first one has left the window
    (hit,) = stream.feed(mfa_reset(650))
    assert (hit.first_seen, hit.last_seen) == (T0 + 300, T0 + 650)


def test_a_hit_resets_the_group() -> None:
    stream = Stream(COUNT)
    for offset in (0, 10, 20):
        stream.feed(mfa_reset(offset))
    assert not stream.feed(mfa_reset(30))
    assert not stream.feed(mfa_reset(40))
    assert len(stream.feed(mfa_reset(50))) == 1


def test_groups_are_counted_apart() -> None:
    stream = Stream(COUNT)
    hits = []
    for offset in range(5):
        hits += stream.feed(mfa_reset(offset, user="jane@acme.com"))
        hits += stream.feed(
            mfa_reset(offset, user="paul@acme.com" if offset < 2 else f"other{offset}@acme.com")
        )
    assert [hit.group for hit in hits] == [(("target.alternateId", "jane@acme.com"),)]


def test_aliases_and_references_by_sigma_id() -> None:
    stream = Stream(BY_USER)
    for offset in (0, 1):
        stream.feed(mfa_reset(offset))
    (hit,) = stream.feed(mfa_reset(2))
    assert hit.group == (("user", "jane@acme.com"),)


def test_the_same_event_counts_once() -> None:
    stream = Stream(COUNT)
    event = mfa_reset(0)
    for _ in range(5):
        assert not stream.feed(event)


def test_events_without_the_group_field_are_skipped() -> None:
    stream = Stream(COUNT)
    for offset in range(4):
        assert not stream.feed(mfa_reset(offset, target=[]))
    assert stream.correlator.stats["missing_field"] == 4


def test_unrelated_matches_are_ignored() -> None:
    correlator_ = correlator(COUNT)
    assert correlator_.observe(["Some.Other.Rule"], mfa_reset(0)) == []
    assert correlator_.store.watermark is None


# --- lateness -----------------------------------------------------------------------------------


def test_a_late_event_within_lateness_is_placed_by_its_time() -> None:
    stream = Stream(COUNT, lateness=300)
    stream.feed(mfa_reset(100))
    stream.feed(mfa_reset(200))
    (hit,) = stream.feed(mfa_reset(0))  # 200 s late: accepted
    assert hit.first_seen == T0 and hit.last_seen == T0 + 200
    assert [evidence.time for evidence in hit.events] == [T0, T0 + 100, T0 + 200]
    assert stream.correlator.stats["late_dropped"] == 0


def test_a_late_event_beyond_lateness_is_dropped_and_counted() -> None:
    stream = Stream(COUNT, lateness=300)
    stream.feed(mfa_reset(1000))
    stream.feed(mfa_reset(900))  # 100 s late
    assert not stream.feed(mfa_reset(699))  # 301 s late
    assert stream.correlator.stats["late_dropped"] == 1
    assert len(stream.feed(mfa_reset(950))) == 1


def test_a_late_event_only_joins_windows_it_fits() -> None:
    stream = Stream(COUNT, lateness=3600)
    stream.feed(mfa_reset(1000))
    stream.feed(mfa_reset(1500))
    assert not stream.feed(mfa_reset(0))  # 1000 s before the first: its own window
    (hit,) = stream.feed(mfa_reset(1200))
    assert (hit.first_seen, hit.last_seen) == (T0 + 1000, T0 + 1500)


# --- value_count --------------------------------------------------------------------------------


def sign_in(offset: float, ip: str, actor: str = "jane@acme.com") -> Event:
    event = okta("user.session.start", time=T0 + offset, client={"ipAddress": ip})
    event.raw["actor"]["alternateId"] = actor
    return event


def test_value_count_counts_distinct_values() -> None:
    stream = Stream(DISTINCT_IPS)
    for offset, ip in ((0, "1.1.1.1"), (60, "1.1.1.1"), (120, "2.2.2.2"), (180, "2.2.2.2")):
        assert not stream.feed(sign_in(offset, ip))
    assert not stream.feed(sign_in(200, "3.3.3.3", actor="other@acme.com"))
    (hit,) = stream.feed(sign_in(240, "3.3.3.3"))
    assert hit.value == 3
    assert hit.explanation == (
        "3 distinct client.ipAddress values (1.1.1.1, 2.2.2.2, 3.3.3.3) in sign-in"
        " for actor.alternateId=jane@acme.com within 1h (≥ 3)"
    )


def test_value_count_window_slides() -> None:
    stream = Stream(DISTINCT_IPS)
    stream.feed(sign_in(0, "1.1.1.1"))
    stream.feed(sign_in(1800, "2.2.2.2"))
    assert not stream.feed(sign_in(3601, "3.3.3.3"))
    (hit,) = stream.feed(sign_in(3602, "1.1.1.1"))  # a new occurrence of 1.1.1.1 inside the window
    assert hit.first_seen == T0 + 1800


# --- temporal -----------------------------------------------------------------------------------

TEMPORAL = correlation("  type: temporal\n" + CHAIN, name="Any.Order")
ORDERED = correlation("  type: temporal_ordered\n" + CHAIN, name="In.Order")


def test_temporal_accepts_any_order() -> None:
    stream = Stream(TEMPORAL)
    assert not stream.feed(desk("mfa_factor_enrolled", 60))
    assert not stream.feed(desk("mfa_reset", 120))
    (hit,) = stream.feed(desk("password_reset", 180))
    assert hit.explanation == (
        "new factor at 09:01, mfa reset at 09:02, reset at 09:03 for user=jane@acme.com, within 30m"
    )


def test_temporal_ordered_needs_the_order() -> None:
    stream = Stream(ORDERED)
    assert not stream.feed(desk("mfa_factor_enrolled", 60))
    assert not stream.feed(desk("mfa_reset", 120))
    assert not stream.feed(desk("password_reset", 180))
    assert not stream.feed(desk("mfa_reset", 240))
    (hit,) = stream.feed(desk("mfa_factor_enrolled", 300))
    assert hit.explanation == (
        "reset at 09:03, mfa reset at 09:04, new factor at 09:05 for user=jane@acme.com, in order, within 30m"
    )
    assert [evidence.rule for evidence in hit.events] == ["Chain.Reset", "Chain.Mfa", "Chain.Factor"]


def test_temporal_ordered_window_and_late_steps() -> None:
    stream = Stream(ORDERED, lateness=1000)
    stream.feed(desk("password_reset", 0))
    stream.feed(desk("mfa_factor_enrolled", 1800))
    (hit,) = stream.feed(desk("mfa_reset", 900))  # 900 s late, but it fills the middle step
    assert hit.first_seen == T0 and hit.last_seen == T0 + 1800
    outside = Stream(ORDERED)
    outside.feed(desk("password_reset", 0))
    outside.feed(desk("mfa_reset", 900))
    assert not outside.feed(desk("mfa_factor_enrolled", 1800.5))


def test_temporal_groups_apart() -> None:
    stream = Stream(TEMPORAL)
    stream.feed(desk("password_reset", 0, user="a@x"))
    stream.feed(desk("mfa_reset", 1, user="b@x"))
    assert not stream.feed(desk("mfa_factor_enrolled", 2, user="a@x"))


# --- deferred conditions ------------------------------------------------------------------------


def test_an_upper_bound_is_decided_when_the_window_closes() -> None:
    few = correlation(
        "  type: event_count\n  rules: [Okta.MFA.Reset]\n  group-by: [target.alternateId]\n"
        "  timespan: 10m\n  condition: {lt: 3}\n",
        name="Few",
    )
    stream = Stream(few)
    assert not stream.feed(mfa_reset(0))
    assert not stream.feed(mfa_reset(100))
    assert not stream.correlator.advance(T0 + 600)  # not closed yet: a third event may still come
    (hit,) = stream.correlator.advance(T0 + 601)
    assert hit.value == 2 and hit.explanation.endswith("within 10m (< 3)")
    crowded = Stream(few)
    for offset in (0, 100, 200):
        crowded.feed(mfa_reset(offset))
    assert not crowded.correlator.advance(T0 + 10_000)


def test_a_range_condition() -> None:
    ranged = correlation(
        "  type: event_count\n  rules: [Okta.MFA.Reset]\n  group-by: [target.alternateId]\n"
        "  timespan: 10m\n  condition: {gte: 2, lte: 3}\n",
        name="Ranged",
    )
    loaded = load(ranged)
    assert loaded.correlations[0].condition.text() == "≥ 2 and ≤ 3"
    stream = Stream(ranged)
    stream.feed(mfa_reset(0))
    stream.feed(mfa_reset(10))
    (hit,) = stream.correlator.flush()
    assert hit.value == 2
    too_many = Stream(ranged)
    for offset in range(4):
        too_many.feed(mfa_reset(offset))
    assert too_many.correlator.flush() == []  # 4 in the window


def test_deferred_windows_follow_each_other() -> None:
    exactly = correlation(
        "  type: event_count\n  rules: [Okta.MFA.Reset]\n  group-by: [target.alternateId]\n"
        "  timespan: 10m\n  condition: {eq: 1}\n",
        name="Lonely",
    )
    stream = Stream(exactly)
    stream.feed(mfa_reset(0))
    stream.feed(mfa_reset(100))
    stream.feed(mfa_reset(5000))
    hits = stream.correlator.flush()
    assert [hit.first_seen for hit in hits] == [T0 + 5000]  # the first window holds 2, the next 1


# --- bounded memory -----------------------------------------------------------------------------


def test_least_recently_updated_groups_are_evicted() -> None:
    stream = Stream(COUNT, max_groups=2)
    stream.feed(mfa_reset(0, user="a@x"))
    stream.feed(mfa_reset(1, user="a@x"))
    stream.feed(mfa_reset(2, user="b@x"))
    stream.feed(mfa_reset(3, user="c@x"))  # a@x is the least recently updated
    assert stream.correlator.stats["evicted"] == 1 and len(stream.store) == 2
    assert not stream.feed(mfa_reset(4, user="a@x"))  # its two earlier events are forgotten


def test_old_groups_expire() -> None:
    stream = Stream(COUNT, lateness=60)
    stream.feed(mfa_reset(0, user="a@x"))
    stream.feed(mfa_reset(10, user="b@x"))
    assert len(stream.store) == 2
    stream.feed(mfa_reset(10 + 600 + 60 + 1, user="c@x"))
    assert len(stream.store) == 1 and stream.correlator.stats["expired"] == 2


def test_state_per_group_is_bounded() -> None:
    stream = Stream(TEMPORAL, DISTINCT_IPS.replace("Test.Correlation", "Distinct"))
    for second in range(500):
        stream.feed(desk("password_reset", second))
        stream.feed(sign_in(second, "1.1.1.1"))
    for _, _, state in stream.store.items():
        assert len(state) == 1  # a newer occurrence replaces the older one
    count = Stream(COUNT, lateness=0)
    for second in range(0, 100_000, 400):  # never three within 10 minutes
        count.feed(mfa_reset(second))
    assert all(len(state) <= 4 for _, _, state in count.store.items())


def test_bytes_per_group_is_measurable() -> None:
    stream = Stream(COUNT)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for index in range(1000):
        stream.feed(mfa_reset(index * 0.001, user=f"user{index}@acme.com"))
    measured = (tracemalloc.get_traced_memory()[0] - before) / 1000
    tracemalloc.stop()
    assert len(stream.store) == 1000
    assert 0 < stream.store.bytes_per_group() < 2000
    assert measured < 4000


# --- snapshots ----------------------------------------------------------------------------------


def test_snapshot_and_restore_continue_the_same_windows() -> None:
    stream = Stream(COUNT, ORDERED, lateness=300)
    first, second = mfa_reset(0), mfa_reset(100)
    stream.feed(first)
    stream.feed(second)
    stream.feed(desk("password_reset", 0))
    stream.feed(desk("mfa_reset", 60))
    data = stream.correlator.snapshot()
    assert isinstance(data, bytes)

    restored_store = MemoryCorrelationStore()
    restored_store.restore(data)
    assert restored_store.snapshot() == data
    restored = Correlator(stream.loaded.correlations, restored_store, lateness_s=300)
    third = mfa_reset(200)
    (hit,) = restored.observe(matched(stream.loaded, third), third)
    assert hit.event_ids == (first.id, second.id, third.id)
    step = desk("mfa_factor_enrolled", 120)
    assert len(restored.observe(matched(stream.loaded, step), step)) == 1
    late = mfa_reset(200 - 301)
    assert not restored.observe(matched(stream.loaded, late), late)
    assert restored.stats["late_dropped"] == 1


def test_restore_rebuilds_pending_deferred_windows() -> None:
    few = correlation(
        "  type: event_count\n  rules: [Okta.MFA.Reset]\n  group-by: [target.alternateId]\n"
        "  timespan: 10m\n  condition: {lte: 5}\n",
        name="Few",
    )
    stream = Stream(few)
    stream.feed(mfa_reset(0))
    restored = Correlator(stream.loaded.correlations, MemoryCorrelationStore(), lateness_s=0)
    restored.restore(stream.correlator.snapshot())
    (hit,) = restored.advance(T0 + 601)
    assert hit.value == 1


def test_restore_rejects_an_unknown_version() -> None:
    with pytest.raises(ValueError, match="version"):
        MemoryCorrelationStore().restore(b'{"version": 99}')


# --- compiling correlations ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            "  type: value_sum\n  rules: [Okta.SignIn]\n  timespan: 1h\n  condition: {gte: 3, field: x}\n",
            "value_sum",
        ),
        (
            "  type: event_count\n  rules: [No.Such.Rule]\n  timespan: 1h\n  condition: {gte: 3}\n",
            "unknown rule",
        ),
        (
            "  type: event_count\n  rules: [Other.Correlation]\n  timespan: 1h\n  condition: {gte: 3}\n",
            "correlations of",
        ),
        (
            "  type: temporal\n  rules: [Chain.Reset, Chain.Mfa]\n  timespan: 1h\n"
            "  condition: Chain.Reset and not Chain.Mfa\n",
            "extended",
        ),
        (
            "  type: value_count\n  rules: [Okta.SignIn]\n  timespan: 1h\n  condition: {gte: 3}\n",
            "field reference",
        ),
        (
            "  type: temporal_ordered\n  rules: [Chain.Reset, Chain.Mfa]\n  timespan: 1h\n"
            "  condition: {gte: 1}\n",
            "default condition",
        ),
        (
            "  type: event_count\n  rules: [Okta.SignIn]\n  timespan: forever\n  condition: {gte: 3}\n",
            "timespan",
        ),
    ],
)
def test_unsupported_correlations(body: str, reason: str) -> None:
    other = correlation(
        "  type: event_count\n  rules: [Okta.SignIn]\n  timespan: 1h\n  condition: {gte: 2}\n",
        name="Other.Correlation",
    )
    result = load_rules_text("\n---\n".join([BASE, other, correlation(body)]))
    (refused,) = [item for item in result.unsupported if item.rule_id == "Test.Correlation"]
    assert reason.lower() in refused.reason.lower(), refused.reason


def test_a_correlation_on_an_unsupported_rule_says_why() -> None:
    bad = "title: bad\nname: Bad.Rule\nlogsource: {product: okta}\n"
    bad += "detection: {sel: {a|expand: '%x%'}, condition: sel}"
    body = "  type: event_count\n  rules: [Bad.Rule]\n  timespan: 1h\n  condition: {gte: 3}\n"
    result = load_rules_text("\n---\n".join([BASE, bad, correlation(body)]))
    reasons = [item.reason for item in result.unsupported if item.rule_id == "Test.Correlation"]
    assert reasons and "Bad.Rule, which is unsupported" in reasons[0]


def test_compiled_correlation_fields_and_generate() -> None:
    loaded = load(COUNT, ORDERED.replace("  timespan: 30m\n", "  timespan: 30m\n  generate: true\n"))
    count, ordered = loaded.correlations
    assert (count.kind, count.rule_refs, count.group_by, count.timespan_s, count.timespan) == (
        "event_count",
        ("Okta.MFA.Reset",),
        ("target.alternateId",),
        600.0,
        "10m",
    )
    assert count.condition.ops == (("gte", 3.0),) and count.generate is False
    assert [rule.id for rule in count.rules] == ["Okta.MFA.Reset"]
    assert ordered.kind == "temporal_ordered" and ordered.condition.ops == (("gte", 3.0),)
    assert loaded.rule("Okta.MFA.Reset").generate is False  # only a building block
    assert loaded.rule("Chain.Reset").generate is True  # a generating correlation uses it
    assert loaded.rule("Okta.SignIn").generate is True  # not referenced
