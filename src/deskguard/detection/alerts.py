"""The alert: what a rule saw, about whom, on which evidence, explained with the values.

An alert's id is derived from its rule, tenant, entities and first evidence event, so replaying the
same events gives the same alerts (no randomness in the engine).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

SEVERITIES = ("informational", "low", "medium", "high", "critical")
CONFIDENCES = ("low", "medium", "high")  # how often the rule's alerts turn out true (triage's prior)
MAX_EVIDENCE = 200  # event ids kept on one alert; the count goes on


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleMeta:
    """What an alert says about the rule that raised it (Sigma rule, correlation or analytic)."""

    rule_id: str
    title: str
    severity: str = "medium"
    description: str = ""
    attack: tuple[str, ...] = ()
    falsepositives: tuple[str, ...] = ()
    response: str = ""
    mode: str = "alert"  # alert | monitor (stored and listed, never notified)
    suppress_s: float = 600.0  # repeats on the same entity within this window join the open alert
    explanation: str = ""  # a template with {fields}; empty: the engine writes one
    confidence: str = "medium"  # low | medium | high: the author's trust in the rule (app.triage)


@dataclass(slots=True, kw_only=True)
class Alert:
    id: str
    rule_id: str
    title: str
    severity: str
    tenant: str
    entities: dict[str, str]
    first_seen: float
    last_seen: float
    event_ids: list[str]
    explanation: str
    attack: tuple[str, ...] = ()
    response: str = ""
    mode: str = "alert"
    count: int = 1  # occurrences folded into this alert by suppression
    confidence: str = "medium"  # the rule's confidence (RuleMeta.confidence)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rule_id": self.rule_id,
            "title": self.title,
            "severity": self.severity,
            "tenant": self.tenant,
            "entities": dict(self.entities),
            "first_seen": iso(self.first_seen),
            "last_seen": iso(self.last_seen),
            "event_ids": list(self.event_ids),
            "explanation": self.explanation,
            "attack": list(self.attack),
            "response": self.response,
            "mode": self.mode,
            "count": self.count,
            "confidence": self.confidence,
        }

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> Alert:
        return cls(
            id=body["id"],
            rule_id=body["rule_id"],
            title=body["title"],
            severity=body["severity"],
            tenant=body["tenant"],
            entities=dict(body["entities"]),
            first_seen=epoch(body["first_seen"]),
            last_seen=epoch(body["last_seen"]),
            event_ids=list(body["event_ids"]),
            explanation=body["explanation"],
            attack=tuple(body.get("attack") or ()),
            response=body.get("response") or "",
            mode=body.get("mode") or "alert",
            count=int(body.get("count") or 1),
            confidence=body.get("confidence") or "medium",
        )


def alert_id(*, rule_id: str, tenant: str, entities: dict[str, str], first_event: str) -> str:
    material = "\x1f".join([rule_id, tenant, first_event, *(f"{k}={v}" for k, v in sorted(entities.items()))])
    return "alr_" + hashlib.sha256(material.encode()).hexdigest()[:24]


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def epoch(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def clock(epoch: float) -> str:
    """``09:03:12`` UTC: how explanations quote times."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%H:%M:%S")
