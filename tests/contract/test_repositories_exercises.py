"""The vishing exercise repository on SQLite and PostgreSQL: campaigns and calls round-trip, every
read is scoped by tenant, filters, and feedback is marked once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from deskguard.domain.exercises import Campaign, ExerciseCall, FailureCategory, Outcome, with_feedback
from deskguard.domain.ports import UnitOfWorkFactory

pytestmark = pytest.mark.db
AT = datetime(2026, 10, 5, 9, 30, tzinfo=UTC)
CAMPAIGN = Campaign(
    id="exc_1",
    tenant_id="t_a",
    name="Q4",
    quarter="2026-Q4",
    provider_ids=frozenset({"prv_b", "prv_a"}),
    operator_ids=frozenset({"op_1"}),
    script_ids=("cfo_lost_phone", "new_hire_locked_out"),
    starts_at=AT,
    ends_at=AT + timedelta(days=30),
    created_by="op_sup",
    created_at=AT,
)
CALL = ExerciseCall(
    id="exr_1",
    tenant_id="t_a",
    campaign_id="exc_1",
    quarter="2026-Q4",
    operator_id="op_1",
    provider_id="prv_a",
    script_id="cfo_lost_phone",
    called_at=AT + timedelta(days=1),
    outcome=Outcome.FAILED,
    failures=(FailureCategory.KNOWLEDGE_ANSWER, FailureCategory.SKIPPED_APPROVAL),
    notes="took the birth date",
    recorded_by="op_sup",
    recorded_at=AT + timedelta(days=1, hours=1),
)


def test_campaigns_and_calls_round_trip_scoped_by_tenant(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        uow.exercises.add_campaign(CAMPAIGN)
        uow.exercises.add_campaign(replace(CAMPAIGN, tenant_id="t_b"))
        uow.exercises.add_campaign(
            replace(CAMPAIGN, id="exc_0", quarter="2026-Q3", starts_at=AT - timedelta(days=90))
        )
        uow.exercises.add_call(CALL)
        uow.exercises.add_call(
            replace(CALL, id="exr_2", operator_id="op_2", outcome=Outcome.FOLLOWED, failures=())
        )
        uow.commit()
    with uow_factory() as uow:
        assert uow.exercises.get_campaign(tenant_id="t_a", campaign_id="exc_1") == CAMPAIGN
        assert uow.exercises.get_campaign(tenant_id="t_c", campaign_id="exc_1") is None
        assert [c.id for c in uow.exercises.list_campaigns(tenant_id="t_a")] == ["exc_1", "exc_0"]
        assert [c.id for c in uow.exercises.list_campaigns(tenant_id="t_a", quarter="2026-Q3")] == ["exc_0"]
        assert uow.exercises.get_call(tenant_id="t_a", call_id="exr_1") == CALL
        assert uow.exercises.get_call(tenant_id="t_b", call_id="exr_1") is None
        assert [c.id for c in uow.exercises.list_calls(tenant_id="t_a", campaign_id="exc_1")] == [
            "exr_1",
            "exr_2",
        ]
        assert [c.id for c in uow.exercises.list_calls(tenant_id="t_a", operator_id="op_2")] == ["exr_2"]
        assert uow.exercises.list_calls(tenant_id="t_a", quarter="2026-Q3") == []
        assert uow.exercises.list_calls(tenant_id="t_b") == []


def test_feedback_is_marked_once(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        uow.exercises.add_campaign(CAMPAIGN)
        uow.exercises.add_call(CALL)
        uow.commit()
    sent = with_feedback(CALL, sent_at=AT + timedelta(days=2), channel="email", ref="ntf_1")
    with uow_factory() as uow:
        assert uow.exercises.mark_feedback(replace(sent, tenant_id="t_b")) is False  # another tenant's
        assert uow.exercises.mark_feedback(sent) is True
        uow.commit()
    with uow_factory() as uow:
        assert uow.exercises.mark_feedback(replace(sent, feedback_ref="ntf_2")) is False
        assert uow.exercises.get_call(tenant_id="t_a", call_id="exr_1") == sent
