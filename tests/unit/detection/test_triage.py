"""Triage: cases by entity and time gap, the prior, the learned priority and its explanation."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from deskguard.detection.alerts import CONFIDENCES, SEVERITIES, Alert
from deskguard.detection.triage import (
    GAP_S,
    MIN_VERDICTS,
    Case,
    CaseStatus,
    Sample,
    TriageModel,
    Verdict,
    choose,
    close,
    features,
    file,
    order,
    principal,
    rank_alert,
    rank_case,
    touch,
    train,
)

T0 = 1_800_000_000.0
NOW = datetime(2027, 1, 15, 9, 0, tzinfo=UTC)


def alert(
    n: int,
    *,
    rule: str = "Test.Rule.One",
    severity: str = "high",
    at: float = T0,
    tenant: str = "t_a",
    mode: str = "alert",
    confidence: str = "medium",
    **entities: str,
) -> Alert:
    return Alert(
        id=f"alr_{n}",
        rule_id=rule,
        title=rule,
        severity=severity,
        tenant=tenant,
        entities=entities if entities else {"user": "jeanne@acme.example"},
        first_seen=at,
        last_seen=at,
        event_ids=[f"e{n}"],
        explanation="",
        mode=mode,
        confidence=confidence,
    )


def file_all(alerts: list[Alert], *, gap_s: float = GAP_S) -> list[Case]:
    """File alerts in order the way app.triage does, keeping every case in memory."""
    cases: dict[str, Case] = {}
    for a in alerts:
        chosen = choose(cases.values(), a, gap_s=gap_s)
        case = file(a, chosen)
        cases[case.id] = case
    return list(cases.values())


# -- grouping -------------------------------------------------------------------------------------


def test_the_principal_is_the_user_else_the_actor_else_the_caller_else_the_ip() -> None:
    assert principal(alert(1, user="Jeanne@Acme.example", ip="1.2.3.4")) == ("user", "jeanne@acme.example")
    assert principal(alert(1, actor="k.dupont@acme.example", ip="1.2.3.4")) == (
        "actor",
        "k.dupont@acme.example",
    )
    assert principal(alert(1, caller_number="+447700900123", ip="1.2.3.4")) == (
        "caller_number",
        "+447700900123",
    )
    assert principal(alert(1, ip="1.2.3.4")) == ("ip", "1.2.3.4")
    assert principal(alert(1, rule="X.Y.Z", ticket="INC1")) == ("rule", "X.Y.Z")


def test_alerts_about_one_user_within_the_gap_form_one_case() -> None:
    cases = file_all([alert(1), alert(2, rule="Test.Rule.Two", at=T0 + 3600), alert(3, at=T0 + 3 * 3600)])
    assert len(cases) == 1
    case = cases[0]
    assert (case.entity_kind, case.entity, case.alert_count) == ("user", "jeanne@acme.example", 3)
    assert case.rule_ids == ("Test.Rule.One", "Test.Rule.Two")
    assert (case.first_seen, case.last_seen) == (T0, T0 + 3 * 3600)


def test_the_gap_is_measured_from_the_cases_last_activity() -> None:
    chained = file_all([alert(1), alert(2, at=T0 + 3.5 * 3600), alert(3, at=T0 + 7 * 3600)])
    assert len(chained) == 1  # each alert is within 4 h of the one before
    split = file_all([alert(1), alert(2, at=T0 + GAP_S + 1)])
    assert len(split) == 2


def test_other_entities_and_other_tenants_get_their_own_cases() -> None:
    cases = file_all(
        [
            alert(1),
            alert(2, user="claire@acme.example"),
            alert(3, tenant="t_b"),
            alert(4, ip="203.0.113.9"),
        ]
    )
    assert len(cases) == 4
    assert {(c.tenant, c.entity) for c in cases} == {
        ("t_a", "jeanne@acme.example"),
        ("t_a", "claire@acme.example"),
        ("t_b", "jeanne@acme.example"),
        ("t_a", "203.0.113.9"),
    }


def test_case_ids_are_deterministic_and_a_closed_case_takes_no_new_alert() -> None:
    first = file_all([alert(1), alert(2, at=T0 + 60)])
    again = file_all([alert(1), alert(2, at=T0 + 60)])
    assert [c.id for c in first] == [c.id for c in again] and first[0].id.startswith("case_")
    closed = close(first[0], at=NOW, reason="done")
    assert choose([closed], alert(3, at=T0 + 120)) is None


def test_new_evidence_on_an_alert_of_a_closed_case_reopens_it() -> None:
    case = close(file(alert(1), None), at=NOW, reason="done")
    same = touch(case, alert(1))
    assert same.status == CaseStatus.CLOSED
    later = alert(1)
    later.last_seen = T0 + 600
    reopened = touch(case, later)
    assert (
        reopened.status == CaseStatus.OPEN and reopened.closed_at is None and reopened.last_seen == T0 + 600
    )


# -- prior ----------------------------------------------------------------------------------------


def test_the_prior_is_severity_times_confidence_and_says_so() -> None:
    high = alert(1, severity="high")
    rank = rank_alert(high, file(high, None), None)
    assert rank.priority == 60.0 and rank.learned is None
    assert rank.reasons[0] == "priority 60 = high severity (75) × medium confidence (0.8)"
    assert "not learned yet: 0 verdicts" in rank.reasons[1]
    critical = alert(2, severity="critical", confidence="high")
    assert rank_alert(critical, file(critical, None), None).priority == 100.0
    low = alert(3, severity="low", confidence="low")
    assert rank_alert(low, file(low, None), None).priority == 15.0


def test_the_case_is_ranked_by_its_highest_alert_without_a_verdict() -> None:
    cases = file_all(
        [alert(1, severity="critical"), alert(2, rule="Test.Rule.Two", severity="low", at=T0 + 1)]
    )
    alerts = [alert(1, severity="critical"), alert(2, rule="Test.Rule.Two", severity="low", at=T0 + 1)]
    open_rank = rank_case(cases[0], alerts, {}, None)
    assert open_rank.priority == 80.0 and "Test.Rule.One (critical)" in open_rank.reasons[0]
    judged = rank_case(cases[0], alerts, {"alr_1": Verdict.BENIGN}, None)
    assert judged.priority == 20.0 and "(1 judged)" in judged.reasons[0]


def test_the_queue_orders_by_priority_then_recent_activity_then_id() -> None:
    base = file(alert(1), None)
    a = Case(**{**_fields(base), "id": "case_a", "priority": 50.0, "last_seen": T0})
    b = Case(**{**_fields(base), "id": "case_b", "priority": 80.0, "last_seen": T0})
    c = Case(**{**_fields(base), "id": "case_c", "priority": 50.0, "last_seen": T0 + 10})
    assert [x.id for x in order([a, b, c])] == ["case_b", "case_c", "case_a"]


def _fields(case: Case) -> dict[str, object]:
    return {name: getattr(case, name) for name in Case.__dataclass_fields__}


# -- learning -------------------------------------------------------------------------------------

NOISY, REAL = "Identity.Signin.NoisyRule", "Identity.Recovery.NewCountryOrProxy"


def verdicts_history(n: int) -> list[Sample]:
    """Analysts keep calling the high-severity NOISY rule a false positive and the medium REAL rule a
    true positive (7 times out of 8)."""
    samples = []
    for i in range(n):
        noisy = alert(100 + i, rule=NOISY, severity="high", user=f"u{i}@acme.example")
        real = alert(200 + i, rule=REAL, severity="medium", user=f"v{i}@acme.example")
        samples.append(
            Sample(features=features(noisy, file(noisy, None)), verdict=Verdict.FALSE_POSITIVE, rule_id=NOISY)
        )
        verdict = Verdict.BENIGN if i % 8 == 7 else Verdict.TRUE_POSITIVE
        samples.append(Sample(features=features(real, file(real, None)), verdict=verdict, rule_id=REAL))
    return samples


def test_too_few_verdicts_or_a_single_outcome_keep_the_prior() -> None:
    assert not train(verdicts_history(MIN_VERDICTS // 2 - 1)).fitted
    only_false = [s for s in verdicts_history(20) if s.verdict == Verdict.FALSE_POSITIVE]
    model = train(only_false)
    assert not model.fitted and model.verdicts == 20 and model.weight == 0.0


def test_a_rule_marked_false_positive_drops_below_one_marked_true_positive() -> None:
    noisy, real = (
        alert(1, rule=NOISY, severity="high"),
        alert(2, rule=REAL, severity="medium", user="x@acme.example"),
    )
    noisy_case, real_case = file(noisy, None), file(real, None)
    assert (
        rank_alert(noisy, noisy_case, None).priority > rank_alert(real, real_case, None).priority
    )  # 60 > 40
    model = train(verdicts_history(8))  # 16 verdicts
    after_noisy, after_real = rank_alert(noisy, noisy_case, model), rank_alert(real, real_case, model)
    assert after_real.priority > after_noisy.priority
    assert after_real.reasons[0].startswith(f"priority {after_real.priority:.0f} = ")
    assert "16 verdicts, 7 true positive" in after_real.reasons[0]
    assert any(
        r.startswith("+") and f"rule {REAL} was a true positive 7 of 8 times" in r for r in after_real.reasons
    )
    assert any(
        r.startswith("−") and f"rule {NOISY} was a true positive 0 of 8 times" in r
        for r in after_noisy.reasons
    )


def test_more_verdicts_give_the_model_more_weight() -> None:
    assert 0 < train(verdicts_history(8)).weight < train(verdicts_history(40)).weight < 1


def test_monitor_mode_is_explained_when_it_weighs() -> None:
    samples = []
    for i in range(30):
        quiet = alert(i, rule=f"R.Monitor.N{i % 3}", mode="monitor", user=f"m{i}@acme.example")
        loud = alert(100 + i, rule=f"R.Alert.N{i % 3}", user=f"a{i}@acme.example")
        samples.append(
            Sample(features=features(quiet, file(quiet, None)), verdict=Verdict.BENIGN, rule_id=quiet.rule_id)
        )
        samples.append(
            Sample(
                features=features(loud, file(loud, None)), verdict=Verdict.TRUE_POSITIVE, rule_id=loud.rule_id
            )
        )
    model = train(samples)
    fresh = alert(999, rule="R.Monitor.Unseen", mode="monitor")
    rank = rank_alert(fresh, file(fresh, None), model)
    assert any(r.startswith("−") and r.endswith("monitor mode") for r in rank.reasons), rank.reasons


def test_the_model_state_is_json_and_round_trips() -> None:
    model = train(verdicts_history(10))
    body = json.loads(model.to_json())
    assert set(body) == {"version", "verdicts", "positives", "rules", "features", "coef", "intercept", "mean"}
    assert body["rules"][REAL] == [9, 10]
    assert TriageModel.from_json(model.to_json()) == model
    assert TriageModel.from_json(json.dumps({"version": 0})) == TriageModel()  # an old state: the prior


def test_training_is_deterministic() -> None:
    assert train(verdicts_history(12)).to_json() == train(verdicts_history(12)).to_json()


# -- properties -----------------------------------------------------------------------------------

ALERTS = st.builds(
    lambda n, sev, conf, count, mode, user, risk: (
        _with(alert(n, severity=sev, confidence=conf, mode=mode, user=user), count=count),
        risk,
    ),
    st.integers(0, 10_000),
    st.sampled_from([*SEVERITIES, "weird"]),
    st.sampled_from([*CONFIDENCES, "unknown"]),
    st.integers(1, 10_000),
    st.sampled_from(["alert", "monitor"]),
    st.sampled_from(["a@x", "b@x", "c@x"]),
    st.floats(0, 100),
)


def _with(a: Alert, *, count: int) -> Alert:
    a.count = count
    return a


MODEL = train(verdicts_history(25))
EXTREME = TriageModel(
    verdicts=10_000,
    positives=5000,
    features=("severity", "rule=Test.Rule.One"),
    coef=(400.0, -900.0),
    intercept=50.0,
    mean=(0.5, 0.5),
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(ALERTS, min_size=1, max_size=8, unique_by=lambda p: (p[0].id, p[0].entities["user"])),
    st.sampled_from([None, MODEL, EXTREME]),
)
def test_priority_is_always_within_0_and_100_and_the_order_deterministic(
    pairs: list[tuple[Alert, float]], model: TriageModel | None
) -> None:
    ranked = []
    for a, risk in pairs:
        case = Case(**{**_fields(file(a, None)), "risk": risk})
        rank = rank_alert(a, case, model)
        assert 0.0 <= rank.priority <= 100.0
        assert rank == rank_alert(a, case, model)
        ranked.append(Case(**{**_fields(case), "priority": rank.priority}))
    assert order(ranked) == order(list(reversed(ranked)))
