"""The portal devices' Web Push subscriptions (``domain.ports_push``), scoped by tenant."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy import delete, select

from deskguard.adapters.db.repositories_people import SqlRepository, rowcount
from deskguard.adapters.db.tables_push import PushSubscriptionRow
from deskguard.domain.ports_push import PushSubscription


def endpoint_hash(endpoint: str) -> str:
    return hashlib.sha256(endpoint.encode()).hexdigest()


class SqlPushSubscriptionRepository(SqlRepository):
    def list(self, *, tenant_id: str, person_id: str) -> Sequence[PushSubscription]:
        rows = self._all(
            select(PushSubscriptionRow)
            .where(PushSubscriptionRow.tenant_id == tenant_id, PushSubscriptionRow.person_id == person_id)
            .order_by(PushSubscriptionRow.created_at, PushSubscriptionRow.id)
        )
        return [
            PushSubscription(
                id=r.id,
                tenant_id=r.tenant_id,
                person_id=r.person_id,
                endpoint=r.endpoint,
                p256dh=r.p256dh,
                auth=r.auth,
                created_at=r.created_at,
            )
            for r in rows
        ]

    def add(self, subscription: PushSubscription) -> None:
        self.remove(tenant_id=subscription.tenant_id, endpoint=subscription.endpoint)
        s = subscription
        self._s.add(
            PushSubscriptionRow(
                id=s.id,
                tenant_id=s.tenant_id,
                person_id=s.person_id,
                endpoint=s.endpoint,
                endpoint_hash=endpoint_hash(s.endpoint),
                p256dh=s.p256dh,
                auth=s.auth,
                created_at=s.created_at,
            )
        )
        self._s.flush()

    def remove(self, *, tenant_id: str, endpoint: str, person_id: str | None = None) -> bool:
        stmt = delete(PushSubscriptionRow).where(
            PushSubscriptionRow.tenant_id == tenant_id,
            PushSubscriptionRow.endpoint_hash == endpoint_hash(endpoint),
        )
        if person_id is not None:
            stmt = stmt.where(PushSubscriptionRow.person_id == person_id)
        return rowcount(self._s.execute(stmt)) > 0
