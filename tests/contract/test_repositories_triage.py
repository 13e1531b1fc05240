"""Contract tests of the triage repositories (cases, links, verdicts, models), on SQLite and PostgreSQL.

Every read is scoped by tenant: another tenant's case, alert or verdict is simply not there.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from samples import NOW, PARIS, A, B

from deskguard.adapters.db.uow import SqlUnitOfWorkFactory
from deskguard.detection.alerts import Alert
from deskguard.detection.triage import Case, CaseStatus, Sample, TriageModel, Verdict, VerdictRecord, train

T0 = 1_800_000_000.0


def an_alert(n: int, *, tenant: str = A, rule: str = "Test.Rule.One", at: float = T0) -> Alert:
    return Alert(
        id=f"alr_{tenant}_{n}",
        rule_id=rule,
        title="A test alert",
        severity="high",
        tenant=tenant,
        entities={"user": "alice@acme.example"},
        first_seen=at,
        last_seen=at + 5,
        event_ids=[f"e{n}"],
        explanation="why",
        confidence="high",
    )


def a_case(case_id: str = "case_1", *, tenant: str = A, **changes: object) -> Case:
    values: dict[str, object] = {
        "id": case_id,
        "tenant": tenant,
        "entity_kind": "user",
        "entity": "alice@acme.example",
        "first_seen": T0,
        "last_seen": T0 + 5.5,
        "alert_count": 2,
        "rule_ids": ("Test.Rule.One", "Test.Rule.Two"),
        "priority": 60.0,
        "explanation": ("priority 60 = high severity (75) × medium confidence (0.8)", "−3 monitor mode"),
        "risk": 42.5,
    }
    values.update(changes)
    return Case(**values)  # type: ignore[arg-type]


def a_verdict(alert: Alert, case_id: str, verdict: Verdict, *, minutes: int = 0) -> VerdictRecord:
    return VerdictRecord(
        tenant=alert.tenant,
        alert_id=alert.id,
        case_id=case_id,
        verdict=verdict,
        operator_id="op-anna",
        comment="checked with the person",
        at=(NOW + timedelta(minutes=minutes)).astimezone(PARIS),
    )


@pytest.fixture
def uow(uow_factory: SqlUnitOfWorkFactory) -> SqlUnitOfWorkFactory:
    return uow_factory


def test_a_case_round_trips_exactly_and_is_replaced_by_update(uow: SqlUnitOfWorkFactory) -> None:
    case = a_case()
    closed = replace(case, status=CaseStatus.CLOSED, closed_at=NOW.astimezone(PARIS), closed_reason="done")
    with uow() as u:
        u.cases.add(case)
        u.commit()
    with uow() as u:
        assert u.cases.get(tenant_id=A, case_id="case_1") == case
        u.cases.update(closed)
        u.commit()
    with uow() as u:
        stored = u.cases.get(tenant_id=A, case_id="case_1")
        assert stored == closed and stored is not None and stored.closed_at == NOW  # the same instant, aware
        assert u.cases.get(tenant_id=B, case_id="case_1") is None


def test_open_cases_are_found_by_entity_and_listed_in_queue_order(uow: SqlUnitOfWorkFactory) -> None:
    with uow() as u:
        u.cases.add(a_case("case_low", priority=20.0))
        u.cases.add(a_case("case_high", priority=90.0, entity="bob@acme.example"))
        u.cases.add(a_case("case_tie_recent", priority=20.0, last_seen=T0 + 99))
        u.cases.add(a_case("case_closed", priority=99.0, status=CaseStatus.CLOSED))
        u.cases.add(a_case("case_other_tenant", tenant=B, priority=100.0))
        u.commit()
    with uow() as u:
        found = u.cases.find_open(tenant_id=A, entity_kind="user", entity="alice@acme.example")
        assert [c.id for c in found] == ["case_tie_recent", "case_low"]
        assert [c.id for c in u.cases.list(tenant_id=A, status=CaseStatus.OPEN)] == [
            "case_high",
            "case_tie_recent",
            "case_low",
        ]
        assert [c.id for c in u.cases.list(tenant_id=A)][0] == "case_closed"
        assert [c.id for c in u.cases.list(tenant_id=A, status=CaseStatus.CLOSED)] == ["case_closed"]
        assert len(u.cases.list(tenant_id=A, limit=2)) == 2
        assert [c.id for c in u.cases.list(tenant_id=B)] == ["case_other_tenant"]


def test_alerts_are_linked_to_their_case_within_their_tenant(uow: SqlUnitOfWorkFactory) -> None:
    first, second, foreign = an_alert(1), an_alert(2, at=T0 - 60), an_alert(1, tenant=B)
    with uow() as u:
        for alert in (first, second, foreign):
            u.alerts.save(alert)
        u.cases.add(a_case())
        u.cases.add(a_case("case_2"))
        u.cases.add(a_case(tenant=B))
        u.cases.link(tenant_id=A, alert_id=first.id, case_id="case_1")
        u.cases.link(tenant_id=A, alert_id=second.id, case_id="case_1")
        u.cases.link(tenant_id=B, alert_id=foreign.id, case_id="case_1")
        u.commit()
    with uow() as u:
        assert u.cases.case_of(tenant_id=A, alert_id=first.id) == "case_1"
        assert u.cases.case_of(tenant_id=B, alert_id=first.id) is None
        assert u.cases.alerts(tenant_id=A, case_ids=["case_1", "case_2"]) == {
            "case_1": [second, first],  # first seen first
            "case_2": [],
        }
        assert u.cases.alerts(tenant_id=B, case_ids=["case_1"]) == {"case_1": [foreign]}


def test_priorities_are_updated_in_bulk_within_the_tenant(uow: SqlUnitOfWorkFactory) -> None:
    with uow() as u:
        u.cases.add(a_case("case_1"))
        u.cases.add(a_case("case_2"))
        u.cases.add(a_case("case_1", tenant=B))
        u.cases.update_priorities(
            tenant_id=A,
            ranks=[("case_1", 12.5, ("−40 rule X was a true positive 0 of 9 times",)), ("case_2", 99.0, ())],
        )
        u.cases.update_priorities(tenant_id=A, ranks=[])
        u.commit()
    with uow() as u:
        one = u.cases.get(tenant_id=A, case_id="case_1")
        assert one == replace(
            a_case("case_1"), priority=12.5, explanation=("−40 rule X was a true positive 0 of 9 times",)
        )
        assert [c.id for c in u.cases.list(tenant_id=A)] == ["case_2", "case_1"]
        assert u.cases.get(tenant_id=B, case_id="case_1") == a_case("case_1", tenant=B)


def test_a_second_verdict_replaces_the_first_and_returns_it(uow: SqlUnitOfWorkFactory) -> None:
    alert = an_alert(1)
    first = a_verdict(alert, "case_1", Verdict.BENIGN)
    second = replace(a_verdict(alert, "case_1", Verdict.TRUE_POSITIVE, minutes=5), comment="it was them")
    with uow() as u:
        u.alerts.save(alert)
        u.cases.add(a_case())
        assert u.verdicts.put(first) is None
        u.commit()
    with uow() as u:
        assert u.verdicts.get(tenant_id=A, alert_id=alert.id) == first
        assert u.verdicts.put(second) == first
        u.commit()
    with uow() as u:
        assert u.verdicts.get(tenant_id=A, alert_id=alert.id) == second
        assert u.verdicts.get(tenant_id=B, alert_id=alert.id) is None
        assert u.verdicts.for_cases(tenant_id=A, case_ids=["case_1"]) == [second]
        assert u.verdicts.for_cases(tenant_id=B, case_ids=["case_1"]) == []


def test_the_training_set_joins_verdict_alert_and_case_newest_first(uow: SqlUnitOfWorkFactory) -> None:
    alerts = [an_alert(i) for i in range(3)]
    other = an_alert(9, tenant=B)
    with uow() as u:
        u.cases.add(a_case())
        u.cases.add(a_case(tenant=B))
        for i, alert in enumerate(alerts):
            u.alerts.save(alert)
            u.verdicts.put(a_verdict(alert, "case_1", Verdict.FALSE_POSITIVE, minutes=i))
        u.alerts.save(other)
        u.verdicts.put(a_verdict(other, "case_1", Verdict.TRUE_POSITIVE))
        u.commit()
    with uow() as u:
        rows = u.verdicts.training(tenant_id=A, limit=2)
        assert [(v.alert_id, a, c.id) for v, a, c in rows] == [
            (alerts[2].id, alerts[2], "case_1"),
            (alerts[1].id, alerts[1], "case_1"),
        ]
        assert [v.alert_id for v, _, _ in u.verdicts.training(tenant_id=B, limit=10)] == [other.id]


def test_the_model_state_round_trips_per_tenant(uow: SqlUnitOfWorkFactory) -> None:
    samples = [
        Sample(
            features={"severity": i % 2, "rule=R.One.Two": 1.0},
            verdict=Verdict.TRUE_POSITIVE if i % 2 else Verdict.BENIGN,
            rule_id="R.One.Two",
        )
        for i in range(12)
    ]
    model = train(samples)
    assert model.fitted
    with uow() as u:
        assert u.triage_models.get(tenant_id=A) is None
        u.triage_models.put(tenant_id=A, model=TriageModel(verdicts=3), updated_at=NOW)
        u.commit()
    with uow() as u:
        u.triage_models.put(tenant_id=A, model=model, updated_at=NOW)
        u.commit()
    with uow() as u:
        assert u.triage_models.get(tenant_id=A) == model
        assert u.triage_models.get(tenant_id=B) is None
