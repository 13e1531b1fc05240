"""What every use case is given: the unit-of-work factory, time, randomness, secrets, channels, policy.

Built once by ``bootstrap.py``; use cases receive it as their first argument and own the
transaction boundaries themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from deskguard.app.actor_cache import ActorCache
from deskguard.domain.connectors import ConnectorRegistry
from deskguard.domain.ports import (
    Channels,
    Clock,
    DecisionReads,
    Randomness,
    SecretBox,
    UnitOfWorkFactory,
    Witness,
)
from deskguard.domain.ports_export import ExportPlan

if TYPE_CHECKING:
    from deskguard.app.detection import Detector


@dataclass(frozen=True, slots=True, kw_only=True)
class Timeouts:
    request: timedelta = timedelta(hours=4)
    push: timedelta = timedelta(minutes=3)
    totp: timedelta = timedelta(minutes=10)
    callback: timedelta = timedelta(minutes=10)
    manager: timedelta = timedelta(hours=2)
    idv: timedelta = timedelta(hours=1)
    otp: timedelta = timedelta(minutes=10)  # as long as a Twilio Verify code lives
    approval: timedelta = timedelta(hours=1)
    self_service_delay: timedelta = timedelta(hours=24)  # a sensitive portal change waits (app.self_service)
    proof_attempts: int = 3  # answers per proof before it locks
    proofs_per_method: int = 3  # proofs of one method per request: bounds guesses at 3 x 3


@dataclass(frozen=True, slots=True, kw_only=True)
class AppContext:
    uow: UnitOfWorkFactory
    reads: UnitOfWorkFactory  # read-only transactions: never commit, never block a writer
    decisions: DecisionReads  # one-statement decision facts outside any transaction (previews)
    clock: Clock
    random: Randomness
    secrets: SecretBox
    channels: Channels
    policy: Any  # deskguard.policy CompiledPolicy; typed loosely to keep policy swappable at runtime
    timeouts: Timeouts = Timeouts()
    actors: ActorCache = field(default_factory=ActorCache)  # resolved tokens, for a few seconds
    ledger_origin: str = "deskguard.local"  # checkpoints name each log <origin>/tenants/<tenant id>
    witness: Witness | None = None  # where signed checkpoints are published outside the database
    detector: Detector | None = None  # the live detection pipeline (app.detection)
    exports: ExportPlan = ExportPlan()  # SIEM/SOAR destinations and delivery limits (app.export)
    connectors: ConnectorRegistry | None = None  # per-tenant connectors (app.connectors)
    resolve_tickets: bool = False  # resolve a request's ticket once executed (app.ticket_evidence)
