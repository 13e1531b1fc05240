"""ArcSight CEF: ``CEF:0|Vendor|Product|Version|Signature ID|Name|Severity|Extension``.

Escaping (OpenText "Implementing ArcSight CEF"): in header fields ``\\`` and ``|`` are escaped with a
backslash; in extension values ``\\`` and ``=`` are, and a newline is written ``\\n`` (``\\r`` for a
carriage return). Header fields never hold a raw line break: it becomes a space. Extension keys are
letters and digits only; anything else is dropped from the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from deskguard import __version__
from deskguard.detection.alerts import epoch

VENDOR = PRODUCT = "deskguard"
#: alert severity -> CEF 0-10
SEVERITY = {"informational": 1, "low": 3, "medium": 5, "high": 8, "critical": 10}
LEDGER_SEVERITY = 3


def escape_header(value: object) -> str:
    text = str(value).replace("\\", "\\\\").replace("|", "\\|")
    return text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")


def escape_value(value: object) -> str:
    text = str(value).replace("\\", "\\\\").replace("=", "\\=")
    return text.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\r")


def clean_key(key: str) -> str:
    return "".join(c for c in key if c.isascii() and c.isalnum())


def cef(*, signature: str, name: str, severity: int, extensions: Mapping[str, object]) -> str:
    header = [
        "CEF:0",
        escape_header(VENDOR),
        escape_header(PRODUCT),
        escape_header(__version__),
        escape_header(signature),
        escape_header(name),
        str(max(0, min(10, severity))),
    ]
    ext = " ".join(
        f"{clean_key(k)}={escape_value(v)}"
        for k, v in extensions.items()
        if v is not None and v != "" and clean_key(k)
    )
    return "|".join(header) + "|" + ext


def _ms(iso_text: str) -> int:
    return int(epoch(iso_text) * 1000)


def alert_cef(alert: Mapping[str, Any]) -> str:
    entities: Mapping[str, str] = alert.get("entities") or {}
    extensions: dict[str, object] = {
        "rt": _ms(alert["last_seen"]),
        "start": _ms(alert["first_seen"]),
        "cat": "alert",
        "externalId": alert["id"],
        "msg": alert.get("explanation", ""),
        "suser": entities.get("actor"),
        "duser": entities.get("user"),
        "src": entities.get("ip") or entities.get("src_ip"),
        "cs1Label": "tenant",
        "cs1": alert["tenant"],
        "cs2Label": "attack",
        "cs2": ",".join(alert.get("attack") or ()),
        "cs3Label": "entities",
        "cs3": ",".join(f"{k}:{v}" for k, v in sorted(entities.items())),
        "cn1Label": "count",
        "cn1": alert.get("count", 1),
    }
    return cef(
        signature=alert["rule_id"],
        name=alert["title"],
        severity=SEVERITY.get(alert.get("severity", "medium"), 5),
        extensions=extensions,
    )


def ledger_cef(record: Mapping[str, Any]) -> str:
    occurred = datetime.fromisoformat(record["occurred_at"])
    extensions: dict[str, object] = {
        "rt": int(occurred.timestamp() * 1000),
        "cat": "ledger",
        "externalId": record["event_id"],
        "suid": record.get("actor_id"),
        "duid": record.get("person_id"),
        "cs1Label": "tenant",
        "cs1": record["tenant_id"],
        "cs2Label": "request",
        "cs2": record.get("request_id"),
        "cs3Label": "ticket",
        "cs3": record.get("ticket_id"),
        "cn1Label": "ledgerIndex",
        "cn1": record["index"],
    }
    return cef(signature=record["type"], name=record["type"], severity=LEDGER_SEVERITY, extensions=extensions)
