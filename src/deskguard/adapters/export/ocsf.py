"""OCSF JSON, pinned to schema version 1.3.0: alerts as Detection Findings (class 2004), ledger
records as Account Change (3001) when they record an executed account action, else API Activity
(6003: the broker's own API, one event per recorded gesture).

``class_uid = category_uid x 1000 + class id`` and ``type_uid = class_uid x 100 + activity_id``.
Times are epoch milliseconds. What OCSF has no attribute for (deskguard's entity map, the ledger
index) goes in ``unmapped``. The ledger record's identifying values are already keyed HMACs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from deskguard import __version__
from deskguard.detection.alerts import epoch

VERSION = "1.3.0"
PRODUCT = {"name": "deskguard", "vendor_name": "deskguard", "version": __version__}
SEVERITY_ID = {"informational": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
CONFIDENCE_ID = {"low": 1, "medium": 2, "high": 3}
#: executed helpdesk actions that are OCSF Account Change activities
ACCOUNT_CHANGE = {
    "reset_password": (4, "Password Reset"),
    "unlock_account": (12, "Unlock"),
    "reset_mfa": (11, "MFA Factor Disable"),
    "remove_factor": (11, "MFA Factor Disable"),
    "enroll_factor": (10, "MFA Factor Enable"),
}
#: observable type ids (OCSF 1.3.0 observable.type_id)
OBSERVABLE = {
    "user": (4, "User Name"),
    "actor": (4, "User Name"),
    "ip": (2, "IP Address"),
    "src_ip": (2, "IP Address"),
}


def _ms(text: str) -> int:
    return int(epoch(text) * 1000)


def _metadata(*, uid: str, tenant: str, correlation: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"version": VERSION, "product": dict(PRODUCT), "uid": uid, "tenant_uid": tenant}
    if correlation:
        meta["correlation_uid"] = correlation
    return meta


def detection_finding(alert: Mapping[str, Any]) -> dict[str, Any]:
    entities: Mapping[str, str] = alert.get("entities") or {}
    observables = [
        {"name": name, "type_id": OBSERVABLE[name][0], "type": OBSERVABLE[name][1], "value": value}
        for name, value in sorted(entities.items())
        if name in OBSERVABLE
    ]
    event: dict[str, Any] = {
        "category_uid": 2,
        "category_name": "Findings",
        "class_uid": 2004,
        "class_name": "Detection Finding",
        "activity_id": 1,
        "activity_name": "Create",
        "type_uid": 200401,
        "type_name": "Detection Finding: Create",
        "severity_id": SEVERITY_ID.get(alert.get("severity", "medium"), 3),
        "severity": str(alert.get("severity", "medium")).capitalize(),
        "time": _ms(alert["last_seen"]),
        "status_id": 1,
        "status": "New",
        "is_alert": alert.get("mode", "alert") == "alert",
        "confidence_id": CONFIDENCE_ID.get(alert.get("confidence", "medium"), 2),
        "message": alert.get("explanation", ""),
        "metadata": _metadata(uid=alert["id"], tenant=alert["tenant"]),
        "finding_info": {
            "uid": alert["id"],
            "title": alert["title"],
            "desc": alert.get("explanation", ""),
            "types": [alert["rule_id"]],
            "analytic": {"uid": alert["rule_id"], "name": alert["title"], "type_id": 1, "type": "Rule"},
            "attacks": [{"technique": {"uid": t}} for t in alert.get("attack") or ()],
            "created_time": _ms(alert["first_seen"]),
            "first_seen_time": _ms(alert["first_seen"]),
            "last_seen_time": _ms(alert["last_seen"]),
            "related_events": [{"uid": uid} for uid in alert.get("event_ids") or ()],
        },
        "observables": observables,
        "unmapped": {
            "entities": dict(entities),
            "count": alert.get("count", 1),
            "response": alert.get("response", ""),
        },
    }
    return event


def ledger_event(record: Mapping[str, Any]) -> dict[str, Any]:
    body: Mapping[str, Any] = record.get("record") or {}
    data: Mapping[str, Any] = body.get("data") or {}
    actor: Mapping[str, Any] = body.get("actor") or {}
    occurred = int(datetime.fromisoformat(record["occurred_at"]).timestamp() * 1000)
    base: dict[str, Any] = {
        "severity_id": 1,
        "severity": "Informational",
        "time": occurred,
        "metadata": _metadata(
            uid=record["event_id"], tenant=record["tenant_id"], correlation=body.get("correlation_id")
        ),
        "actor": {"user": {"uid": record.get("actor_id") or "unknown", "type": actor.get("kind", "")}},
        "unmapped": {
            "ledger_index": record["index"],
            "deskguard_type": record["type"],
            "request_id": record.get("request_id"),
        },
    }
    kind = data.get("kind")
    if record["type"] == "request.executed" and kind in ACCOUNT_CHANGE:
        activity, name = ACCOUNT_CHANGE[kind]
        return {
            **base,
            "category_uid": 3,
            "category_name": "Identity & Access Management",
            "class_uid": 3001,
            "class_name": "Account Change",
            "activity_id": activity,
            "activity_name": name,
            "type_uid": 300100 + activity,
            "type_name": f"Account Change: {name}",
            "status_id": 1,
            "status": "Success",
            "user": {"uid": record.get("person_id") or "unknown"},
        }
    verb = record["type"].rpartition(".")[2]
    activity, name = (1, "Create") if verb in ("opened", "requested", "started") else (3, "Update")
    return {
        **base,
        "category_uid": 6,
        "category_name": "Application Activity",
        "class_uid": 6003,
        "class_name": "API Activity",
        "activity_id": activity,
        "activity_name": name,
        "type_uid": 600300 + activity,
        "type_name": f"API Activity: {name}",
        "api": {"operation": record["type"], "service": {"name": "deskguard"}},
        "src_endpoint": {"name": actor.get("workstation") or "unknown"},
    }


def render(kind: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    return detection_finding(payload) if kind == "alert" else ledger_event(payload)
