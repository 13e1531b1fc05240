"""Slack notifications (Block Kit, ``chat.postMessage``) and the check of Slack's inbound signature.

Outbound, two kinds of message. A runbook notification (``send``, the ``ResponseNotifier`` port) is
the subject and the text, with no buttons: nothing a click could do. An approval message
(``post_approval``, the ``ApprovalMessenger`` port, posted by ``app.approval_notices`` when a
request enters ``pending_approval``) shows who asks, for whom, the action, the proofs, the risk and
its reasons, the ticket, and Approve / Deny buttons whose ``action_id`` is ``deskguard.approve:<ref>``
/ ``deskguard.deny:<ref>`` and whose ``value`` is ``<ref>`` = ``request/<tenant>/<request>/<params
hash>`` (``request_reference``): the click approves the parameters the message showed, no others.
Slack answers 200 with ``{"ok": false, "error": ...}`` when it refuses: that is a ``ConnectorError``
carrying Slack's error. A post is not idempotent at Slack, so it is tried once; the step runner
decides about retrying. Once the request no longer waits, ``update_approval`` (``ApprovalUpdater``,
queued by ``app.approval_updates``) rewrites the posted message with ``chat.update`` (channel and
``ts`` from ``post_approval``'s reference ``slack:<channel id>:<ts>``): the same blocks, the
buttons replaced by the outcome. An update is idempotent, so it is retried like a read.

Inbound (the Interactivity Request URL): ``verify_signature`` checks ``X-Slack-Signature`` =
``v0=`` + hex HMAC-SHA256(signing secret, ``v0:{X-Slack-Request-Timestamp}:{raw body}``), with the
timestamp within 5 minutes, in constant time. ``parse_action`` reads a button's reference back.
``SlackInteractions`` serves ``POST /api/v1/webhooks/slack/interactions``: it checks the signature,
reads the ``block_actions`` payload (form field ``payload=``), finds the clicking user's e-mail
(``users.info``, scope ``users:read.email``) when no explicit mapping names their operator, and
answers through the payload's ``response_url`` (``https://hooks.slack.com/`` only): the message
with its buttons replaced by the outcome (``decided_blocks``), or an ephemeral note to the clicker.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qs

import httpx
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from deskguard.adapters.channels.delivery import DeliveryMemo, require_channel
from deskguard.adapters.connectors.http import DEFAULT_TIMEOUT, json_body, send
from deskguard.adapters.connectors.retry import with_retries
from deskguard.adapters.connectors.secrets import SecretRef, resolve
from deskguard.domain.errors import ConfigurationError, ConnectorError
from deskguard.domain.ports_approvals import ApprovalNotice

CHANNEL = "slack"
API = "https://slack.com/api/chat.postMessage"
UPDATE_METHOD = "chat.update"  # beside chat.postMessage, under the same API base
USERS_INFO = "https://slack.com/api/users.info"
RESPONSE_URLS = "https://hooks.slack.com/"
TOLERANCE_S = 300
APPROVE, DENY = "deskguard.approve", "deskguard.deny"
DECISION_BLOCK = "deskguard.decision"


class SlackSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    bot_token: SecretRef = Field(description="xoxb- bot token with chat:write")
    signing_secret: SecretRef | None = Field(default=None, description="checks inbound requests")
    api_url: str = API
    approvals_channel: str | None = Field(
        default=None,
        pattern=r"^(#[a-z0-9][a-z0-9._-]{0,79}|[CG][A-Z0-9]{2,})$",
        description="where approval requests are posted (#channel or channel id); unset: none",
    )
    operator_map: dict[
        Annotated[str, StringConstraints(pattern=r"^[UW][A-Z0-9]{2,}$")],
        Annotated[str, StringConstraints(min_length=1, max_length=64)],
    ] = Field(
        default_factory=dict,
        description="Slack user id -> deskguard operator id of the clickers (else their Slack e-mail)",
    )


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


def escape(text: str) -> str:
    """Slack's mrkdwn control characters, escaped: content can never mention or link anyone."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def blocks(*, subject: str, text: str) -> list[dict[str, Any]]:
    """Block Kit of a plain notification: a header and the text, no buttons."""
    return [
        {"type": "header", "text": {"type": "plain_text", "text": subject[:150] or "deskguard"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": escape(text)[:3000] or " "}},
    ]


def decision_buttons(reference: str, *, confirm: str) -> dict[str, Any]:
    """The actions block: Approve (with a confirmation dialog) and Deny, both carrying ``reference``."""
    approve = _button("Approve", f"{APPROVE}:{reference}", reference, "primary")
    approve["confirm"] = {
        "title": {"type": "plain_text", "text": "Approve this request?"},
        "text": {"type": "plain_text", "text": confirm[:300]},
        "confirm": {"type": "plain_text", "text": "Approve"},
        "deny": {"type": "plain_text", "text": "Cancel"},
    }
    return {
        "type": "actions",
        "block_id": DECISION_BLOCK,
        "elements": [approve, _button("Deny", f"{DENY}:{reference}", reference, "danger")],
    }


def approval_subject(notice: ApprovalNotice) -> str:
    return f"Approval needed: {notice.action}"


def approval_blocks(notice: ApprovalNotice) -> list[dict[str, Any]]:
    """The approval message: who asks, for whom, what, the proofs, the risk, the ticket, the buttons."""
    reference = request_reference(
        tenant_id=notice.tenant_id, request_id=notice.request_id, params_hash=notice.params_hash
    )
    proofs = "\n".join(f"• {escape(p)}" for p in notice.proofs) or "none yet"
    facts = [
        ("Asked by", notice.requester),
        ("For", notice.person),
        ("Action", notice.action),
        ("Ticket", notice.ticket or "none"),
    ]
    said = f"\n*Justification*\n{escape(notice.justification)}" if notice.justification else ""
    return [
        {"type": "header", "text": {"type": "plain_text", "text": approval_subject(notice)[:150]}},
        {
            "type": "section",
            "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{escape(v)[:1900]}"} for k, v in facts],
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*Proofs collected*\n{proofs}"[:3000]}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"*Risk*\n{escape(notice.risk)}{said}"[:3000]},
        },
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": escape(
                        f"Request {notice.request_id} · needs a {notice.approver_role} · "
                        f"expires {notice.expires_at}"
                    ),
                }
            ],
        },
        decision_buttons(reference, confirm=f"{notice.action} for {notice.person}."),
    ]


