"""SQL repositories for who is involved: tenants, providers, operators, tokens, persons, tickets, TOTP.

Each class implements one repository ``Protocol`` of ``deskguard.domain.ports`` over a SQLAlchemy
``Session`` owned by ``SqlUnitOfWork``; none of them commits. Rows never leave this package: reads
return the frozen domain dataclasses, writes take them. Writes are explicit SQL statements (not ORM
object tracking), so what reaches the database, and when, is exactly what the method says.

The request-side repositories live in ``repositories_requests.py`` and share ``SqlRepository``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from sqlalchemy import CursorResult, Result, Select, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from deskguard.adapters.db.tables import (
    OperatorRow,
    OperatorTenantRow,
    PersonRow,
    ProviderRow,
    TenantRow,
    TicketRow,
    TokenRow,
    TotpSeedRow,
    TotpStateRow,
)
from deskguard.domain.errors import NotFound
from deskguard.domain.model import (
    Factor,
    FactorKind,
    Operator,
    OperatorRole,
    Person,
    Phone,
    PhoneSource,
    Provider,
    ProviderKind,
    Tenant,
    Ticket,
    TicketChannel,
)
from deskguard.domain.ports import TokenRecord

R = TypeVar("R")
_LIKE_SPECIALS = re.compile(r"([\\%_])")
_PHONE_QUERY = re.compile(r"^[\d\s+().\-]+$")


class SqlRepository:
    """Shared plumbing: the session, and reads that always reflect the database."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def _all(self, stmt: Select[tuple[R]]) -> Sequence[R]:
        # populate_existing: a row read twice in one unit of work must show what the database holds
        # now (another transaction may have committed in between under READ COMMITTED), not the
        # copy cached in the session's identity map.
        return self._s.scalars(stmt.execution_options(populate_existing=True)).all()

    def _first(self, stmt: Select[tuple[R]]) -> R | None:
        return self._s.scalars(stmt.execution_options(populate_existing=True)).first()


def rowcount(result: Result[Any]) -> int:
    """Rows matched by an UPDATE (SQLite and psycopg both report matched, not changed, rows)."""
    return cast(CursorResult[Any], result).rowcount


def utc_iso(value: datetime) -> str:
    """An aware datetime as UTC ISO text, for timestamps kept inside JSON columns."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()} refused: store aware UTC datetimes")
    return value.astimezone(UTC).isoformat()


def like_pattern(text: str) -> str:
    """``%text%`` with LIKE's wildcards escaped (use with ``escape="\\\\"``)."""
    return "%" + _LIKE_SPECIALS.sub(r"\\\1", text) + "%"


class SqlTenantRepository(SqlRepository):
    def get(self, tenant_id: str) -> Tenant | None:
        row = self._first(select(TenantRow).where(TenantRow.id == tenant_id))
        return None if row is None else _tenant(row)

    def list(self) -> Sequence[Tenant]:
        return [_tenant(r) for r in self._all(select(TenantRow).order_by(TenantRow.slug))]

    def add(self, tenant: Tenant) -> None:
        self._s.execute(
            insert(TenantRow).values(
                id=tenant.id, slug=tenant.slug, name=tenant.name, timezone=tenant.timezone
            )
        )


def _tenant(row: TenantRow) -> Tenant:
    return Tenant(id=row.id, slug=row.slug, name=row.name, timezone=row.timezone)


class SqlProviderRepository(SqlRepository):
    def get(self, provider_id: str) -> Provider | None:
        row = self._first(select(ProviderRow).where(ProviderRow.id == provider_id))
        return None if row is None else _provider(row)

    def list(self) -> Sequence[Provider]:
        return [_provider(r) for r in self._all(select(ProviderRow).order_by(ProviderRow.name))]

    def add(self, provider: Provider) -> None:
        self._s.execute(
            insert(ProviderRow).values(id=provider.id, name=provider.name, kind=provider.kind.value)
        )


def _provider(row: ProviderRow) -> Provider:
    return Provider(id=row.id, name=row.name, kind=ProviderKind(row.kind))


