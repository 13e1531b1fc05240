"""The SQL unit of work: one database transaction spanning every repository.

Use cases receive a ``UnitOfWorkFactory`` (``deskguard.domain.ports``); ``bootstrap.py`` builds a
``SqlUnitOfWorkFactory`` over the engine from ``engine.make_engine``. Each ``with factory() as uow:``
block opens a fresh ``Session``; ``uow.commit()`` makes the changes durable, and leaving the block
without committing — normally or by an exception — rolls everything back. This is what lets a state
change, its audit record and its outbox event be written all together or not at all.
"""

from __future__ import annotations

from typing import Self

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from deskguard.adapters.db.repositories_people import (
    SqlOperatorRepository,
    SqlPersonRepository,
    SqlProviderRepository,
    SqlTenantRepository,
    SqlTicketRepository,
    SqlTokenRepository,
    SqlTotpStateRepository,
)
from deskguard.adapters.db.repositories_requests import (
    SqlApprovalRepository,
    SqlGrantRepository,
    SqlOutboxRepository,
    SqlProofRepository,
    SqlRequestRepository,
)


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

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._session: Session | None = None

    def __enter__(self) -> Self:
        if self._session is not None:
            raise RuntimeError("a SqlUnitOfWork is not reentrant; ask the factory for a new one")
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
        return self

    def __exit__(self, *exc: object) -> None:
        session, self._session = self._session, None
        if session is not None:
            # close() rolls back whatever was not committed and returns the connection to the pool.
            session.close()

    def commit(self) -> None:
        if self._session is None:
            raise RuntimeError("commit() outside the unit of work's with-block")
        self._session.commit()


class SqlUnitOfWorkFactory:
    """``UnitOfWorkFactory`` over an engine: each call returns a new, not yet opened, unit of work."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # expire_on_commit=False: repositories hand out dataclasses, never live rows, so there is
        # nothing to refresh after a commit.
        self._sessions = sessionmaker(engine, expire_on_commit=False, autoflush=False)

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._sessions)
