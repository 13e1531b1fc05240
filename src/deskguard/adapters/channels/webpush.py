"""Web Push to the people's portal devices: the ``PushChannel`` port (RFC 8030, 8291, 8292).

When a push verification starts, every Web Push subscription the person's portal devices registered
(``POST /api/v1/portal/push-subscriptions``, stored by ``adapters.db.repositories_push``) gets one
message: the payload is encrypted to the device (RFC 8291 ``aes128gcm``, by ``pywebpush``) and the
request carries a VAPID token (RFC 8292, ES256 by ``py-vapid``: ``aud`` the push service's origin,
``exp`` at most 12 h ahead, ``sub`` the operator's contact). The payload says only that a
verification is waiting and names the proof: never the number the agent reads out, which the person
must hear from the agent and pick in the portal.

Delivery runs on a worker thread, after ``notify`` returns: the proof is committed by then (the
device that wakes finds it in ``/portal/pending``), and a slow push service never holds the agent's
request or the database. 429 and 5xx are tried again with back-off (``connectors.retry``, honouring
``Retry-After``); a timeout too, since a duplicate wake-up is harmless. 404 or 410 means the
subscription is gone (RFC 8030 §7.3): it is removed. A push that fails is logged and dropped; the
proof stays pending and is shown in the portal all the same.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
import structlog
from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid02, b64urlencode
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pywebpush import WebPusher

from deskguard.adapters.connectors.http import DEFAULT_TIMEOUT, send
from deskguard.adapters.connectors.retry import Backoff, with_retries
from deskguard.adapters.connectors.secrets import SecretRef, resolve
from deskguard.domain.errors import ConfigurationError, ConnectorError, ConnectorTimeout
from deskguard.domain.ports import Health, UnitOfWorkFactory
from deskguard.domain.ports_push import PushSubscription

log = structlog.get_logger("deskguard.webpush")
DEFAULT_BACKOFF = Backoff()
VENDOR = "push service"
GONE = frozenset({404, 410})
WAITING_TEXT = "A verification is waiting for you in the portal."


class WebPushSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    vapid_private_key: SecretRef  # PEM, or base64url of the raw 32-byte P-256 scalar
    subject: str = Field(description="VAPID sub: mailto:security@example.org or an https URL")
    ttl_s: int = Field(default=180, ge=0, le=86_400)  # the push proof's own lifetime by default
    token_lifetime_s: int = Field(default=12 * 3600, gt=0, le=24 * 3600)  # RFC 8292: at most 24 h

    @field_validator("subject")
    @classmethod
    def _contact(cls, value: str) -> str:
        if not value.startswith(("mailto:", "https://")):
            raise ValueError("webpush_subject: mailto:address or https:// URL (RFC 8292 sub)")
        return value


def load_vapid(reference: str) -> Vapid02:
    """The VAPID signing key a ``SecretRef`` points to; an error naming the field otherwise."""
    text = resolve(reference, field="webpush_vapid_private_key")
    try:
        if "-----BEGIN" in text:
            return Vapid02.from_pem(text.encode())
        return Vapid02.from_string(text.strip())
    except Exception as exc:  # py-vapid raises several types for a bad key
        raise ConfigurationError(
            f"webpush_vapid_private_key: not a P-256 private key ({type(exc).__name__})",
            field="webpush_vapid_private_key",
        ) from None


def application_server_key(vapid: Vapid02) -> str:
    """The public key a portal page passes to ``pushManager.subscribe({applicationServerKey})``."""
    raw = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64urlencode(raw)


class WebPushChannel:
    name = "webpush"

    def __init__(
        self,
        settings: WebPushSettings,
        *,
        uow: UnitOfWorkFactory,
        now: Callable[[], datetime],
        client: httpx.Client | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self._settings = settings
        self._vapid = load_vapid(settings.vapid_private_key)
        self._uow, self._now = uow, now
        self._client = client or httpx.Client(timeout=DEFAULT_TIMEOUT)
        self._backoff = backoff
        self._sleep = {"sleep": sleep} if sleep is not None else {}
        self._queue: queue.Queue[tuple[str, str, str]] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._start = threading.Lock()

    @property
    def public_key(self) -> str:
        return application_server_key(self._vapid)

    # --- the port --------------------------------------------------------------------------------
    def notify(self, *, tenant_id: str, person_id: str, device_factor_id: str, proof_id: str) -> None:
        """Queues the wake-up of every device of the person; returns at once."""
        with self._start:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._run, name="deskguard-webpush", daemon=True)
                self._worker.start()
        self._queue.put((tenant_id, person_id, proof_id))

    def drain(self, timeout_s: float = 10.0) -> None:
        """Waits until every queued push was delivered or given up (tests, orderly shutdown)."""
        done = self._queue.all_tasks_done
        with done:
            if not done.wait_for(lambda: self._queue.unfinished_tasks == 0, timeout=timeout_s):
                raise TimeoutError(f"web push still busy after {timeout_s} s")

    def health(self) -> Health:
        return Health(ok=True, detail=f"VAPID key loaded; sub {self._settings.subject}")

    # --- delivery --------------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            tenant_id, person_id, proof_id = self._queue.get()
            try:
                self.deliver(tenant_id=tenant_id, person_id=person_id, proof_id=proof_id)
            except Exception as exc:  # the worker outlives any failure; the proof stays pending
                log.warning("webpush.failed", tenant_id=tenant_id, proof_id=proof_id, error=str(exc))
            finally:
                self._queue.task_done()

    def deliver(self, *, tenant_id: str, person_id: str, proof_id: str) -> int:
        """Sends to each subscription of the person now; the number of devices that accepted."""
        with self._uow() as uow:
            subscriptions = list(uow.push_subscriptions.list(tenant_id=tenant_id, person_id=person_id))
        payload = json.dumps(
            {"type": "verification_waiting", "proof_id": proof_id, "text": WAITING_TEXT},
            separators=(",", ":"),
        ).encode()
        accepted = 0
        for subscription in subscriptions:
            try:
                if self._push(subscription, payload):
                    accepted += 1
                else:
                    self._forget(subscription)
            except (ConnectorError, ConnectorTimeout) as exc:
                log.warning("webpush.refused", tenant_id=tenant_id, proof_id=proof_id, error=str(exc))
        return accepted

    def _push(self, subscription: PushSubscription, payload: bytes) -> bool:
        """True when the push service accepted the message; False when the subscription is gone."""
        info = {
            "endpoint": subscription.endpoint,
            "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
        }

        def once() -> httpx.Response:
            # Each attempt is encrypted afresh (new salt and ephemeral key), as RFC 8291 expects.
            body = WebPusher(info).encode(payload, content_encoding="aes128gcm")["body"]
            headers = {
                **self._authorization(subscription.endpoint),
                "TTL": str(self._settings.ttl_s),
                "Urgency": "high",
                "Content-Encoding": "aes128gcm",
                "Content-Type": "application/octet-stream",
            }
            return send(
                self._client,
                "POST",
                subscription.endpoint,
                vendor=VENDOR,
                accept=GONE,
                content=body,
                headers=headers,
            )

        response = with_retries(once, idempotent=True, backoff=self._backoff, **self._sleep)
        return response.status_code not in GONE

    def _authorization(self, endpoint: str) -> dict[str, str]:
        parts = urlsplit(endpoint)
        expires = self._now() + timedelta(seconds=self._settings.token_lifetime_s)
        claims = {
            "aud": f"{parts.scheme}://{parts.netloc}",
            "exp": int(expires.timestamp()),
            "sub": self._settings.subject,
        }
        return {"Authorization": self._vapid.sign(claims)["Authorization"]}

    def _forget(self, subscription: PushSubscription) -> None:
        with self._uow() as uow:
            uow.push_subscriptions.remove(tenant_id=subscription.tenant_id, endpoint=subscription.endpoint)
            uow.commit()
        log.info("webpush.gone", tenant_id=subscription.tenant_id, subscription_id=subscription.id)