class SqlOperatorRepository(SqlRepository):
    def get(self, operator_id: str) -> Operator | None:
        return next(iter(self._load(select(OperatorRow).where(OperatorRow.id == operator_id))), None)

    def get_by_username(self, username: str) -> Operator | None:
        return next(iter(self._load(select(OperatorRow).where(OperatorRow.username == username))), None)

    def list(self, *, tenant_id: str | None = None) -> Sequence[Operator]:
        stmt = select(OperatorRow).order_by(OperatorRow.username)
        if tenant_id is not None:
            serving = select(OperatorTenantRow.operator_id).where(OperatorTenantRow.tenant_id == tenant_id)
            stmt = stmt.where(OperatorRow.id.in_(serving))
        return self._load(stmt)

    def add(self, operator: Operator) -> None:
        self._s.execute(
            insert(OperatorRow).values(
                id=operator.id,
                username=operator.username,
                display_name=operator.display_name,
                role=operator.role.value,
                provider_id=operator.provider_id,
                workstation=operator.workstation,
                active=operator.active,
            )
        )
        if operator.tenant_ids:
            self._s.execute(
                insert(OperatorTenantRow),
                [{"operator_id": operator.id, "tenant_id": t} for t in sorted(operator.tenant_ids)],
            )

    def _load(self, stmt: Select[tuple[OperatorRow]]) -> list[Operator]:
        rows = self._all(stmt)
        if not rows:
            return []
        links = self._s.execute(
            select(OperatorTenantRow.operator_id, OperatorTenantRow.tenant_id).where(
                OperatorTenantRow.operator_id.in_([r.id for r in rows])
            )
        ).all()
        tenants: dict[str, set[str]] = {}
        for operator_id, tenant_id in links:
            tenants.setdefault(operator_id, set()).add(tenant_id)
        return [
            Operator(
                id=r.id,
                username=r.username,
                display_name=r.display_name,
                role=OperatorRole(r.role),
                provider_id=r.provider_id,
                tenant_ids=frozenset(tenants.get(r.id, ())),
                workstation=r.workstation,
                active=r.active,
            )
            for r in rows
        ]


class SqlTokenRepository(SqlRepository):
    def add(self, token: TokenRecord) -> None:
        self._s.execute(
            insert(TokenRow).values(
                id=token.id,
                token_hash=token.token_hash,
                subject_kind=token.subject_kind,
                subject_id=token.subject_id,
                tenant_id=token.tenant_id,
                label=token.label,
                created_at=token.created_at,
                expires_at=token.expires_at,
                revoked=token.revoked,
            )
        )

    def find(self, token_hash: str) -> TokenRecord | None:
        row = self._first(select(TokenRow).where(TokenRow.token_hash == token_hash))
        if row is None:
            return None
        return TokenRecord(
            id=row.id,
            token_hash=row.token_hash,
            subject_kind=row.subject_kind,
            subject_id=row.subject_id,
            tenant_id=row.tenant_id,
            label=row.label,
            created_at=row.created_at,
            expires_at=row.expires_at,
            revoked=row.revoked,
        )


class SqlPersonRepository(SqlRepository):
    def get(self, *, tenant_id: str, person_id: str) -> Person | None:
        row = self._first(
            select(PersonRow).where(PersonRow.tenant_id == tenant_id, PersonRow.id == person_id)
        )
        return None if row is None else _person(row)

    def get_by_email(self, *, tenant_id: str, email: str) -> Person | None:
        row = self._first(
            select(PersonRow).where(
                PersonRow.tenant_id == tenant_id, func.lower(PersonRow.email) == email.lower()
            )
        )
        return None if row is None else _person(row)

    def search(self, *, tenant_id: str, query: str, limit: int = 20) -> Sequence[Person]:
        text = query.strip().lower()
        if not text:
            return []
        match = PersonRow.search_text.like(like_pattern(text), escape="\\")
        digits = re.sub(r"\D", "", text)
        if digits and digits != text and _PHONE_QUERY.match(text):
            # "+33 6 12-34" finds +33612345678: phone numbers are indexed as bare digits.
            match = match | PersonRow.search_text.like(like_pattern(digits), escape="\\")
        stmt = (
            select(PersonRow)
            .where(PersonRow.tenant_id == tenant_id, match)
            .order_by(PersonRow.display_name, PersonRow.id)
            .limit(limit)
        )
        return [_person(r) for r in self._all(stmt)]

    def list(self, *, tenant_id: str, limit: int = 500) -> Sequence[Person]:
        stmt = (
            select(PersonRow)
            .where(PersonRow.tenant_id == tenant_id)
            .order_by(PersonRow.display_name, PersonRow.id)
            .limit(limit)
        )
        return [_person(r) for r in self._all(stmt)]

    def add(self, person: Person) -> None:
        self._s.execute(
            insert(PersonRow).values(tenant_id=person.tenant_id, id=person.id, **_person_columns(person))
        )

    def update(self, person: Person) -> None:
        result = self._s.execute(
            update(PersonRow)
            .where(PersonRow.tenant_id == person.tenant_id, PersonRow.id == person.id)
            .values(**_person_columns(person))
            .execution_options(synchronize_session=False)
        )
        if rowcount(result) == 0:
            raise NotFound(f"person {person.id} not found", code="not_found.person")

    def get_totp_seed(self, *, tenant_id: str, factor_id: str) -> bytes | None:
        return self._s.scalars(
            select(TotpSeedRow.sealed).where(
                TotpSeedRow.tenant_id == tenant_id, TotpSeedRow.factor_id == factor_id
            )
        ).first()

    def set_totp_seed(self, *, tenant_id: str, factor_id: str, sealed_seed: bytes) -> None:
        # Re-enrolment replaces the seed: delete-then-insert is the same statement pair on both backends.
        self._s.execute(
            delete(TotpSeedRow).where(TotpSeedRow.tenant_id == tenant_id, TotpSeedRow.factor_id == factor_id)
        )
        self._s.execute(
            insert(TotpSeedRow).values(tenant_id=tenant_id, factor_id=factor_id, sealed=sealed_seed)
        )


