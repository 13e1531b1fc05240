"""The vishing exercise use cases over real storage: who may plan and record, feedback sent once by
e-mail to the agent only, agents see only their own, every gesture an outbox event, trends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from deskguard.app import exercises
from deskguard.app.exercise_trends import exercise_trends
from deskguard.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from deskguard.domain.events import EventType
from deskguard.domain.exercises import Outcome
from world import World

pytestmark = pytest.mark.db
START = datetime(2026, 10, 1, tzinfo=UTC)


def _plan(world: World, actor: str = "sup", **over: object):  # noqa: ANN202
    fields: dict = dict(
        tenant_id="t_a",
        name="Q4 exercise",
        quarter="2026-Q4",
        provider_ids=["farshore"],
        operator_ids=["agent"],
        script_ids=["cfo_lost_phone", "new_hire_locked_out"],
        starts_at=START,
        ends_at=START + timedelta(days=60),
    )
    fields.update(over)
    return exercises.plan_campaign(world.ctx, actor=world.operator(actor), **fields)


def _record(world: World, campaign_id: str, operator_id: str, outcome: str, *failures: str, by: str = "sup"):  # noqa: ANN202
    return exercises.record_call(
        world.ctx,
        actor=world.operator(by),
        tenant_id="t_a",
        campaign_id=campaign_id,
        operator_id=operator_id,
        script_id="cfo_lost_phone",
        called_at=START + timedelta(days=3),
        outcome=outcome,
        failures=failures,
        notes="accepted the birth date" if failures else "",
    )


def _events(world: World, kind: EventType) -> list:
    with world.ctx.reads() as uow:
        return [e for e in uow.outbox.list(tenant_id="t_a", after_seq=0, limit=1000) if e.type == kind]


def test_a_supervisor_plans_records_and_sends_blameless_feedback_by_email(world: World) -> None:
    campaign = _plan(world)
    assert [e.data["campaign_id"] for e in _events(world, EventType.EXERCISE_CAMPAIGN_PLANNED)] == [
        campaign.id
    ]
    view = exercises.get_campaign(
        world.ctx, actor=world.operator("sup"), tenant_id="t_a", campaign_id=campaign.id
    )
    assert {o.id for o in view.agents} == {"agent", "outsourced"}  # the agent named, and the FarShore desk
    followed = _record(world, campaign.id, "outsourced", "followed")
    failed = _record(world, campaign.id, "agent", "failed", "accepted_knowledge_answer")
    assert [e.data["outcome"] for e in _events(world, EventType.EXERCISE_CALL_RECORDED)] == [
        "followed",
        "failed",
    ]
    sent = exercises.send_campaign_feedback(
        world.ctx, actor=world.operator("sup"), tenant_id="t_a", campaign_id=campaign.id
    )
    assert {c.id for c in sent} == {followed.id, failed.id} and all(
        c.feedback_channel == "email" for c in sent
    )
    mails = {m.to: m for m in world.response_notifier.sent}
    assert set(mails) == {"agent@desk.example", "outsourced@desk.example"}
    assert mails["agent@desk.example"].channel == "email"
    assert "a knowledge answer (birth date, address…) was taken as proof" in mails["agent@desk.example"].text
    assert "accepted the birth date" in mails["agent@desk.example"].text
    assert "The procedure was followed" in mails["outsourced@desk.example"].text
    assert len(_events(world, EventType.EXERCISE_FEEDBACK_SENT)) == 2
    with pytest.raises(Conflict):
        exercises.send_feedback(world.ctx, actor=world.operator("sup"), tenant_id="t_a", call_id=failed.id)
    assert len(world.response_notifier.sent) == 2


def test_agents_neither_plan_nor_record_and_read_only_their_own_feedback(world: World) -> None:
    with pytest.raises(Forbidden):
        _plan(world, actor="agent")
    campaign = _plan(world, operator_ids=["agent", "agent2"])
    with pytest.raises(Forbidden):
        _record(world, campaign.id, "agent2", "followed", by="agent")
    with pytest.raises(Forbidden):
        exercises.list_campaigns(world.ctx, actor=world.operator("agent"), tenant_id="t_a")
    mine = _record(world, campaign.id, "agent", "refused")
    other = _record(world, campaign.id, "agent2", "failed", "skipped_approval")
    assert (
        exercises.my_feedback(world.ctx, actor=world.operator("agent"), tenant_id="t_a") == []
    )  # not sent yet
    for call in (mine, other):
        exercises.send_feedback(world.ctx, actor=world.operator("sup"), tenant_id="t_a", call_id=call.id)
    found = exercises.my_feedback(world.ctx, actor=world.operator("agent"), tenant_id="t_a")
    assert [f.call.id for f in found] == [mine.id] and "The request was refused" in found[0].text


def test_an_admin_records_but_nobody_records_their_own_call(world: World) -> None:
    campaign = _plan(world, operator_ids=["agent"], provider_ids=[])
    assert _record(world, campaign.id, "agent", "escalated", by="admin").recorded_by == "admin"
    with pytest.raises(ValidationFailed) as bad:
        _record(world, campaign.id, "agent2", "followed")
    assert bad.value.field == "operator_id"  # not called by this campaign


def test_tenant_scoping_and_clear_errors(world: World) -> None:
    with pytest.raises(NotFound):
        _plan(world, actor="sup_b_only")
    campaign = _plan(world)
    with pytest.raises(NotFound):
        exercises.get_campaign(
            world.ctx, actor=world.operator("sup"), tenant_id="t_b", campaign_id=campaign.id
        )
    with pytest.raises(ValidationFailed) as bad:
        _plan(world, operator_ids=["sup"])
    assert bad.value.field == "operator_ids"
    with pytest.raises(ValidationFailed) as bad:
        _plan(world, provider_ids=["nowhere"])
    assert bad.value.field == "provider_ids"
    with pytest.raises(NotFound):
        _record(world, "exc_missing", "agent", "followed")


def test_trends_per_quarter_desk_and_agent(world: World) -> None:
    campaign = _plan(world)
    _record(world, campaign.id, "agent", "failed", "accepted_knowledge_answer")
    _record(world, campaign.id, "agent", "followed")
    _record(world, campaign.id, "outsourced", "escalated")
    report = exercise_trends(world.ctx, actor=world.operator("sup"), tenant_id="t_a", quarter="2026-q4")
    rows = {(t.scope, t.key): t for t in report.trends}
    assert rows[("all", "")].calls == 3 and rows[("provider", "internal")].share(Outcome.FAILED) == 0.5
    assert (
        rows[("provider", "farshore")].share(Outcome.ESCALATED) == 1.0
        and report.name("farshore") == "FarShore"
    )
    assert (
        exercise_trends(world.ctx, actor=world.operator("sup"), tenant_id="t_a", quarter="2026-Q3").trends
        == []
    )
    with pytest.raises(Forbidden):
        exercise_trends(world.ctx, actor=world.operator("agent"), tenant_id="t_a")
