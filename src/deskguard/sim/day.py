"""A day of records from a synthetic organisation: benign activity, and optionally the attack story.

The files are what a customer would export: the Okta System Log (NDJSON), Entra ID sign-ins and
audits in the Azure Monitor diagnostic shape (``{"records": [...]}``), ServiceNow tickets (NDJSON)
and call records in deskguard's generic telephony format (NDJSON). Everything derives from the
seed, so a day replays to the same alerts.

The story (09:00-09:40 UTC, the French article's scenario): a caller whose number is not Jeanne's
and whose call fails STIR/SHAKEN claims to be Jeanne Martin, locked out with a new phone; the agent
opens a phone ticket, then - outside deskguard - resets her password and MFA from his own admin
account; the attacker enrols a new factor from abroad, signs in through a proxy, and opens one
application after another; a privileged role follows in Entra.
"""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

DOMAIN = "acme.example"
DAY = datetime(2026, 11, 30, tzinfo=UTC)  # a Monday
APPS = ("Microsoft 365", "Slack", "Jira", "Confluence", "Workday", "Salesforce")
SENSITIVE_APPS = ("AWS Console", "Okta Admin Console", "GitHub Enterprise", "Snowflake", "Workday Payroll")
OFFICES = (
    ("Paris", "France", "FR", 48.8566, 2.3522, "81.250.12."),
    ("Lyon", "France", "FR", 45.764, 4.8357, "90.84.7."),
)
FIRST = (
    "jeanne",
    "paul",
    "lea",
    "hugo",
    "chloe",
    "louis",
    "emma",
    "arthur",
    "alice",
    "jules",
    "lina",
    "adam",
)
LAST = ("martin", "bernard", "dubois", "thomas", "robert", "richard", "petit", "durand", "leroy", "moreau")
VICTIM = f"jeanne.martin@{DOMAIN}"
ROGUE_AGENT = f"k.dupont.adm@{DOMAIN}"  # a helpdesk agent's admin account
ATTACKER_NUMBER = "+447700900123"
ATTACKER_IP = "185.220.101.34"  # Amsterdam, through an anonymising proxy


@dataclass(slots=True)
class Employee:
    login: str
    office: tuple[str, str, str, float, float, str]
    host: int
    phone: str
    apps: tuple[str, ...]


def _people(rng: random.Random, count: int) -> list[Employee]:
    people: list[Employee] = []
    names = [f"{f}.{last}@{DOMAIN}" for last in LAST for f in FIRST]
    rng.shuffle(names)
    chosen = [VICTIM] + [n for n in names if n != VICTIM][: count - 1]
    for index, login in enumerate(chosen):
        people.append(
            Employee(
                login=login,
                office=OFFICES[index % len(OFFICES)],
                host=10 + index,
                phone=f"+3361{index:07d}",
                apps=tuple(rng.sample(APPS, 3)),
            )
        )
    return people


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class OktaLog:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.records: list[dict[str, Any]] = []

    def event(
        self,
        moment: datetime,
        event_type: str,
        *,
        actor: str,
        target: str | None = None,
        ip: str,
        place: tuple[str, str, float, float],
        outcome: str = "SUCCESS",
        reason: str | None = None,
        session: str | None = None,
        app: str | None = None,
        proxy: bool = False,
        user_agent: str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0",
        message: str = "",
        actor_type: str = "User",
        changed: str | None = None,
        device: str = "",
    ) -> None:
        targets: list[dict[str, Any]] = []
        if target:
            targets.append(
                {"id": "00u" + _digest(target), "type": "User", "alternateId": target, "displayName": target}
            )
        if app:
            targets.append(
                {"id": "0oa" + _digest(app), "type": "AppInstance", "alternateId": app, "displayName": app}
            )
        city, country, lat, lon = place
        self.records.append(
            {
                "uuid": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
                "published": _iso(moment),
                "eventType": event_type,
                "version": "0",
                "severity": "INFO",
                "displayMessage": message or event_type,
                "actor": {
                    "id": "00u" + _digest(actor),
                    "type": actor_type,
                    "alternateId": actor,
                    "displayName": actor,
                },
                "client": {
                    "userAgent": {"rawUserAgent": user_agent, "os": "Windows 10", "browser": "CHROME"},
                    "zone": "null",
                    "device": "Computer",
                    "ipAddress": ip,
                    "geographicalContext": {
                        "city": city,
                        "country": country,
                        "geolocation": {"lat": lat, "lon": lon},
                    },
                },
                "outcome": {"result": outcome, "reason": reason},
                "target": targets,
                "transaction": {"type": "WEB", "id": "W" + _digest(f"{moment}{event_type}{actor}")},
                "debugContext": {
                    "debugData": {"requestId": _digest(f"{moment}{actor}")}
                    | ({"changedAttributes": changed} if changed else {})
                    | ({"dtHash": device} if device else {})
                },
                "authenticationContext": {"externalSessionId": session or ("102" + _digest(actor + ip))},
                "securityContext": {"isProxy": proxy},
            }
        )


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:17]