def _person_columns(person: Person) -> dict[str, Any]:
    phones = [
        {"number": p.number, "kind": p.kind, "source": p.source.value, "changed_at": utc_iso(p.changed_at)}
        for p in person.phones
    ]
    factors = [
        {
            "id": f.id,
            "kind": f.kind.value,
            "label": f.label,
            "enrolled_at": utc_iso(f.enrolled_at),
            "address": f.address,
        }
        for f in person.factors
    ]
    search = [
        person.display_name,
        person.email,
        person.employee_id,
        *(re.sub(r"\D", "", p.number) for p in person.phones),
    ]
    return {
        "employee_id": person.employee_id,
        "email": person.email,
        "display_name": person.display_name,
        "department": person.department,
        "manager_id": person.manager_id,
        "privileged": person.privileged,
        "groups": sorted(person.groups),
        "phones": phones,
        "factors": factors,
        "watchlisted": person.watchlisted,
        "risk_score": person.risk_score,
        "locked": person.locked,
        "search_text": "\n".join(s.lower() for s in search),
    }


def _person(row: PersonRow) -> Person:
    phones = tuple(
        Phone(
            number=p["number"],
            kind=p["kind"],
            source=PhoneSource(p["source"]),
            changed_at=datetime.fromisoformat(p["changed_at"]),
        )
        for p in row.phones
    )
    factors = tuple(
        Factor(
            id=f["id"],
            kind=FactorKind(f["kind"]),
            label=f["label"],
            enrolled_at=datetime.fromisoformat(f["enrolled_at"]),
            address=f["address"],
        )
        for f in row.factors
    )
    return Person(
        id=row.id,
        tenant_id=row.tenant_id,
        employee_id=row.employee_id,
        email=row.email,
        display_name=row.display_name,
        department=row.department,
        manager_id=row.manager_id,
        privileged=row.privileged,
        groups=frozenset(row.groups),
        phones=phones,
        factors=factors,
        watchlisted=row.watchlisted,
        risk_score=row.risk_score,
        locked=row.locked,
    )


class SqlTicketRepository(SqlRepository):
    def get(self, *, tenant_id: str, ticket_id: str) -> Ticket | None:
        row = self._first(
            select(TicketRow).where(TicketRow.tenant_id == tenant_id, TicketRow.id == ticket_id)
        )
        if row is None:
            return None
        return Ticket(
            id=row.id,
            tenant_id=row.tenant_id,
            external_ref=row.external_ref,
            channel=TicketChannel(row.channel),
            claimed_identity=row.claimed_identity,
            caller_number=row.caller_number,
            opened_at=row.opened_at,
            opened_by=row.opened_by,
        )

    def add(self, ticket: Ticket) -> None:
        self._s.execute(
            insert(TicketRow).values(
                tenant_id=ticket.tenant_id,
                id=ticket.id,
                external_ref=ticket.external_ref,
                channel=ticket.channel.value,
                claimed_identity=ticket.claimed_identity,
                caller_number=ticket.caller_number,
                opened_at=ticket.opened_at,
                opened_by=ticket.opened_by,
            )
        )


class SqlTotpStateRepository(SqlRepository):
    def accept_step(self, *, tenant_id: str, factor_id: str, step: int) -> bool:
        if self._advance(tenant_id=tenant_id, factor_id=factor_id, step=step):
            return True
        known = select(TotpStateRow.last_step).where(
            TotpStateRow.tenant_id == tenant_id, TotpStateRow.factor_id == factor_id
        )
        if self._s.scalar(known) is not None:
            return False  # a later or equal step was already accepted
        try:
            # The savepoint keeps the caller's transaction alive if a concurrent first use wins.
            with self._s.begin_nested():
                self._s.execute(
                    insert(TotpStateRow).values(tenant_id=tenant_id, factor_id=factor_id, last_step=step)
                )
            return True
        except IntegrityError:
            # A concurrent first use inserted the row between our read and our insert: compare with it.
            return self._advance(tenant_id=tenant_id, factor_id=factor_id, step=step)

    def _advance(self, *, tenant_id: str, factor_id: str, step: int) -> bool:
        # One conditional UPDATE: the row lock makes the check and the write a single atomic step.
        result = self._s.execute(
            update(TotpStateRow)
            .where(
                TotpStateRow.tenant_id == tenant_id,
                TotpStateRow.factor_id == factor_id,
                TotpStateRow.last_step < step,
            )
            .values(last_step=step)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result) == 1