def decided_blocks(
    original: Sequence[Any], *, outcome: str, keep_buttons: bool = False
) -> list[dict[str, Any]]:
    """The clicked message with its buttons replaced by the outcome ("Approved by … at …"), or, while
    more approvals are needed (``keep_buttons``), the outcome added above the buttons."""
    said = {"type": "section", "text": {"type": "mrkdwn", "text": escape(outcome)[:3000]}}
    kept: list[dict[str, Any]] = []
    for block in original:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "actions" and block.get("block_id") == DECISION_BLOCK:
            if keep_buttons:
                kept.extend([said, block])
            continue
        kept.append(block)
    return kept if keep_buttons and said in kept else [*kept, said]


def _button(label: str, action_id: str, value: str, style: str) -> dict[str, Any]:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": label},
        "action_id": action_id[:255],
        "value": value[:2000],
        "style": style,
    }


class SlackNotifier:
    """``ResponseNotifier`` and ``ApprovalMessenger`` for the ``slack`` channel: ``to`` is the
    channel (``#soc`` or an id)."""

    def __init__(self, settings: SlackSettings, *, client: httpx.Client | None = None) -> None:
        self._settings = settings
        self._token = resolve(settings.bot_token, field="slack_bot_token")
        self._client = client or httpx.Client(timeout=DEFAULT_TIMEOUT)
        self._memo = DeliveryMemo()
        # built now, so that an unreadable signing secret fails the build, not a click
        self._interactions = (
            SlackInteractions(
                signing_secret=settings.signing_secret,
                bot_token=settings.bot_token,
                operator_map=settings.operator_map,
                client=self._client,
            )
            if settings.signing_secret is not None
            else None
        )

    def interactions(self) -> SlackInteractions | None:
        """This Slack app's Interactivity side (its signing secret, bot token and operator map);
        None without a signing secret: the clicks then reach the deployment's Slack app."""
        return self._interactions

    def send(
        self, *, tenant_id: str, channel: str, to: str, subject: str, text: str, idempotency_key: str
    ) -> str:
        """A plain notification (a runbook's ``notify`` step): no buttons."""
        require_channel(channel, expected=CHANNEL)
        payload = {
            "channel": to,
            "text": f"{subject}\n{text}",  # the notification's fallback text
            "blocks": blocks(subject=subject, text=text),
            "metadata": {
                "event_type": "deskguard_notification",
                "event_payload": {"tenant_id": tenant_id, "reference": idempotency_key},
            },
        }
        return self._once(tenant_id, idempotency_key, payload)

    def post_approval(
        self, *, tenant_id: str, channel: str, to: str, notice: ApprovalNotice, idempotency_key: str
    ) -> str:
        """``ApprovalMessenger``: the request's approval message, with its Approve / Deny buttons."""
        require_channel(channel, expected=CHANNEL)
        if notice.tenant_id != tenant_id:
            raise ConnectorError(f"approval notice of tenant {notice.tenant_id} sent for {tenant_id}")
        payload = {
            "channel": to,
            "text": f"{approval_subject(notice)} for {notice.person} (request {notice.request_id})",
            "blocks": approval_blocks(notice),
            "metadata": {
                "event_type": "deskguard_approval",
                "event_payload": {"tenant_id": tenant_id, "request_id": notice.request_id},
            },
        }
        return self._once(tenant_id, idempotency_key, payload)

    def update_approval(
        self,
        *,
        tenant_id: str,
        channel: str,
        message_ref: str,
        notice: ApprovalNotice,
        outcome: str,
        idempotency_key: str,
    ) -> str:
        """``ApprovalUpdater``: ``chat.update`` of the posted message (``message_ref`` =
        ``slack:<channel id>:<ts>``), its buttons replaced by ``outcome``. Idempotent at Slack (the
        same blocks again), so retried; ``message_not_found`` and other refusals are ConnectorErrors."""
        require_channel(channel, expected=CHANNEL)
        if notice.tenant_id != tenant_id:
            raise ConnectorError(f"approval notice of tenant {notice.tenant_id} updated for {tenant_id}")
        where, ts = parse_message_ref(message_ref)
        payload = {
            "channel": where,
            "ts": ts,
            "text": outcome,
            "blocks": decided_blocks(approval_blocks(notice), outcome=outcome),
        }
        url = self._settings.api_url.rsplit("/", 1)[0] + "/" + UPDATE_METHOD
        return self._memo.once(
            tenant_id=tenant_id,
            idempotency_key=idempotency_key,
            deliver=lambda: with_retries(lambda: self._post(payload, url=url), idempotent=True),
        )

    def _once(self, tenant_id: str, idempotency_key: str, payload: dict[str, Any]) -> str:
        return self._memo.once(
            tenant_id=tenant_id,
            idempotency_key=idempotency_key,
            deliver=lambda: with_retries(lambda: self._post(payload), idempotent=False),
        )

    def _post(self, payload: dict[str, Any], *, url: str | None = None) -> str:
        headers = {"authorization": f"Bearer {self._token}"}
        response = send(
            self._client, "POST", url or self._settings.api_url, vendor="slack", json=payload, headers=headers
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


def parse_message_ref(message_ref: str) -> tuple[str, str]:
    """``(channel id, ts)`` of a posted message's reference; ConnectorError when it names none."""
    vendor, _, rest = message_ref.partition(":")
    where, _, ts = rest.partition(":")
    if vendor != CHANNEL or not where or not ts:
        raise ConnectorError(f"not a Slack message reference: {message_ref!r}")
    return where, ts


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
    message_blocks: tuple[dict[str, Any], ...] = ()  # the clicked message, to replace its buttons


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
        message = payload.get("message")
        shown = message.get("blocks") if isinstance(message, dict) else None
        return BlockAction(
            user_id=user["id"],
            user_name=str(user.get("username") or user.get("name") or ""),
            team_id=str(team.get("id", "")) if isinstance(team, dict) else str(user.get("team_id", "")),
            verdict=verdict,
            reference=reference,
            response_url=response_url,
            message_blocks=tuple(b for b in shown if isinstance(b, dict)) if isinstance(shown, list) else (),
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

    def respond(
        self,
        response_url: str,
        *,
        text: str,
        replace_original: bool,
        blocks: list[dict[str, Any]] | None = None,
    ) -> None:
        """Update the clicked message (``blocks``, ``text`` its fallback) or add an ephemeral note."""
        message: dict[str, Any] = {"text": text, "replace_original": replace_original}
        if blocks is not None:
            message["blocks"] = blocks
        if not replace_original:
            message["response_type"] = "ephemeral"
        send(self._client, "POST", response_url, vendor="slack", json=message)