def _entra_signin(
    moment: datetime,
    person: Employee,
    ip: str,
    place: tuple[str, str, float, float],
    app: str,
    device_id: str = "",
) -> dict[str, Any]:
    city, country, lat, lon = place
    return {
        "time": _iso(moment),
        "resourceId": "/tenants/8d4a-acme/providers/Microsoft.aadiam",
        "operationName": "Sign-in activity",
        "operationVersion": "1.0",
        "category": "SignInLogs",
        "resultType": "0",
        "resultSignature": "None",
        "correlationId": _digest(f"{moment}{person.login}c"),
        "identity": person.login,
        "Level": 4,
        "location": country,
        "properties": {
            "id": _digest(f"{moment}{person.login}{app}"),
            "createdDateTime": _iso(moment),
            "userPrincipalName": person.login,
            "userId": _digest(person.login),
            "appDisplayName": app,
            "ipAddress": ip,
            "clientAppUsed": "Browser",
            "status": {"errorCode": 0},
            "location": {
                "city": city,
                "countryOrRegion": country,
                "geoCoordinates": {"latitude": lat, "longitude": lon},
            },
            "deviceDetail": {"deviceId": device_id, "operatingSystem": "Windows10", "browser": "Edge 131"},
        },
    }


def _entra_role(
    moment: datetime, actor: str, target: str, role: str, *, ip: str = ATTACKER_IP
) -> dict[str, Any]:
    modified = [{"displayName": "Role.DisplayName", "oldValue": None, "newValue": f'"{role}"'}]
    return _entra_audit(
        moment,
        actor,
        target,
        operation="Add member to role",
        category="RoleManagement",
        key=f"{target}{role}",
        modified=modified,
        ip=ip,
    )


def _entra_audit(
    moment: datetime,
    actor: str,
    target: str,
    *,
    operation: str,
    category: str,
    key: str,
    modified: list[dict[str, Any]],
    ip: str,
    target_type: str = "User",
) -> dict[str, Any]:
    """An Entra ID directory audit in the Azure Monitor shape; ``key`` makes its ids unique."""
    name = "userPrincipalName" if target_type == "User" else "displayName"
    resource = {"id": _digest(target), "type": target_type, name: target, "modifiedProperties": modified}
    return {
        "time": _iso(moment),
        "resourceId": "/tenants/8d4a-acme/providers/Microsoft.aadiam",
        "operationName": operation,
        "operationVersion": "1.0",
        "category": "AuditLogs",
        "resultType": "",
        "resultSignature": "None",
        "correlationId": _digest(f"{moment}{target}{'role' if category == 'RoleManagement' else key}"),
        "Level": 4,
        "properties": {
            "id": "Directory_" + _digest(f"{moment}{key}"),
            "category": category,
            "activityDateTime": _iso(moment),
            "activityDisplayName": operation,
            "loggedByService": "Core Directory",
            "operationType": "Assign" if category == "RoleManagement" else "Update",
            "result": "success",
            "initiatedBy": {"user": {"userPrincipalName": actor, "ipAddress": ip, "id": _digest(actor)}},
            "targetResources": [resource],
        },
    }


