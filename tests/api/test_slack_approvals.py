"""Slack approvals end to end, on the real wiring: the tenant's Slack connector configured through the
API (with its approvers' channel), a request reaching ``pending_approval`` posted once by the
responder worker to Slack's ``chat.postMessage`` (a respx far end in the shape of Slack's contract),
the posted buttons clicked back through the signed interactivity route, and a Slack outage that
leaves the request pending and approvable through the API. Real storage (SQLite and PostgreSQL)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from slack_kit import CHANNEL, POSTED, Desk, open_desk

from deskguard.adapters.channels.slack import request_reference
from deskguard.app.approval_notices import KIND
from deskguard.domain.events import EventType
from deskguard.domain.requests import RequestState
from deskguard.domain.response import StepStatus


@pytest.fixture
def desk(uow_factory: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    with open_desk(uow_factory, monkeypatch) as opened:
        yield opened


def test_a_request_waiting_for_approval_is_posted_once_with_its_reference(desk: Desk) -> None:
    desk.configure(approvals_channel=CHANNEL)
    request = desk.waiting()
    [step] = desk.notices()
    assert step.status == StepStatus.RUNNING and step.attempts == 0
    assert desk.slack.call_count == 0  # never inside the helpdesk call: the responder posts it

    assert desk.responder.tick() == 1
    assert desk.responder.tick() == 0  # done: the next pass posts nothing
    [message] = desk.posted()
    assert desk.slack.calls.last.request.headers["authorization"] == "Bearer xoxb-tenant-a"
    assert message["channel"] == CHANNEL
    reference = request_reference(tenant_id="t_a", request_id=request.id, params_hash=request.params_hash)
    [actions] = [b for b in message["blocks"] if b["type"] == "actions"]
    assert [b["value"] for b in actions["elements"]] == [reference, reference]
    shown = json.dumps(message["blocks"])
    for words in (
        "agent (agent@desk.example), Internal desk (internal), workstation WS-agent",  # who asks
        "Person plain (plain@t_a.example)",  # for whom
        "push with number matching",  # the proofs collected
        "automated call-back to the registered number",
        "/100",  # the risk
        "by a supervisor",
        request.id,
    ):
        assert words in shown, words
    assert "+336" not in shown  # no phone number in a chat channel

    [done] = desk.notices()
    assert done.status == StepStatus.DONE and "slack:C0APR:" in done.detail
    with desk.world.ctx.reads() as uow:
        events = uow.outbox.list(tenant_id="t_a", after_seq=0, limit=5000)
    outcomes = [
        e.data["outcome"] for e in events if e.type == EventType.RESPONSE_STEP and e.data["kind"] == KIND
    ]
    assert outcomes == ["done"]  # the post is on the ledger


def test_a_decision_that_does_not_change_the_state_posts_nothing_more(desk: Desk) -> None:
    desk.configure(approvals_channel=CHANNEL)
    request = desk.waiting(person="watched")  # watch-listed: two approvals
    desk.responder.tick()
    r = desk.api("POST", f"/requests/{request.id}/approvals", "sup", {"verdict": "approve", "comment": "ok"})
    assert r.status_code == 200 and r.json()["state"] == "pending_approval"
    desk.responder.tick()
    assert len(desk.notices()) == 1 and desk.slack.call_count == 1


def test_without_an_approvers_channel_nothing_is_posted(desk: Desk) -> None:
    desk.waiting()  # no Slack connector at all
    desk.configure()  # a Slack connector for runbook notifications only
    desk.waiting()
    desk.responder.tick()
    assert desk.notices() == [] and desk.slack.call_count == 0


@pytest.mark.parametrize(
    "outage",
    [
        httpx.ConnectError("slack.com unreachable"),
        httpx.Response(503, json={"ok": False, "error": "service_unavailable"}),
    ],
    ids=["unreachable", "503"],
)
def test_a_slack_outage_leaves_the_request_pending_and_approvable(desk: Desk, outage: Any) -> None:
    desk.configure(approvals_channel=CHANNEL)
    if isinstance(outage, Exception):
        desk.slack.mock(side_effect=outage)
    else:
        desk.slack.mock(return_value=outage)
    request = desk.waiting()
    desk.responder.tick()
    [step] = desk.notices()
    assert step.status == StepStatus.RETRYING and step.attempts == 1  # recorded, tried again later
    assert desk.state(request).state == RequestState.PENDING_APPROVAL
    inbox = desk.api("GET", "/approvals", "sup")
    assert [r["id"] for r in inbox.json()] == [request.id]  # the console's inbox still has it
    r = desk.api("POST", f"/requests/{request.id}/approvals", "sup", {"verdict": "approve", "comment": "ok"})
    assert r.status_code == 200 and r.json()["state"] == "ready"

    desk.slack.mock(side_effect=None, return_value=httpx.Response(200, json=POSTED))  # Slack is back
    calls = desk.slack.call_count
    desk.world.clock.advance(minutes=5)
    desk.responder.tick()
    [step] = desk.notices()
    assert step.status == StepStatus.DONE and "not posted" in step.detail and "ready" in step.detail
    assert desk.slack.call_count == calls  # a decided request's message is never posted late


def test_a_refusal_by_slack_fails_the_step_and_keeps_the_request(desk: Desk) -> None:
    desk.configure(approvals_channel=CHANNEL)
    desk.slack.mock(return_value=httpx.Response(200, json={"ok": False, "error": "not_in_channel"}))
    request = desk.waiting()
    desk.responder.tick()
    [step] = desk.notices()
    assert step.status == StepStatus.FAILED and "not_in_channel" in step.detail
    assert desk.state(request).state == RequestState.PENDING_APPROVAL


def _posted_blocks(desk: Desk) -> list[dict[str, Any]]:
    desk.responder.tick()
    return desk.posted()[-1]["blocks"]


def test_a_click_on_the_posted_message_approves_and_shows_who_and_when(desk: Desk) -> None:
    desk.configure(approvals_channel=CHANNEL)
    request = desk.waiting()
    blocks = _posted_blocks(desk)
    r = desk.click(blocks, user="U0SUP")
    assert r.status_code == 200 and r.content == b""
    assert desk.state(request).state == RequestState.READY
    [answer] = desk.answers()
    outcome = (
        f"Approved by sup (sup@desk.example) at 2026-12-01 09:00 UTC: request {request.id} is now ready."
    )
    assert answer["replace_original"] is True and answer["text"] == outcome
    assert [b for b in answer["blocks"] if b["type"] == "actions"] == []  # the buttons are gone
    assert answer["blocks"][:-2] == [b for b in blocks if b["type"] != "actions"][:-1]
    assert answer["blocks"][-1]["text"]["text"] == outcome


def test_with_two_approvals_needed_the_buttons_stay_for_the_second(desk: Desk) -> None:
    desk.configure(approvals_channel=CHANNEL)
    request = desk.waiting(person="watched")
    blocks = _posted_blocks(desk)
    desk.click(blocks, user="U0SUP")
    [first] = desk.answers()
    assert "still waits for another approval" in first["text"]
    assert [b["type"] for b in first["blocks"]][-2:] == ["section", "actions"]
    desk.click(first["blocks"], user="U0SUP2")
    assert desk.state(request).state == RequestState.READY


def _stale(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The message as posted before the request's parameters changed (another hash)."""
    old = copy.deepcopy(blocks)
    [actions] = [b for b in old if b["type"] == "actions"]
    for b in actions["elements"]:
        reference = b["value"].rsplit("/", 1)[0] + "/" + "0" * 64
        b["value"], b["action_id"] = reference, b["action_id"].split(":", 1)[0] + ":" + reference
    return old


