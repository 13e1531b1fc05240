"""The helpdesk's world: tenants, providers, operators, persons and their factors, tickets.

Plain, immutable dataclasses. They carry no secrets: a TOTP seed lives encrypted in storage and is
read only by the verification use case through the repository; here a factor is just its metadata.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class ProviderKind(StrEnum):
    INTERNAL = "internal"
    OUTSOURCED = "outsourced"


class OperatorRole(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ANALYST = "analyst"
    ADMIN = "admin"
    AUDITOR = "auditor"


class PhoneSource(StrEnum):
    """Where a registered number came from; the HR feed and the directory are trusted sources."""

    DIRECTORY = "directory"
    HR = "hr"
    SELF_SERVICE = "self_service"
    HELPDESK = "helpdesk"


class FactorKind(StrEnum):
    TOTP = "totp"
    PORTAL_PUSH = "portal_push"
    WEBAUTHN = "webauthn"
    RECOVERY_EMAIL = "recovery_email"


class TicketChannel(StrEnum):
    PHONE = "phone"
    CHAT = "chat"
    EMAIL = "email"
    WALK_IN = "walk_in"
    PORTAL = "portal"


@dataclass(frozen=True, slots=True, kw_only=True)
class Tenant:
    id: str
    slug: str
    name: str
    timezone: str = "UTC"


@dataclass(frozen=True, slots=True, kw_only=True)
class Provider:
    id: str
    name: str
    kind: ProviderKind


@dataclass(frozen=True, slots=True, kw_only=True)
class Operator:
    id: str
    username: str
    display_name: str
    role: OperatorRole
    provider_id: str
    tenant_ids: frozenset[str]
    workstation: str = ""
    active: bool = True

    def serves(self, tenant_id: str) -> bool:
        return self.active and tenant_id in self.tenant_ids


@dataclass(frozen=True, slots=True, kw_only=True)
class Phone:
    number: str  # E.164
    kind: str = "mobile"
    source: PhoneSource = PhoneSource.DIRECTORY
    changed_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Factor:
    id: str
    kind: FactorKind
    label: str
    enrolled_at: datetime
    address: str = ""  # the recovery e-mail address, or the portal device name; never a secret


@dataclass(frozen=True, slots=True, kw_only=True)
class Person:
    id: str
    tenant_id: str
    employee_id: str
    email: str
    display_name: str
    department: str = ""
    manager_id: str | None = None
    privileged: bool = False
    groups: frozenset[str] = field(default_factory=frozenset)
    phones: tuple[Phone, ...] = ()
    factors: tuple[Factor, ...] = ()
    watchlisted: bool = False
    risk_score: float = 0.0
    locked: bool = False

    def factor(self, kind: FactorKind) -> Factor | None:
        return next((f for f in self.factors if f.kind == kind), None)

    def registered_phone(self) -> Phone | None:
        """The number a call-back goes to: the most trusted source, then the oldest change."""
        if not self.phones:
            return None
        trust = {
            PhoneSource.HR: 0,
            PhoneSource.DIRECTORY: 1,
            PhoneSource.SELF_SERVICE: 2,
            PhoneSource.HELPDESK: 3,
        }
        return min(self.phones, key=lambda p: (trust[p.source], p.changed_at))

    def phone_last_changed(self) -> datetime | None:
        return max((p.changed_at for p in self.phones), default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Ticket:
    id: str
    tenant_id: str
    external_ref: str
    channel: TicketChannel
    claimed_identity: str = ""
    caller_number: str = ""
    opened_at: datetime
    opened_by: str  # operator id
