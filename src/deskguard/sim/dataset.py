"""The records of a simulation, collected by source, and the files they are written to.

``Dataset`` wraps the record builders of ``sim.day`` (Okta System Log, Entra Azure Monitor, ServiceNow
tickets, generic call records) and adds helpdesk requests as deskguard receives them; every method
returns the id the detection normalizers give the record's event, so scenarios can label what they
inject. ``write_dataset`` is the thin I/O layer: the data files, ``msp.json``, ``labels.json`` and
``manifest.json`` (the format is ``docs/simulation.md``; ``FORMAT_VERSION`` changes with it).
"""

from __future__ import annotations

import json
import random
from datetime import datetime
from pathlib import Path
from typing import Any

from deskguard.sim.day import OktaLog, _call, _entra_audit, _entra_signin, _iso, _ticket
from deskguard.sim.msp import Person, Place, Tenant

FORMAT_VERSION = 2  # 2: the history before ``start`` (learned, not scored); 1 had none
CONNECTOR = "deskguard-connector"  # the service account deskguard's Okta connector acts as
FILES = {
    "okta": "okta.ndjson",
    "entra": "entra.json",
    "tickets": "tickets.ndjson",
    "calls": "calls.ndjson",
    "requests": "helpdesk_requests.ndjson",
}


class Dataset:
    def __init__(self, rng: random.Random) -> None:
        self.okta = OktaLog(rng)
        self.entra: list[dict[str, Any]] = []
        self.tickets: list[dict[str, Any]] = []
        self.calls: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self._numbers = {"ticket": 0, "call": 0, "request": 0}

    def _next(self, kind: str) -> int:
        self._numbers[kind] += 1
        return self._numbers[kind]

    def okta_event(self, moment: datetime, event_type: str, *, ip: str, place: Place, **kw: Any) -> str:
        """An Okta System Log event (``OktaLog.event``'s keywords); its ``uuid``."""
        self.okta.event(moment, event_type, ip=ip, place=place.okta(), **kw)
        return str(self.okta.records[-1]["uuid"])

    def signin(
        self, moment: datetime, person: Person, *, ip: str, place: Place, app: str, device: str = ""
    ) -> str:
        """An Entra ID sign-in (``device``: the Entra device id of a joined device); its ``properties.id``."""
        record = _entra_signin(moment, person, ip, place.okta(), app, device)  # type: ignore[arg-type]
        self.entra.append(record)
        return str(record["properties"]["id"])

    def audit(self, moment: datetime, actor: str, target: str, **kw: Any) -> str:
        """An Entra ID directory audit (``day._entra_audit``'s keywords); its ``properties.id``."""
        record = _entra_audit(moment, actor, target, **kw)
        self.entra.append(record)
        return str(record["properties"]["id"])

    def ticket(
        self, moment: datetime, *, caller: str, channel: str, summary: str, phone: str = "", agent: str
    ) -> tuple[str, str]:
        """A ServiceNow incident; ``(sys_id, number)`` (the event id and the ticket reference)."""
        number = f"INC{self._next('ticket'):07d}"
        record = _ticket(moment, number, caller, channel, summary, phone, agent=agent.split("@")[0])
        self.tickets.append(record)
        return str(record["sys_id"]), number

    def call(
        self,
        moment: datetime,
        *,
        number: str,
        claimed: str,
        attestation: str,
        tenant: Tenant,
        agent: str,
        ticket: str = "",
    ) -> str:
        """An inbound call to the tenant's helpdesk line; its ``call_id``."""
        call_id = f"call-{self._next('call'):06d}"
        record = _call(
            moment,
            call_id,
            number,
            claimed,
            attestation,
            ticket,
            agent=agent,
            called=tenant.helpdesk_number,
        )
        record["tenant"] = tenant.id
        self.calls.append(record)
        return call_id

    def request(
        self,
        moment: datetime,
        *,
        tenant: Tenant,
        kind: str,
        person: str,
        operator: str,
        ticket: str,
        channel: str,
        proofs: list[dict[str, Any]],
        approvals: list[dict[str, Any]] = (),  # type: ignore[assignment]
        call_id: str = "",
        justification: str = "",
    ) -> str:
        """A helpdesk request as deskguard receives it, with the proofs given and the approvals."""
        request_id = f"req-{self._next('request'):06d}"
        self.requests.append(
            {
                "id": request_id,
                "at": _iso(moment),
                "tenant": tenant.id,
                "kind": kind,
                "person": person,
                "operator": operator,
                "ticket": ticket,
                "channel": channel,
                "call_id": call_id or None,
                "origin": "agent",
                "justification": justification or f"{ticket}: {kind.replace('_', ' ')}",
                "proofs": proofs,
                "approvals": list(approvals),
            }
        )
        return request_id

    def by_file(self) -> dict[str, list[dict[str, Any]]]:
        """Every source's records in time order (stable, so equal times keep their insertion order)."""
        return {
            FILES["okta"]: sorted(self.okta.records, key=lambda r: r["published"]),
            FILES["entra"]: sorted(self.entra, key=lambda r: r["time"]),
            FILES["tickets"]: sorted(self.tickets, key=lambda r: r["opened_at"]),
            FILES["calls"]: sorted(self.calls, key=lambda r: r["started_at"]),
            FILES["requests"]: sorted(self.requests, key=lambda r: r["at"]),
        }


def proof(method: str, outcome: str, moment: datetime, **detail: Any) -> dict[str, Any]:
    """One proof as given during a request: its method, outcome and time."""
    return {
        "method": method,
        "outcome": outcome,
        "at": _iso(moment),
        **({"detail": detail} if detail else {}),
    }


def write_dataset(
    folder: Path, *, files: dict[str, list[dict[str, Any]]], extra: dict[str, Any], manifest: dict[str, Any]
) -> list[Path]:
    """Write the data files, the ``extra`` JSON documents and ``manifest.json``; returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for name, records in files.items():
        path = folder / name
        if name.endswith(".json"):
            path.write_text(json.dumps({"records": records}, indent=1, sort_keys=True), encoding="utf-8")
        else:
            lines = (json.dumps(r, separators=(",", ":"), sort_keys=True) + "\n" for r in records)
            path.write_text("".join(lines), encoding="utf-8")
        paths.append(path)
    for name, document in extra.items():
        path = folder / name
        path.write_text(json.dumps(document, indent=1, sort_keys=True), encoding="utf-8")
        paths.append(path)
    path = folder / "manifest.json"
    path.write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    return [*paths, path]
