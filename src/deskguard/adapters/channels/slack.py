"""Slack notifications (Block Kit, ``chat.postMessage``) and the check of Slack's inbound signature.

Outbound: the message carries the subject and text, and Approve / Deny buttons whose ``action_id``
is ``deskguard.approve:<ref>`` / ``deskguard.deny:<ref>`` and whose ``value`` is ``<ref>``, the
response step's idempotency key (``<run id>:<index>``). Slack answers 200 with ``{"ok": false,
"error": ...}`` when it refuses: that is a ``ConnectorError`` carrying Slack's error. A post is not
idempotent at Slack, so it is tried once; the step runner decides about retrying.

Inbound (the Interactivity Request URL): ``verify_signature`` checks ``X-Slack-Signature`` =
``v0=`` + hex HMAC-SHA256(signing secret, ``v0:{X-Slack-Request-Timestamp}:{raw body}``), with the
timestamp within 5 minutes, in constant time. ``parse_action`` reads a button's reference back.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

from deskguard.adapters.channels.delivery import DeliveryMemo, require_channel
from deskguard.adapters.connectors.http import DEFAULT_TIMEOUT, json_body, send
from deskguard.adapters.connectors.retry import with_retries
from deskguard.adapters.connectors.secrets import SecretRef, resolve
from deskguard.domain.errors import ConnectorError

CHANNEL = "slack"
API = "https://slack.com/api/chat.postMessage"
TOLERANCE_S = 300
APPROVE, DENY = "deskguard.approve", "deskguard.deny"


class SlackSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    bot_token: SecretRef = Field(description="xoxb- bot token with chat:write")
    signing_secret: SecretRef | None = Field(default=None, description="checks inbound requests")
    api_url: str = API


class SlackSignatureError(ValueError):
    """An inbound request whose Slack signature or timestamp does not verify."""


def signature(secret: str, *, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str, *, headers: Mapping[str, str], body: bytes, now: float, tolerance_s: float = TOLERANCE_S
) -> None:
    """Raises ``SlackSignatureError`` unless the request is Slack's, signed within the window."""
    lowered = {k.lower(): v for k, v in headers.items()}
    stamp = lowered.get("x-slack-request-timestamp", "")
    given = lowered.get("x-slack-signature", "")
    if not stamp.isdigit() or not given.startswith("v0="):
        raise SlackSignatureError("missing or malformed X-Slack-Request-Timestamp / X-Slack-Signature")
    if abs(now - int(stamp)) > tolerance_s:
        raise SlackSignatureError("X-Slack-Request-Timestamp is outside the 5-minute window")
    if not hmac.compare_digest(given.encode(), signature(secret, timestamp=stamp, body=body).encode()):
        raise SlackSignatureError("X-Slack-Signature does not match")


def parse_action(action_id: str) -> tuple[str, str]:
    """``("approve" | "deny", reference)`` from a button's ``action_id``; ValueError otherwise."""
    verb, sep, reference = action_id.partition(":")
    if not sep or not reference or verb not in (APPROVE, DENY):
        raise ValueError(f"not a deskguard action: {action_id!r}")
    return ("approve" if verb == APPROVE else "deny"), reference


def blocks(*, subject: str, text: str, reference: str) -> list[dict[str, Any]]:
    """Block Kit: a header, the text, and the two buttons carrying ``reference``."""
    return [
        {"type": "header", "text": {"type": "plain_text", "text": subject[:150] or "deskguard"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000] or " "}},
        {
            "type": "actions",
            "block_id": "deskguard.decision",
            "elements": [
                _button("Approve", f"{APPROVE}:{reference}", reference, "primary"),
                _button("Deny", f"{DENY}:{reference}", reference, "danger"),
            ],
        },
    ]


def _button(label: str, action_id: str, value: str, style: str) -> dict[str, Any]:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": label},
        "action_id": action_id[:255],
        "value": value[:2000],
        "style": style,
    }


class SlackNotifier:
    """``ResponseNotifier`` for the ``slack`` channel: ``to`` is the channel (``#soc`` or an id)."""

    def __init__(self, settings: SlackSettings, *, client: httpx.Client | None = None) -> None:
        self._settings = settings
        self._token = resolve(settings.bot_token, field="slack_bot_token")
        self._client = client or httpx.Client(timeout=DEFAULT_TIMEOUT)
        self._memo = DeliveryMemo()

    def send(
        self, *, tenant_id: str, channel: str, to: str, subject: str, text: str, idempotency_key: str
    ) -> str:
        require_channel(channel, expected=CHANNEL)
        payload = {
            "channel": to,
            "text": f"{subject}\n{text}",  # the notification's fallback text
            "blocks": blocks(subject=subject, text=text, reference=idempotency_key),
            "metadata": {
                "event_type": "deskguard_notification",
                "event_payload": {"tenant_id": tenant_id, "reference": idempotency_key},
            },
        }
        return self._memo.once(
            tenant_id=tenant_id,
            idempotency_key=idempotency_key,
            deliver=lambda: with_retries(lambda: self._post(payload), idempotent=False),
        )

    def _post(self, payload: dict[str, Any]) -> str:
        headers = {"authorization": f"Bearer {self._token}"}
        response = send(
            self._client, "POST", self._settings.api_url, vendor="slack", json=payload, headers=headers
        )
        body = json_body(response, vendor="slack")
        if not isinstance(body, dict) or "ok" not in body:
            raise ConnectorError('slack answered a body without "ok" (malformed)')
        if body["ok"] is not True:
            raise ConnectorError(f"slack refused: {body.get('error', 'unknown_error')}")
        ts, where = body.get("ts"), body.get("channel")
        if not isinstance(ts, str) or not isinstance(where, str):
            raise ConnectorError("slack answered ok without channel and ts (malformed)")
        return f"slack:{where}:{ts}"
