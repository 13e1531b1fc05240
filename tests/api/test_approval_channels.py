"""Approval notices on every approvers' channel, and the Slack message kept current, on the real
wiring (``slack_kit.open_desk``): the tenant's Slack connector (``approvals_channel``) and Teams
connector (``approvals_webhook``) configured through the API, a request reaching
``pending_approval`` posted once to each by the responder worker, and, once the request no longer
waits (a decision in the API, a cancellation, an expiry), the posted Slack message rewritten with
``chat.update`` by the responder — never inside the deciding call. Real storage (SQLite, PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from slack_kit import CHANNEL, CONSOLE, TEAMS_HOOK, Desk, open_desk

from deskguard.app import requests
from deskguard.domain.events import EventType
from deskguard.domain.requests import RequestState
from deskguard.domain.response import StepStatus

APPROVED_AT = "at 2026-12-01 09:00 UTC"


@pytest.fixture
def desk(uow_factory: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    with open_desk(uow_factory, monkeypatch) as opened:
        yield opened


def _both(desk: Desk) -> None:
    desk.configure(approvals_channel=CHANNEL)
    desk.configure_teams(approvals_webhook="env://DG_TENANT_TEAMS_APPROVALS")


def _approve(desk: Desk, request_id: str, who: str = "sup") -> httpx.Response:
    body = {"verdict": "approve", "comment": "checked with the manager"}
    return desk.api("POST", f"/requests/{request_id}/approvals", who, body)


def _updated(desk: Desk) -> list[dict[str, Any]]:
    return [json.loads(call.request.content) for call in desk.update.calls]


def test_a_request_waiting_for_approval_is_posted_once_to_slack_and_to_teams(desk: Desk) -> None:
    _both(desk)
    request = desk.waiting()
    steps = desk.notices()
    assert [s.params["channel"] for s in steps] == ["slack", "teams"]
    assert [s.index for s in steps] == [0, 1]  # one step per channel, each its own idempotency key
    assert steps[0].params["notice"] == steps[1].params["notice"]  # the same notice in both
    assert desk.slack.call_count == 0 and desk.teams.call_count == 0  # the responder posts them

    assert desk.responder.tick() == 2
    assert desk.responder.tick() == 0
    assert desk.slack.call_count == 1 and desk.teams.call_count == 1
    message = json.loads(desk.teams.calls.last.request.content)
    [attachment] = message["attachments"]
    card = attachment["content"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["type"] == "AdaptiveCard" and card["version"] and card["body"]
    assert card["actions"] == [
        {
            "type": "Action.OpenUrl",
            "title": "Review and decide",
            "url": f"{CONSOLE}/t/t_a/approvals#req-{request.id}",
        }
    ]
    shown = json.dumps(card)
    for words in (
        "agent (agent@desk.example), Internal desk (internal), workstation WS-agent",
        "Person plain (plain@t_a.example)",
        "push with number matching",
        "/100",
        request.id,
    ):
        assert words in shown, words
    assert "+336" not in shown and request.params_hash not in shown  # no number, no approving token
    done = desk.notices()
    assert [s.status for s in done] == [StepStatus.DONE, StepStatus.DONE]
    assert "teams:" in done[1].detail
    stored = json.dumps([s.params for s in done]) + "".join(s.detail for s in done)
    assert "sig=" not in stored and "logic.azure.com" not in stored  # the webhook URL is a credential
    assert desk.updates() == []  # still waiting: nothing to rewrite


def test_approving_in_the_api_then_the_responder_rewrites_the_slack_message(desk: Desk) -> None:
    _both(desk)
    request = desk.waiting()
    desk.responder.tick()
    r = _approve(desk, request.id)
    assert r.status_code == 200 and r.json()["state"] == "ready"
    [step] = desk.updates()
    assert step.status == StepStatus.RUNNING and desk.update.call_count == 0  # not in the API call

    assert desk.responder.tick() == 1
    assert desk.responder.tick() == 0
    [body] = _updated(desk)
    outcome = f"Approved by sup (sup@desk.example) {APPROVED_AT}: request {request.id} is now ready."
    assert (body["channel"], body["ts"]) == ("C0APR", "1764583200.000100")  # chat.postMessage's answer
    assert body["text"] == outcome
    assert [b for b in body["blocks"] if b["type"] == "actions"] == []  # no live buttons left
    assert body["blocks"][-1]["text"]["text"] == outcome
    [posted] = desk.posted()
    assert body["blocks"][:-1] == [b for b in posted["blocks"] if b["type"] != "actions"]  # same message
    assert desk.update.calls.last.request.headers["authorization"] == "Bearer xoxb-tenant-a"
    [done] = desk.updates()
    assert done.status == StepStatus.DONE and "updated the approval message" in done.detail
    assert desk.teams.call_count == 1  # a Teams card is not updated (its link opens the console)
    with desk.world.ctx.reads() as uow:
        events = uow.outbox.list(tenant_id="t_a", after_seq=0, limit=5000)
    kinds = [(e.data["kind"], e.data["outcome"]) for e in events if e.type == EventType.RESPONSE_STEP]
    assert kinds.count(("approval_update", "done")) == 1  # on the ledger


def test_cancel_and_expiry_rewrite_the_message_too(desk: Desk) -> None:
    desk.configure(approvals_channel=CHANNEL)
    cancelled = desk.waiting()
    desk.responder.tick()
    requests.cancel_request(
        desk.world.ctx,
        actor=desk.world.operator("agent"),
        tenant_id="t_a",
        request_id=cancelled.id,
        reason="the caller hung up",
    )
    desk.responder.tick()
    [said] = _updated(desk)
    assert (
        said["text"]
        == f"Cancelled by agent (agent@desk.example) {APPROVED_AT}: request {cancelled.id} is now cancelled."
    )

    overdue = desk.waiting()
    desk.responder.tick()
    desk.world.clock.advance(hours=48)
    r = _approve(desk, overdue.id)  # touching an overdue request expires it
    assert r.status_code == 409
    assert desk.state(overdue).state == RequestState.EXPIRED
    desk.responder.tick()
    expired = _updated(desk)[-1]
    assert (
        expired["text"].startswith("Expired at ")
        and f"request {overdue.id} is now expired" in expired["text"]
    )
    assert [b for b in expired["blocks"] if b["type"] == "actions"] == []


def test_a_decision_that_keeps_the_request_waiting_updates_nothing(desk: Desk) -> None:
    desk.configure(approvals_channel=CHANNEL)
    request = desk.waiting(person="watched")  # two approvals needed
    desk.responder.tick()
    r = _approve(desk, request.id)
    assert r.status_code == 200 and r.json()["state"] == "pending_approval"
    desk.responder.tick()
    assert desk.updates() == [] and desk.update.call_count == 0


def test_a_teams_outage_leaves_the_request_approvable(desk: Desk) -> None:
    _both(desk)
    desk.teams.mock(return_value=httpx.Response(503, text="Service Unavailable"))
    request = desk.waiting()
    desk.responder.tick()
    slack_step, teams_step = desk.notices()
    assert slack_step.status == StepStatus.DONE  # one channel's outage does not hold the other
    assert teams_step.status == StepStatus.RETRYING and teams_step.attempts == 1
    assert desk.state(request).state == RequestState.PENDING_APPROVAL
    inbox = desk.api("GET", "/approvals", "sup")
    assert [r["id"] for r in inbox.json()] == [request.id]
    assert _approve(desk, request.id).json()["state"] == "ready"

    desk.teams.mock(return_value=httpx.Response(202))  # Teams is back
    calls = desk.teams.call_count
    desk.world.clock.advance(minutes=5)
    desk.responder.tick()
    _, teams_step = desk.notices()
    assert teams_step.status == StepStatus.DONE and "not posted" in teams_step.detail
    assert desk.teams.call_count == calls  # a decided request's card is never posted late
    assert len(_updated(desk)) == 1  # the Slack message was rewritten all the same


@pytest.mark.parametrize("failure", ["refused", "still_retrying"])
def test_a_message_that_was_never_posted_is_never_updated(desk: Desk, failure: str) -> None:
    desk.configure(approvals_channel=CHANNEL)
    if failure == "refused":
        desk.slack.mock(return_value=httpx.Response(200, json={"ok": False, "error": "not_in_channel"}))
    else:
        desk.slack.mock(side_effect=httpx.ConnectError("slack.com unreachable"))
    request = desk.waiting()
    desk.responder.tick()
    assert _approve(desk, request.id).json()["state"] == "ready"
    desk.responder.tick()
    assert desk.update.call_count == 0
    if failure == "refused":
        assert desk.updates() == []  # the post failed for good: nothing queued
    else:
        [step] = desk.updates()
        assert step.status == StepStatus.DONE and "never posted" in step.detail


def test_a_teams_connector_without_approvals_webhook_posts_no_card(desk: Desk) -> None:
    desk.configure_teams()  # runbook notifications only
    desk.waiting()
    desk.responder.tick()
    assert desk.notices() == [] and desk.teams.call_count == 0
    r = desk.api(
        "PUT",
        "/connectors/notify.teams",
        "admin",
        {
            "kind": "teams",
            "settings": {
                "webhook_url": "env://X",
                "approval_base_url": CONSOLE,
                "approvals_webhook": TEAMS_HOOK,
            },
        },
    )
    assert r.status_code == 422 and "approvals_webhook" in r.text  # a URL in clear is refused
