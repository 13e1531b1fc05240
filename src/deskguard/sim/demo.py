"""The demo MSP: two client tenants, ~50 people, an internal desk and an outsourced provider.

Deterministic from a seed (names, phones, factors); dates are relative to the clock so that "phone
changed yesterday" stays true whenever the demo runs. Seeding twice keeps the data and issues fresh
tokens (only hashes are stored, so the old clear values cannot be recovered).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

from deskguard.app.auth import issue_token
from deskguard.app.console_auth import create_account, hash_password
from deskguard.app.context import AppContext
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
from deskguard.domain.otp import b32_secret
from deskguard.domain.ports import UnitOfWork

FIRST = [
    "Claire",
    "Jean",
    "Amélie",
    "Lucas",
    "Sofia",
    "Hugo",
    "Inès",
    "Noah",
    "Emma",
    "Louis",
    "Chloé",
    "Gabriel",
    "Léa",
    "Arthur",
    "Manon",
    "Jules",
    "Camille",
    "Adam",
    "Sarah",
    "Paul",
    "Nina",
    "Tom",
    "Alice",
    "Victor",
    "Zoé",
    "Raphaël",
    "Julia",
    "Ethan",
    "Maya",
    "Oscar",
]
LAST = [
    "Dubois",
    "Martin",
    "Bernard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefebvre",
    "Michel",
    "Garcia",
    "Roux",
    "Fournier",
    "Girard",
    "Bonnet",
    "Dupont",
    "Lambert",
    "Fontaine",
    "Rousseau",
]
DEPARTMENTS = ["Finance", "Sales", "Engineering", "HR", "Operations", "Legal", "IT"]

TENANTS = (
    Tenant(id="tnt_acme", slug="acme", name="Acme Industries", timezone="Europe/Paris"),
    Tenant(id="tnt_globex", slug="globex", name="Globex Corporation", timezone="America/New_York"),
)
PROVIDERS = (
    Provider(id="prv_internal", name="Internal service desk", kind=ProviderKind.INTERNAL),
    Provider(id="prv_outsourced", name="FarShore Support Ltd", kind=ProviderKind.OUTSOURCED),
)
BOTH = frozenset(t.id for t in TENANTS)
OPERATORS = (
    Operator(
        id="op_alice",
        username="alice.agent@desk.example",
        display_name="Alice (agent)",
        role=OperatorRole.AGENT,
        provider_id="prv_internal",
        tenant_ids=BOTH,
        workstation="DESK-PAR-014",
    ),
    Operator(
        id="op_bruno",
        username="bruno.supervisor@desk.example",
        display_name="Bruno (supervisor)",
        role=OperatorRole.SUPERVISOR,
        provider_id="prv_internal",
        tenant_ids=BOTH,
        workstation="DESK-PAR-002",
    ),
    Operator(
        id="op_oscar",
        username="oscar@farshore.example",
        display_name="Oscar (outsourced agent)",
        role=OperatorRole.AGENT,
        provider_id="prv_outsourced",
        tenant_ids=BOTH,
        workstation="FS-MNL-221",
    ),
    Operator(
        id="op_olga",
        username="olga@farshore.example",
        display_name="Olga (outsourced supervisor)",
        role=OperatorRole.SUPERVISOR,
        provider_id="prv_outsourced",
        tenant_ids=frozenset({"tnt_globex"}),
        workstation="FS-MNL-200",
    ),
    Operator(
        id="op_anna",
        username="anna.analyst@desk.example",
        display_name="Anna (SOC analyst)",
        role=OperatorRole.ANALYST,
        provider_id="prv_internal",
        tenant_ids=BOTH,
        workstation="SOC-07",
    ),
    Operator(
        id="op_adrien",
        username="adrien.admin@desk.example",
        display_name="Adrien (admin)",
        role=OperatorRole.ADMIN,
        provider_id="prv_internal",
        tenant_ids=BOTH,
        workstation="SEC-01",
    ),
    Operator(
        id="op_aude",
        username="aude.auditor@audit.example",
        display_name="Aude (auditor)",
        role=OperatorRole.AUDITOR,
        provider_id="prv_internal",
        tenant_ids=BOTH,
        workstation="AUD-01",
    ),
)
PERSONS_PER_TENANT = 25
# Every demo console account signs in with this password, then the TOTP code of its own seed
# (``deskguard demo-code LOGIN`` prints it). Demo data only.
DEMO_PASSWORD = "deskguard-demo"
CONSOLE_PERSONS = 4  # per tenant, the first four people have a portal account (Claire, Jean, ...)


@dataclass(frozen=True, slots=True)
class DemoCredentials:
    operators: dict[str, dict[str, Any]]
    persons: dict[str, dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {
            "operators": self.operators,
            "persons": self.persons,
            "console_password": DEMO_PASSWORD,
            "note": "demo data only: these tokens, passwords and TOTP seeds protect nothing real",
        }


def _people(ctx: AppContext, tenant: Tenant, rng: random.Random) -> list[tuple[Person, bytes | None]]:
    now = ctx.clock.now()
    domain = f"{tenant.slug}.example"
    people: list[tuple[Person, bytes | None]] = []
    for n in range(PERSONS_PER_TENANT):
        first, last = (
            ("Claire", "Dubois")
            if n == 0
            else ("Jean", "Martin")
            if n == 1
            else (rng.choice(FIRST), rng.choice(LAST))
        )
        pid = f"per_{tenant.slug}_{n:03d}"
        email = f"{first.lower()}.{last.lower()}{n}@{domain}".replace("é", "e").replace("è", "e")
        # n == 1 is the person whose phone changed yesterday (the SIM-swap case of the walkthrough).
        changed = now - (timedelta(days=1) if n == 1 else timedelta(days=rng.randint(60, 900)))
        phone = Phone(
            number=f"+336{rng.randint(10_000_000, 99_999_999)}", source=PhoneSource.HR, changed_at=changed
        )
        seed = rng.randbytes(20) if n % 3 != 2 else None
        factors = [
            Factor(
                id=f"{pid}-push",
                kind=FactorKind.PORTAL_PUSH,
                label="deskguard portal, phone",
                enrolled_at=now - timedelta(days=200),
            ),
            Factor(
                id=f"{pid}-recovery",
                kind=FactorKind.RECOVERY_EMAIL,
                label="recovery e-mail",
                enrolled_at=now - timedelta(days=300),
                address=f"{first.lower()}.home@mail.example",
            ),
        ]
        if seed is not None:
            factors.append(
                Factor(
                    id=f"{pid}-totp",
                    kind=FactorKind.TOTP,
                    label="authenticator app",
                    enrolled_at=now - timedelta(days=150),
                )
            )
        people.append(
            (
                Person(
                    id=pid,
                    tenant_id=tenant.id,
                    employee_id=f"{tenant.slug.upper()}-{1000 + n}",
                    email=email,
                    display_name=f"{first} {last}",
                    department="Finance" if n == 0 else rng.choice(DEPARTMENTS),
                    manager_id=None
                    if n in (0, 2)
                    else (f"per_{tenant.slug}_000" if n < 8 else f"per_{tenant.slug}_002"),
                    privileged=n in (0, 2, 3),
                    groups=frozenset({"finance-admins"} if n == 0 else {"staff"}),
                    phones=(phone,),
                    factors=tuple(factors),
                ),
                seed,
            )
        )
    return people


def seed_demo(ctx: AppContext, *, seed: int = 7, history: bool = False) -> DemoCredentials:
    """Seed the demo organisation (once) and issue fresh tokens (every time). With ``history``, the
    first seed also plays a little past activity through the use cases (``sim.demo_history``)."""
    rng = random.Random(seed)
    org = {tenant.id: _people(ctx, tenant, rng) for tenant in TENANTS}  # deterministic: same seeds each run
    operators: dict[str, dict[str, Any]] = {}
    persons: dict[str, dict[str, Any]] = {}
    console_seeds = random.Random(seed + 1)  # the console's TOTP seeds: same each run, apart from org's
    with ctx.uow() as uow:
        created = uow.tenants.get(TENANTS[0].id) is None
        if created:
            _add_org(ctx, uow, org=org)
        for op in OPERATORS:
            totp = _console_account(
                ctx,
                uow,
                login=op.username,
                kind="operator",
                subject=op.id,
                tenant=None,
                seed=console_seeds.randbytes(20),
            )
            operators[op.username] = {
                "console_totp_base32": totp,
                "id": op.id,
                "role": op.role.value,
                "provider": op.provider_id,
                "tenants": sorted(op.tenant_ids),
                "token": issue_token(ctx, uow, subject_kind="operator", subject_id=op.id, label="demo"),
            }
        for tenant_id, people in org.items():
            for person, totp_seed in people:
                console_login = {}
                if int(person.id[-3:]) < CONSOLE_PERSONS:
                    totp = _console_account(
                        ctx,
                        uow,
                        login=person.email,
                        kind="person",
                        subject=person.id,
                        tenant=tenant_id,
                        seed=console_seeds.randbytes(20),
                    )
                    console_login = {"console_totp_base32": totp}
                persons[person.email] = {
                    **console_login,
                    "id": person.id,
                    "tenant": tenant_id,
                    "name": person.display_name,
                    "privileged": person.privileged,
                    "portal_token": issue_token(
                        ctx,
                        uow,
                        subject_kind="person",
                        subject_id=person.id,
                        label="demo portal",
                        tenant_id=tenant_id,
                    ),
                    **({"totp_secret_base32": b32_secret(totp_seed)} if totp_seed else {}),
                }
        uow.commit()
    if created and history:
        from deskguard.sim.demo_history import seed_history

        seed_history(ctx)
    return DemoCredentials(operators=operators, persons=persons)


@cache
def _demo_password_hash() -> str:
    """One argon2id hash of the shared demo password for every demo account (same password, same
    hash: it tells nothing the README does not): hashing it fifteen times would cost seconds per seed."""
    return hash_password(DEMO_PASSWORD)


def _console_account(
    ctx: AppContext,
    uow: UnitOfWork,
    *,
    login: str,
    kind: str,
    subject: str,
    tenant: str | None,
    seed: bytes,
) -> str:
    """The console account of a demo operator or person (created once); returns its TOTP seed."""
    if uow.console_accounts.get_by_login(login) is None:
        create_account(
            ctx,
            uow,
            login=login,
            subject_kind=kind,
            subject_id=subject,
            tenant_id=tenant,
            password_hash=_demo_password_hash(),
            totp_seed=seed,
        )
    return b32_secret(seed)


def _add_org(ctx: AppContext, uow: UnitOfWork, *, org: dict[str, list[tuple[Person, bytes | None]]]) -> None:
    for provider in PROVIDERS:
        uow.providers.add(provider)
    for tenant in TENANTS:
        uow.tenants.add(tenant)
    for op in OPERATORS:
        uow.operators.add(op)
    for tenant_id, people in org.items():
        for person, totp_seed in people:
            uow.persons.add(person)
            if totp_seed is not None:
                factor_id = f"{person.id}-totp"
                sealed = ctx.secrets.seal(totp_seed, context=f"totp:{tenant_id}:{factor_id}")
                uow.persons.set_totp_seed(tenant_id=tenant_id, factor_id=factor_id, sealed_seed=sealed)
