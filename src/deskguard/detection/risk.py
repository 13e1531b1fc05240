"""Risk: what the alerts about a person add up to, now, with the reasons.

Each alert about a person is a signal worth points by severity (critical 80, high 50, medium 25,
low 10, informational 5). A signal's weight halves every ``half_life`` (24 h by default) from the
alert's last evidence. Signals combine as independent pieces of evidence (a noisy-or): two high
alerts make 75, not 100, and a new one always raises the score without ever passing 100.

The broker reads this score as the policy fact ``target.risk_score`` on every decision, and the
reasons as ``target.risk_reasons``: an alert that arrives while the agent is on the phone changes
the next decision on that person (the policy's step-up and block rules act on it).

Pure: times are given (epoch seconds), nothing is read or written here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from deskguard.detection.alerts import Alert

POINTS = {"informational": 5.0, "low": 10.0, "medium": 25.0, "high": 50.0, "critical": 80.0}
HALF_LIFE_S = 24 * 3600.0
MAX_SIGNALS = 20  # the strongest signals kept per person (the rest would weigh under a point)
SHOWN = 3  # reasons quoted in a decision


@dataclass(frozen=True, slots=True)
class RiskSignal:
    alert_id: str
    rule_id: str
    severity: str
    points: float
    at: float  # the alert's last evidence (epoch seconds)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> RiskSignal:
        return cls(
            alert_id=str(body["alert_id"]),
            rule_id=str(body["rule_id"]),
            severity=str(body["severity"]),
            points=float(body["points"]),
            at=float(body["at"]),
        )


@dataclass(frozen=True, slots=True)
class Risk:
    score: float  # 0-100
    reasons: tuple[str, ...]  # the strongest signals first, with their weight now

    @property
    def summary(self) -> str:
        return "; ".join(self.reasons)


def signal_of(alert: Alert) -> RiskSignal | None:
    """The signal an alert gives, or None: monitor-mode rules are watched, they do not steer."""
    if alert.mode != "alert":
        return None
    return RiskSignal(
        alert_id=alert.id,
        rule_id=alert.rule_id,
        severity=alert.severity,
        points=POINTS.get(alert.severity, POINTS["medium"]),
        at=alert.last_seen,
    )


def merge(signals: Iterable[RiskSignal], new: RiskSignal) -> tuple[RiskSignal, ...]:
    """The person's signals with ``new`` added (an alert seen again replaces its older signal)."""
    kept = [s for s in signals if s.alert_id != new.alert_id]
    kept.append(new)
    kept.sort(key=lambda s: (s.at, s.points), reverse=True)
    return tuple(kept[:MAX_SIGNALS])


def weight(signal: RiskSignal, *, now: float, half_life_s: float = HALF_LIFE_S) -> float:
    """The signal's points now (0-100)."""
    age = max(0.0, now - signal.at)
    return signal.points * 0.5 ** (age / half_life_s)


def assess(signals: Iterable[RiskSignal], *, now: float, half_life_s: float = HALF_LIFE_S) -> Risk:
    weighed = sorted(((weight(s, now=now, half_life_s=half_life_s), s) for s in signals), key=lambda p: -p[0])
    remaining = 1.0
    for points, _ in weighed:
        remaining *= 1.0 - min(points, 100.0) / 100.0
    reasons = tuple(
        f"{s.rule_id} ({s.severity}, {points:.0f} of {s.points:.0f} points, {_age(now - s.at)} ago)"
        for points, s in weighed[:SHOWN]
        if points >= 0.5
    )
    return Risk(score=round(100.0 * (1.0 - remaining), 1), reasons=reasons)


def _age(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"
