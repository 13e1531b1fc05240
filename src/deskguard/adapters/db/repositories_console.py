"""The console's accounts, passkeys and sessions (``domain.ports_console``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import or_, select, update

from deskguard.adapters.db.repositories_people import SqlRepository
from deskguard.adapters.db.tables_console import ConsoleAccountRow, ConsolePasskeyRow, ConsoleSessionRow
from deskguard.domain.errors import Conflict, NotFound
from deskguard.domain.ports_console import ConsoleAccount, ConsoleSession, Passkey

_ACCOUNT_FIELDS = tuple(ConsoleAccount.__dataclass_fields__)
_SESSION_FIELDS = tuple(ConsoleSession.__dataclass_fields__)


def _account(row: ConsoleAccountRow) -> ConsoleAccount:
    return ConsoleAccount(**{name: getattr(row, name) for name in _ACCOUNT_FIELDS})


def _passkey(row: ConsolePasskeyRow) -> Passkey:
    return Passkey(**{name: getattr(row, name) for name in Passkey.__dataclass_fields__})


def _session(row: ConsoleSessionRow) -> ConsoleSession:
    return ConsoleSession(**{name: getattr(row, name) for name in _SESSION_FIELDS})


class SqlConsoleAccountRepository(SqlRepository):
    def get(self, account_id: str) -> ConsoleAccount | None:
        row = self._s.get(ConsoleAccountRow, account_id, populate_existing=True)
        return _account(row) if row else None

    def get_by_login(self, login: str) -> ConsoleAccount | None:
        row = self._s.scalars(
            select(ConsoleAccountRow).where(ConsoleAccountRow.login == login.lower())
        ).first()
        return _account(row) if row else None

    def for_subject(self, *, subject_kind: str, subject_id: str) -> ConsoleAccount | None:
        query = select(ConsoleAccountRow).where(
            ConsoleAccountRow.subject_kind == subject_kind, ConsoleAccountRow.subject_id == subject_id
        )
        row = self._s.scalars(query).first()
        return _account(row) if row else None

    def add(self, account: ConsoleAccount) -> None:
        if self.get_by_login(account.login) is not None:
            raise Conflict(f"a console account already signs in as {account.login!r}")
        self._s.add(ConsoleAccountRow(**asdict(account) | {"login": account.login.lower()}))
        self._s.flush()

    def update(self, account: ConsoleAccount) -> None:
        row = self._s.get(ConsoleAccountRow, account.id)
        if row is None:
            raise NotFound(f"no console account {account.id!r}")
        for name, value in asdict(account).items():
            setattr(row, name, value)
        self._s.flush()

    def accept_totp_step(self, *, account_id: str, step: int) -> bool:
        # One conditional UPDATE: two sign-ins racing with the same code cannot both win.
        row = ConsoleAccountRow
        result = self._s.execute(
            update(row)
            .where(row.id == account_id, or_(row.totp_last_step.is_(None), row.totp_last_step < step))
            .values(totp_last_step=step)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


class SqlPasskeyRepository(SqlRepository):
    def get(self, credential_id: str) -> Passkey | None:
        row = self._s.get(ConsolePasskeyRow, credential_id, populate_existing=True)
        return _passkey(row) if row else None

    def list_for(self, account_id: str) -> Sequence[Passkey]:
        rows = self._s.scalars(
            select(ConsolePasskeyRow)
            .where(ConsolePasskeyRow.account_id == account_id)
            .order_by(ConsolePasskeyRow.created_at)
        )
        return [
            Passkey(**{name: getattr(row, name) for name in Passkey.__dataclass_fields__}) for row in rows
        ]

    def add(self, passkey: Passkey) -> None:
        if self._s.get(ConsolePasskeyRow, passkey.credential_id) is not None:
            raise Conflict("this passkey is already registered")
        self._s.add(ConsolePasskeyRow(**asdict(passkey)))
        self._s.flush()

    def update_sign_count(self, *, credential_id: str, sign_count: int) -> None:
        self._s.execute(
            update(ConsolePasskeyRow)
            .where(ConsolePasskeyRow.credential_id == credential_id)
            .values(sign_count=sign_count)
        )


class SqlConsoleSessionRepository(SqlRepository):
    def find(self, token_hash: str) -> ConsoleSession | None:
        query = select(ConsoleSessionRow).where(ConsoleSessionRow.token_hash == token_hash)
        row = self._s.scalars(query.execution_options(populate_existing=True)).first()
        return _session(row) if row else None

    def add(self, session: ConsoleSession) -> None:
        self._s.add(ConsoleSessionRow(**asdict(session)))
        self._s.flush()

    def update(self, session: ConsoleSession) -> None:
        row = self._s.get(ConsoleSessionRow, session.id)
        if row is None:
            raise NotFound(f"no console session {session.id!r}")
        for name, value in asdict(session).items():
            setattr(row, name, value)
        self._s.flush()

    def revoke_all(self, *, account_id: str, at: datetime) -> int:
        result = self._s.execute(
            update(ConsoleSessionRow)
            .where(ConsoleSessionRow.account_id == account_id, ConsoleSessionRow.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def set_challenge(self, *, session_id: str, challenge: str) -> None:
        self._s.execute(
            update(ConsoleSessionRow).where(ConsoleSessionRow.id == session_id).values(challenge=challenge)
        )

    def take_challenge(self, *, session_id: str) -> str | None:
        row = ConsoleSessionRow
        pending = self._s.scalar(select(row.challenge).where(row.id == session_id))
        if pending is None:
            return None
        # Conditional: of two verifications racing with the same challenge, one wins.
        taken = self._s.execute(
            update(row).where(row.id == session_id, row.challenge == pending).values(challenge=None)
        )
        return pending if taken.rowcount else None  # type: ignore[attr-defined]
