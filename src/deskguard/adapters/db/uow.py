"""The SQL unit of work: one database transaction spanning every repository.

Use cases receive a ``UnitOfWorkFactory`` (``deskguard.domain.ports``); ``bootstrap.py`` builds a
``SqlUnitOfWorkFactory`` over the engine from ``engine.make_engine``. Each ``with factory() as uow:``
block opens a fresh ``Session``; ``uow.commit()`` makes the changes durable, and leaving the block
without committing — normally or by an exception — rolls everything back. This is what lets a state
change, its audit record and its outbox event be written all together or not at all.
"""

from __future__ import annotations

import threading
import weakref
from typing import Self

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from deskguard.adapters.db.decision_reads import SqlDecisionReads
from deskguard.adapters.db.engine import read_only as engine_read_only
from deskguard.adapters.db.ledger import SqlLedgerRepository
from deskguard.adapters.db.repositories_assurance import SqlAssuranceRepository
from deskguard.adapters.db.repositories_connectors import SqlTenantConnectorRepository
from deskguard.adapters.db.repositories_console import (
    SqlConsoleAccountRepository,
    SqlConsoleSessionRepository,
    SqlPasskeyRepository,
)
from deskguard.adapters.db.repositories_detection import (
    SqlAlertRepository,
    SqlDetectionCursorRepository,
    SqlQuarantineRepository,
    SqlResponseRunRepository,
    SqlRiskRepository,
)
from deskguard.adapters.db.repositories_exercises import SqlExerciseRepository
from deskguard.adapters.db.repositories_export import SqlExportQueueRepository
from deskguard.adapters.db.repositories_idv import SqlIdvLinkRepository
from deskguard.adapters.db.repositories_people import (
    SqlOperatorRepository,
    SqlPersonRepository,
    SqlProviderRepository,
    SqlTenantRepository,
    SqlTicketRepository,
    SqlTokenRepository,
    SqlTotpStateRepository,
)
from deskguard.adapters.db.repositories_poll import SqlPollCursorRepository
from deskguard.adapters.db.repositories_privilege import SqlPrivilegeExpiryRepository
from deskguard.adapters.db.repositories_push import SqlPushSubscriptionRepository
from deskguard.adapters.db.repositories_requests import (
    SqlApprovalRepository,
    SqlGrantRepository,
    SqlOutboxRepository,
    SqlProofRepository,
    SqlRequestRepository,
)
from deskguard.adapters.db.repositories_response import SqlResponseStepRepository
from deskguard.adapters.db.repositories_rule_modes import SqlRuleModeRepository
from deskguard.adapters.db.repositories_state import SqlDetectionStateRepository, SqlOperatorRiskRepository
from deskguard.adapters.db.repositories_triage import (
    SqlCaseRepository,
    SqlTriageModelRepository,
    SqlVerdictRepository,
)
from deskguard.domain.errors import Conflict