def _ticket(
    moment: datetime,
    number: str,
    caller: str,
    channel: str,
    summary: str,
    phone: str = "",
    *,
    agent: str = "k.dupont",
) -> dict[str, Any]:
    record = {
        "sys_id": _digest(number).ljust(32, "0")[:32],
        "number": number,
        "sys_class_name": "incident",
        "operation": "insert",
        "contact_type": channel,
        "category": "access" if "password" in summary.lower() or "mfa" in summary.lower() else "hardware",
        "short_description": summary,
        "caller_id": {"value": _digest(caller).ljust(32, "0")[:32], "display_value": caller.split("@")[0]},
        "caller_id.email": caller,
        "assigned_to": agent,
        "opened_at": moment.strftime("%Y-%m-%d %H:%M:%S"),
        "sys_created_on": moment.strftime("%Y-%m-%d %H:%M:%S"),
        "sys_mod_count": "0",
    }
    if phone:
        record["u_caller_number"] = phone
    return record


def _call(
    moment: datetime,
    call_id: str,
    number: str,
    claimed: str,
    attestation: str,
    ticket: str = "",
    *,
    agent: str = "k.dupont",
    called: str = "+33180000000",
) -> dict[str, Any]:
    return {
        "type": "call",
        "call_id": call_id,
        "started_at": _iso(moment),
        "caller_number": number,
        "called_number": called,
        "direction": "inbound",
        "attestation": attestation,
        "sip_identity": None,
        "claimed_identity": claimed,
        "ticket_id": ticket or None,
        "agent": agent,
        "duration_s": 420,
        "voice_synthetic_score": None,
    }


def _benign(
    rng: random.Random,
    people: list[Employee],
    okta: OktaLog,
    entra: list[dict[str, Any]],
    tickets: list[dict[str, Any]],
    calls: list[dict[str, Any]],
) -> None:
    for person in people:
        city, country, _, lat, lon, prefix = person.office
        place = (city, country, lat, lon)
        ip = f"{prefix}{person.host}"
        start = DAY + timedelta(hours=7, minutes=30 + rng.randrange(90))
        session = "102" + _digest(person.login + "day")
        okta.event(start, "user.session.start", actor=person.login, ip=ip, place=place, session=session)
        for index, app in enumerate(person.apps):
            okta.event(
                start + timedelta(minutes=5 + index * rng.randrange(20, 90)),
                "user.authentication.sso",
                actor=person.login,
                target=person.login,
                ip=ip,
                place=place,
                session=session,
                app=app,
            )
        entra.append(
            _entra_signin(start + timedelta(minutes=3), person, ip, place, "Office 365 Exchange Online")
        )
        if rng.random() < 0.15:  # a mistyped password in the afternoon
            okta.event(
                DAY + timedelta(hours=13, minutes=rng.randrange(240)),
                "user.session.start",
                actor=person.login,
                ip=ip,
                place=place,
                outcome="FAILURE",
                reason="INVALID_CREDENTIALS",
            )
    # a self-service password change and a new hire's first factor: recoveries that are not attacks
    first, second = people[3], people[4]
    okta.event(
        DAY + timedelta(hours=10, minutes=12),
        "user.account.update_password",
        actor=first.login,
        target=first.login,
        ip=f"{first.office[5]}{first.host}",
        place=(first.office[0], first.office[1], first.office[3], first.office[4]),
    )
    okta.event(
        DAY + timedelta(hours=11, minutes=40),
        "user.mfa.factor.activate",
        actor=second.login,
        target=second.login,
        ip=f"{second.office[5]}{second.host}",
        place=(second.office[0], second.office[1], second.office[3], second.office[4]),
        reason="Okta Verify enrolled",
    )
    # an ordinary printer ticket by e-mail, and a genuine caller from her registered number
    tickets.append(
        _ticket(
            DAY + timedelta(hours=9, minutes=40),
            "INC0012001",
            people[5].login,
            "email",
            "Printer on floor 3 jams",
        )
    )
    calls.append(
        _call(DAY + timedelta(hours=14, minutes=5), "call-benign-1", people[6].phone, people[6].login, "A")
    )
    tickets.append(
        _ticket(
            DAY + timedelta(hours=14, minutes=7),
            "INC0012002",
            people[6].login,
            "phone",
            "Outlook keeps asking to sign in",
            people[6].phone,
        )
    )


