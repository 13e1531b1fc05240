"""Microsoft Teams notifications: an Adaptive Card posted to a Teams Workflows webhook.

Office 365 connectors are retired; a Workflows ("Post to a channel when a webhook request is
received") URL takes ``{"type": "message", "attachments": [{"contentType":
"application/vnd.microsoft.card.adaptive", "content": <card>}]}``. Its buttons cannot round-trip, so
the card's one action is ``Action.OpenUrl`` to deskguard's approval page, built from the configured
base URL. The webhook URL carries its own ``sig=``: it is the credential, so it is a ``SecretRef``
and never appears in an error message. Workflows returns no message id: the reference is ours.

With ``approvals_webhook`` set (the approvers' channel's own Workflows URL, a secret reference too),
``post_approval`` (``ApprovalMessenger``, queued by ``app.approval_notices``) posts a request's
approval notice as a card (``approval_card``: who asks, for whom, the action, the proofs, the risk
and its reasons, the ticket, the expiry) whose one ``Action.OpenUrl`` "Review and decide" opens the
console's approval inbox at that request (``/t/<tenant>/approvals#req-<id>``). The link decides
nothing: the decision is the console's signed-in POST. No message id, so a card is never updated.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

import httpx
from pydantic import BaseModel, ConfigDict, Field

from deskguard.adapters.channels.delivery import DeliveryMemo, delivery_id, require_channel
from deskguard.adapters.connectors.http import DEFAULT_TIMEOUT, send
from deskguard.adapters.connectors.retry import with_retries
from deskguard.adapters.connectors.secrets import SecretRef, resolve
from deskguard.domain.errors import ConfigurationError, ConnectorError
from deskguard.domain.ports_approvals import ApprovalNotice

CHANNEL = "teams"
CARD_TYPE = "application/vnd.microsoft.card.adaptive"


class TeamsSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    webhook_url: SecretRef = Field(description="the Workflows webhook URL (signed: a credential)")
    approval_base_url: str = Field(pattern=r"^https?://", description="deskguard's public base URL")
    approvals_webhook: SecretRef | None = Field(
        default=None,
        description="the Workflows webhook URL of the approvers' channel (a credential); unset: none",
    )


def approval_url(base_url: str, *, tenant_id: str, reference: str) -> str:
    return f"{base_url.rstrip('/')}/tenants/{quote(tenant_id, safe='')}/responses?" + urlencode(
        {"ref": reference}
    )


def card(*, subject: str, text: str, to: str, url: str) -> dict[str, Any]:
    return {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {"type": "TextBlock", "text": subject, "weight": "Bolder", "size": "Medium", "wrap": True},
            {"type": "TextBlock", "text": text, "wrap": True},
            {"type": "TextBlock", "text": f"For {to}", "isSubtle": True, "spacing": "Small", "wrap": True},
        ],
        "actions": [{"type": "Action.OpenUrl", "title": "Review in deskguard", "url": url}],
    }


def request_approval_url(base_url: str, *, tenant_id: str, request_id: str) -> str:
    """The console's approval inbox, scrolled to the request's dossier: opening it decides nothing
    (the console's decision is a signed-in POST with its CSRF token)."""
    return f"{base_url.rstrip('/')}/t/{quote(tenant_id, safe='')}/approvals#req-{quote(request_id, safe='')}"


def approval_card(notice: ApprovalNotice, *, url: str) -> dict[str, Any]:
    """The approval notice as an Adaptive Card: the same facts as Slack's message, and one
    ``Action.OpenUrl`` to the request's approval page instead of buttons."""
    facts = [
        ("Asked by", notice.requester),
        ("For", notice.person),
        ("Action", notice.action),
        ("Ticket", notice.ticket or "none"),
        ("Needs", f"a {notice.approver_role}"),
        ("Expires", notice.expires_at),
    ]
    proofs = "\n".join(f"- {p}" for p in notice.proofs) or "none yet"
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": f"Approval needed: {notice.action}",
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
        },
        {"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in facts]},
        {"type": "TextBlock", "text": "Proofs collected", "weight": "Bolder", "wrap": True},
        {"type": "TextBlock", "text": proofs, "wrap": True, "spacing": "Small"},
        {"type": "TextBlock", "text": "Risk", "weight": "Bolder", "wrap": True},
        {"type": "TextBlock", "text": notice.risk, "wrap": True, "spacing": "Small"},
    ]
    if notice.justification:
        body.append({"type": "TextBlock", "text": "Justification", "weight": "Bolder", "wrap": True})
        body.append({"type": "TextBlock", "text": notice.justification, "wrap": True, "spacing": "Small"})
    body.append({"type": "TextBlock", "text": f"Request {notice.request_id}", "isSubtle": True, "wrap": True})
    return {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
        "actions": [{"type": "Action.OpenUrl", "title": "Review and decide", "url": url}],
    }


