"""The Web Push subscriptions of the people's portal devices (RFC 8030), and where they are stored.

A portal device registers the subscription its browser's push service gave it: the endpoint URL
(the push service's, per device) and the two public values the payload is encrypted to (RFC 8291:
``p256dh``, the device's P-256 key, and ``auth``, its 16-byte secret, both base64url). Neither is a
secret of the person's account: they let deskguard wake that device, nothing more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True, kw_only=True)
class PushSubscription:
    id: str
    tenant_id: str
    person_id: str
    endpoint: str  # https URL of the push service
    p256dh: str  # base64url of the device's uncompressed P-256 public key (65 bytes)
    auth: str  # base64url of the device's 16-byte authentication secret
    created_at: datetime


class PushSubscriptionRepository(Protocol):
    def list(self, *, tenant_id: str, person_id: str) -> Sequence[PushSubscription]: ...

    def add(self, subscription: PushSubscription) -> None:
        """Stores it; an endpoint already stored for the tenant is replaced (the browser re-subscribed)."""
        ...

    def remove(self, *, tenant_id: str, endpoint: str, person_id: str | None = None) -> bool:
        """True when a subscription was removed (only the person's own when ``person_id`` is given)."""
        ...
