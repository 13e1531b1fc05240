"""The request's ticket gets its evidence back (``app.ticket_evidence``), written by the responder
worker through the runbook step machinery: once, retried after a timeout or a 503, never inline.
Real storage (SQLite and PostgreSQL); the ITSM is the fake, or ServiceNow against the respx far end
of the ticketing contract (``tests/contract/ticketing_sims.py``)."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
import respx

from deskguard.adapters.connectors.retry import Backoff
from deskguard.adapters.ticketing._base import TicketingSettings
from deskguard.adapters.ticketing.servicenow import ServiceNowTicketing
from deskguard.app import approvals, directory, execution, requests, verification
from deskguard.app.requests import RequestDraft
from deskguard.app.response_steps import retry_due
from deskguard.domain.response import StepStatus
from deskguard.workers.responder import Responder
from world import World

sys.path.insert(0, str(Path(__file__).parents[2] / "contract"))
from ticketing_sims import ServiceNowSim  # noqa: E402


def _ticket(world: World, ref: str = "INC0010001") -> str:
    ticket = directory.open_ticket(
        world.ctx, actor=world.operator("agent"), tenant_id="t_a", external_ref=ref, channel="phone"
    )
    return ticket.id


def _executed(world: World, *, ticket_id: str | None) -> str:
    request = requests.open_request(
        world.ctx,
        actor=world.operator("agent"),
        tenant_id="t_a",
        draft=RequestDraft(kind="unlock_account", person_id="plain", ticket_id=ticket_id),
    )
    verification.record_knowledge(
        world.ctx,
        actor=world.operator("agent"),
        tenant_id="t_a",
        request_id=request.id,
        topic="date of birth",
        matched=True,
    )
    _push(world, request.id)
    execution.execute_request(
        world.ctx, actor=world.operator("agent"), tenant_id="t_a", request_id=request.id
    )
    return request.id


def _push(world: World, rid: str) -> None:
    push = verification.start_proof(
        world.ctx, actor=world.operator("agent"), tenant_id="t_a", request_id=rid, method="push_number_match"
    )
    verification.respond_push(
        world.ctx,
        actor=world.person("plain"),
        tenant_id="t_a",
        proof_id=push.id,
        approve=True,
        number=push.challenge["number_to_read_out"],
    )


def _steps(world: World) -> list:
    with world.ctx.reads() as uow:
        steps = uow.response_steps.list(tenant_id="t_a")
    return sorted((s for s in steps if s.kind == "ticket_evidence"), key=lambda s: (s.run_id, s.index))


def test_an_executed_request_gets_one_comment_with_its_evidence(world: World) -> None:
    rid = _executed(world, ticket_id=_ticket(world))
    assert world.ticketing.comments == []  # never inside the helpdesk flow
    assert Responder(world.ctx).tick() == 1
    assert Responder(world.ctx).tick() == 0  # done: never again
    ((tenant, ref, text),) = world.ticketing.comments
    assert (tenant, ref) == ("t_a", "INC0010001")
    assert "Unlock" in text or "unlock" in text
    assert "Person plain (plain@t_a.example)" in text
    assert "Verified by push with number matching to the person's enrolled device (high)." in text
    assert "Did not count: knowledge answers" in text
    assert "Executed at 2026-12-01 09:00 UTC" in text
    assert f"deskguard request {rid}; ledger record of event evt_" in text
    assert "number_to_read_out" not in text and "+336" not in text
    (step,) = _steps(world)
    assert (step.status, step.attempts, step.idempotency_key) == (StepStatus.DONE, 1, f"tev_{rid}:0")
    assert world.ticketing.resolved == []  # state back is off by default


def test_no_comment_without_a_ticket(world: World) -> None:
    _executed(world, ticket_id=None)
    assert Responder(world.ctx).tick() == 0 and _steps(world) == []


def test_a_timeout_stays_pending_then_the_retry_writes_once(world: World) -> None:
    _executed(world, ticket_id=_ticket(world))
    world.ticketing.timeouts = 1
    (outcome,) = retry_due(world.ctx)
    assert outcome.outcome == "retrying" and world.ticketing.comments == []
    (step,) = _steps(world)
    assert step.status == StepStatus.RETRYING and step.next_attempt_at is not None
    assert retry_due(world.ctx) == []  # not before its back-off
    world.clock.advance(minutes=1)
    (outcome,) = retry_due(world.ctx)
    assert outcome.outcome == "done" and len(world.ticketing.comments) == 1


def test_resolve_after_execution_when_the_setting_says_so(world: World) -> None:
    world.ctx = replace(world.ctx, resolve_tickets=True)
    _executed(world, ticket_id=_ticket(world))
    assert [o.outcome for o in retry_due(world.ctx)] == ["done", "done"]
    assert world.ticketing.resolved == [("t_a", "INC0010001")]


def test_a_denied_request_says_who_refused_and_why(world: World) -> None:
    request = requests.open_request(
        world.ctx,
        actor=world.operator("agent"),
        tenant_id="t_a",
        draft=RequestDraft(
            kind="reset_mfa", person_id="plain", ticket_id=_ticket(world), justification="lost phone"
        ),
    )
    _push(world, request.id)
    call = verification.start_proof(
        world.ctx,
        actor=world.operator("agent"),
        tenant_id="t_a",
        request_id=request.id,
        method="callback_automated",
    )
    verification.callback_result(world.ctx, call_id=call.challenge["call_id"], confirmed=True)
    approvals.decide_approval(
        world.ctx,
        actor=world.operator("sup"),
        tenant_id="t_a",
        request_id=request.id,
        verdict="deny",
        comment="caller could not say which phone",
    )
    retry_due(world.ctx)
    ((_, _, text),) = world.ticketing.comments
    assert "refused." in text.splitlines()[0]
    assert "Requested by agent (agent@desk.example) (agent): lost phone" in text
    assert (
        "Verified by push with number matching to the person's enrolled device (high) + "
        "automated call-back to the registered number (medium)." in text
    )
    assert "Refused by sup (sup@desk.example) (" in text and '"caller could not say which phone"' in text
    assert f"deskguard request {request.id}" in text


def test_servicenow_answering_503_is_retried_with_the_same_key(world: World) -> None:
    sim, answered = ServiceNowSim(), []

    def far_end(request: httpx.Request) -> httpx.Response:
        if request.method == "PATCH" and not answered:
            answered.append(503)
            return httpx.Response(
                503, json={"error": {"message": "Service Unavailable"}, "status": "failure"}
            )
        return sim(request)

    with respx.mock(assert_all_called=False) as router, pytest.MonkeyPatch.context() as mp:
        router.route().mock(side_effect=far_end)
        mp.setenv("DG_TEV_SN", "sn-password")
        settings = TicketingSettings(
            vendor="servicenow",
            url="https://acme.service-now.com",
            username="deskguard",
            token="env://DG_TEV_SN",
        )
        sn = ServiceNowTicketing(
            settings, client=httpx.Client(), backoff=Backoff(attempts=2), sleep=lambda _s: None
        )
        world.ctx = replace(world.ctx, channels=replace(world.ctx.channels, ticketing=sn))
        rid = _executed(world, ticket_id=_ticket(world))
        (first,) = retry_due(world.ctx)
        assert first.outcome == "retrying" and "503" in first.detail and sim.comments == []
        world.clock.advance(minutes=1)
        (second,) = retry_due(world.ctx)
    assert second.outcome == "done" and second.attempts == 2
    ((number, text),) = sim.comments
    assert number == "INC0010001" and f"deskguard request {rid}" in text