@pytest.mark.parametrize(
    ("case", "clicker", "code", "words"),
    [
        ("unmapped", "U0NOBODY", "unauthenticated.slack_user", "not linked to a deskguard operator"),
        ("not_approver", "U0AGENT", "forbidden.role", "you are not an approver"),
        ("stale", "U0SUP", "invalid_transition.params_changed", "changed after this message was posted"),
        ("decided", "U0SUP", "invalid_transition.ready_approval", "already decided: it is ready now"),
        ("self", "U0SUP", "separation_of_duties.requester", "you opened this request"),
        ("target", "U0SUP", "separation_of_duties.target", "about your own account"),
    ],
)
def test_each_refused_click_gets_an_ephemeral_reply_saying_why(
    desk: Desk, case: str, clicker: str, code: str, words: str
) -> None:
    desk.configure(approvals_channel=CHANNEL)
    # "sup" opens it (self-approval); "supself" is sup's own employee record (the target)
    request = desk.waiting(
        by="sup" if case == "self" else "agent", person="supself" if case == "target" else "plain"
    )
    blocks = _posted_blocks(desk)
    if case == "decided":
        r = desk.api(
            "POST", f"/requests/{request.id}/approvals", "sup2", {"verdict": "approve", "comment": "ok"}
        )
        assert r.status_code == 200
    before = desk.state(request).state
    desk.click(_stale(blocks) if case == "stale" else blocks, user=clicker)
    assert desk.state(request).state == before  # nothing changed
    [note] = desk.answers()
    assert note["replace_original"] is False and note["response_type"] == "ephemeral"
    assert note["text"].startswith(f"Not applied ({code}): ") and words in note["text"]
    assert "blocks" not in note  # the message itself stays as it is for everyone else
