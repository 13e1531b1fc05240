"""Slack notifications (Block Kit, ``chat.postMessage``) and the check of Slack's inbound signature.

Outbound: the message carries the subject and text, and Approve / Deny buttons whose ``action_id``
is ``deskguard.approve:<ref>`` / ``deskguard.deny:<ref>`` and whose ``value`` is ``<ref>``, the
response step's idempotency key (``<run id>:<index>``). Slack answers 200 with ``{"ok": false,
"error": ...}`` when it refuses: that is a ``ConnectorError`` carrying Slack's error. A post is not
idempotent at Slack, so it is tried once; the step runner decides about retrying.

Inbound (the Interactivity Request URL): ``verify_signature`` checks ``X-Slack-Signature`` =
``v0=`` + hex HMAC-SHA256(signing secret, ``v0:{X-Slack-Request-Timestamp}:{raw body}``), with the
timestamp within 5 minutes, in constant time. ``parse_action`` reads a button's reference back.
``SlackInteractions`` serves ``POST /api/v1/webhooks/slack/interactions``: it checks the signature,
reads the ``block_actions`` payload (form field ``payload=``), finds the clicking user's e-mail
(``users.info``, scope ``users:read.email``) when no explicit mapping names their operator, and
updates the message through the payload's ``response_url`` (``https://hooks.slack.com/`` only).
A button approving an action request carries the reference ``request/<tenant>/<request>/<params
hash>`` (``request_reference``): the click approves the parameters the message showed, no others.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import httpx
from pydantic import BaseModel, ConfigDict, Field

from deskguard.adapters.channels.delivery import DeliveryMemo, require_channel
from deskguard.adapters.connectors.http import DEFAULT_TIMEOUT, json_body, send
from deskguard.adapters.connectors.retry import with_retries
from deskguard.adapters.connectors.secrets import SecretRef, resolve
from deskguard.domain.errors import ConfigurationError, ConnectorError

CHANNEL = "slack"
API = "https://slack.com/api/chat.postMessage"
USERS_INFO = "https://slack.com/api/users.info"
RESPONSE_URLS = "https://hooks.slack.com/"
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


def request_reference(*, tenant_id: str, request_id: str, params_hash: str) -> str:
    """The button reference of an action request's approval message."""
    return f"request/{tenant_id}/{request_id}/{params_hash}"


def parse_request_reference(reference: str) -> tuple[str, str, str]:
    """``(tenant_id, request_id, params_hash)``; ValueError when it names no action request."""
    kind, _, rest = reference.partition("/")
    parts = rest.split("/")
    if kind != "request" or len(parts) != 3 or not all(parts):
        raise ValueError(f"this button does not approve an action request: {reference!r}")
    return parts[0], parts[1], parts[2]


def parse_operator_map(text: str) -> dict[str, str]:
    """``U0123=op_bruno,U0456=op_olga`` (Slack user id = deskguard operator id)."""
    mapping: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        user, sep, operator = (x.strip() for x in item.partition("="))
        if not sep or not user or not operator:
            raise ConfigurationError(
                f"slack_operator_map: {item!r} is not <Slack user id>=<operator id>",
                field="slack_operator_map",
            )
        mapping[user] = operator
    return mapping


@dataclass(frozen=True, slots=True)
class BlockAction:
    """One button click of a ``block_actions`` payload."""

    user_id: str
    user_name: str
    team_id: str
    verdict: str  # "approve" | "deny"
    reference: str
    response_url: str


class SlackInteractions:
    """The Interactivity Request URL's side of Slack: check, read, look the user up, answer."""

    def __init__(
        self,
        *,
        signing_secret: SecretRef,
        bot_token: SecretRef | None = None,
        operator_map: Mapping[str, str] | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        self._secret = resolve(signing_secret, field="slack_signing_secret")
        self._token = resolve(bot_token, field="slack_bot_token") if bot_token else None
        self.operator_map = dict(operator_map or {})
        self._client = client or httpx.Client(timeout=DEFAULT_TIMEOUT)

    def verify(self, *, headers: Mapping[str, str], body: bytes, now: float) -> None:
        verify_signature(self._secret, headers=headers, body=body, now=now)

    @staticmethod
    def parse(body: bytes) -> BlockAction:
        """The click, from the form-encoded ``payload=``; ValueError naming what is wrong."""
        fields = parse_qs(body.decode("utf-8", errors="replace"))
        if len(fields.get("payload", [])) != 1:
            raise ValueError("payload: one form field 'payload' with the interaction JSON is required")
        try:
            payload = json.loads(fields["payload"][0])
        except ValueError:
            raise ValueError("payload: not JSON") from None
        if not isinstance(payload, dict) or payload.get("type") != "block_actions":
            raise ValueError("payload.type: only block_actions interactions are handled")
        user, actions = payload.get("user"), payload.get("actions")
        if not isinstance(user, dict) or not isinstance(user.get("id"), str):
            raise ValueError("payload.user.id: missing")
        if not isinstance(actions, list) or len(actions) != 1 or not isinstance(actions[0], dict):
            raise ValueError("payload.actions: exactly one action is expected")
        verdict, reference = parse_action(str(actions[0].get("action_id", "")))
        response_url = payload.get("response_url")
        if not isinstance(response_url, str) or not response_url.startswith(RESPONSE_URLS):
            raise ValueError(f"payload.response_url: must start with {RESPONSE_URLS}")
        team = payload.get("team")
        return BlockAction(
            user_id=user["id"],
            user_name=str(user.get("username") or user.get("name") or ""),
            team_id=str(team.get("id", "")) if isinstance(team, dict) else str(user.get("team_id", "")),
            verdict=verdict,
            reference=reference,
            response_url=response_url,
        )

    def user_email(self, user_id: str) -> str | None:
        """The Slack user's profile e-mail (``users.info``), ``None`` without a bot token or e-mail."""
        if self._token is None:
            return None
        headers = {"authorization": f"Bearer {self._token}"}
        response = with_retries(
            lambda: send(
                self._client, "GET", USERS_INFO, vendor="slack", params={"user": user_id}, headers=headers
            ),
            idempotent=True,
        )
        body = json_body(response, vendor="slack")
        error = body.get("error", "malformed") if isinstance(body, dict) else "malformed"
        if isinstance(body, dict) and body.get("ok") is not True and error == "user_not_found":
            return None
        if not isinstance(body, dict) or body.get("ok") is not True:
            raise ConnectorError(f"slack users.info refused: {error}")
        profile = (body.get("user") or {}).get("profile") or {}
        email = profile.get("email") if isinstance(profile, dict) else None
        return email if isinstance(email, str) and email else None

    def respond(self, response_url: str, *, text: str, replace_original: bool) -> None:
        """Update the clicked message (or add an ephemeral note) through ``response_url``."""
        message: dict[str, Any] = {"text": text, "replace_original": replace_original}
        if not replace_original:
            message["response_type"] = "ephemeral"
        send(self._client, "POST", response_url, vendor="slack", json=message)
