"""The month in figures (app.kpis.compute) on a small hand-made month, with every number exact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from deskguard.app.kpis import Month, compute
from deskguard.detection.alerts import Alert
from deskguard.domain.errors import ValidationFailed
from deskguard.domain.events import Actor, ActorKind, DomainEvent, EventType
from deskguard.domain.response import ResponseStep, StepStatus

DEC = datetime(2026, 12, 1, tzinfo=UTC)
ALICE = Actor(kind=ActorKind.OPERATOR, id="op_alice", role="agent", provider_id="prv_internal")
OSCAR = Actor(kind=ActorKind.OPERATOR, id="op_oscar", role="agent", provider_id="prv_outsourced")
CLAIRE = Actor(kind=ActorKind.PERSON, id="per_claire", role="person")
_n = iter(range(10_000))


def _event(kind: EventType, actor: Actor, at: datetime, request: str, **data: object) -> DomainEvent:
    return DomainEvent(
        id=f"evt_{next(_n)}",
        tenant_id="t",
        type=kind,
        occurred_at=at,
        actor=actor,
        request_id=request,
        data=data,
    )


def _alert(aid: str, severity: str, first: datetime, seconds: float, actor: str = "") -> Alert:
    return Alert(
        id=aid,
        rule_id="Okta.X",
        title=aid,
        severity=severity,
        tenant="t",
        entities={"actor": actor} if actor else {"user": "jeanne@t"},
        first_seen=first.timestamp(),
        last_seen=first.timestamp() + seconds,
        event_ids=[],
        explanation="",
    )


def _step(alert_id: str, at: datetime, status: StepStatus = StepStatus.DONE) -> ResponseStep:
    return ResponseStep(
        tenant_id="t",
        run_id="rsp",
        index=0,
        runbook_id="R",
        alert_id=alert_id,
        rule_id="Okta.X",
        person_id=None,
        kind="revoke_sessions",
        status=status,
        created_at=at,
        updated_at=at,
    )


def _month() -> list[DomainEvent]:
    at = DEC + timedelta(days=3)
    events = [
        # three sensitive requests by alice (two stepped up), one low one by oscar
        _event(EventType.REQUEST_OPENED, ALICE, at, "r1", tier="high"),
        _event(EventType.REQUEST_DECIDED, ALICE, at, "r1", decision={"step_ups": [{"code": "risk"}]}),
        _event(EventType.REQUEST_OPENED, ALICE, at, "r2", tier="critical"),
        _event(EventType.REQUEST_DECIDED, ALICE, at, "r2", decision={"step_ups": [{"code": "new_phone"}]}),
        _event(EventType.REQUEST_OPENED, ALICE, at, "r3", tier="high"),
        _event(EventType.REQUEST_DECIDED, ALICE, at, "r3", decision={"step_ups": []}),
        _event(EventType.REQUEST_OPENED, OSCAR, at, "r4", tier="low"),
        # proofs: claire answers alice's push (fails, then succeeds); oscar's call-back fails
        _event(EventType.PROOF_FAILED, CLAIRE, at, "r1"),
        _event(EventType.PROOF_SUCCEEDED, CLAIRE, at, "r1"),
        _event(EventType.PROOF_FAILED, OSCAR, at, "r4"),
        # november: alice opened 6 requests (a baseline of 2 a month over 3 months); december's next day
        *[
            _event(EventType.REQUEST_OPENED, ALICE, DEC - timedelta(days=d), f"old{d}", tier="high")
            for d in range(1, 7)
        ],
        _event(EventType.REQUEST_OPENED, ALICE, datetime(2027, 1, 1, tzinfo=UTC), "next", tier="high"),
    ]
    return events


def test_the_month_in_exact_figures() -> None:
    at = DEC + timedelta(days=10)
    alerts = [
        _alert("a1", "critical", at, 420),  # answered by a runbook step 60 s after its last evidence
        _alert("a2", "high", at, 0, actor="op_oscar"),  # answered by a verdict 600 s later
        _alert("a3", "high", at, 120),  # never answered
        _alert("old", "low", DEC - timedelta(days=1), 0),  # november's
    ]
    steps = [_step("a1", at + timedelta(seconds=480)), _step("a3", at, StepStatus.SKIPPED)]
    kpis = compute(
        tenant_id="t",
        month=Month.parse("2026-12"),
        events=_month(),
        alerts=alerts,
        verdict_at={"a2": at + timedelta(seconds=600), "a1": at + timedelta(hours=1)},
        steps=steps,
    )
    assert (kpis.sensitive_actions, kpis.with_step_up, kpis.step_up_share) == (3, 2, 2 / 3)
    assert (kpis.proofs, kpis.verification_failures, kpis.failure_rate) == (3, 2, 2 / 3)
    assert kpis.alerts == 3 and kpis.alerts_by_severity == {
        "critical": 1,
        "high": 2,
        "medium": 0,
        "low": 0,
        "informational": 0,
    }
    assert kpis.mean_time_to_detect_s == (420 + 0 + 120) / 3
    assert kpis.mean_time_to_respond_s == (60 + 600) / 2 and kpis.unanswered_alerts == 1
    assert [(o.operator_id, o.provider_id, o.requests, o.baseline, o.ratio) for o in kpis.operators] == [
        ("op_alice", "prv_internal", 3, 2.0, 1.5),
        ("op_oscar", "prv_outsourced", 1, 0.0, None),
    ]
    assert kpis.providers == ("prv_internal", "prv_outsourced")


def test_a_provider_narrows_the_helpdesk_figures_and_the_alerts_naming_its_operators() -> None:
    at = DEC + timedelta(days=10)
    alerts = [_alert("a1", "critical", at, 420), _alert("a2", "high", at, 0, actor="op_oscar")]
    kpis = compute(
        tenant_id="t",
        month=Month(2026, 12),
        events=_month(),
        alerts=alerts,
        verdict_at={},
        steps=[],
        provider_id="prv_outsourced",
    )
    assert (kpis.sensitive_actions, kpis.proofs, kpis.verification_failures) == (0, 1, 1)
    assert kpis.alerts == 1 and kpis.alerts_by_severity["high"] == 1 and kpis.unanswered_alerts == 1
    assert [o.operator_id for o in kpis.operators] == ["op_oscar"]
    assert kpis.step_up_share is None


@pytest.mark.parametrize("bad", ["2026-13", "2026-1", "december", ""])
def test_a_month_must_be_written_yyyy_mm(bad: str) -> None:
    with pytest.raises(ValidationFailed, match="yyyy-mm"):
        Month.parse(bad)


def test_months_shift_across_years() -> None:
    assert str(Month(2026, 1).shift(-3)) == "2025-10" and Month(2026, 12).end() == datetime(
        2027, 1, 1, tzinfo=UTC
    )
