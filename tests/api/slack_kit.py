"""Slack's (and Teams') side of an approval, for tests: the far ends, and a click as Slack signs it.

``open_desk`` builds the real wiring of an approval test (the world, the composition root's
per-tenant routing of ``notify.*``, the API app with a Slack interactivity side, the responder
worker) with respx far ends in the shape of the vendors' contracts: Slack's ``chat.postMessage`` and
``chat.update``, the clicked message's ``response_url``, and the tenant's Teams approvals webhook.
``click_body`` builds the ``block_actions`` payload Slack posts to the Interactivity Request URL when
someone presses a button of a message whose ``blocks`` deskguard posted (the shape of Slack's
reference: user, team, container, message, response_url, one action), form-encoded as ``payload=``;
``signed_headers`` signs it as Slack does (``v0=`` HMAC-SHA256 over ``v0:<ts>:<body>``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import respx
from fastapi.testclient import TestClient

from deskguard.adapters.channels.slack import (
    API,
    SlackInteractions,
    decision_buttons,
    request_reference,
    signature,
)
from deskguard.api.app import create_app
from deskguard.app import approval_notices, approval_updates, requests, verification
from deskguard.app.auth import issue_token
from deskguard.app.requests import RequestDraft
from deskguard.bootstrap_connectors import Deps, validate
from deskguard.bootstrap_connectors import build as build_connector
from deskguard.bootstrap_routing import Registry, TenantAdapters, TenantResponseNotifier
from deskguard.domain.requests import ActionRequest, RequestState
from deskguard.domain.response import ResponseStep
from deskguard.workers.responder import Responder
from http_client import WEBHOOK_KEY
from world import World, build_world

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
RESPONSE_URL = "https://hooks.slack.com/actions/T0DESK/6048571234567/WdRkQk1RzW2y5FT5M0xYd4rZ"
PATH = "/api/v1/webhooks/slack/interactions"
CHANNEL = "#helpdesk-approvals"
POSTED = {"ok": True, "channel": "C0APR", "ts": "1764583200.000100"}
UPDATE = "https://slack.com/api/chat.update"
UPDATED = {"ok": True, "channel": "C0APR", "ts": "1764583200.000100", "text": "updated"}
# a Teams Workflows trigger URL: its sig= makes it the credential
TEAMS_HOOK = (
    "https://prod-42.westeurope.logic.azure.com:443/workflows/4f1c/triggers/manual/paths/invoke"
    "?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=Zm9vYmFyc2lnbmF0dXJl"
)
CONSOLE = "https://deskguard.example.com"


def buttons_of(*, tenant_id: str, request_id: str, params_hash: str) -> list[dict[str, Any]]:
    """The Approve / Deny block of the message posted for this request (what a click carries)."""
    reference = request_reference(tenant_id=tenant_id, request_id=request_id, params_hash=params_hash)
    return [decision_buttons(reference, confirm="Reset MFA factors.")]


def button(blocks: list[dict[str, Any]], verdict: str) -> dict[str, Any]:
    """The Approve or Deny button of a posted message."""
    [actions] = [b for b in blocks if b["type"] == "actions"]
    return actions["elements"][0 if verdict == "approve" else 1]


def click_payload(blocks: list[dict[str, Any]], *, user: str, verdict: str = "approve") -> dict[str, Any]:
    """A ``block_actions`` payload as Slack posts it for a click on a message of ``blocks``."""
    pressed = button(blocks, verdict)
    return {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T0DESK"},
        "api_app_id": "A0DESKGUARD",
        "token": "verification-token-unused",
        "container": {"type": "message", "message_ts": "1764583200.000100", "channel_id": "C0APR"},
        "trigger_id": "6048571234567.1234567890.abcdef0123456789abcdef0123456789",
        "team": {"id": "T0DESK", "domain": "desk-example"},
        "channel": {"id": "C0APR", "name": "helpdesk-approvals"},
        "message": {"type": "message", "ts": "1764583200.000100", "blocks": blocks},
        "response_url": RESPONSE_URL,
        "actions": [
            {
                "action_id": pressed["action_id"],
                "block_id": "deskguard.decision",
                "text": pressed["text"],
                "value": pressed["value"],
                "style": pressed["style"],
                "type": "button",
                "action_ts": "1764583201.123456",
            }
        ],
    }


def click_body(blocks: list[dict[str, Any]], *, user: str, verdict: str = "approve") -> bytes:
    return urlencode({"payload": json.dumps(click_payload(blocks, user=user, verdict=verdict))}).encode()


def signed_headers(body: bytes, *, now: float, secret: str = SECRET) -> dict[str, str]:
    ts = str(int(now))
    return {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": ts,
        "x-slack-signature": signature(secret, timestamp=ts, body=body),
    }


@dataclass
class Desk:
    world: World
    client: TestClient
    slack: respx.Route  # chat.postMessage
    hooks: respx.Route  # the clicked message's response_url
    responder: Responder
    tokens: dict[str, str]
    update: respx.Route  # chat.update
    teams: respx.Route  # the tenant's Teams approvals webhook

    def api(self, method: str, path: str, who: str, body: object = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        return self.client.request(method, f"/api/v1/tenants/t_a{path}", json=body, headers=headers)

    def configure(self, **settings: Any) -> None:
        body = {"kind": "slack", "settings": {"bot_token": "env://DG_TENANT_SLACK_BOT", **settings}}
        r = self.api("PUT", "/connectors/notify.slack", "admin", body)
        assert r.status_code == 200, r.text

    def configure_teams(self, **settings: Any) -> None:
        body = {
            "kind": "teams",
            "settings": {
                "webhook_url": "env://DG_TENANT_TEAMS_SOC",
                "approval_base_url": CONSOLE,
                **settings,
            },
        }
        r = self.api("PUT", "/connectors/notify.teams", "admin", body)
        assert r.status_code == 200, r.text

    def waiting(self, *, by: str = "agent", person: str = "plain") -> ActionRequest:
        """An MFA reset proven by push and call-back: waiting for one supervisor's approval."""
        ctx, w = self.world.ctx, self.world
        request = requests.open_request(
            ctx, actor=w.operator(by), tenant_id="t_a", draft=RequestDraft(kind="reset_mfa", person_id=person)
        )
        for method in ("push_number_match", "callback_automated"):
            proof = verification.start_proof(
                ctx, actor=w.operator(by), tenant_id="t_a", request_id=request.id, method=method
            )
            if method == "push_number_match":
                verification.respond_push(
                    ctx,
                    actor=w.person(person),
                    tenant_id="t_a",
                    proof_id=proof.id,
                    approve=True,
                    number=proof.challenge["number_to_read_out"],
                )
            else:
                verification.callback_result(ctx, call_id=proof.challenge["call_id"], confirmed=True)
        found = self.state(request)
        assert found.state == RequestState.PENDING_APPROVAL
        return found

    def state(self, request: ActionRequest) -> ActionRequest:
        with self.world.ctx.reads() as uow:
            found = uow.requests.get(tenant_id="t_a", request_id=request.id)
        assert found is not None
        return found

    def steps(self, kind: str) -> list[ResponseStep]:
        with self.world.ctx.reads() as uow:
            steps = uow.response_steps.list(tenant_id="t_a", limit=1000)
        return sorted((s for s in steps if s.kind == kind), key=lambda s: (s.run_id, s.index))

    def notices(self) -> list[ResponseStep]:
        return self.steps(approval_notices.KIND)

    def updates(self) -> list[ResponseStep]:
        return self.steps(approval_updates.KIND)

    def posted(self) -> list[dict[str, Any]]:
        return [json.loads(call.request.content) for call in self.slack.calls]

    def click(self, blocks: list[dict[str, Any]], *, user: str, verdict: str = "approve") -> httpx.Response:
        body = click_body(blocks, user=user, verdict=verdict)
        headers = signed_headers(body, now=self.world.clock.now().timestamp())
        return self.client.post(PATH, content=body, headers=headers)

    def answers(self) -> list[dict[str, Any]]:
        return [json.loads(call.request.content) for call in self.hooks.calls]


