"""Benign life of the synthetic MSP: D days of sign-ins, travel, tickets, calls and brokered requests.

Pure given its random generator: ``benign_days`` appends to a ``Dataset``. Every person signs in on
working days from home (or from where they travel); some mistype a password; on Mondays passwords
expire and some people change theirs in self-service; some get locked out or forget their password
and call the helpdesk from their registered phone, where the agent opens a ticket and a request with
a proper proof, and deskguard's connector performs the change in Okta; new hires enrol their first
factor with their manager's confirmation and an identity check; e-mail tickets about other things.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from deskguard.sim.dataset import CONNECTOR, Dataset, proof
from deskguard.sim.day import _iso
from deskguard.sim.msp import TRAVEL, Msp, Operator, Person, place

APPS = ("Microsoft 365", "Slack", "Jira", "Confluence", "Workday", "Salesforce")
CONNECTOR_PLACE = place(("Paris", "France", "FR", 48.8566, 2.3522, "51.15.", 12876))
CONNECTOR_IP = "51.15.20.10"
OTHER_TICKETS = ("Printer on floor 3 jams", "Laptop fan is noisy", "Need a second monitor", "VPN is slow")


def benign_days(
    rng: random.Random, msp: Msp, data: Dataset, *, start: datetime, days: int, history: int = 0
) -> tuple[int, int]:
    """Append ``history`` days of learning period before ``start`` (a UTC midnight), then ``days`` days
    of benign activity from it; the helpdesk actions of each (history, window)."""
    actions = [0, 0]
    abroad: dict[str, int] = {}
    for day in range(-history, days):
        midnight = start + timedelta(days=day)
        if midnight.weekday() >= 5:
            continue
        for person in msp.persons:
            if person.hired_on is not None and person.hired_on.date() > midnight.date():
                continue
            _workday(rng, data, person, midnight, abroad)
            actions[day >= 0] += _helpdesk(rng, msp, data, person, midnight)
    return actions[0], actions[1]


def _workday(
    rng: random.Random, data: Dataset, person: Person, midnight: datetime, abroad: dict[str, int]
) -> None:
    # a trip lasts a few days; the first sign-in abroad is the next morning, a flight away from home
    if abroad.get(person.login, 0) > 0:
        abroad[person.login] -= 1
    elif rng.random() < person.traveller:
        abroad[person.login] = rng.randrange(1, 4)
    where = place(TRAVEL[hash_index(person.login, len(TRAVEL))]) if abroad.get(person.login) else person.home
    ip = (
        f"{where.prefix}{person.host // 250}.{person.host % 250 + 2}"
        if where is not person.home
        else person.ip
    )
    at = midnight + timedelta(hours=7, minutes=rng.randrange(120))
    session = "102" + f"{abs(hash_index(person.login + str(midnight), 10**12)):012d}"
    okta_device, entra_device = person.device_ids(midnight)
    data.okta_event(
        at, "user.session.start", actor=person.login, ip=ip, place=where, session=session, device=okta_device
    )
    for index, app in enumerate(rng.sample(APPS, 3)):
        data.okta_event(
            at + timedelta(minutes=5 + index * rng.randrange(20, 90)),
            "user.authentication.sso",
            actor=person.login,
            target=person.login,
            ip=ip,
            place=where,
            session=session,
            app=app,
            device=okta_device,
        )
    data.signin(
        at + timedelta(minutes=3),
        person,
        ip=ip,
        place=where,
        app="Office 365 Exchange Online",
        device=entra_device,
    )
    if rng.random() < 0.1:
        data.okta_event(
            midnight + timedelta(hours=13, minutes=rng.randrange(240)),
            "user.session.start",
            actor=person.login,
            ip=ip,
            place=where,
            outcome="FAILURE",
            reason="INVALID_CREDENTIALS",
            device=okta_device,
        )
    if midnight.weekday() == 0 and rng.random() < 0.2:  # password-expiry Monday
        data.okta_event(
            at + timedelta(minutes=1),
            "user.account.update_password",
            actor=person.login,
            target=person.login,
            ip=ip,
            place=where,
        )


def hash_index(text: str, size: int) -> int:
    """A stable index from a text (Python's ``hash`` of a string changes per process)."""
    value = 0
    for char in text:
        value = (value * 131 + ord(char)) % 1_000_000_007
    return value % size


def on_shift(msp: Msp, tenant: str, moment: datetime) -> list[Operator]:
    """The operators serving ``tenant`` whose shift covers ``moment`` (all serving it, if none)."""
    serving = [op for op in msp.operators if tenant in op.tenants]
    hour = moment.hour
    working = [op for op in serving if (hour - op.shift_start) % 24 < op.shift_hours]
    return working or serving


def _helpdesk(rng: random.Random, msp: Msp, data: Dataset, person: Person, midnight: datetime) -> int:
    at = midnight + timedelta(hours=9, minutes=rng.randrange(8 * 60))
    agent = rng.choice(on_shift(msp, person.tenant, at))
    roll = rng.random()
    if person.hired_on is not None and person.hired_on.date() == midnight.date():
        return _enrolment(data, person, at, agent, msp)
    if roll < 0.03:
        data.okta_event(
            at - timedelta(minutes=4),
            "user.account.lock",
            actor=person.login,
            target=person.login,
            ip=person.ip,
            place=person.home,
            outcome="FAILURE",
            reason="LOCKED_OUT",
        )
        return _phone_request(data, person, at, agent, msp, "unlock_account", "Account locked, please unlock")
    if roll < 0.05:
        return _phone_request(data, person, at, agent, msp, "reset_password", "Forgot my password")
    if roll < 0.08:
        data.ticket(
            at, caller=person.login, channel="email", summary=rng.choice(OTHER_TICKETS), agent=agent.login
        )
    return 0


_EVENTS = {
    "unlock_account": "user.account.unlock",
    "reset_password": "user.account.reset_password",
    "enroll_factor": "user.mfa.factor.activate",
}


def _phone_request(
    data: Dataset, person: Person, at: datetime, agent: Operator, msp: Msp, kind: str, summary: str
) -> int:
    """A genuine caller from their registered phone; a push with number matching proves them."""
    tenant = msp.tenant(person.tenant)
    _, number = data.ticket(
        at + timedelta(minutes=1),
        caller=person.login,
        channel="phone",
        summary=summary,
        phone=person.phone,
        agent=agent.login,
    )
    call = data.call(
        at,
        number=person.phone,
        claimed=person.login,
        attestation="A",
        tenant=tenant,
        agent=agent.login,
        ticket=number,
    )
    data.request(
        at + timedelta(minutes=2),
        tenant=tenant,
        kind=kind,
        person=person.login,
        operator=agent.login,
        ticket=number,
        channel="phone",
        call_id=call,
        proofs=[proof("push_number_match", "succeeded", at + timedelta(minutes=3))],
    )
    _connector(data, at + timedelta(minutes=4), kind, person)
    return 1


def _enrolment(data: Dataset, person: Person, at: datetime, agent: Operator, msp: Msp) -> int:
    """A new hire's first factor: the manager confirms, an identity check passes, a supervisor approves."""
    tenant = msp.tenant(person.tenant)
    _, number = data.ticket(
        at, caller=person.login, channel="walk_in", summary="New starter: enrol my laptop", agent=agent.login
    )
    approver = next(op for op in msp.operators if op.login != agent.login and person.tenant in op.tenants)
    data.request(
        at + timedelta(minutes=2),
        tenant=tenant,
        kind="enroll_factor",
        person=person.login,
        operator=agent.login,
        ticket=number,
        channel="walk_in",
        proofs=[
            proof("manager_confirmation", "succeeded", at + timedelta(minutes=5), manager=person.manager),
            proof("external_idv", "succeeded", at + timedelta(minutes=9)),
        ],
        approvals=[
            {"approver": approver.login, "decision": "granted", "at": _iso(at + timedelta(minutes=11))}
        ],
    )
    _connector(data, at + timedelta(minutes=12), "enroll_factor", person)
    return 1


def _connector(data: Dataset, moment: datetime, kind: str, person: Person) -> None:
    """The change deskguard's connector makes in Okta once the request is approved."""
    event = _EVENTS[kind]
    if kind == "enroll_factor":  # the person activates the factor themselves, from their own network
        data.okta_event(
            moment,
            event,
            actor=person.login,
            target=person.login,
            ip=person.ip,
            place=person.home,
            reason="Okta Verify enrolled",
        )
        return
    data.okta_event(
        moment,
        event,
        actor=CONNECTOR,
        target=person.login,
        ip=CONNECTOR_IP,
        place=CONNECTOR_PLACE,
        actor_type="PublicClientApp",
    )
