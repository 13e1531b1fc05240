"""Microsoft Teams notifications: an Adaptive Card posted to a Teams Workflows webhook.

Office 365 connectors are retired; a Workflows ("Post to a channel when a webhook request is
received") URL takes ``{"type": "message", "attachments": [{"contentType":
"application/vnd.microsoft.card.adaptive", "content": <card>}]}``. Its buttons cannot round-trip, so
the card's one action is ``Action.OpenUrl`` to deskguard's approval page, built from the configured
base URL. The webhook URL carries its own ``sig=``: it is the credential, so it is a ``SecretRef``
and never appears in an error message. Workflows returns no message id: the reference is ours.
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
from deskguard.domain.errors import ConfigurationError

CHANNEL = "teams"
CARD_TYPE = "application/vnd.microsoft.card.adaptive"


class TeamsSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    webhook_url: SecretRef = Field(description="the Workflows webhook URL (signed: a credential)")
    approval_base_url: str = Field(pattern=r"^https?://", description="deskguard's public base URL")


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


class TeamsNotifier:
    """``ResponseNotifier`` for the ``teams`` channel: the Workflows URL decides the channel;
    ``to`` is shown on the card."""

    def __init__(self, settings: TeamsSettings, *, client: httpx.Client | None = None) -> None:
        url = resolve(settings.webhook_url, field="teams_webhook_url")
        if not url.startswith("https://"):
            raise ConfigurationError(
                "teams_webhook_url must point to an https:// URL", field="teams_webhook_url"
            )
        self._url, self._settings = url, settings
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
        reference = "teams:" + delivery_id(tenant_id=tenant_id, idempotency_key=idempotency_key, prefix="")

        def post() -> str:
            send(self._client, "POST", self._url, vendor="teams", json=payload)
            return reference

        return self._memo.once(
            tenant_id=tenant_id,
            idempotency_key=idempotency_key,
            deliver=lambda: with_retries(post, idempotent=False),
        )