@contextmanager
def open_desk(uow_factory: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    monkeypatch.setenv("DG_TENANT_SLACK_BOT", "xoxb-tenant-a")
    monkeypatch.setenv("DG_SLACK_SIGNING", SECRET)
    monkeypatch.setenv("DG_TENANT_TEAMS_SOC", "https://soc.example.webhook.office.com/webhookb2/soc")
    monkeypatch.setenv("DG_TENANT_TEAMS_APPROVALS", TEAMS_HOOK)
    world = build_world(uow_factory)
    # the composition root's routing (bootstrap.build): the tenant's own notify.*, else the fake
    tenants = TenantAdapters(
        reads=world.ctx.reads,
        build=partial(build_connector, deps=Deps(clock=world.ctx.clock, randomness=world.ctx.random)),
    )
    notifier = TenantResponseNotifier(tenants, fallback=world.response_notifier)
    deployment = {"notify.slack": world.response_notifier, "notify.teams": world.response_notifier}
    world.ctx = replace(
        world.ctx,
        channels=replace(world.ctx.channels, response_notifier=notifier),
        connectors=Registry(tenants, deployment=deployment, validate=validate),
    )
    tokens: dict[str, str] = {}
    with world.ctx.uow() as uow:
        for oid in ("admin", "sup", "sup2"):
            tokens[oid] = issue_token(world.ctx, uow, subject_kind="operator", subject_id=oid, label="test")
        uow.commit()
    with respx.mock(assert_all_called=False) as mock:
        slack = mock.post(API).mock(return_value=httpx.Response(200, json=POSTED))
        update = mock.post(UPDATE).mock(return_value=httpx.Response(200, json=UPDATED))
        hooks = mock.post(RESPONSE_URL).mock(return_value=httpx.Response(200, text="ok"))
        teams = mock.post(TEAMS_HOOK).mock(return_value=httpx.Response(202))
        app = create_app(world.ctx, webhook_key=WEBHOOK_KEY)
        app.state.slack = SlackInteractions(
            signing_secret="env://DG_SLACK_SIGNING",
            operator_map={"U0SUP": "sup", "U0SUP2": "sup2", "U0AGENT": "agent"},
            client=httpx.Client(),
        )
        with TestClient(app) as client:
            yield Desk(world, client, slack, hooks, Responder(world.ctx), tokens, update, teams)
