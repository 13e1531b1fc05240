"""A small, fully wired helpdesk world for use-case and scenario tests.

Real storage (the ``uow_factory`` fixture: SQLite and PostgreSQL), the shipped default policy, the
fake connectors, a fixed clock and seeded randomness, so that every run replays exactly.
Tenant ``t_a`` (Europe/Paris) and ``t_b``; an internal agent, an outsourced agent, two supervisors;
``vip`` is a privileged person with every factor; ``swapped`` had their phone changed yesterday;
``watched`` is on the security watch list (one approval more).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import cache

from deskguard.adapters.channels.fake import (
    FakeIdentityVerification,
    FakeNotifier,
    FakeOtpDelivery,
    FakePushChannel,
    FakeResponseNotifier,
    FakeTelephony,
    FakeTicketing,
)
from deskguard.adapters.idp.fake import FakeIdentityProvider
from deskguard.adapters.system import AesGcmSecretBox, FixedClock, SeededRandomness
from deskguard.app.context import AppContext
from deskguard.app.detection import Detector
from deskguard.detection.content import Content, load_content
from deskguard.detection.runbooks import Runbook, load_runbooks
from deskguard.domain.events import Actor, ActorKind
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
)
from deskguard.domain.otp import totp
from deskguard.domain.ports import Channels, DecisionReads, UnitOfWorkFactory
from deskguard.policy.loader import load_policy
from deskguard.settings import REPO_ROOT

#: Tuesday 1 December 2026, 10:00 in Paris.
TUESDAY_10_PARIS = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TOTP_SEED = b"12345678901234567890"


def _op(oid: str, role: OperatorRole, provider: str, tenants: set[str]) -> Operator:
    return Operator(
        id=oid,
        username=f"{oid}@desk.example",
        display_name=oid,
        role=role,
        provider_id=provider,
        tenant_ids=frozenset(tenants),
        workstation=f"WS-{oid}",
    )


def _person(
    pid: str,
    tenant: str,
    *,
    now: datetime,
    privileged: bool = False,
    phone_age: timedelta,
    manager: str | None = None,
    email: str | None = None,
) -> Person:
    return Person(
        id=pid,
        tenant_id=tenant,
        employee_id=f"E-{pid}",
        email=email or f"{pid}@{tenant}.example",
        display_name=f"Person {pid}",
        department="Finance",
        manager_id=manager,
        privileged=privileged,
        groups=frozenset({"staff"}),
        phones=(Phone(number="+33611111111", source=PhoneSource.HR, changed_at=now - phone_age),),
        factors=(
            Factor(id=f"{pid}-push", kind=FactorKind.PORTAL_PUSH, label="portal", enrolled_at=now),
            Factor(id=f"{pid}-totp", kind=FactorKind.TOTP, label="app", enrolled_at=now),
            Factor(
                id=f"{pid}-mail",
                kind=FactorKind.RECOVERY_EMAIL,
                label="mail",
                enrolled_at=now,
                address=f"{pid}@home.example",
            ),
        ),
    )


@dataclass
class World:
    ctx: AppContext
    clock: FixedClock
    idp: FakeIdentityProvider
    telephony: FakeTelephony
    push: FakePushChannel
    notifier: FakeNotifier
    idv: FakeIdentityVerification
    response_notifier: FakeResponseNotifier
    ticketing: FakeTicketing
    otp: FakeOtpDelivery
    operators: dict[str, Operator] = field(default_factory=dict)
    providers: dict[str, Provider] = field(default_factory=dict)

    def operator(self, oid: str, **client: str) -> Actor:
        op = self.operators[oid]
        return Actor(
            kind=ActorKind.OPERATOR,
            id=op.id,
            role=op.role.value,
            provider_id=op.provider_id,
            provider_kind=self.providers[op.provider_id].kind.value,
            tenant_ids=op.tenant_ids,
            workstation=op.workstation,
            **client,
        )

    def person(self, pid: str, tenant: str = "t_a") -> Actor:
        return Actor(kind=ActorKind.PERSON, id=pid, role="person", tenant_ids=frozenset({tenant}))

    def code_now(self) -> str:
        return totp(TOTP_SEED, self.clock.now().timestamp())


def _readers(uow_factory: UnitOfWorkFactory) -> UnitOfWorkFactory:
    """The read-only twin of the fixture's factory (same engine)."""
    from deskguard.adapters.db.uow import SqlUnitOfWorkFactory

    return SqlUnitOfWorkFactory(uow_factory.engine, read_only=True)  # type: ignore[attr-defined]


