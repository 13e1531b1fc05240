"""Time-boxed privilege really ends: revoke every executed ``grant_privilege`` once its time is up.

No identity provider expires the membership ``grant_privilege`` added (LDAP groups, Okta and
Keycloak groups, Entra role assignments have no end date as deskguard sets them), so deskguard does:

1. Seed: every executed ``grant_privilege`` request gets one ``PrivilegeExpiry`` record, due at
   executed at + ``duration_minutes`` (insert-if-absent: two workers seed it once).
2. Claim: a due record moves to ``running`` under a lease by compare-and-set on (status, attempts),
   committed before any connector call. Of two workers, one wins; the other does nothing.
3. Revoke through the identity provider (``ResponseAction.REVOKE_PRIVILEGE``), outside any
   transaction, with an idempotency key derived from the request id: every attempt carries the same.
4. Record: ``done`` with a ``privilege.expired`` event (the group, when it was granted, when it was
   due, what the connector did), so the ledger shows when the privilege ended. A definite refusal
   (``ConnectorError``) is a ``privilege.expiry_failed`` event and a retry after back-off: the
   privilege must end, so deskguard keeps trying, and each failure is in the ledger for the SOC. A
   timeout leaves the outcome unknown: the record goes back to ``pending`` (after back-off, same
   key), never "probably done". A grant that found the person already a member (LDAP says so)
   removes nothing at expiry: the standing membership was not deskguard's to end.

The back-off and the lease are the runbook steps' (``app.response_steps``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import structlog

from deskguard.app.context import AppContext
from deskguard.app.outbox import emit
from deskguard.app.response_steps import LEASE, backoff
from deskguard.domain.actions import ResponseAction
from deskguard.domain.errors import ConnectorError, ConnectorTimeout
from deskguard.domain.events import SYSTEM, EventType
from deskguard.domain.privilege import ExpiryStatus, PrivilegeExpiry

log = structlog.get_logger("deskguard.privilege_expiry")


@dataclass(frozen=True, slots=True)
class ExpiryOutcome:
    tenant_id: str
    request_id: str
    group: str
    outcome: str  # done | retrying | pending | failed
    attempts: int
    detail: str


def expire_due(ctx: AppContext, *, limit: int = 100) -> list[ExpiryOutcome]:
    """The expiry worker's pass: seed new grants, then revoke every privilege whose time is up."""
    seed_grants(ctx, limit=limit)
    now = ctx.clock.now()
    with ctx.reads() as uow:
        due = uow.privilege_expiries.due(now=now, limit=limit)
    outcomes = []
    for expiry in due:
        outcome = _claim_and_run(ctx, expiry, now=now)
        if outcome is not None:
            outcomes.append(outcome)
    return outcomes


def seed_grants(ctx: AppContext, *, limit: int = 100) -> int:
    """One expiry record per executed grant that has none yet; how many this call added."""
    added = 0
    with ctx.uow() as uow:
        for tenant_id, request_id in uow.privilege_expiries.unseeded_grants(limit=limit):
            request = uow.requests.get(tenant_id=tenant_id, request_id=request_id)
            assert request is not None  # listed from the same table
            granted_at = request.updated_at  # an executed request is terminal: it moved last then
            due_at = granted_at + timedelta(minutes=int(request.params["duration_minutes"]))
            added += uow.privilege_expiries.seed(
                PrivilegeExpiry(
                    tenant_id=tenant_id,
                    request_id=request_id,
                    person_id=request.person_id,
                    group=str(request.params["group"]),
                    granted_at=granted_at,
                    due_at=due_at,
                    next_attempt_at=due_at,
                    updated_at=ctx.clock.now(),
                )
            )
        uow.commit()
    return added


def _claim_and_run(ctx: AppContext, expiry: PrivilegeExpiry, *, now: datetime) -> ExpiryOutcome | None:
    mine = replace(
        expiry,
        status=ExpiryStatus.RUNNING,
        attempts=expiry.attempts + 1,
        next_attempt_at=now + LEASE,
        updated_at=now,
    )
    with ctx.uow() as uow:
        if not uow.privilege_expiries.update(
            mine, expect_status=expiry.status, expect_attempts=expiry.attempts
        ):
            return None  # another worker took it first
        request = uow.requests.get(tenant_id=expiry.tenant_id, request_id=expiry.request_id)
        person = uow.persons.get(tenant_id=expiry.tenant_id, person_id=expiry.person_id)
        uow.commit()
    if request is not None and request.result.get("already_member") is True:
        return _store(ctx, mine, ExpiryStatus.DONE, "kept: a member before the grant", kept=True)
    if person is None:
        detail = f"person {expiry.person_id} is not in the directory any more"
        return _store(ctx, mine, ExpiryStatus.FAILED, detail)
    try:
        result = ctx.channels.idp.execute(
            tenant_id=expiry.tenant_id,
            person=person,
            kind=ResponseAction.REVOKE_PRIVILEGE,
            params={"group": expiry.group},
            idempotency_key=mine.idempotency_key,
        )
    except ConnectorTimeout as exc:
        return _store(ctx, mine, ExpiryStatus.PENDING, f"outcome unknown: {exc.message}")
    except ConnectorError as exc:
        return _store(ctx, mine, ExpiryStatus.RETRYING, f"refused: {exc.message}")
    except Exception as exc:  # a connector bug: as a timeout, the outcome is unknown
        log.error("privilege_expiry_error", request_id=expiry.request_id, error_type=type(exc).__name__)
        return _store(ctx, mine, ExpiryStatus.PENDING, f"outcome unknown ({type(exc).__name__})")
    return _store(ctx, mine, ExpiryStatus.DONE, "revoked", result=dict(result.summary))


def _store(
    ctx: AppContext, expiry: PrivilegeExpiry, status: ExpiryStatus, detail: str, **data: Any
) -> ExpiryOutcome | None:
    """The attempt's outcome, and its event for the ledger (none for an unknown outcome)."""
    now = ctx.clock.now()
    retry = status in (ExpiryStatus.PENDING, ExpiryStatus.RETRYING)
    due = now + backoff(expiry.attempts, ctx.random) if retry else expiry.next_attempt_at
    ended = replace(expiry, status=status, detail=detail, next_attempt_at=due, updated_at=now)
    with ctx.uow() as uow:
        if not uow.privilege_expiries.update(
            ended, expect_status=expiry.status, expect_attempts=expiry.attempts
        ):
            return None  # a worker took over a lost lease meanwhile: its outcome counts
        if status != ExpiryStatus.PENDING:
            failed = status != ExpiryStatus.DONE
            emit(
                ctx,
                uow,
                type=EventType.PRIVILEGE_EXPIRY_FAILED if failed else EventType.PRIVILEGE_EXPIRED,
                actor=SYSTEM,
                tenant_id=expiry.tenant_id,
                request_id=expiry.request_id,
                person_id=expiry.person_id,
                group=expiry.group,
                granted_at=expiry.granted_at.isoformat(),
                due_at=expiry.due_at.isoformat(),
                connector=ctx.channels.idp.name,
                attempts=expiry.attempts,
                detail=detail,
                **({"next_attempt_at": due.isoformat()} if retry else {}),
                **data,
            )
        uow.commit()
    return ExpiryOutcome(
        expiry.tenant_id, expiry.request_id, expiry.group, status.value, expiry.attempts, detail
    )
