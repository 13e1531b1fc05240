"""Injecting a scenario (or its benign twin) into a simulation, with its ground-truth label.

``inject`` picks the cast from the MSP (a victim of the scenario's profile not used by another
scenario, agents of the right desk serving the victim's tenant, an attacker's phone and hosting
network), runs the steps through the ``Dataset`` and returns the label: which events (ids and
files), which entity, when the attack became harmful (the first harmful event's time) and the
expected outcome (``docs/simulation.md``).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from deskguard.sim.benign import CONNECTOR_IP, CONNECTOR_PLACE, on_shift
from deskguard.sim.dataset import CONNECTOR, FILES, Dataset, proof
from deskguard.sim.day import _iso
from deskguard.sim.msp import HOSTING, TRAVEL, Msp, Person, place
from deskguard.sim.scenarios import Scenario, Step

ATTACKER_UA = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"


class _Run:
    def __init__(self, msp: Msp, data: Dataset, cast: dict[str, Any], start: datetime) -> None:
        self.msp, self.data, self.cast, self.start = msp, data, cast, start
        self.refs: list[dict[str, Any]] = []
        self.last_ticket, self.last_call = "", ""
        self.others = iter(cast["others"])
        self.colleagues = iter(p for p in cast["others"] if p.tenant == cast["victim"].tenant)

    def note(self, file: str, event_id: str, moment: datetime, step: int, harmful: bool) -> None:
        self.refs.append({"id": event_id, "file": file, "at": _iso(moment), "step": step, "harmful": harmful})

    def who(self, role: str) -> str:
        return {
            "victim": self.cast["victim"].login,
            "attacker": self.cast["victim"].login,  # the attacker claims, then holds, the victim's account
            "connector": CONNECTOR,
            "manager": self.cast["victim"].manager or self.cast["victim"].login,
        }.get(role) or self.cast[role].login

    def network(self, name: str, role: str) -> tuple[str, Any]:
        victim: Person = self.cast["victim"]
        if name == "hosting" or (name == "" and role == "attacker"):
            hosting = self.cast["hosting"]
            return f"{hosting.prefix}34", hosting
        if name == "travel":
            travel = place(TRAVEL[0])
            return f"{travel.prefix}1.{victim.host % 250 + 2}", travel
        if name == "connector" or (name == "" and role == "connector"):
            return CONNECTOR_IP, CONNECTOR_PLACE
        if name == "agent" or (name == "" and role.startswith("agent")):
            agent = self.cast[role if role.startswith("agent") else "agent"]
            return agent.ip, place(("Paris", "France", "FR", 48.8566, 2.3522, "81.250.12.", 3215))
        return victim.ip, victim.home

    def run(self, index: int, step: Step, moment: datetime) -> None:
        getattr(self, f"_{step.do}")(index, step, moment)

    def _call(self, index: int, step: Step, moment: datetime) -> None:
        victim: Person = self.cast["victim"]
        number = self.cast["attacker_phone"] if step.args.get("number") == "attacker" else victim.phone
        agent = self.cast["agent2" if step.by == "agent2" else "agent3" if step.by == "agent3" else "agent"]
        claimed = next(self.others) if step.args.get("person") == "others" else victim
        self.last_call = self.data.call(
            moment,
            number=number,
            claimed=claimed.login,
            attestation=str(step.args.get("attestation", "A")),
            tenant=self.msp.tenant(claimed.tenant),
            agent=agent.login,
        )
        self.note(FILES["calls"], self.last_call, moment, index, step.harmful)

    def _ticket(self, index: int, step: Step, moment: datetime) -> None:
        victim: Person = self.cast["victim"]
        number = self.cast["attacker_phone"] if step.args.get("number") == "attacker" else victim.phone
        sys_id, self.last_ticket = self.data.ticket(
            moment,
            caller=victim.login,
            channel="phone",
            summary=str(step.args.get("summary", "Cannot sign in")),
            phone=number,
            agent=self.who(step.by if step.by.startswith("agent") else "agent"),
        )
        self.note(FILES["tickets"], sys_id, moment, index, step.harmful)

    def _request(self, index: int, step: Step, moment: datetime) -> None:
        victim: Person = self.cast["victim"]
        person = {
            "others": lambda: next(self.others),
            "colleague": lambda: next(self.colleagues),
            "namesake": lambda: self.cast["namesake"],
        }.get(str(step.args.get("person")), lambda: victim)()
        proofs = [
            proof(item["method"], item["outcome"], moment + timedelta(minutes=1 + n))
            for n, item in enumerate(step.args["proofs"])
        ]
        approvals = [
            {
                "approver": self.who(a["by"]),
                "decision": a["decision"],
                "at": _iso(moment + timedelta(minutes=3)),
            }
            for a in step.args.get("approvals", [])
        ]
        request_id = self.data.request(
            moment,
            tenant=self.msp.tenant(person.tenant),
            kind=str(step.args["kind"]),
            person=person.login,
            operator=self.who(step.by),
            ticket=self.last_ticket or "",
            channel="phone",
            call_id=self.last_call,
            proofs=proofs,
            approvals=approvals,
        )
        self.note(FILES["requests"], request_id, moment, index, step.harmful)

    def _okta(self, index: int, step: Step, moment: datetime) -> None:
        target = step.args.get("target", "victim")
        person = next(self.others) if target == "others" else self.cast["victim"]
        ip, where = self.network(str(step.args.get("network", "")), step.by)
        attacker = step.by == "attacker"
        event_id = self.data.okta_event(
            moment,
            str(step.args["event"]),
            actor=self.who(step.by),
            target=None if target == "none" else person.login,
            ip=ip,
            place=where,
            outcome=str(step.args.get("outcome", "SUCCESS")),
            reason=step.args.get("reason"),
            app=step.args.get("app"),
            proxy=attacker,
            session=self._session(step, attacker),
            user_agent=ATTACKER_UA if attacker else "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0",
            actor_type="PublicClientApp" if step.by == "connector" else "User",
            changed=step.args.get("changed"),
            device=person.device_ids(moment)[0] if step.by == "victim" else "",
        )
        self.note(FILES["okta"], event_id, moment, index, step.harmful)

    def _session(self, step: Step, attacker: bool) -> str | None:
        """``session: victim`` is the victim's own browser session (a hijacker replays it)."""
        if step.args.get("session") == "victim":
            return "102victim" + self.cast["tag"]
        return "102attacker" + self.cast["tag"] if attacker else None

    def _entra_signin(self, index: int, step: Step, moment: datetime) -> None:
        ip, where = self.network(str(step.args.get("network", "")), step.by)
        app = str(step.args.get("app", "Office 365 Exchange Online"))
        victim: Person = self.cast["victim"]
        device = victim.device_ids(moment)[1] if step.by == "victim" else ""  # the attacker's is not joined
        event_id = self.data.signin(moment, victim, ip=ip, place=where, app=app, device=device)
        self.note(FILES["entra"], event_id, moment, index, step.harmful)

    def _entra_audit(self, index: int, step: Step, moment: datetime) -> None:
        ip, _ = self.network(str(step.args.get("network", "")), step.by)
        victim: Person = self.cast["victim"]
        role, domain = step.args.get("role"), step.args.get("domain")
        if domain:
            target, target_type = f"{domain}.{victim.login.split('@')[1]}", "Domain"
            modified = [
                {"displayName": "AuthenticationType", "oldValue": '"Managed"', "newValue": '"Federated"'}
            ]
        else:
            target, target_type = victim.login, "User"
            modified = (
                [{"displayName": "Role.DisplayName", "oldValue": None, "newValue": f'"{role}"'}]
                if role
                else []
            )
        event_id = self.data.audit(
            moment,
            self.who(step.by),
            target,
            operation=str(step.args["operation"]),
            category=str(step.args.get("category", "RoleManagement" if role else "DirectoryManagement")),
            key=f"{target}{step.args['operation']}{self.cast['tag']}{index}",
            modified=modified,
            ip=ip,
            target_type=target_type,
        )
        self.note(FILES["entra"], event_id, moment, index, step.harmful)

    def _phone_change(self, index: int, step: Step, moment: datetime) -> None:
        """The registered phone moves (a SIM swap, or a real new number): ``msp.json`` carries it."""
        victim: Person = self.cast["victim"]
        victim.phone_changed_at = moment
        self.refs.append(
            {
                "id": f"phone:{victim.login}",
                "file": "msp.json",
                "at": _iso(moment),
                "step": index,
                "harmful": step.harmful,
            }
        )