class SqlUnitOfWork:
    """Implements ``deskguard.domain.ports.UnitOfWork``. Not reentrant: one ``with`` block per instance."""

    tenants: SqlTenantRepository
    providers: SqlProviderRepository
    operators: SqlOperatorRepository
    tokens: SqlTokenRepository
    persons: SqlPersonRepository
    tickets: SqlTicketRepository
    requests: SqlRequestRepository
    proofs: SqlProofRepository
    approvals: SqlApprovalRepository
    grants: SqlGrantRepository
    outbox: SqlOutboxRepository
    totp: SqlTotpStateRepository
    decisions: SqlDecisionReads
    ledger: SqlLedgerRepository

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        read_only: bool = False,
        writer_lock: threading.Lock | None = None,
    ) -> None:
        self._sessions = sessions
        self._session: Session | None = None
        self.read_only = read_only
        self._writer_lock = writer_lock
        self._holds_lock = False

    def __enter__(self) -> Self:
        if self._session is not None:
            raise RuntimeError("a SqlUnitOfWork is not reentrant; ask the factory for a new one")
        if self._writer_lock is not None:
            if not self._writer_lock.acquire(timeout=WRITER_WAIT_S):
                raise Conflict(
                    "the database is busy: another change took too long; try again",
                    code="conflict.database_busy",
                )
            self._holds_lock = True
        session = self._session = self._sessions()
        self.tenants = SqlTenantRepository(session)
        self.providers = SqlProviderRepository(session)
        self.operators = SqlOperatorRepository(session)
        self.tokens = SqlTokenRepository(session)
        self.persons = SqlPersonRepository(session)
        self.tickets = SqlTicketRepository(session)
        self.requests = SqlRequestRepository(session)
        self.proofs = SqlProofRepository(session)
        self.approvals = SqlApprovalRepository(session)
        self.grants = SqlGrantRepository(session)
        self.outbox = SqlOutboxRepository(session)
        self.totp = SqlTotpStateRepository(session)
        self.decisions = SqlDecisionReads(session)
        self.ledger = SqlLedgerRepository(session)
        self.alerts = SqlAlertRepository(session)
        self.risk = SqlRiskRepository(session)
        self.responses = SqlResponseRunRepository(session)
        self.response_steps = SqlResponseStepRepository(session)
        self.quarantine = SqlQuarantineRepository(session)
        self.detection_cursor = SqlDetectionCursorRepository(session)
        self.detection_state = SqlDetectionStateRepository(session)
        self.operator_risk = SqlOperatorRiskRepository(session)
        self.cases = SqlCaseRepository(session)
        self.verdicts = SqlVerdictRepository(session)
        self.triage_models = SqlTriageModelRepository(session)
        self.exports = SqlExportQueueRepository(session)
        self.idp_poll = SqlPollCursorRepository(session)
        self.connectors = SqlTenantConnectorRepository(session)
        self.console_accounts = SqlConsoleAccountRepository(session)
        self.console_sessions = SqlConsoleSessionRepository(session)
        self.passkeys = SqlPasskeyRepository(session)
        self.push_subscriptions = SqlPushSubscriptionRepository(session)
        self.rule_modes = SqlRuleModeRepository(session)
        self.exercises = SqlExerciseRepository(session)
        self.assurance = SqlAssuranceRepository(session)
        self.privilege_expiries = SqlPrivilegeExpiryRepository(session)
        self.idv_links = SqlIdvLinkRepository(session)
        return self

    def __exit__(self, *exc: object) -> None:
        session, self._session = self._session, None
        try:
            if session is not None:
                # close() rolls back whatever was not committed and returns the connection to the pool.
                session.close()
        finally:
            if self._holds_lock:
                self._holds_lock = False
                self._writer_lock.release()  # type: ignore[union-attr]

    def commit(self) -> None:
        if self._session is None:
            raise RuntimeError("commit() outside the unit of work's with-block")
        if self.read_only:
            raise RuntimeError("commit() in a read-only unit of work: open it from the writing factory")
        # Events and their ledger records go in last, so the outbox ordering lock (which also
        # serialises ledger appends on PostgreSQL) is held only from here to the commit.
        self.outbox.flush()
        self.ledger.flush()
        self._session.commit()


class SqlUnitOfWorkFactory:
    """``UnitOfWorkFactory`` over an engine: each call returns a new, not yet opened, unit of work.

    ``read_only=True`` gives units of work that only read: on SQLite they start a deferred
    transaction (a WAL snapshot that neither waits for nor blocks the writer), on PostgreSQL a READ
    ONLY one; ``commit()`` refuses. Every use case that writes nothing opens its reads there.
    """

    def __init__(self, engine: Engine, *, read_only: bool = False) -> None:
        self.engine = engine
        self.read_only = read_only
        # SQLite has one writer at a time. Queue this process's writers on a lock instead of letting
        # them poll SQLite's busy handler, whose growing sleeps gave multi-second tail latencies.
        self._writer_lock = (
            _sqlite_writer_lock(engine) if engine.dialect.name == "sqlite" and not read_only else None
        )
        # expire_on_commit=False: repositories hand out dataclasses, never live rows, so there is
        # nothing to refresh after a commit.
        self._sessions = sessionmaker(
            engine_read_only(engine) if read_only else engine, expire_on_commit=False, autoflush=False
        )

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._sessions, read_only=self.read_only, writer_lock=self._writer_lock)


WRITER_WAIT_S = 30.0
_WRITER_LOCKS: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()


def _sqlite_writer_lock(engine: Engine) -> threading.Lock:
    """One lock per SQLite engine, shared by every writing factory over it."""
    with _LOCKS_GUARD:
        return _WRITER_LOCKS.setdefault(engine, threading.Lock())
