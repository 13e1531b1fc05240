"""Risk from detection signals: points by severity, halving daily, combined as a noisy-or."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from deskguard.detection.alerts import Alert
from deskguard.detection.risk import HALF_LIFE_S, MAX_SIGNALS, RiskSignal, assess, merge, signal_of

NOW = 1_800_000_000.0


def sig(alert_id: str, severity: str = "high", points: float = 50.0, age: float = 0.0) -> RiskSignal:
    return RiskSignal(
        alert_id=alert_id, rule_id=f"Test.Rule.{alert_id}", severity=severity, points=points, at=NOW - age
    )


def test_no_signal_no_risk() -> None:
    assert assess((), now=NOW).score == 0 and assess((), now=NOW).reasons == ()


def test_two_high_alerts_make_75_and_the_reasons_say_why() -> None:
    risk = assess((sig("a"), sig("b", age=3600)), now=NOW)
    assert 74 < risk.score < 75.5
    assert risk.reasons[0].startswith("Test.Rule.a (high, 50 of 50 points, 0 min ago)")
    assert "1.0 h ago" in risk.reasons[1]


def test_a_signal_halves_every_day() -> None:
    assert assess((sig("a", age=HALF_LIFE_S),), now=NOW).score == 25.0
    assert assess((sig("a", age=10 * HALF_LIFE_S),), now=NOW).reasons == ()  # under half a point


def test_an_alert_seen_again_replaces_its_signal_and_the_strongest_recent_are_kept() -> None:
    merged = merge((sig("a", age=7200),), sig("a"))
    assert merged == (sig("a"),)
    many: tuple[RiskSignal, ...] = ()
    for i in range(MAX_SIGNALS + 5):
        many = merge(many, sig(f"s{i}", age=float(i)))
    assert len(many) == MAX_SIGNALS and many[0].alert_id == "s0"


def test_monitor_mode_alerts_do_not_steer() -> None:
    alert = Alert(
        id="alr_1",
        rule_id="R",
        title="t",
        severity="critical",
        tenant="t",
        entities={"user": "u@x"},
        first_seen=NOW,
        last_seen=NOW,
        event_ids=["e"],
        explanation="",
    )
    assert signal_of(alert) == RiskSignal("alr_1", "R", "critical", 80.0, NOW)
    alert.mode = "monitor"
    assert signal_of(alert) is None


SIGNALS = st.lists(
    st.builds(
        sig,
        st.uuids().map(str),
        st.sampled_from(["low", "medium", "high", "critical"]),
        st.floats(0, 100),
        st.floats(0, 30 * 86400),
    ),
    max_size=12,
)


@given(signals=SIGNALS, sig_extra=st.builds(sig, st.just("extra"), points=st.floats(0.01, 100)))
def test_risk_stays_in_bounds_and_never_falls_when_a_signal_is_added(
    signals: list[RiskSignal], sig_extra: RiskSignal
) -> None:
    before = assess(signals, now=NOW).score
    after = assess([*signals, sig_extra], now=NOW).score
    assert 0 <= before <= after <= 100


@given(SIGNALS, st.floats(1, 10 * 86400))
def test_risk_never_grows_as_time_passes(signals: list[RiskSignal], later: float) -> None:
    assert assess(signals, now=NOW + later).score <= assess(signals, now=NOW).score
