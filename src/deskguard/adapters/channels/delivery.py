"""What the real notification adapters share: idempotency by key, stable delivery ids, routing.

``ResponseNotifier.send`` is idempotent by key. Each adapter remembers, in process, the reference of
every key it delivered (a retried step gets the first reference back, nothing is sent twice), and
derives from the key a stable delivery id (the webhook's ``webhook-id``, the mail's ``Message-ID``)
so that a receiver can de-duplicate across restarts too.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping

from deskguard.domain.errors import ConnectorError
from deskguard.domain.ports import ResponseNotifier

MEMO_SIZE = 10_000


def delivery_id(*, tenant_id: str, idempotency_key: str, prefix: str = "msg_") -> str:
    """The same for every attempt of one step: ``msg_`` and 24 url-safe characters."""
    digest = hashlib.sha256(f"{tenant_id}\x00{idempotency_key}".encode()).digest()
    return prefix + base64.urlsafe_b64encode(digest[:18]).decode()


class DeliveryMemo:
    """Key -> the first delivery's reference, thread-safe and bounded (oldest forgotten first)."""

    def __init__(self, *, size: int = MEMO_SIZE) -> None:
        self._lock = threading.Lock()
        self._done: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._size = size

    def once(self, *, tenant_id: str, idempotency_key: str, deliver: Callable[[], str]) -> str:
        """``deliver()`` unless this key was already delivered; the reference either way.

        Deliveries of one notifier are serialised: a step's retry can never race its first try."""
        key = (tenant_id, idempotency_key)
        with self._lock:
            if key in self._done:
                return self._done[key]
            reference = deliver()
            self._done[key] = reference
            if len(self._done) > self._size:
                self._done.popitem(last=False)
            return reference


def require_channel(channel: str, *, expected: str) -> None:
    if channel != expected:
        raise ConnectorError(f"the {expected} notifier does not deliver to channel {channel!r}")


class ChannelRouter:
    """A ``ResponseNotifier`` that hands each notification to the adapter of its channel
    (``email``, ``slack``, ``teams``, ``webhook``), or to ``fallback`` for a channel with none."""

    def __init__(self, *, routes: Mapping[str, ResponseNotifier], fallback: ResponseNotifier) -> None:
        self._routes = dict(routes)
        self._fallback = fallback

    def send(
        self, *, tenant_id: str, channel: str, to: str, subject: str, text: str, idempotency_key: str
    ) -> str:
        notifier = self._routes.get(channel, self._fallback)
        return notifier.send(
            tenant_id=tenant_id,
            channel=channel,
            to=to,
            subject=subject,
            text=text,
            idempotency_key=idempotency_key,
        )