def _story(
    okta: OktaLog, entra: list[dict[str, Any]], tickets: list[dict[str, Any]], calls: list[dict[str, Any]]
) -> None:
    paris = ("Paris", "France", 48.8566, 2.3522)
    amsterdam = ("Amsterdam", "Netherlands", 52.3676, 4.9041)
    agent_ip = "81.250.12.200"
    at = DAY + timedelta(hours=9)
    calls.append(_call(at, "call-7f3a", ATTACKER_NUMBER, VICTIM, "C", "INC0012345"))
    tickets.append(
        _ticket(
            at + timedelta(minutes=2),
            "INC0012345",
            VICTIM,
            "phone",
            "Locked out: new phone, cannot pass MFA, please reset password",
            ATTACKER_NUMBER,
        )
    )
    okta.event(
        at + timedelta(minutes=6),
        "user.account.reset_password",
        actor=ROGUE_AGENT,
        target=VICTIM,
        ip=agent_ip,
        place=paris,
        message="Fired when the user's password is reset",
    )
    okta.event(
        at + timedelta(minutes=8),
        "user.mfa.factor.reset_all",
        actor=ROGUE_AGENT,
        target=VICTIM,
        ip=agent_ip,
        place=paris,
        message="Reset all factors for user",
    )
    okta.event(
        at + timedelta(minutes=13),
        "user.mfa.factor.activate",
        actor=VICTIM,
        target=VICTIM,
        ip=ATTACKER_IP,
        place=amsterdam,
        proxy=True,
        reason="Okta Verify enrolled",
        session="102attacker00001",
        user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
    )
    okta.event(
        at + timedelta(minutes=14),
        "user.session.start",
        actor=VICTIM,
        ip=ATTACKER_IP,
        place=amsterdam,
        proxy=True,
        session="102attacker00001",
        user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
    )
    for index, app in enumerate(SENSITIVE_APPS):
        okta.event(
            at + timedelta(minutes=16 + 2 * index),
            "user.authentication.sso",
            actor=VICTIM,
            target=VICTIM,
            ip=ATTACKER_IP,
            place=amsterdam,
            proxy=True,
            session="102attacker00001",
            app=app,
            user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
        )
    entra.append(
        _entra_role(
            at + timedelta(minutes=35), ROGUE_AGENT, VICTIM, "Privileged Authentication Administrator"
        )
    )


def build_day(*, seed: int = 7, attack: bool = True, employees: int = 40) -> dict[str, list[dict[str, Any]]]:
    """The day's records by file, each in time order."""
    rng = random.Random(seed)
    people = _people(rng, employees)
    okta, entra, tickets, calls = OktaLog(rng), [], [], []
    _benign(rng, people, okta, entra, tickets, calls)
    if attack:
        _story(okta, entra, tickets, calls)
    return {
        "okta-system-log.ndjson": sorted(okta.records, key=lambda r: r["published"]),
        "entra-azure-monitor.json": sorted(entra, key=lambda r: r["time"]),
        "servicenow-tickets.ndjson": sorted(tickets, key=lambda r: r["opened_at"]),
        "calls.ndjson": sorted(calls, key=lambda r: r["started_at"]),
    }


def write_day(folder: Path, *, seed: int = 7, attack: bool = True, employees: int = 40) -> list[Path]:
    """Write the day's four files into ``folder``; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, items in build_day(seed=seed, attack=attack, employees=employees).items():
        path = folder / name
        if name.endswith(".json"):
            path.write_text(json.dumps({"records": items}, indent=1), encoding="utf-8")
        else:
            path.write_text(
                "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in items), encoding="utf-8"
            )
        paths.append(path)
    return paths
