"""The end of a time-boxed privilege: one record per executed ``grant_privilege`` request.

``grant_privilege`` adds a person to a privileged group "for a limited time", but no identity
provider removes the membership by itself. ``app.privilege_expiry`` keeps one ``PrivilegeExpiry``
per executed grant (seeded with ``due_at`` = executed at + ``duration_minutes``) and, once it is due,
revokes the membership through the identity provider (``ResponseAction.REVOKE_PRIVILEGE``).

Statuses::

    pending ──► running ──► done                  (privilege.expired)
                    │  └──► retrying ──► running  (privilege.expiry_failed: the connector refused)
                    └─────► pending               (a timeout: the outcome is unknown, tried again)
                    └─────► failed                (the person left the directory: nothing to act on)

``running`` is held under a lease (``next_attempt_at``): a revocation whose process died mid-call
is due again once the lease ends, with the same idempotency key, so it cannot act twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class ExpiryStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    RETRYING = "retrying"
    DONE = "done"
    FAILED = "failed"


#: Statuses the expiry worker picks up once ``next_attempt_at`` has passed.
DUE_STATUSES = frozenset({ExpiryStatus.PENDING, ExpiryStatus.RUNNING, ExpiryStatus.RETRYING})


@dataclass(frozen=True, slots=True, kw_only=True)
class PrivilegeExpiry:
    tenant_id: str
    request_id: str  # the executed grant_privilege request
    person_id: str
    group: str
    granted_at: datetime  # when the grant was executed
    due_at: datetime  # granted_at + duration_minutes
    status: ExpiryStatus = ExpiryStatus.PENDING
    attempts: int = 0  # revocation calls made (or started) so far
    next_attempt_at: datetime  # due time (pending, retrying) or end of the lease (running)
    detail: str = ""  # what the last attempt said
    updated_at: datetime

    @property
    def idempotency_key(self) -> str:
        """Derived from the grant request: every attempt, in any worker, carries the same key."""
        return f"{self.request_id}:revoke_privilege"


class PrivilegeExpiryRepository(Protocol):
    """Not tenant-scoped on purpose: only the expiry worker uses it, acting on each record in its own
    tenant (like ``ResponseStepRepository.due``)."""

    def unseeded_grants(self, *, limit: int = 100) -> list[tuple[str, str]]:
        """(tenant id, request id) of executed ``grant_privilege`` requests without a record yet."""
        ...

    def seed(self, expiry: PrivilegeExpiry) -> bool:
        """Insert ``expiry`` unless its request has one already (then False; nothing changes)."""
        ...

    def due(self, *, now: datetime, limit: int = 100) -> list[PrivilegeExpiry]:
        """Pending, retrying or running records whose ``next_attempt_at`` has passed, oldest first."""
        ...

    def get(self, *, tenant_id: str, request_id: str) -> PrivilegeExpiry | None: ...

    def update(self, expiry: PrivilegeExpiry, *, expect_status: ExpiryStatus, expect_attempts: int) -> bool:
        """Compare-and-set on (status, attempts); False when someone else moved it first."""
        ...