def _decisions(uow_factory: UnitOfWorkFactory) -> DecisionReads:
    from deskguard.adapters.db.decision_reads import SqlDecisionReader

    return SqlDecisionReader(uow_factory.engine)  # type: ignore[attr-defined]


@cache
def detection_content() -> Content:
    """The built-in detection content, loaded once per test session (each world gets a fresh engine)."""
    return load_content(
        [REPO_ROOT / "content" / "rules", REPO_ROOT / "content" / "correlations"],
        pressure_model=REPO_ROOT / "content" / "models" / "pressure.json",
    )


@cache
def runbooks() -> tuple[Runbook, ...]:
    return tuple(load_runbooks([REPO_ROOT / "content" / "runbooks"], known_rules=detection_content().ids()))


def build_world(uow_factory: UnitOfWorkFactory, *, now: datetime = TUESDAY_10_PARIS, seed: int = 1) -> World:
    clock, rnd = FixedClock(now), SeededRandomness(seed)
    idp, telephony, push = (
        FakeIdentityProvider(randomness=rnd),
        FakeTelephony(randomness=rnd),
        FakePushChannel(),
    )
    notifier, idv = FakeNotifier(randomness=rnd), FakeIdentityVerification(randomness=rnd)
    response_notifier, ticketing = FakeResponseNotifier(randomness=rnd), FakeTicketing(randomness=rnd)
    otp = FakeOtpDelivery(randomness=rnd)
    ctx = AppContext(
        uow=uow_factory,
        reads=_readers(uow_factory),
        decisions=_decisions(uow_factory),
        clock=clock,
        random=rnd,
        secrets=AesGcmSecretBox(bytes(range(32))),
        channels=Channels(
            idp=idp,
            telephony=telephony,
            push=push,
            idv=idv,
            notifier=notifier,
            response_notifier=response_notifier,
            ticketing=ticketing,
            otp=otp,
        ),
        policy=load_policy(REPO_ROOT / "content" / "policies" / "default.yml"),
        detector=Detector(detection_content(), runbooks=runbooks()),
    )
    world = World(
        ctx=ctx,
        clock=clock,
        idp=idp,
        telephony=telephony,
        push=push,
        notifier=notifier,
        idv=idv,
        response_notifier=response_notifier,
        ticketing=ticketing,
        otp=otp,
    )
    providers = [
        Provider(id="internal", name="Internal desk", kind=ProviderKind.INTERNAL),
        Provider(id="farshore", name="FarShore", kind=ProviderKind.OUTSOURCED),
    ]
    both = {"t_a", "t_b"}
    operators = [
        _op("agent", OperatorRole.AGENT, "internal", both),
        _op("agent2", OperatorRole.AGENT, "internal", both),
        _op("outsourced", OperatorRole.AGENT, "farshore", both),
        _op("sup", OperatorRole.SUPERVISOR, "internal", both),
        _op("sup2", OperatorRole.SUPERVISOR, "internal", both),
        _op("sup_b_only", OperatorRole.SUPERVISOR, "internal", {"t_b"}),
        _op("analyst", OperatorRole.ANALYST, "internal", both),
        _op("admin", OperatorRole.ADMIN, "internal", both),
    ]
    persons = [
        _person("boss", "t_a", now=now, phone_age=timedelta(days=400)),
        _person("vip", "t_a", now=now, privileged=True, phone_age=timedelta(days=300), manager="boss"),
        _person("swapped", "t_a", now=now, phone_age=timedelta(days=1), manager="boss"),
        _person("plain", "t_a", now=now, phone_age=timedelta(days=200), manager="boss"),
        # the supervisor "sup" is also an employee of t_a: they can never approve for themselves
        _person("supself", "t_a", now=now, phone_age=timedelta(days=200), email="sup@desk.example"),
        replace(_person("watched", "t_a", now=now, phone_age=timedelta(days=200)), watchlisted=True),
        _person("other", "t_b", now=now, phone_age=timedelta(days=200)),
    ]
    with uow_factory() as uow:
        for p in providers:
            uow.providers.add(p)
            world.providers[p.id] = p
        uow.tenants.add(Tenant(id="t_a", slug="a", name="Tenant A", timezone="Europe/Paris"))
        uow.tenants.add(Tenant(id="t_b", slug="b", name="Tenant B", timezone="America/New_York"))
        for o in operators:
            uow.operators.add(o)
            world.operators[o.id] = o
        for person in persons:
            uow.persons.add(person)
            fid = f"{person.id}-totp"
            uow.persons.set_totp_seed(
                tenant_id=person.tenant_id,
                factor_id=fid,
                sealed_seed=ctx.secrets.seal(TOTP_SEED, context=f"totp:{person.tenant_id}:{fid}"),
            )
        uow.commit()
    return world
