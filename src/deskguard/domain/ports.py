"""The ports: every boundary the pure core and the use cases talk through.

Adapters implement these ``Protocol``s (``adapters/``); ``bootstrap.py`` wires them. Each port has a
fake beside its real adapters, and one contract-test suite both pass (``tests/contract/``).

Repositories are tenant-scoped by signature: every read of tenant data takes ``tenant_id`` and
filters on it in SQL, so another tenant's id is simply "not found".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, Self

from deskguard.detection.alerts import Alert
from deskguard.detection.risk import RiskSignal
from deskguard.domain.actions import ActionKind, ResponseAction
from deskguard.domain.assurance import AssuranceRepository
from deskguard.domain.events import DomainEvent
from deskguard.domain.exercises import ExerciseRepository
from deskguard.domain.model import Operator, Person, Provider, Tenant, Ticket
from deskguard.domain.ports_console import (
    ConsoleAccountRepository,
    ConsoleSessionRepository,
    PasskeyRepository,
)
from deskguard.domain.ports_export import ExportQueueRepository
from deskguard.domain.ports_idv import IdvLinkRepository, IdvSession
from deskguard.domain.ports_otp import OtpDelivery
from deskguard.domain.ports_poll import PollCursorRepository
from deskguard.domain.ports_push import PushSubscriptionRepository
from deskguard.domain.ports_response import ResponseNotifier, ResponseStepRepository, Ticketing
from deskguard.domain.ports_rule_modes import RuleModeRepository
from deskguard.domain.ports_triage import CaseRepository, TriageModelRepository, VerdictRepository
from deskguard.domain.privilege import PrivilegeExpiryRepository
from deskguard.domain.requests import ActionRequest, Approval, Grant, Proof, RequestState

if TYPE_CHECKING:  # domain.connectors imports Health from here
    from deskguard.domain.connectors import TenantConnectorRepository


# --- time, randomness, secrets -------------------------------------------------------------------
class Clock(Protocol):
    def now(self) -> datetime:
        """An aware UTC datetime."""
        ...


class Randomness(Protocol):
    def new_id(self, prefix: str) -> str: ...

    def token(self, nbytes: int) -> str:
        """URL-safe random text for API tokens and one-time secrets."""
        ...

    def randbelow(self, n: int) -> int: ...


class SecretBox(Protocol):
    """Encryption of secrets at rest (AES-GCM under the master key) and keyed hashing."""

    def seal(self, plaintext: bytes, *, context: str) -> bytes: ...

    def open(self, sealed: bytes, *, context: str) -> bytes: ...

    def mac(self, value: str, *, context: str) -> str:
        """A keyed HMAC (hex): searchable, comparable, not reversible."""
        ...


# --- identity provider and verification channels -------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionResult:
    summary: dict[str, Any]  # non-secret description of what changed, recorded as evidence
    secret: str | None = None  # a temporary password or pass: delivered, never stored or logged
    secret_kind: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Health:
    ok: bool
    detail: str = ""


class IdentityProvider(Protocol):
    """Executes catalogue actions (and the runbooks' ``ResponseAction``s) on the directory.
    Raises ConnectorError or ConnectorTimeout."""

    name: str

    def execute(
        self,
        *,
        tenant_id: str,
        person: Person,
        kind: ActionKind | ResponseAction,
        params: dict[str, Any],
        idempotency_key: str,
    ) -> ExecutionResult: ...

    def health(self) -> Health: ...


class Telephony(Protocol):
    """Automated call-back: rings the registered number and asks for keypad confirmation.

    The outcome arrives later (a provider webhook) and is handed to ``app.verification``.
    """

    def place_verification_call(
        self, *, tenant_id: str, to_number: str, reference: str, spoken_code: str
    ) -> str:
        """Returns the provider's call id."""
        ...


class PushChannel(Protocol):
    """Wakes the person's enrolled portal device: a verification is waiting for them."""

    def notify(self, *, tenant_id: str, person_id: str, device_factor_id: str, proof_id: str) -> None: ...


class IdentityVerification(Protocol):
    """External document-and-selfie verification services."""

    def start(self, *, tenant_id: str, person: Person, reference: str) -> IdvSession:
        """The provider's session: its id (the verdict arrives later, naming it) and the person's link
        to it, which ``app.verification_idv`` hands to the person only (``domain.ports_idv``)."""
        ...


class Notifier(Protocol):
    def deliver_secret(self, *, tenant_id: str, person: Person, channel: str, kind: str, secret: str) -> str:
        """Send a produced secret to the person's verified channel; returns a delivery reference."""
        ...


# --- storage -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class TokenRecord:
    """An API or portal token, stored only as its hash."""

    id: str
    token_hash: str
    subject_kind: str  # "operator" or "person"
    subject_id: str
    tenant_id: str | None  # set for person (portal) tokens
    label: str
    created_at: datetime
    expires_at: datetime | None = None
    revoked: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestFilter:
    state: RequestState | None = None
    person_id: str | None = None
    requester_id: str | None = None
    limit: int = 100


class TenantRepository(Protocol):
    def get(self, tenant_id: str) -> Tenant | None: ...

    def list(self) -> Sequence[Tenant]: ...

    def add(self, tenant: Tenant) -> None: ...


class ProviderRepository(Protocol):
    def get(self, provider_id: str) -> Provider | None: ...

    def list(self) -> Sequence[Provider]: ...

    def add(self, provider: Provider) -> None: ...


class OperatorRepository(Protocol):
    def get(self, operator_id: str) -> Operator | None: ...

    def get_by_username(self, username: str) -> Operator | None: ...

    def list(self, *, tenant_id: str | None = None) -> Sequence[Operator]: ...

    def add(self, operator: Operator) -> None: ...


class TokenRepository(Protocol):
    def add(self, token: TokenRecord) -> None: ...

    def find(self, token_hash: str) -> TokenRecord | None: ...


class PersonRepository(Protocol):
    def get(self, *, tenant_id: str, person_id: str) -> Person | None: ...

    def get_by_email(self, *, tenant_id: str, email: str) -> Person | None: ...  # case-insensitive

    def search(self, *, tenant_id: str, query: str, limit: int = 20) -> Sequence[Person]:
        """Match name, e-mail, employee id or phone number (case-insensitive substring)."""
        ...

    def list(self, *, tenant_id: str, limit: int = 500) -> Sequence[Person]: ...

    def add(self, person: Person) -> None: ...

    def update(self, person: Person) -> None: ...

    def get_totp_seed(self, *, tenant_id: str, factor_id: str) -> bytes | None:
        """The sealed (encrypted) seed of a TOTP factor."""
        ...

    def set_totp_seed(self, *, tenant_id: str, factor_id: str, sealed_seed: bytes) -> None: ...


class TicketRepository(Protocol):
    def get(self, *, tenant_id: str, ticket_id: str) -> Ticket | None: ...

    def add(self, ticket: Ticket) -> None: ...


class RequestRepository(Protocol):
    def get(self, *, tenant_id: str, request_id: str) -> ActionRequest | None: ...

    def list(self, *, tenant_id: str, where: RequestFilter) -> Sequence[ActionRequest]: ...

    def add(self, request: ActionRequest) -> None: ...

    def update(self, request: ActionRequest) -> None:
        """Compare-and-set: stores ``request`` only if the stored version is ``request.version - 1``;
        raises ``Conflict`` otherwise (someone else moved it first)."""
        ...


class ProofRepository(Protocol):
    def get(self, *, tenant_id: str, proof_id: str) -> Proof | None: ...

    def list_for_request(self, *, tenant_id: str, request_id: str) -> Sequence[Proof]: ...

    def add(self, proof: Proof, *, channel_ref: str = "") -> None: ...

    def update(self, proof: Proof) -> None: ...

    def set_challenge(self, *, tenant_id: str, proof_id: str, challenge: dict[str, Any]) -> None:
        """Rewrite the challenge alone (a status another transaction just settled stays)."""
        ...

    def find_by_channel_ref(self, channel_ref: str) -> Proof | None:
        """Find the proof a provider callback (call id, IDV session) refers to. Not tenant-scoped:
        used only by webhook handlers, which carry no tenant; the proof then gives it."""
        ...

    def pending_for_person(self, *, tenant_id: str, person_id: str) -> Sequence[Proof]:
        """Pending push and manager-confirmation proofs awaiting this person in the portal."""
        ...


class ApprovalRepository(Protocol):
    def list_for_request(self, *, tenant_id: str, request_id: str) -> Sequence[Approval]: ...

    def add(self, approval: Approval) -> None:
        """One decision per approver and request; a second raises ``Conflict``."""
        ...


class GrantRepository(Protocol):
    def get(self, *, tenant_id: str, grant_id: str) -> Grant | None: ...

    def list(self, *, tenant_id: str, operator_id: str | None = None) -> Sequence[Grant]: ...

    def add(self, grant: Grant) -> None: ...

    def update(self, grant: Grant) -> None: ...


class OutboxRepository(Protocol):
    def add(self, event: DomainEvent) -> None: ...

    def list(
        self, *, tenant_id: str | None = None, after_seq: int = 0, limit: int = 1000
    ) -> Sequence[DomainEvent]: ...


class TotpStateRepository(Protocol):
    def accept_step(self, *, tenant_id: str, factor_id: str, step: int) -> bool:
        """Record ``step`` as used if it is later than every step accepted before for this factor.
        Returns False for a replayed or older step. Atomic under concurrency."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditRecord:
    """One ledger record: the canonical bytes that are hashed, and the columns searched by."""

    tenant_id: str
    event_id: str
    type: str
    occurred_at: datetime
    actor_id: str
    person_id: str | None
    request_id: str | None
    canonical: bytes  # RFC 8785 JSON of the record; identifying values already keyed-hashed
    ticket_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredRecord:
    index: int
    record: AuditRecord  # ``canonical`` is empty once the record was pruned
    leaf_hash: bytes
    pruned_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredCheckpoint:
    tenant_id: str
    size: int
    root: bytes
    note: str  # the C2SP signed note, as published
    signed_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredKey:
    tenant_id: str
    key_id: str
    verifier: str  # C2SP verifier key text
    sealed_signer: bytes
    not_before: datetime
    not_after: datetime | None = None


class Witness(Protocol):
    """Publishes signed checkpoints outside the database (a file, a webhook, syslog), so that a
    rewritten or forked log is detected by anyone holding an earlier one."""

    def publish(self, *, tenant_id: str, note: str) -> None: ...

    def published(self, *, tenant_id: str) -> Sequence[str]:
        """The checkpoints this witness holds for the tenant (for ``audit verify``)."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordQuery:
    """An auditor's search: every given field must match; ``after`` is the last index already seen."""

    person_id: str | None = None
    actor_id: str | None = None
    request_id: str | None = None
    ticket_id: str | None = None  # the ticket's records and those of every request opened for it
    type: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    after: int = -1
    limit: int = 100


class LedgerRepository(Protocol):
    """Each tenant's append-only Merkle log. ``add`` buffers; the unit of work appends the buffered
    records, with the Merkle nodes they complete, when it commits: in the same transaction as the
    state change they describe, or not at all."""

    def add(self, record: AuditRecord) -> None: ...

    def size(self, *, tenant_id: str) -> int: ...

    def records(self, *, tenant_id: str, start: int = 0, limit: int = 10_000) -> Sequence[StoredRecord]: ...

    def find(self, *, event_id: str) -> StoredRecord | None:
        """A record by its event id (not tenant-scoped: callers check the tenant)."""
        ...

    def search(self, *, tenant_id: str, query: RecordQuery) -> Sequence[StoredRecord]: ...

    def nodes(self, *, tenant_id: str) -> Any:
        """A ``deskguard.audit.merkle.NodeReader`` over the tenant's stored subtree hashes."""
        ...

    def tenants(self) -> Sequence[str]: ...

    def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None: ...

    def checkpoints(self, *, tenant_id: str) -> Sequence[StoredCheckpoint]: ...

    def keys(self, *, tenant_id: str) -> Sequence[StoredKey]: ...

    def add_key(self, key: StoredKey) -> None: ...

    def retire_key(self, *, tenant_id: str, key_id: str, at: datetime) -> None: ...

    def prune(self, *, tenant_id: str, before: datetime, at: datetime) -> int:
        """Drop the content of records that occurred before ``before``; keep their leaf hashes and
        every subtree hash, so the log still verifies. Returns how many were pruned."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionSnapshot:
    """Everything a policy decision reads from storage, gathered in one round trip."""

    tenant: Tenant
    person: Person
    last_executed_at: datetime | None  # the last executed request on this person
    failed_verifications: int  # proofs on this person that ended failed or locked since ``failed_since``
    requester_role: str | None = None  # None when no operator was asked for, or it does not exist
    requester_provider_id: str = ""
    requester_provider_kind: str = ""
    grant_live: bool = False  # the requester holds a live just-in-time grant for the action
    risk: tuple[RiskSignal, ...] = ()  # detection signals about the person (detection.risk)
    operator_risk: tuple[RiskSignal, ...] = ()  # detection signals about the requesting operator
    watch_until: datetime | None = None  # on the watch list until then (a response runbook put it there)
    manager_validation_until: datetime | None = None  # sensitive requests need the manager until then


class DecisionReads(Protocol):
    def snapshot(
        self,
        *,
        tenant_id: str,
        person_id: str,
        operator_id: str | None,
        kind: ActionKind,
        now: datetime,
        failed_since: datetime,
    ) -> DecisionSnapshot | None:
        """None when the tenant or the person (in that tenant) does not exist."""
        ...


class UnitOfWork(Protocol):
    """One transaction over every repository. Leaving the block without ``commit()`` rolls back."""

    tenants: TenantRepository
    providers: ProviderRepository
    operators: OperatorRepository
    tokens: TokenRepository
    persons: PersonRepository
    tickets: TicketRepository
    requests: RequestRepository
    proofs: ProofRepository
    approvals: ApprovalRepository
    grants: GrantRepository
    outbox: OutboxRepository
    totp: TotpStateRepository
    decisions: DecisionReads
    ledger: LedgerRepository
    alerts: AlertRepository
    risk: RiskRepository
    responses: ResponseRunRepository
    response_steps: ResponseStepRepository
    quarantine: QuarantineRepository
    detection_cursor: DetectionCursorRepository
    detection_state: DetectionStateRepository
    operator_risk: OperatorRiskRepository
    cases: CaseRepository
    verdicts: VerdictRepository
    triage_models: TriageModelRepository
    exports: ExportQueueRepository  # SIEM/SOAR deliveries (domain.ports_export)
    idp_poll: PollCursorRepository  # IdP log pollers' checkpoints (domain.ports_poll)
    connectors: TenantConnectorRepository  # per-tenant connector settings (domain.connectors)
    console_accounts: ConsoleAccountRepository  # the console's sign-in (domain.ports_console)
    console_sessions: ConsoleSessionRepository
    passkeys: PasskeyRepository
    push_subscriptions: PushSubscriptionRepository  # portal devices' Web Push (domain.ports_push)
    rule_modes: RuleModeRepository  # per-tenant detection rule modes (domain.ports_rule_modes)
    exercises: ExerciseRepository  # vishing exercise campaigns and calls (domain.exercises)
    assurance: AssuranceRepository  # providers' checklist assessments and evidence (domain.assurance)
    privilege_expiries: PrivilegeExpiryRepository  # ends of time-boxed privileges (domain.privilege)
    idv_links: IdvLinkRepository  # the person's sealed identity-check links (domain.ports_idv)

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...

    def commit(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]


@dataclass(frozen=True, slots=True, kw_only=True)
class Channels:
    """Every outbound port the request flow uses, gathered for injection."""

    idp: IdentityProvider
    telephony: Telephony
    push: PushChannel
    idv: IdentityVerification
    notifier: Notifier
    response_notifier: ResponseNotifier  # runbooks' notifications to the SOC
    ticketing: Ticketing  # runbooks' tickets
    otp: OtpDelivery  # one-time codes to the registered phone (otp_sms; domain.ports_otp)


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertQuery:
    """Filters of the alert list; every field narrows it. Times are epoch seconds of last_seen."""

    tenant_id: str
    rule_id: str | None = None
    severities: frozenset[str] | None = None
    mode: str | None = None
    entity: str | None = None  # any entity value (a user, an IP, a caller number...)
    since: float | None = None
    until: float | None = None
    limit: int = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class QuarantineEntry:
    id: int
    tenant_id: str
    source: str
    reason: str
    detail: str
    record: str
    received_at: datetime


class AlertRepository(Protocol):
    def save(self, alert: Alert) -> None: ...  # insert, or update the open alert of the same id

    def get(self, *, tenant_id: str, alert_id: str) -> Alert | None: ...

    def list(self, query: AlertQuery) -> Sequence[Alert]: ...


class QuarantineRepository(Protocol):
    def add(self, entry: QuarantineEntry) -> None: ...  # ``id`` is assigned by the store

    def list(self, *, tenant_id: str, limit: int = 100) -> Sequence[QuarantineEntry]: ...


class DetectionCursorRepository(Protocol):
    def get(self, *, tenant_id: str) -> int: ...

    def set(self, *, tenant_id: str, outbox_seq: int) -> None: ...


class RiskRepository(Protocol):
    def get(self, *, tenant_id: str, person_id: str) -> tuple[RiskSignal, ...]: ...

    def put(
        self, *, tenant_id: str, person_id: str, signals: Sequence[RiskSignal], updated_at: datetime
    ) -> None: ...

    def watch(self, *, tenant_id: str, person_id: str, until: datetime, updated_at: datetime) -> None: ...

    def require_manager_validation(
        self, *, tenant_id: str, person_id: str, until: datetime, updated_at: datetime
    ) -> None:
        """Until ``until``, sensitive requests on the person need their manager (never shortened)."""
        ...


class ResponseRunRepository(Protocol):
    def claim(
        self, *, run_id: str, tenant_id: str, runbook_id: str, alert_id: str, created_at: datetime
    ) -> bool: ...


@dataclass(frozen=True, slots=True)
class StoredState:
    rule_id: str
    state: bytes  # JSON: ``Analytic.export``
    keys: int
    updated_at: datetime


class DetectionStateRepository(Protocol):
    """What the detection engine's analytics learned, one row per analytic (``Engine.export_state``)."""

    def all(self) -> list[StoredState]: ...

    def put(self, *, rule_id: str, state: bytes, keys: int, updated_at: datetime) -> None: ...


class OperatorRiskRepository(Protocol):
    """Detection signals about an operator in one tenant: alerts naming them as the actor."""

    def get(self, *, tenant_id: str, operator_id: str) -> tuple[RiskSignal, ...]: ...

    def put(
        self, *, tenant_id: str, operator_id: str, signals: Sequence[RiskSignal], updated_at: datetime
    ) -> None: ...


class CertificateFetcher(Protocol):
    """Fetches what a STIR/SHAKEN ``x5u`` URL serves (the signer's certificate chain)."""

    def fetch(self, url: str) -> bytes: ...  # raises ConnectorError or ConnectorTimeout
