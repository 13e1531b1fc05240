"""SQL repositories for what happens: action requests, proofs, approvals, grants and the event outbox.

Same rules as ``repositories_people.py``: one class per ``Protocol`` of ``deskguard.domain.ports``,
over the ``SqlUnitOfWork``'s session, explicit statements, every query filtered by tenant.

Three guarantees are enforced here, by the database rather than by the caller:

- ``SqlRequestRepository.update`` is a compare-and-set on ``version``, so of two concurrent
  executors exactly one moves a request (the other gets ``Conflict``), on both backends;
- ``SqlApprovalRepository.add`` relies on a unique constraint for "one decision per approver";
- ``SqlOutboxRepository`` hands out ``seq`` in commit order, so a consumer polling ``after_seq``
  never skips an event that commits late.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, insert, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from deskguard.adapters.db.repositories_people import SqlRepository, rowcount
from deskguard.adapters.db.tables import ApprovalRow, GrantRow, OutboxRow, PersonRow, ProofRow, RequestRow
from deskguard.domain.actions import ActionKind
from deskguard.domain.errors import Conflict, NotFound
from deskguard.domain.events import Actor, ActorKind, DomainEvent, EventType
from deskguard.domain.ports import RequestFilter
from deskguard.domain.requests import (
    ActionRequest,
    Approval,
    ApprovalVerdict,
    Grant,
    GrantState,
    Proof,
    ProofMethod,
    ProofStatus,
    RequestOrigin,
    RequestState,
    Strength,
)

# pg_advisory_xact_lock key ("dg-outbx" in ASCII): serialises outbox writers until they commit.
_OUTBOX_LOCK = 0x64672D6F75746278
_PORTAL_METHODS = (ProofMethod.PUSH_NUMBER_MATCH.value, ProofMethod.MANAGER_CONFIRMATION.value)


class SqlRequestRepository(SqlRepository):
    def get(self, *, tenant_id: str, request_id: str) -> ActionRequest | None:
        row = self._first(
            select(RequestRow).where(RequestRow.tenant_id == tenant_id, RequestRow.id == request_id)
        )
        return None if row is None else _request(row)

    def list(self, *, tenant_id: str, where: RequestFilter) -> Sequence[ActionRequest]:
        stmt = select(RequestRow).where(RequestRow.tenant_id == tenant_id)
        if where.state is not None:
            stmt = stmt.where(RequestRow.state == where.state.value)
        if where.person_id is not None:
            stmt = stmt.where(RequestRow.person_id == where.person_id)
        if where.requester_id is not None:
            stmt = stmt.where(RequestRow.requester_id == where.requester_id)
        stmt = stmt.order_by(RequestRow.created_at.desc(), RequestRow.id.desc()).limit(where.limit)
        return [_request(r) for r in self._all(stmt)]

    def add(self, request: ActionRequest) -> None:
        self._s.connection().execute(
            _INSERT_REQUEST,
            {"v_tenant_id": request.tenant_id, "v_id": request.id, **_request_values(request)},
        )

    def update(self, request: ActionRequest) -> None:
        # The WHERE on the previous version is the whole concurrency story: PostgreSQL re-checks it
        # after waiting for a concurrent writer's row lock; SQLite runs writers one at a time.
        result = self._s.connection().execute(
            _UPDATE_REQUEST,
            {
                "w_tenant_id": request.tenant_id,
                "w_id": request.id,
                "w_version": request.version - 1,
                **_request_values(request),
            },
        )
        if rowcount(result) == 0:
            raise Conflict(
                f"request {request.id} changed since it was read (expected version {request.version - 1})",
                code="conflict.stale_request",
                details={"request_id": request.id, "expected_version": request.version - 1},
            )


def _request_values(request: ActionRequest) -> dict[str, Any]:
    return {f"v_{name}": value for name, value in _request_columns(request).items()}


def _request_columns(request: ActionRequest) -> dict[str, Any]:
    return {
        "kind": request.kind.value,
        "person_id": request.person_id,
        "requester_id": request.requester_id,
        "origin": request.origin.value,
        "ticket_id": request.ticket_id,
        "justification": request.justification,
        "params": request.params,
        "params_hash": request.params_hash,
        "state": request.state.value,
        "created_at": request.created_at,
        "updated_at": request.updated_at,
        "expires_at": request.expires_at,
        "decision": request.decision,
        "result": request.result,
        "failure_reason": request.failure_reason,
        "version": request.version,
    }


# Built once: these run on every state change, and building SQLAlchemy statements per call cost
# more than executing them. The columns' types still process every bound value.
_REQUESTS = RequestRow.__table__
_COLUMNS = tuple(c.name for c in _REQUESTS.columns if c.name not in ("tenant_id", "id"))
_INSERT_REQUEST = insert(_REQUESTS).values(
    {
        "tenant_id": bindparam("v_tenant_id"),
        "id": bindparam("v_id"),
        **{c: bindparam(f"v_{c}") for c in _COLUMNS},
    }
)
_UPDATE_REQUEST = (
    update(_REQUESTS)
    .where(
        _REQUESTS.c.tenant_id == bindparam("w_tenant_id"),
        _REQUESTS.c.id == bindparam("w_id"),
        _REQUESTS.c.version == bindparam("w_version"),
    )
    .values({c: bindparam(f"v_{c}") for c in _COLUMNS})
)


def _request(row: RequestRow) -> ActionRequest:
    return ActionRequest(
        id=row.id,
        tenant_id=row.tenant_id,
        kind=ActionKind(row.kind),
        person_id=row.person_id,
        requester_id=row.requester_id,
        origin=RequestOrigin(row.origin),
        ticket_id=row.ticket_id,
        justification=row.justification,
        params=row.params,
        params_hash=row.params_hash,
        state=RequestState(row.state),
        created_at=row.created_at,
        updated_at=row.updated_at,
        expires_at=row.expires_at,
        decision=row.decision,
        result=row.result,
        failure_reason=row.failure_reason,
        version=row.version,
    )


class SqlProofRepository(SqlRepository):
    def get(self, *, tenant_id: str, proof_id: str) -> Proof | None:
        row = self._first(select(ProofRow).where(ProofRow.tenant_id == tenant_id, ProofRow.id == proof_id))
        return None if row is None else _proof(row)

    def list_for_request(self, *, tenant_id: str, request_id: str) -> Sequence[Proof]:
        stmt = (
            select(ProofRow)
            .where(ProofRow.tenant_id == tenant_id, ProofRow.request_id == request_id)
            .order_by(ProofRow.created_at, ProofRow.id)
        )
        return [_proof(r) for r in self._all(stmt)]

    def add(self, proof: Proof, *, channel_ref: str = "") -> None:
        self._s.execute(
            insert(ProofRow).values(
                tenant_id=proof.tenant_id,
                id=proof.id,
                request_id=proof.request_id,
                channel_ref=channel_ref or None,
                **_proof_columns(proof),
            )
        )

    def update(self, proof: Proof) -> None:
        # channel_ref is left as recorded by ``add``: a callback reference does not change.
        result = self._s.execute(
            update(ProofRow)
            .where(ProofRow.tenant_id == proof.tenant_id, ProofRow.id == proof.id)
            .values(**_proof_columns(proof))
            .execution_options(synchronize_session=False)
        )
        if rowcount(result) == 0:
            raise NotFound(f"proof {proof.id} not found", code="not_found.proof")

    def set_challenge(self, *, tenant_id: str, proof_id: str, challenge: dict[str, Any]) -> None:
        result = self._s.execute(
            update(ProofRow)
            .where(ProofRow.tenant_id == tenant_id, ProofRow.id == proof_id)
            .values(challenge=challenge)
            .execution_options(synchronize_session=False)
        )
        if rowcount(result) == 0:
            raise NotFound(f"proof {proof_id} not found", code="not_found.proof")

    def find_by_channel_ref(self, channel_ref: str) -> Proof | None:
        if not channel_ref:
            return None
        row = self._first(
            select(ProofRow)
            .where(ProofRow.channel_ref == channel_ref)
            .order_by(ProofRow.created_at.desc())
            .limit(1)
        )
        return None if row is None else _proof(row)

    def pending_for_person(self, *, tenant_id: str, person_id: str) -> Sequence[Proof]:
        # A push awaits the request's target; a manager confirmation awaits the target's manager.
        stmt = (
            select(ProofRow)
            .join(
                RequestRow,
                and_(RequestRow.tenant_id == ProofRow.tenant_id, RequestRow.id == ProofRow.request_id),
            )
            .outerjoin(
                PersonRow,
                and_(PersonRow.tenant_id == RequestRow.tenant_id, PersonRow.id == RequestRow.person_id),
            )
            .where(
                ProofRow.tenant_id == tenant_id,
                ProofRow.status == ProofStatus.PENDING.value,
                ProofRow.method.in_(_PORTAL_METHODS),
                or_(
                    and_(
                        ProofRow.method == ProofMethod.PUSH_NUMBER_MATCH.value,
                        RequestRow.person_id == person_id,
                    ),
                    and_(
                        ProofRow.method == ProofMethod.MANAGER_CONFIRMATION.value,
                        PersonRow.manager_id == person_id,
                    ),
                ),
            )
            .order_by(ProofRow.created_at, ProofRow.id)
        )
        return [_proof(r) for r in self._all(stmt)]


def _proof_columns(proof: Proof) -> dict[str, Any]:
    return {
        "method": proof.method.value,
        "channel": proof.channel,
        "strength": int(proof.strength),
        "status": proof.status.value,
        "created_at": proof.created_at,
        "expires_at": proof.expires_at,
        "completed_at": proof.completed_at,
        "attempts": proof.attempts,
        "max_attempts": proof.max_attempts,
        "failure_reason": proof.failure_reason,
        "challenge": proof.challenge,
        "secret_hash": proof.secret_hash,
        "attested_by": proof.attested_by,
    }


def _proof(row: ProofRow) -> Proof:
    return Proof(
        id=row.id,
        tenant_id=row.tenant_id,
        request_id=row.request_id,
        method=ProofMethod(row.method),
        channel=row.channel,
        strength=Strength(row.strength),
        status=ProofStatus(row.status),
        created_at=row.created_at,
        expires_at=row.expires_at,
        completed_at=row.completed_at,
        attempts=row.attempts,
        max_attempts=row.max_attempts,
        failure_reason=row.failure_reason,
        challenge=row.challenge,
        secret_hash=row.secret_hash,
        attested_by=row.attested_by,
    )


class SqlApprovalRepository(SqlRepository):
    def list_for_request(self, *, tenant_id: str, request_id: str) -> Sequence[Approval]:
        stmt = (
            select(ApprovalRow)
            .where(ApprovalRow.tenant_id == tenant_id, ApprovalRow.request_id == request_id)
            .order_by(ApprovalRow.decided_at, ApprovalRow.id)
        )
        return [_approval(r) for r in self._all(stmt)]

    def add(self, approval: Approval) -> None:
        try:
            # The savepoint confines the failed INSERT, so the caller's transaction can still commit
            # (e.g. the audit record of the refused second decision).
            with self._s.begin_nested():
                self._s.execute(
                    insert(ApprovalRow).values(
                        tenant_id=approval.tenant_id,
                        id=approval.id,
                        request_id=approval.request_id,
                        approver_id=approval.approver_id,
                        approver_role=approval.approver_role,
                        verdict=approval.verdict.value,
                        params_hash=approval.params_hash,
                        comment=approval.comment,
                        decided_at=approval.decided_at,
                        expires_at=approval.expires_at,
                    )
                )
        except IntegrityError as exc:
            if not self._decided(approval):
                raise  # not a second decision: a programming error (unknown request, reused id)
            raise Conflict(
                f"{approval.approver_id} already decided on request {approval.request_id}",
                code="conflict.already_decided",
                details={"request_id": approval.request_id, "approver_id": approval.approver_id},
            ) from exc

    def _decided(self, approval: Approval) -> bool:
        stmt = select(ApprovalRow.id).where(
            ApprovalRow.tenant_id == approval.tenant_id,
            ApprovalRow.request_id == approval.request_id,
            ApprovalRow.approver_id == approval.approver_id,
        )
        return self._s.scalar(stmt) is not None


def _approval(row: ApprovalRow) -> Approval:
    return Approval(
        id=row.id,
        tenant_id=row.tenant_id,
        request_id=row.request_id,
        approver_id=row.approver_id,
        approver_role=row.approver_role,
        verdict=ApprovalVerdict(row.verdict),
        params_hash=row.params_hash,
        comment=row.comment,
        decided_at=row.decided_at,
        expires_at=row.expires_at,
    )


class SqlGrantRepository(SqlRepository):
    def get(self, *, tenant_id: str, grant_id: str) -> Grant | None:
        row = self._first(select(GrantRow).where(GrantRow.tenant_id == tenant_id, GrantRow.id == grant_id))
        return None if row is None else _grant(row)

    def list(self, *, tenant_id: str, operator_id: str | None = None) -> Sequence[Grant]:
        stmt = select(GrantRow).where(GrantRow.tenant_id == tenant_id)
        if operator_id is not None:
            stmt = stmt.where(GrantRow.operator_id == operator_id)
        return [_grant(r) for r in self._all(stmt.order_by(GrantRow.requested_at, GrantRow.id))]

    def add(self, grant: Grant) -> None:
        self._s.execute(
            insert(GrantRow).values(tenant_id=grant.tenant_id, id=grant.id, **_grant_columns(grant))
        )

    def update(self, grant: Grant) -> None:
        result = self._s.execute(
            update(GrantRow)
            .where(GrantRow.tenant_id == grant.tenant_id, GrantRow.id == grant.id)
            .values(**_grant_columns(grant))
            .execution_options(synchronize_session=False)
        )
        if rowcount(result) == 0:
            raise NotFound(f"grant {grant.id} not found", code="not_found.grant")


def _grant_columns(grant: Grant) -> dict[str, Any]:
    return {
        "operator_id": grant.operator_id,
        "action_kinds": sorted(k.value for k in grant.action_kinds),
        "justification": grant.justification,
        "duration_minutes": grant.duration_minutes,
        "state": grant.state.value,
        "requested_at": grant.requested_at,
        "decided_by": grant.decided_by,
        "decided_at": grant.decided_at,
        "starts_at": grant.starts_at,
        "expires_at": grant.expires_at,
        "uses": grant.uses,
    }


def _grant(row: GrantRow) -> Grant:
    return Grant(
        id=row.id,
        tenant_id=row.tenant_id,
        operator_id=row.operator_id,
        action_kinds=frozenset(ActionKind(k) for k in row.action_kinds),
        justification=row.justification,
        duration_minutes=row.duration_minutes,
        state=GrantState(row.state),
        requested_at=row.requested_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        starts_at=row.starts_at,
        expires_at=row.expires_at,
        uses=row.uses,
    )


class SqlOutboxRepository(SqlRepository):
    """Events are buffered and inserted by ``flush()``, which the unit of work calls right before it
    commits: the ordering lock below is then held for the insert and the commit only, not for the
    whole transaction (which made every PostgreSQL writer wait for every other)."""

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self._pending: list[dict[str, Any]] = []

    def add(self, event: DomainEvent) -> None:
        envelope = json.dumps(event.envelope(), ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        self._pending.append(
            {
                "event_id": event.id,
                "tenant_id": event.tenant_id,
                "type": event.type.value,
                "occurred_at": event.occurred_at,
                "envelope": envelope,
            }
        )

    def flush(self) -> None:
        if not self._pending:
            return
        if self._s.get_bind().dialect.name == "postgresql":
            # Sequence values are handed out at INSERT but become visible at COMMIT, so two writers
            # could commit out of seq order and a poller past the higher seq would skip the lower one
            # forever. Holding this lock until commit makes seq order the commit order. (SQLite
            # writers are already serialised by BEGIN IMMEDIATE.)
            self._s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _OUTBOX_LOCK})
        pending, self._pending = self._pending, []
        self._s.execute(insert(OutboxRow), pending)

    def list(
        self, *, tenant_id: str | None = None, after_seq: int = 0, limit: int = 1000
    ) -> Sequence[DomainEvent]:
        self.flush()  # a unit of work reads its own events
        stmt = select(OutboxRow).where(OutboxRow.seq > after_seq)
        if tenant_id is not None:
            stmt = stmt.where(OutboxRow.tenant_id == tenant_id)
        return [_event(r) for r in self._all(stmt.order_by(OutboxRow.seq).limit(limit))]


def _event(row: OutboxRow) -> DomainEvent:
    envelope = json.loads(row.envelope)
    actor = envelope["actor"]
    return DomainEvent(
        id=envelope["id"],
        tenant_id=envelope["tenant_id"],
        type=EventType(envelope["type"]),
        occurred_at=datetime.fromisoformat(envelope["occurred_at"]),
        actor=Actor(
            kind=ActorKind(actor["kind"]),
            id=actor["id"],
            role=actor["role"],
            provider_id=actor["provider_id"],
            provider_kind=actor["provider_kind"],
            client_ip=actor["client_ip"],
            user_agent=actor["user_agent"],
            workstation=actor["workstation"],
        ),
        request_id=envelope["subject"]["request_id"],
        person_id=envelope["subject"]["person_id"],
        data=envelope["data"],
        correlation_id=envelope["correlation_id"],
        seq=row.seq,
    )
