"""Generic webhook notifications, signed per the Standard Webhooks specification.

Each delivery is a JSON ``POST`` to the configured URL with three headers:

- ``webhook-id``: stable for one notification (derived from its idempotency key), the same on
  every retry, so the receiver de-duplicates;
- ``webhook-timestamp``: Unix seconds of this attempt;
- ``webhook-signature``: ``v1,`` + base64 HMAC-SHA256 of ``{id}.{timestamp}.{body}``, keyed with the
  bytes of the ``whsec_<base64>`` secret.

Because the id is idempotent, a timeout, a 429 (after its ``Retry-After``) or a 5xx is retried with
back-off (``connectors.retry``). ``verify`` is the receiver's side of the same scheme.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping

import httpx
from pydantic import BaseModel, ConfigDict, Field

from deskguard.adapters.channels.delivery import DeliveryMemo, delivery_id, require_channel
from deskguard.adapters.connectors.http import DEFAULT_TIMEOUT, send
from deskguard.adapters.connectors.retry import Backoff, with_retries
from deskguard.adapters.connectors.secrets import SecretRef, resolve
from deskguard.domain.errors import ConfigurationError

CHANNEL = "webhook"
SECRET_PREFIX = "whsec_"
TOLERANCE_S = 300


class WebhookSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = Field(pattern=r"^https?://", description="where every webhook notification is posted")
    secret: SecretRef = Field(description="whsec_<base64>, the signing key")
    attempts: int = Field(default=3, ge=1, le=10)


class WebhookVerificationError(ValueError):
    """An inbound webhook whose headers or signature do not verify."""


def secret_key(secret: str) -> bytes:
    """The HMAC key: the base64 after ``whsec_`` (the prefix is optional on input)."""
    raw = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a webhook secret is whsec_ followed by base64") from None
    if len(key) < 16:
        raise ValueError("a webhook secret must decode to at least 16 bytes")
    return key


def sign(key: bytes, *, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>``."""
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def verify(
    secret: str, *, headers: Mapping[str, str], body: bytes, now: float, tolerance_s: float = TOLERANCE_S
) -> str:
    """Check an inbound webhook against the raw body; returns its ``webhook-id``.

    Accepts any of the space-separated ``v1,`` signatures (secret rotation); compares in constant
    time; refuses a timestamp more than ``tolerance_s`` away from ``now``. The caller de-duplicates
    by the returned id."""
    lowered = {k.lower(): v for k, v in headers.items()}
    msg_id, stamp, signatures = (
        lowered.get(h, "") for h in ("webhook-id", "webhook-timestamp", "webhook-signature")
    )
    if not msg_id or not stamp or not signatures:
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature")
    if not stamp.isdigit():
        raise WebhookVerificationError("webhook-timestamp is not Unix seconds")
    if abs(now - int(stamp)) > tolerance_s:
        raise WebhookVerificationError("webhook-timestamp is outside the tolerance window")
    expected = sign(secret_key(secret), msg_id=msg_id, timestamp=int(stamp), body=body).encode()
    for candidate in signatures.split():
        if candidate.startswith("v1,") and hmac.compare_digest(candidate.encode(), expected):
            return msg_id
    raise WebhookVerificationError("no webhook-signature matches")


class WebhookNotifier:
    """``ResponseNotifier`` for the ``webhook`` channel: posts to the configured URL (never to a URL
    taken from content); ``to`` names the receiver inside the payload."""

    def __init__(
        self,
        settings: WebhookSettings,
        *,
        client: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        try:
            self._key = secret_key(resolve(settings.secret, field="webhook_notify_secret"))
        except ValueError as exc:
            raise ConfigurationError(f"webhook_notify_secret: {exc}", field="webhook_notify_secret") from None
        self._settings = settings
        self._client = client or httpx.Client(timeout=DEFAULT_TIMEOUT)
        self._clock, self._sleep = clock, sleep
        self._memo = DeliveryMemo()

    def send(
        self, *, tenant_id: str, channel: str, to: str, subject: str, text: str, idempotency_key: str
    ) -> str:
        require_channel(channel, expected=CHANNEL)
        msg_id = delivery_id(tenant_id=tenant_id, idempotency_key=idempotency_key)
        payload = {
            "type": "deskguard.notification",
            "id": msg_id,
            "data": {"tenant_id": tenant_id, "to": to, "subject": subject, "text": text},
        }
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()

        def attempt() -> str:
            stamp = int(self._clock())
            headers = {
                "content-type": "application/json",
                "webhook-id": msg_id,
                "webhook-timestamp": str(stamp),
                "webhook-signature": sign(self._key, msg_id=msg_id, timestamp=stamp, body=body),
            }
            send(self._client, "POST", self._settings.url, vendor="webhook", content=body, headers=headers)
            return msg_id

        backoff = Backoff(attempts=self._settings.attempts)
        return self._memo.once(
            tenant_id=tenant_id,
            idempotency_key=idempotency_key,
            deliver=lambda: with_retries(attempt, idempotent=True, backoff=backoff, sleep=self._sleep),
        )
