"""Contract tests of the people-side repositories and the unit of work, on SQLite and PostgreSQL.

What any ``UnitOfWork`` implementation must do: round-trip every dataclass exactly (aware datetimes,
frozensets, enums), scope every tenant-data read by tenant, accept a TOTP step at most once even
under concurrency, and roll back whatever was not committed. The request side is in
``test_repositories_requests.py``.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from samples import NOW, PARIS, A, B, person, seed
from sqlalchemy.exc import IntegrityError

from deskguard.adapters.db.uow import SqlUnitOfWorkFactory
from deskguard.detection.risk import RiskSignal
from deskguard.domain.errors import NotFound
from deskguard.domain.model import (
    FactorKind,
    Operator,
    OperatorRole,
    Phone,
    PhoneSource,
    Provider,
    ProviderKind,
    Tenant,
    Ticket,
    TicketChannel,
)
from deskguard.domain.ports import TokenRecord


@pytest.fixture
def uow(uow_factory: SqlUnitOfWorkFactory) -> SqlUnitOfWorkFactory:
    seed(uow_factory)
    return uow_factory


def test_tenants_and_providers_round_trip(uow: SqlUnitOfWorkFactory) -> None:
    with uow() as u:
        assert u.tenants.get(A) == Tenant(id=A, slug="acme", name="ACME", timezone="Europe/Paris")
        assert [t.id for t in u.tenants.list()] == [A, B]
        assert u.tenants.get("t-nope") is None
        provider = u.providers.get("pv-1")
        assert provider == Provider(id="pv-1", name="Outsourcing Ltd", kind=ProviderKind.OUTSOURCED)
        assert provider is not None and type(provider.kind) is ProviderKind
        assert [p.id for p in u.providers.list()] == ["pv-1"]


def test_operators_round_trip_with_their_tenants(uow: SqlUnitOfWorkFactory) -> None:
    with uow() as u:
        u.operators.add(
            Operator(
                id="o-sup",
                username="sup1",
                display_name="Sup",
                role=OperatorRole.SUPERVISOR,
                provider_id="pv-1",
                tenant_ids=frozenset({A, B}),
                active=False,
            )
        )
        u.commit()
    with uow() as u:
        sup = u.operators.get("o-sup")
        assert sup is not None and sup.tenant_ids == frozenset({A, B}) and sup.active is False
        assert sup.role is OperatorRole.SUPERVISOR
        assert u.operators.get_by_username("agent1") == Operator(
            id="o-agent",
            username="agent1",
            display_name="Agent One",
            role=OperatorRole.AGENT,
            provider_id="pv-1",
            tenant_ids=frozenset({A}),
            workstation="WS-12",
        )
        assert u.operators.get("o-nope") is None and u.operators.get_by_username("nope") is None
        assert [o.id for o in u.operators.list()] == ["o-agent", "o-sup"]
        assert [o.id for o in u.operators.list(tenant_id=B)] == ["o-sup"]


def test_tokens_are_found_by_hash_only(uow: SqlUnitOfWorkFactory) -> None:
    token = TokenRecord(
        id="tk-1",
        token_hash="h" * 64,
        subject_kind="person",
        subject_id="p-alice",
        tenant_id=A,
        label="portal",
        created_at=NOW.astimezone(PARIS),
        expires_at=NOW + timedelta(days=1),
        revoked=True,
    )
    with uow() as u:
        u.tokens.add(token)
        u.tokens.add(
            TokenRecord(
                id="tk-2",
                token_hash="g" * 64,
                subject_kind="operator",
                subject_id="o-agent",
                tenant_id=None,
                label="cli",
                created_at=NOW,
            )
        )
        u.commit()
    with uow() as u:
        found = u.tokens.find("h" * 64)
        assert found == token
        assert found is not None and found.created_at.tzinfo is UTC
        other = u.tokens.find("g" * 64)
        assert other is not None and other.tenant_id is None and other.expires_at is None
        assert u.tokens.find("x" * 64) is None
        with pytest.raises(IntegrityError):
            u.tokens.add(
                TokenRecord(
                    id="tk-3",
                    token_hash="h" * 64,
                    subject_kind="person",
                    subject_id="p",
                    tenant_id=A,
                    label="dup",
                    created_at=NOW,
                )
            )


def test_person_round_trips_exactly(uow: SqlUnitOfWorkFactory) -> None:
    with uow() as u:
        stored = u.persons.get(tenant_id=A, person_id="p-alice")
    assert stored == person()
    assert stored is not None
    assert isinstance(stored.groups, frozenset) and isinstance(stored.phones, tuple)
    assert stored.phones[0].source is PhoneSource.HR and stored.factors[1].kind is FactorKind.PORTAL_PUSH
    assert all(p.changed_at.tzinfo is not None for p in stored.phones)
    assert stored.registered_phone() == person().registered_phone()


def test_person_update_replaces_the_aggregate(uow: SqlUnitOfWorkFactory) -> None:
    changed = person(
        display_name="Alice Dupont",
        phones=(),
        factors=(),
        locked=True,
        risk_score=80.0,
        groups=frozenset(),
        manager_id=None,
    )
    with uow() as u:
        u.persons.update(changed)
        u.commit()
    with uow() as u:
        assert u.persons.get(tenant_id=A, person_id="p-alice") == changed
        assert [p.id for p in u.persons.search(tenant_id=A, query="dupont")] == ["p-alice"]
        with pytest.raises(NotFound):
            u.persons.update(person(tenant_id=B))  # p-alice does not exist in tenant B


def test_persons_are_tenant_scoped(uow: SqlUnitOfWorkFactory) -> None:
    with uow() as u:
        assert u.persons.get(tenant_id=B, person_id="p-alice") is None
        assert [p.id for p in u.persons.list(tenant_id=B)] == ["p-zed"]
        assert u.persons.search(tenant_id=B, query="alice") == []
        assert [p.id for p in u.persons.list(tenant_id=A)] == ["p-alice"]


@pytest.mark.parametrize(
    "query",
    [
        "alice",
        "MARTIN",
        "ce mar",
        "acme.example",
        "e-1001",
        "612345678",
        "+33 6 12 34",
        "33-1-40",
        "  Alice  ",
    ],
)
def test_search_matches_name_email_employee_id_and_phone(uow: SqlUnitOfWorkFactory, query: str) -> None:
    with uow() as u:
        assert [p.id for p in u.persons.search(tenant_id=A, query=query)] == ["p-alice"]


@pytest.mark.parametrize("query", ["", "   ", "%", "_", "bob", "99999"])
def test_search_finds_nothing_for_blank_wildcard_or_unknown_text(
    uow: SqlUnitOfWorkFactory, query: str
) -> None:
    with uow() as u:
        assert u.persons.search(tenant_id=A, query=query) == []


def test_search_orders_by_name_and_honours_limit(uow: SqlUnitOfWorkFactory) -> None:
    with uow() as u:
        for i in range(5):
            u.persons.add(person(id=f"p-{i}", display_name=f"Alice {4 - i}", phones=(), factors=()))
        found = u.persons.search(tenant_id=A, query="alice", limit=3)
    assert [p.display_name for p in found] == ["Alice 0", "Alice 1", "Alice 2"]


def test_totp_seeds_are_replaced_and_tenant_scoped(uow: SqlUnitOfWorkFactory) -> None:
    with uow() as u:
        u.persons.set_totp_seed(tenant_id=A, factor_id="f-totp-1", sealed_seed=b"\x00sealed-1\xff")
        u.commit()
    with uow() as u:
        assert u.persons.get_totp_seed(tenant_id=A, factor_id="f-totp-1") == b"\x00sealed-1\xff"
        u.persons.set_totp_seed(tenant_id=A, factor_id="f-totp-1", sealed_seed=b"sealed-2")
        assert u.persons.get_totp_seed(tenant_id=A, factor_id="f-totp-1") == b"sealed-2"
        assert u.persons.get_totp_seed(tenant_id=B, factor_id="f-totp-1") is None
        assert u.persons.get_totp_seed(tenant_id=A, factor_id="f-other") is None


def test_tickets_round_trip_and_are_tenant_scoped(uow: SqlUnitOfWorkFactory) -> None:
    ticket = Ticket(
        id="k-1",
        tenant_id=A,
        external_ref="INC0012345",
        channel=TicketChannel.PHONE,
        claimed_identity="Alice Martin",
        caller_number="+33612345678",
        opened_at=NOW.astimezone(PARIS),
        opened_by="o-agent",
    )
    with uow() as u:
        u.tickets.add(ticket)
        u.commit()
    with uow() as u:
        assert u.tickets.get(tenant_id=A, ticket_id="k-1") == ticket
        assert u.tickets.get(tenant_id=B, ticket_id="k-1") is None


def test_totp_step_is_accepted_once_and_only_forward(uow: SqlUnitOfWorkFactory) -> None:
    with uow() as u:
        assert u.totp.accept_step(tenant_id=A, factor_id="f-1", step=1000) is True
        assert u.totp.accept_step(tenant_id=A, factor_id="f-1", step=1000) is False  # replay
        assert u.totp.accept_step(tenant_id=A, factor_id="f-1", step=999) is False  # older
        assert u.totp.accept_step(tenant_id=A, factor_id="f-1", step=1001) is True  # newer
        assert u.totp.accept_step(tenant_id=A, factor_id="f-2", step=5) is True  # another factor
        assert u.totp.accept_step(tenant_id=B, factor_id="f-1", step=1000) is True  # another tenant
        u.commit()
    with uow() as u:  # the state is durable, not per unit of work
        assert u.totp.accept_step(tenant_id=A, factor_id="f-1", step=1001) is False


@pytest.mark.parametrize("prior", [None, 10], ids=["first-use", "known-factor"])
def test_totp_step_race_has_exactly_one_winner(uow: SqlUnitOfWorkFactory, prior: int | None) -> None:
    if prior is not None:
        with uow() as u:
            u.totp.accept_step(tenant_id=A, factor_id="f-race", step=prior)
            u.commit()
    start = threading.Barrier(20)

    def attempt(_: int) -> bool:
        start.wait()
        with uow() as u:
            accepted = u.totp.accept_step(tenant_id=A, factor_id="f-race", step=77)
            u.commit()
            return accepted

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(attempt, range(20)))
    assert results.count(True) == 1


def test_leaving_without_commit_rolls_back(uow: SqlUnitOfWorkFactory) -> None:
    with uow() as u:
        u.tenants.add(Tenant(id="t-gone", slug="gone", name="Gone"))
    with pytest.raises(RuntimeError), uow() as u:
        u.tenants.add(Tenant(id="t-gone2", slug="gone2", name="Gone"))
        u.commit()
        u.tenants.add(Tenant(id="t-gone3", slug="gone3", name="Gone"))
        raise RuntimeError("boom")
    with uow() as u:
        assert u.tenants.get("t-gone") is None
        assert u.tenants.get("t-gone2") is not None  # committed before the exception
        assert u.tenants.get("t-gone3") is None


def test_naive_datetimes_are_refused(uow: SqlUnitOfWorkFactory) -> None:
    naive = datetime(2026, 3, 2, 9, 30)
    with uow() as u, pytest.raises(Exception, match="naive datetime"):
        u.tickets.add(
            Ticket(
                id="k-2",
                tenant_id=A,
                external_ref="x",
                channel=TicketChannel.CHAT,
                opened_at=naive,
                opened_by="o-agent",
            )
        )
    with uow() as u, pytest.raises(ValueError, match="naive datetime"):
        u.persons.add(
            person(id="p-naive", factors=(), phones=(Phone(number="+33600000000", changed_at=naive),))
        )


def test_a_person_is_found_by_email_in_any_case_within_its_tenant(uow: SqlUnitOfWorkFactory) -> None:
    email = person().email
    with uow() as u:
        assert u.persons.get_by_email(tenant_id=A, email=email.upper()) == person()
        assert u.persons.get_by_email(tenant_id=B, email=email) is None
        assert u.persons.get_by_email(tenant_id=A, email="nobody@" + email.split("@")[1]) is None


def test_risk_signals_are_replaced_and_tenant_scoped(uow: SqlUnitOfWorkFactory) -> None:
    first = (RiskSignal("alr_1", "R.One.Rule", "high", 50.0, 1_800_000_000.0),)
    second = (*first, RiskSignal("alr_2", "R.Two.Rule", "low", 10.0, 1_800_000_100.5))
    when = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    with uow() as u:
        assert u.risk.get(tenant_id=A, person_id="p-alice") == ()
        u.risk.put(tenant_id=A, person_id="p-alice", signals=first, updated_at=when)
        u.commit()
    with uow() as u:
        u.risk.put(tenant_id=A, person_id="p-alice", signals=second, updated_at=when)
        u.commit()
    with uow() as u:
        assert u.risk.get(tenant_id=A, person_id="p-alice") == second
        assert u.risk.get(tenant_id=B, person_id="p-alice") == ()
