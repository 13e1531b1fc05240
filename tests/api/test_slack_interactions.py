"""Slack's Interactivity Request URL end to end: real signed ``block_actions`` payloads (the shape of
Slack's reference), the approval applied through the same use case as the API, with its role and
4-eyes checks, and the message updated through ``response_url`` (respx)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import respx
from fastapi.testclient import TestClient
from slack_kit import RESPONSE_URL, SECRET, button, click_payload

from deskguard.adapters.channels.slack import (
    USERS_INFO,
    SlackInteractions,
    approval_blocks,
    request_reference,
    signature,
)
from deskguard.api.app import create_app
from deskguard.app import requests, verification
from deskguard.app.requests import RequestDraft
from deskguard.domain.ports_approvals import ApprovalNotice
from deskguard.domain.requests import ActionRequest, RequestState
from http_client import WEBHOOK_KEY
from world import World, build_world

PATH = "/api/v1/webhooks/slack/interactions"


@dataclass
class Desk:
    world: World
    client: TestClient
    mock: respx.MockRouter

    def request(self, by: str = "agent") -> ActionRequest:
        """``plain``'s MFA reset, proven by push: pending one supervisor's approval."""
        ctx, world = self.world.ctx, self.world
        request = requests.open_request(
            ctx,
            actor=world.operator(by),
            tenant_id="t_a",
            draft=RequestDraft(kind="reset_mfa", person_id="plain"),
        )
        for method in ("push_number_match", "callback_automated"):
            proof = verification.start_proof(
                ctx, actor=world.operator(by), tenant_id="t_a", request_id=request.id, method=method
            )
            if method == "push_number_match":
                verification.respond_push(
                    ctx,
                    actor=world.person("plain"),
                    tenant_id="t_a",
                    proof_id=proof.id,
                    approve=True,
                    number=proof.challenge["number_to_read_out"],
                )
            else:
                verification.callback_result(ctx, call_id=proof.challenge["call_id"], confirmed=True)
        return self.state(request)

    def state(self, request: ActionRequest) -> ActionRequest:
        with self.world.ctx.reads() as uow:
            found = uow.requests.get(tenant_id="t_a", request_id=request.id)
        assert found is not None
        return found

    def click(
        self,
        request: ActionRequest,
        *,
        user: str,
        verdict: str = "approve",
        stamp: int | None = None,
        **over: Any,
    ) -> httpx.Response:
        body = urlencode(
            {"payload": json.dumps(payload(request, user=user, verdict=verdict, **over))}
        ).encode()
        ts = str(stamp if stamp is not None else int(self.world.clock.now().timestamp()))
        headers = {
            "content-type": "application/x-www-form-urlencoded",
            "x-slack-request-timestamp": ts,
            "x-slack-signature": signature(SECRET, timestamp=ts, body=body),
        }
        return self.client.post(PATH, content=body, headers=headers)

    def responses(self) -> list[dict[str, Any]]:
        return [
            json.loads(c.request.content) for c in self.mock.calls if c.request.url.host == "hooks.slack.com"
        ]


def payload(request: ActionRequest, *, user: str, verdict: str, **over: Any) -> dict[str, Any]:
    """A ``block_actions`` payload as Slack posts it for a click on the message ``blocks`` built."""
    reference = request_reference(tenant_id="t_a", request_id=request.id, params_hash=request.params_hash)
    notice = ApprovalNotice(
        tenant_id="t_a",
        request_id=request.id,
        params_hash=request.params_hash,
        action="Reset MFA factors",
        person="Person plain (plain@t_a.example)",
        requester="agent (agent@desk.example)",
        justification="",
        proofs=("push with number matching to the person's enrolled device (strong)",),
        risk="0/100",
        ticket="",
        approver_role="supervisor",
        expires_at=request.expires_at.isoformat(),
    )
    message_blocks = approval_blocks(notice)
    assert button(message_blocks, verdict)["value"] == reference
    body = click_payload(message_blocks, user=user, verdict=verdict)
    body.update(over)
    return body


@pytest.fixture
def desk(uow_factory: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    monkeypatch.setenv("DG_SLACK_SIGNING", SECRET)
    monkeypatch.setenv("DG_SLACK_BOT", "xoxb-test")
    world = build_world(uow_factory)
    with respx.mock(assert_all_called=False) as mock:
        mock.post(RESPONSE_URL).mock(return_value=httpx.Response(200, text="ok"))
        mock.get(USERS_INFO).mock(side_effect=_users_info)
        app = create_app(world.ctx, webhook_key=WEBHOOK_KEY)
        app.state.slack = SlackInteractions(
            signing_secret="env://DG_SLACK_SIGNING",
            bot_token="env://DG_SLACK_BOT",
            operator_map={"U0SUP": "sup", "U0AGENT": "agent"},
            client=httpx.Client(),
        )
        with TestClient(app) as client:
            yield Desk(world, client, mock)


EMAILS = {"U0SUP2": "sup2@desk.example", "U0STRANGER": "stranger@elsewhere.example"}


def _users_info(request: httpx.Request) -> httpx.Response:
    """``users.info`` as Slack answers it (``ok``, ``user.profile.email``), or ``user_not_found``."""
    assert request.headers["authorization"] == "Bearer xoxb-test"
    user = request.url.params["user"]
    if user not in EMAILS:
        return httpx.Response(200, json={"ok": False, "error": "user_not_found"})
    profile = {"email": EMAILS[user], "real_name": user, "display_name": user.lower()}
    return httpx.Response(
        200, json={"ok": True, "user": {"id": user, "team_id": "T0DESK", "profile": profile}}
    )


def test_a_supervisors_click_approves_and_updates_the_message(desk: Desk) -> None:
    request = desk.request()
    assert request.state == RequestState.PENDING_APPROVAL
    r = desk.click(request, user="U0SUP")
    assert r.status_code == 200 and r.content == b""
    assert desk.state(request).state == RequestState.READY
    [update] = desk.responses()
    assert update["replace_original"] is True
    assert update["text"] == (
        f"Approved by sup (sup@desk.example) at 2026-12-01 09:00 UTC: request {request.id} is now ready."
    )
    assert [b for b in update["blocks"] if b["type"] == "actions"] == []  # the buttons give way


def test_the_slack_users_email_finds_the_operator(desk: Desk) -> None:
    request = desk.request()
    desk.click(request, user="U0SUP2")
    assert desk.state(request).state == RequestState.READY
    assert "Approved by sup2 (sup2@desk.example) at " in desk.responses()[0]["text"]


def test_a_deny_click_denies_with_a_comment(desk: Desk) -> None:
    request = desk.request()
    desk.click(request, user="U0SUP", verdict="deny")
    denied = desk.state(request)
    assert denied.state == RequestState.DENIED and "denied in Slack by u0sup" in (denied.failure_reason or "")


@pytest.mark.parametrize(
    ("opened_by", "clicker", "code"),
    [
        ("agent", "U0AGENT", "forbidden.role"),  # agents approve nothing, in Slack as in the API
        ("sup", "U0SUP", "separation_of_duties.requester"),  # 4-eyes: the requester cannot approve
        ("agent", "U0STRANGER", "unauthenticated.slack_user"),  # an e-mail no operator has
        ("agent", "U0NOBODY", "unauthenticated.slack_user"),  # users.info: user_not_found
    ],
)
def test_refused_clicks_change_nothing_and_say_why(
    desk: Desk, opened_by: str, clicker: str, code: str
) -> None:
    request = desk.request(by=opened_by)
    r = desk.click(request, user=clicker)
    assert r.status_code == 200  # Slack is acknowledged either way; the refusal goes to response_url
    assert desk.state(request).state == RequestState.PENDING_APPROVAL
    [note] = desk.responses()
    assert note["replace_original"] is False and note["response_type"] == "ephemeral"
    assert note["text"].startswith(f"Not applied ({code})")


def test_unknown_slack_user_refusal_is_logged(desk: Desk) -> None:
    from structlog.testing import capture_logs

    request = desk.request()
    with capture_logs() as logs:
        desk.click(request, user="U0NOBODY")
    [refusal] = [e for e in logs if e["event"] == "slack_interaction_refused"]
    assert refusal["slack_user"] == "U0NOBODY" and refusal["code"] == "unauthenticated.slack_user"


def test_a_button_for_other_parameters_is_refused(desk: Desk) -> None:
    request = desk.request()
    stale = request_reference(tenant_id="t_a", request_id=request.id, params_hash="0" * 64)
    action = payload(request, user="U0SUP", verdict="approve")["actions"][0]
    action = {**action, "action_id": f"deskguard.approve:{stale}", "value": stale}
    desk.click(request, user="U0SUP", actions=[action])
    assert desk.state(request).state == RequestState.PENDING_APPROVAL
    assert desk.responses()[0]["text"].startswith("Not applied (invalid_transition.params_changed)")


def test_bad_signatures_and_stale_timestamps_are_refused_before_anything(desk: Desk) -> None:
    request = desk.request()
    now = int(desk.world.clock.now().timestamp())
    assert desk.click(request, user="U0SUP", stamp=now - 301).status_code == 401
    body = urlencode({"payload": json.dumps(payload(request, user="U0SUP", verdict="approve"))}).encode()
    forged = {
        "x-slack-request-timestamp": str(now),
        "x-slack-signature": signature("wrong", timestamp=str(now), body=body),
    }
    r = desk.client.post(PATH, content=body, headers=forged)
    assert r.status_code == 401 and "does not match" in r.json()["detail"]
    assert desk.state(request).state == RequestState.PENDING_APPROVAL and desk.responses() == []


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"type": "view_submission"}, "payload.type"),
        ({"response_url": "https://evil.example/hook"}, "payload.response_url"),
        ({"actions": []}, "payload.actions"),
    ],
)
def test_malformed_payloads_are_named(desk: Desk, over: dict[str, Any], field: str) -> None:
    request = desk.request()
    r = desk.click(request, user="U0SUP", **over)
    assert r.status_code == 422 and r.json()["field"] == field
    assert desk.responses() == []


def test_the_route_is_404_without_a_signing_secret(uow_factory: Any) -> None:
    world = build_world(uow_factory)
    client = TestClient(create_app(world.ctx, webhook_key=WEBHOOK_KEY))
    assert client.post(PATH, content=b"payload={}").status_code == 404
