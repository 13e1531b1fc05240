"""The synthetic MSP a simulation runs on: tenants, persons, operators and providers.

Pure: ``build_msp(rng, tenants=…, persons=…, operators=…, start=…)`` returns the organisation; the
same seed and sizes give the same organisation. Persons carry what the policy and the detections
read about them (home country and network, devices, registered phone and when it changed, travel
habit, manager, privileged flag); operators carry their desk (the MSP's internal desk or an
outsourced provider), the tenants they serve, their shift and their usual rate of resets.
``to_json`` is the ``msp.json`` file of a simulation (``docs/simulation.md``).
"""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

# (city, country name, ISO code, lat, lon, ISP prefix, ASN): residential and office networks
HOMES = (
    ("Paris", "France", "FR", 48.8566, 2.3522, "81.250.", 3215),
    ("Lyon", "France", "FR", 45.764, 4.8357, "90.84.", 3215),
    ("Berlin", "Germany", "DE", 52.52, 13.405, "87.128.", 3320),
    ("London", "United Kingdom", "GB", 51.5072, -0.1276, "81.128.", 2856),
    ("Madrid", "Spain", "ES", 40.4168, -3.7038, "83.32.", 3352),
)
# where people travel to, and the networks they use there (hotel and mobile roaming)
TRAVEL = (
    ("New York", "United States", "US", 40.7128, -74.006, "73.54.", 7922),
    ("Milan", "Italy", "IT", 45.4642, 9.19, "79.20.", 3269),
    ("Brussels", "Belgium", "BE", 50.8503, 4.3517, "81.82.", 5432),
)
# hosting and anonymising networks attackers sign in from
HOSTING = (
    ("Amsterdam", "Netherlands", "NL", 52.3676, 4.9041, "185.220.101.", 208294),
    ("Frankfurt", "Germany", "DE", 50.1109, 8.6821, "159.89.120.", 14061),
)
TIMEZONES = ("Europe/Paris", "Europe/Berlin", "Europe/London", "Europe/Madrid")
TENANT_NAMES = ("acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "wonka")
FIRST = ("jeanne", "paul", "lea", "hugo", "chloe", "louis", "emma", "arthur", "alice", "jules", "lina")
FIRST += ("adam", "sofia", "noah", "ines", "oscar", "maya", "victor", "zoe", "nina", "tom", "julia")
LAST = ("martin", "bernard", "dubois", "thomas", "robert", "richard", "petit", "durand", "leroy")
LAST += ("moreau", "simon", "laurent", "lefebvre", "michel", "garcia", "roux", "fournier", "girard")
DEVICES = ("Windows laptop", "MacBook", "iPhone", "Android phone", "iPad")
PROVIDERS = (("prv_internal", "MSP service desk", "internal"), ("prv_outdesk", "OutDesk BPO", "outsourced"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Place:
    city: str
    country: str
    code: str
    lat: float
    lon: float
    prefix: str
    asn: int

    def okta(self) -> tuple[str, str, float, float]:
        """The ``(city, country, lat, lon)`` tuple of the Okta and Entra record builders."""
        return (self.city, self.country, self.lat, self.lon)


def place(row: tuple[str, str, str, float, float, str, int]) -> Place:
    city, country, code, lat, lon, prefix, asn = row
    return Place(city=city, country=country, code=code, lat=lat, lon=lon, prefix=prefix, asn=asn)


@dataclass(frozen=True, slots=True, kw_only=True)
class Tenant:
    id: str
    slug: str
    domain: str
    timezone: str
    helpdesk_number: str


@dataclass(slots=True, kw_only=True)
class Person:
    login: str
    tenant: str
    display_name: str
    home: Place
    host: int  # last octets of the home network address
    devices: list[str]
    phone: str
    phone_changed_at: datetime
    traveller: float  # probability of being abroad on a given day
    manager: str | None
    privileged: bool
    hired_on: datetime | None = None  # a new hire in the simulated window enrols their devices

    @property
    def ip(self) -> str:
        return f"{self.home.prefix}{self.host // 250}.{self.host % 250 + 2}"

    def device_ids(self, moment: datetime) -> tuple[str, str]:
        """The device the person works from that day, as each IdP identifies it: (Okta ``dtHash``, Entra
        ``deviceId``). One of their own devices, chosen by the day (no draw: the seed's stream stays)."""
        day = moment.date().isoformat()
        pick = int(hashlib.sha256(f"{self.login}{day}".encode()).hexdigest(), 16)
        device = self.devices[pick % len(self.devices)]
        okta = hashlib.sha256(f"okta-dt:{self.login}:{device}".encode()).hexdigest()[:43]
        entra = str(
            uuid.UUID(hashlib.sha256(f"entra-device:{self.login}:{device}".encode()).hexdigest()[:32])
        )
        return okta, entra


@dataclass(frozen=True, slots=True, kw_only=True)
class Operator:
    login: str
    provider: str
    outsourced: bool
    tenants: tuple[str, ...]
    shift_start: int  # UTC hour
    shift_hours: int
    resets_per_day: float  # the operator's habit, what their baseline learns
    ip: str


@dataclass(slots=True)
class Msp:
    tenants: list[Tenant]
    persons: list[Person]
    operators: list[Operator]
    providers: tuple[tuple[str, str, str], ...] = PROVIDERS
    by_login: dict[str, Person] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_login = {person.login: person for person in self.persons}

    def tenant(self, slug: str) -> Tenant:
        return next(tenant for tenant in self.tenants if tenant.slug == slug)

    def people_of(self, slug: str) -> list[Person]:
        return [person for person in self.persons if person.tenant == slug]

    def to_json(self) -> dict[str, Any]:
        persons = []
        for person in self.persons:
            row = asdict(person)
            row["phone_changed_at"] = person.phone_changed_at.isoformat()
            row["hired_on"] = person.hired_on.isoformat() if person.hired_on else None
            row["ip"] = person.ip
            persons.append(row)
        return {
            "tenants": [asdict(tenant) for tenant in self.tenants],
            "providers": [{"id": pid, "name": name, "kind": kind} for pid, name, kind in self.providers],
            "persons": persons,
            "operators": [asdict(operator) for operator in self.operators],
        }


def build_msp(rng: random.Random, *, tenants: int, persons: int, operators: int, start: datetime) -> Msp:
    """The organisation: ``persons`` spread over ``tenants``, ``operators`` over two desks."""
    if tenants < 1 or tenants > len(TENANT_NAMES):
        raise ValueError(f"tenants must be between 1 and {len(TENANT_NAMES)}, not {tenants}")
    if persons < 10 * tenants:
        raise ValueError(f"persons must be at least 10 per tenant ({10 * tenants}), not {persons}")
    if operators < 4:
        raise ValueError(f"operators must be at least 4 (two per desk), not {operators}")
    made = [_tenant(index) for index in range(tenants)]
    people: list[Person] = []
    names = [(first, last) for last in LAST for first in FIRST]
    rng.shuffle(names)
    for index in range(persons):
        tenant = made[index % tenants]
        first, last = names[index % len(names)]
        suffix = "" if index < len(names) else str(index // len(names))
        people.append(_person(rng, tenant, first, last + suffix, index, start))
    _namesakes(people, made)
    for tenant in made:  # a manager per team of about eight, the first of each tenant privileged
        staff = [person for person in people if person.tenant == tenant.slug]
        for position, person in enumerate(staff):
            lead = staff[(position // 8) * 8]
            person.manager = None if lead is person else lead.login
            person.privileged = position % 8 == 0 or position % 13 == 5
    return Msp(tenants=made, persons=people, operators=_operators(rng, made, operators))


def _namesakes(people: list[Person], tenants: list[Tenant]) -> None:
    """Clients of one MSP have namesakes: the last four people of each tenant after the first take the
    names of people of the first tenant (what a cross-tenant mistake needs), while it has some left."""
    first = [person for person in people if person.tenant == tenants[0].slug]
    for k, tenant in enumerate(tenants[1:]):
        staff = [person for person in people if person.tenant == tenant.slug]
        for n, person in enumerate(staff[-4:]):
            if 4 * k + n + 1 > len(first) - 4:
                return
            model = first[-(4 * k + n + 1)]
            person.login = f"{model.login.split('@')[0]}@{tenant.domain}"
            person.display_name = model.display_name


def _tenant(index: int) -> Tenant:
    slug = TENANT_NAMES[index]
    return Tenant(
        id=f"tnt_{slug}",
        slug=slug,
        domain=f"{slug}.example",
        timezone=TIMEZONES[index % len(TIMEZONES)],
        helpdesk_number=f"+3318000{index:04d}",
    )


def _person(rng: random.Random, tenant: Tenant, first: str, last: str, index: int, start: datetime) -> Person:
    home = place(HOMES[rng.randrange(len(HOMES))])
    hired = rng.random() < 0.04
    return Person(
        login=f"{first}.{last}@{tenant.domain}",
        tenant=tenant.slug,
        display_name=f"{first.title()} {last.title()}",
        home=home,
        host=10 + index,
        devices=sorted(rng.sample(DEVICES, rng.randrange(1, 4))),
        phone=f"+336{index:08d}",
        phone_changed_at=start - timedelta(days=rng.randrange(60, 900)),
        traveller=rng.choice((0.0, 0.0, 0.02, 0.05, 0.15)),
        manager=None,
        privileged=False,
        hired_on=start + timedelta(days=rng.randrange(0, 3)) if hired else None,
    )


def _operators(rng: random.Random, tenants: list[Tenant], count: int) -> list[Operator]:
    made = []
    slugs = tuple(tenant.slug for tenant in tenants)
    for index in range(count):
        outsourced = index % 2 == 1
        provider = PROVIDERS[1 if outsourced else 0][0]
        domain = "outdesk.example" if outsourced else "msp.example"
        # the internal desk works office hours; the provider covers early, late and night shifts
        shift = 7 if not outsourced else (5, 13, 21)[(index // 2) % 3]
        served = (
            slugs
            if outsourced or len(slugs) == 1
            else tuple(s for i, s in enumerate(slugs) if i % 2 == index % 2)
        )
        made.append(
            Operator(
                login=f"agent{index:02d}@{domain}",
                provider=provider,
                outsourced=outsourced,
                tenants=served or slugs,
                shift_start=shift,
                shift_hours=8,
                resets_per_day=round(rng.uniform(1.0, 4.0), 1),
                ip=f"{'81.250.12.' if not outsourced else '196.200.1.'}{100 + index}",
            )
        )
    return made
