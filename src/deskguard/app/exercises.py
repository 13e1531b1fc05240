"""Vishing exercises (issue 8): plan a campaign, record each test call, send the agent blameless feedback.

The seed's quarterly exercises: a supervisor (or an admin) plans a campaign for a quarter — which
desks or agents the tester calls, with which tester scripts (``content/exercises/*.yml``), in which
window — then records each exercise call's outcome. An agent never records their own call, and sees
only their own feedback (``my_feedback``). Feedback goes to the agent's work e-mail through the
``email`` channel of ``ctx.channels.response_notifier``: what the procedure expects, what happened
and the phrasing to use next time, in English and French — never a score or a ranking
(``domain.exercises.feedback_message``). Every gesture is a domain event in the same transaction
(``exercise.campaign_planned``, ``exercise.call_recorded``, ``exercise.feedback_sent``). Trends per
quarter, desk and agent, and the quarterly report's figures: ``app.exercise_trends``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

import yaml

from deskguard.app.access import require_operator
from deskguard.app.context import AppContext
from deskguard.app.outbox import emit
from deskguard.domain.errors import Conflict, NotFound, ValidationFailed
from deskguard.domain.events import Actor, EventType
from deskguard.domain.exercises import (
    Campaign,
    ExerciseCall,
    ExerciseScript,
    feedback_message,
    new_call,
    new_campaign,
    parse_script,
    with_feedback,
)
from deskguard.domain.model import Operator, OperatorRole, Provider
from deskguard.domain.ports import UnitOfWork
from deskguard.settings import REPO_ROOT

MANAGERS = frozenset({OperatorRole.SUPERVISOR, OperatorRole.ADMIN})
VIEWERS = frozenset({OperatorRole.SUPERVISOR, OperatorRole.ADMIN, OperatorRole.AUDITOR})
SCRIPTS_DIR = REPO_ROOT / "content" / "exercises"
FEEDBACK_CHANNEL = "email"


def load_library(directory: Path) -> dict[str, ExerciseScript]:
    """Every tester script of ``directory/*.yml`` by id; a bad or duplicated file names itself."""
    scripts: dict[str, ExerciseScript] = {}
    for path in sorted(directory.glob("*.yml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ValidationFailed(f"{path.name}: cannot be read: {exc}", field="script") from None
        script = parse_script(data, source=path.name)
        if script.id in scripts:
            raise ValidationFailed(f"{path.name}: tester script id {script.id!r} is used twice", field="id")
        scripts[script.id] = script
    if not scripts:
        raise ValidationFailed(f"no tester script in {directory}", field="script")
    return scripts


@cache
def library() -> dict[str, ExerciseScript]:
    """The shipped tester scripts."""
    return load_library(SCRIPTS_DIR)


@dataclass(frozen=True, slots=True)
class CampaignView:
    campaign: Campaign
    calls: Sequence[ExerciseCall]
    agents: Sequence[Operator]  # the operators of the tenant this campaign calls
    scripts: Sequence[ExerciseScript]

    @property
    def pending_feedback(self) -> int:
        return sum(1 for c in self.calls if c.feedback_sent_at is None)


@dataclass(frozen=True, slots=True)
class PlanningChoices:
    providers: Sequence[Provider]
    agents: Sequence[Operator]
    scripts: Sequence[ExerciseScript]


@dataclass(frozen=True, slots=True)
class Feedback:
    call: ExerciseCall
    script: ExerciseScript
    subject: str
    text: str


def _agents(uow: UnitOfWork, tenant_id: str) -> list[Operator]:
    return [o for o in uow.operators.list(tenant_id=tenant_id) if o.role == OperatorRole.AGENT and o.active]


def _campaign(uow: UnitOfWork, *, tenant_id: str, campaign_id: str) -> Campaign:
    campaign = uow.exercises.get_campaign(tenant_id=tenant_id, campaign_id=campaign_id)
    if campaign is None:
        raise NotFound(f"campaign {campaign_id} not found", code="not_found.campaign", field="campaign_id")
    return campaign


def _view(uow: UnitOfWork, campaign: Campaign) -> CampaignView:
    scripts = library()
    return CampaignView(
        campaign=campaign,
        calls=uow.exercises.list_calls(tenant_id=campaign.tenant_id, campaign_id=campaign.id),
        agents=[o for o in _agents(uow, campaign.tenant_id) if campaign.targets(o)],
        scripts=[scripts[s] for s in campaign.script_ids if s in scripts],
    )


def planning_choices(ctx: AppContext, *, actor: Actor, tenant_id: str) -> PlanningChoices:
    """What a campaign may call: the desks and agents serving the tenant, the tester scripts."""
    require_operator(actor, tenant_id=tenant_id, roles=MANAGERS)
    with ctx.reads() as uow:
        agents = _agents(uow, tenant_id)
        desks = {o.provider_id for o in agents}
        providers = [p for p in uow.providers.list() if p.id in desks]
    return PlanningChoices(providers=providers, agents=agents, scripts=list(library().values()))


def plan_campaign(
    ctx: AppContext,
    *,
    actor: Actor,
    tenant_id: str,
    name: str,
    quarter: str,
    provider_ids: Iterable[str] = (),
    operator_ids: Iterable[str] = (),
    script_ids: Sequence[str],
    starts_at: datetime,
    ends_at: datetime,
) -> Campaign:
    require_operator(actor, tenant_id=tenant_id, roles=MANAGERS)
    providers, operators = sorted(set(provider_ids) - {""}), sorted(set(operator_ids) - {""})
    with ctx.uow() as uow:
        known_providers = {p.id for p in uow.providers.list()}
        serving = {o.id for o in _agents(uow, tenant_id)}
        for provider_id in providers:
            if provider_id not in known_providers:
                raise ValidationFailed(f"desk {provider_id} is not a provider", field="provider_ids")
        for operator_id in operators:
            if operator_id not in serving:
                raise ValidationFailed(
                    f"agent {operator_id} does not serve this tenant", field="operator_ids"
                )
        campaign = new_campaign(
            id=ctx.random.new_id("exc"),
            tenant_id=tenant_id,
            name=name,
            quarter=quarter,
            provider_ids=providers,
            operator_ids=operators,
            script_ids=script_ids,
            starts_at=starts_at,
            ends_at=ends_at,
            created_by=actor.id,
            created_at=ctx.clock.now(),
            known_scripts=library(),
        )
        uow.exercises.add_campaign(campaign)
        emit(
            ctx,
            uow,
            type=EventType.EXERCISE_CAMPAIGN_PLANNED,
            actor=actor,
            tenant_id=tenant_id,
            campaign_id=campaign.id,
            quarter=campaign.quarter,
            provider_ids=sorted(campaign.provider_ids),
            operator_ids=sorted(campaign.operator_ids),
            script_ids=list(campaign.script_ids),
            starts_at=campaign.starts_at.isoformat(),
            ends_at=campaign.ends_at.isoformat(),
        )
        uow.commit()
    return campaign


def list_campaigns(ctx: AppContext, *, actor: Actor, tenant_id: str, quarter: str = "") -> list[CampaignView]:
    require_operator(actor, tenant_id=tenant_id, roles=VIEWERS)
    with ctx.reads() as uow:
        return [_view(uow, c) for c in uow.exercises.list_campaigns(tenant_id=tenant_id, quarter=quarter)]


def get_campaign(ctx: AppContext, *, actor: Actor, tenant_id: str, campaign_id: str) -> CampaignView:
    require_operator(actor, tenant_id=tenant_id, roles=VIEWERS)
    with ctx.reads() as uow:
        return _view(uow, _campaign(uow, tenant_id=tenant_id, campaign_id=campaign_id))


def record_call(
    ctx: AppContext,
    *,
    actor: Actor,
    tenant_id: str,
    campaign_id: str,
    operator_id: str,
    script_id: str,
    called_at: datetime,
    outcome: str,
    failures: Iterable[str] = (),
    notes: str = "",
) -> ExerciseCall:
    """One exercise call's outcome, recorded by a supervisor or an admin (never the agent called)."""
    require_operator(actor, tenant_id=tenant_id, roles=MANAGERS)
    with ctx.uow() as uow:
        campaign = _campaign(uow, tenant_id=tenant_id, campaign_id=campaign_id)
        operator = uow.operators.get(operator_id)
        if operator is None or not operator.serves(tenant_id):
            raise NotFound(f"agent {operator_id} not found", code="not_found.operator", field="operator_id")
        call = new_call(
            id=ctx.random.new_id("exr"),
            campaign=campaign,
            operator=operator,
            script_id=script_id,
            called_at=called_at,
            outcome=outcome,
            failures=failures,
            notes=notes,
            recorded_by=actor.id,
            recorded_at=ctx.clock.now(),
        )
        uow.exercises.add_call(call)
        emit(
            ctx,
            uow,
            type=EventType.EXERCISE_CALL_RECORDED,
            actor=actor,
            tenant_id=tenant_id,
            campaign_id=campaign.id,
            call_id=call.id,
            operator_id=call.operator_id,
            provider_id=call.provider_id,
            script_id=call.script_id,
            called_at=call.called_at.isoformat(),
            outcome=call.outcome.value,
            failures=[f.value for f in call.failures],
        )
        uow.commit()
    return call


def _script(call: ExerciseCall) -> ExerciseScript:
    script = library().get(call.script_id)
    if script is None:
        raise NotFound(f"tester script {call.script_id} is no longer shipped", code="not_found.script")
    return script


def send_feedback(ctx: AppContext, *, actor: Actor, tenant_id: str, call_id: str) -> ExerciseCall:
    """E-mail the agent their feedback on one call, once; the delivery is recorded with its event."""
    require_operator(actor, tenant_id=tenant_id, roles=MANAGERS)
    with ctx.reads() as uow:
        call = uow.exercises.get_call(tenant_id=tenant_id, call_id=call_id)
        if call is None:
            raise NotFound(
                f"exercise call {call_id} not found", code="not_found.exercise_call", field="call_id"
            )
        operator = uow.operators.get(call.operator_id)
    if call.feedback_sent_at is not None:
        raise Conflict(f"the feedback on call {call_id} was already sent", code="conflict.feedback_sent")
    if operator is None:
        raise NotFound(f"agent {call.operator_id} not found", code="not_found.operator")
    subject, text = feedback_message(call, _script(call))
    # Idempotent by key: a retry after a lost answer does not send the agent a second e-mail.
    ref = ctx.channels.response_notifier.send(
        tenant_id=tenant_id,
        channel=FEEDBACK_CHANNEL,
        to=operator.username,
        subject=subject,
        text=text,
        idempotency_key=f"{call.id}:exercise-feedback",
    )
    sent = with_feedback(call, sent_at=ctx.clock.now(), channel=FEEDBACK_CHANNEL, ref=ref)
    with ctx.uow() as uow:
        if not uow.exercises.mark_feedback(sent):
            raise Conflict(f"the feedback on call {call_id} was already sent", code="conflict.feedback_sent")
        emit(
            ctx,
            uow,
            type=EventType.EXERCISE_FEEDBACK_SENT,
            actor=actor,
            tenant_id=tenant_id,
            campaign_id=call.campaign_id,
            call_id=call.id,
            operator_id=call.operator_id,
            channel=FEEDBACK_CHANNEL,
            delivery=ref,
        )
        uow.commit()
    return sent


def send_campaign_feedback(
    ctx: AppContext, *, actor: Actor, tenant_id: str, campaign_id: str
) -> list[ExerciseCall]:
    """Send every call of the campaign whose feedback is still to send; the calls sent."""
    view = get_campaign(ctx, actor=actor, tenant_id=tenant_id, campaign_id=campaign_id)
    require_operator(actor, tenant_id=tenant_id, roles=MANAGERS)
    pending = [c for c in view.calls if c.feedback_sent_at is None]
    return [send_feedback(ctx, actor=actor, tenant_id=tenant_id, call_id=c.id) for c in pending]


def my_feedback(ctx: AppContext, *, actor: Actor, tenant_id: str) -> list[Feedback]:
    """The feedback sent to the operator asking, newest first: their own calls only."""
    require_operator(actor, tenant_id=tenant_id)
    with ctx.reads() as uow:
        calls = uow.exercises.list_calls(tenant_id=tenant_id, operator_id=actor.id)
    out: list[Feedback] = []
    for call in reversed(calls):
        if call.feedback_sent_at is None:
            continue
        script = _script(call)
        subject, text = feedback_message(call, script)
        out.append(Feedback(call=call, script=script, subject=subject, text=text))
    return out
