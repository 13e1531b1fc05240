"""Slack's side of an approval, for tests: a click on a posted message as Slack signs and sends it.

``click_body`` builds the ``block_actions`` payload Slack posts to the Interactivity Request URL when
someone presses a button of a message whose ``blocks`` deskguard posted (the shape of Slack's
reference: user, team, container, message, response_url, one action), form-encoded as ``payload=``;
``signed_headers`` signs it as Slack does (``v0=`` HMAC-SHA256 over ``v0:<ts>:<body>``).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from deskguard.adapters.channels.slack import decision_buttons, request_reference, signature

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
RESPONSE_URL = "https://hooks.slack.com/actions/T0DESK/6048571234567/WdRkQk1RzW2y5FT5M0xYd4rZ"
PATH = "/api/v1/webhooks/slack/interactions"


def buttons_of(*, tenant_id: str, request_id: str, params_hash: str) -> list[dict[str, Any]]:
    """The Approve / Deny block of the message posted for this request (what a click carries)."""
    reference = request_reference(tenant_id=tenant_id, request_id=request_id, params_hash=params_hash)
    return [decision_buttons(reference, confirm="Reset MFA factors.")]


def button(blocks: list[dict[str, Any]], verdict: str) -> dict[str, Any]:
    """The Approve or Deny button of a posted message."""
    [actions] = [b for b in blocks if b["type"] == "actions"]
    return actions["elements"][0 if verdict == "approve" else 1]


def click_body(blocks: list[dict[str, Any]], *, user: str, verdict: str = "approve") -> bytes:
    pressed = button(blocks, verdict)
    payload = {
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
    return urlencode({"payload": json.dumps(payload)}).encode()


def signed_headers(body: bytes, *, now: float, secret: str = SECRET) -> dict[str, str]:
    ts = str(int(now))
    return {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": ts,
        "x-slack-signature": signature(secret, timestamp=ts, body=body),
    }