def pick_cast(
    rng: random.Random,
    msp: Msp,
    scenario: Scenario,
    used: set[str],
    tag: str,
    *,
    twin: bool = False,
    avoid: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The victim (of the scenario's profile, not yet used), its tenant's agents and an attacker.

    A scenario with a ``person: namesake`` step (attack or twin) picks victims who have a namesake in
    another tenant (``msp.namesakes``); the namesake is used up with the victim. Operators in
    ``avoid`` (the attack's, for its twin) come last, so that a twin is not read as the attack's
    continuation (the same pair approving again, the same agent's spike).
    """
    wants_namesake = any(step.args.get("person") == "namesake" for step in (*scenario.steps, *scenario.twin))
    namesakes = namesakes_of(msp)
    eligible = [
        p
        for p in msp.persons
        if p.login not in used
        and p.hired_on is None
        and (scenario.privileged is None or p.privileged == scenario.privileged)
        and (not wants_namesake or (p.login in namesakes and namesakes[p.login].login not in used))
    ]
    if not eligible:
        raise ValueError(
            f"{scenario.name}: no person left of its victim profile; simulate more persons"
            + (" and at least two tenants (it needs namesakes)" if wants_namesake else "")
        )
    settled = [p for p in eligible if p.traveller == 0.0]  # so a benign trip does not blur the story
    if not wants_namesake:  # namesakes are kept for the scenarios that need them
        settled = [p for p in settled if p.login not in namesakes] or settled
    victim = rng.choice(settled or eligible)
    used.add(victim.login)
    namesake = namesakes.get(victim.login) if wants_namesake else None
    if namesake is not None:
        used.add(namesake.login)
    desk = sorted(
        [
            op
            for op in msp.operators
            if victim.tenant in op.tenants
            and (scenario.outsourced is None or op.outsourced == scenario.outsourced)
        ]
        or on_shift(msp, victim.tenant, datetime(2026, 1, 1, scenario.hour)),
        # a namesake mix-up needs an agent who serves both clients; the attack's operators go last
        key=lambda op: (namesake is not None and namesake.tenant not in op.tenants, op.login in avoid),
    )
    # the second and third agents serve the victim's tenant too when the MSP has them
    others = sorted(
        (op for op in msp.operators if op not in desk[:1]),
        key=lambda op: (victim.tenant not in op.tenants, op.login in avoid),
    )
    agents = [desk[0], *others[:2]]
    # a twin's other people are ordinary ones: it is the routine look-alike, and a privileged account
    # acted on at night alerts by design (Deskguard.Request.PrivilegedOutOfHours)
    pool = [
        p for p in msp.persons if p.login not in used and p.hired_on is None and not (twin and p.privileged)
    ]
    rng.shuffle(pool)
    return {
        "victim": victim,
        "agent": agents[0],
        "agent2": agents[1 % len(agents)],
        "agent3": agents[2 % len(agents)],
        "attacker_phone": f"+4477009{rng.randrange(10**5):05d}",
        "hosting": place(HOSTING[rng.randrange(len(HOSTING))]),
        "others": pool,
        "namesake": namesake,
        "tag": tag,
    }


def namesakes_of(msp: Msp) -> dict[str, Person]:
    """Each person who shares their display name with someone of another tenant -> that person."""
    by_name: dict[str, list[Person]] = {}
    for person in msp.persons:
        by_name.setdefault(person.display_name, []).append(person)
    return {
        a.login: b
        for group in by_name.values()
        for a in group
        for b in group
        if a.tenant != b.tenant and a.hired_on is None and b.hired_on is None
    }


def inject(
    rng: random.Random,
    msp: Msp,
    data: Dataset,
    scenario: Scenario,
    *,
    start: datetime,
    days: int,
    twin: bool,
    used: set[str],
    avoid: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Run the scenario's steps (or its twin's) into ``data``; its label (``avoid``: see ``pick_cast``)."""
    variant = "twin" if twin else "attack"
    cast = pick_cast(rng, msp, scenario, used, tag=f"{scenario.name[:6]}{variant[0]}", twin=twin, avoid=avoid)
    day = min(scenario.day, days - 1)
    begin = start + timedelta(days=day, hours=scenario.hour, minutes=30 if twin else 0)
    run = _Run(msp, data, cast, begin)
    for index, step in enumerate(scenario.twin if twin else scenario.steps):
        for repeat in range(step.repeat):
            run.run(index, step, begin + step.after + repeat * step.every)
    harmful = sorted((ref for ref in run.refs if ref["harmful"]), key=lambda ref: ref["at"])
    return {
        "scenario": scenario.name,
        "variant": variant,
        "title": scenario.title,
        "tenant": msp.tenant(cast["victim"].tenant).id,
        "entity": cast["victim"].login,
        "agent": cast["agent"].login,
        "agents": sorted({cast[role].login for role in ("agent", "agent2", "agent3")}),
        "started_at": _iso(begin),
        "harmful_at": harmful[0]["at"] if harmful else None,
        "events": run.refs,
        "expected": {"outcome": scenario.outcome, "rules": list(scenario.rules)}
        if not twin
        else {"outcome": "none"},
    }