class TeamsNotifier:
    """``ResponseNotifier`` (and ``ApprovalMessenger``) for the ``teams`` channel: the Workflows URL
    decides the channel; ``to`` is shown on the card."""

    def __init__(self, settings: TeamsSettings, *, client: httpx.Client | None = None) -> None:
        url = _https(settings.webhook_url, field="teams_webhook_url")
        assert url is not None  # a required setting
        self._url, self._settings = url, settings
        self._approvals_url = _https(settings.approvals_webhook, field="teams_approvals_webhook")
        self._client = client or httpx.Client(timeout=DEFAULT_TIMEOUT)
        self._memo = DeliveryMemo()

    def send(
        self, *, tenant_id: str, channel: str, to: str, subject: str, text: str, idempotency_key: str
    ) -> str:
        require_channel(channel, expected=CHANNEL)
        url = approval_url(self._settings.approval_base_url, tenant_id=tenant_id, reference=idempotency_key)
        payload = {
            "type": "message",
            "attachments": [
                {"contentType": CARD_TYPE, "content": card(subject=subject, text=text, to=to, url=url)}
            ],
        }
        return self._post_once(self._url, tenant_id, idempotency_key, payload)

    def post_approval(
        self, *, tenant_id: str, channel: str, to: str, notice: ApprovalNotice, idempotency_key: str
    ) -> str:
        """``ApprovalMessenger``: the notice as a card in the approvers' channel (``approvals_webhook``;
        ``to`` only names it in the step), its one action opening the request's approval page."""
        require_channel(channel, expected=CHANNEL)
        if notice.tenant_id != tenant_id:
            raise ConnectorError(f"approval notice of tenant {notice.tenant_id} sent for {tenant_id}")
        if self._approvals_url is None:
            raise ConnectorError("this Teams connector has no approvals_webhook")
        url = request_approval_url(
            self._settings.approval_base_url, tenant_id=tenant_id, request_id=notice.request_id
        )
        payload = {
            "type": "message",
            "attachments": [{"contentType": CARD_TYPE, "content": approval_card(notice, url=url)}],
        }
        return self._post_once(self._approvals_url, tenant_id, idempotency_key, payload)

    def _post_once(self, target: str, tenant_id: str, idempotency_key: str, payload: dict[str, Any]) -> str:
        reference = "teams:" + delivery_id(tenant_id=tenant_id, idempotency_key=idempotency_key, prefix="")

        def post() -> str:
            send(self._client, "POST", target, vendor="teams", json=payload)
            return reference

        return self._memo.once(
            tenant_id=tenant_id,
            idempotency_key=idempotency_key,
            deliver=lambda: with_retries(post, idempotent=False),
        )


def _https(reference: str | None, *, field: str) -> str | None:
    """The webhook URL a reference points to, which must be https; None when unset."""
    if reference is None:
        return None
    url = resolve(reference, field=field)
    if not url.startswith("https://"):
        raise ConfigurationError(f"{field} must point to an https:// URL", field=field)
    return url
