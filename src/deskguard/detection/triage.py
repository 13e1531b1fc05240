"""Triage: alerts grouped into cases, and a queue ordered by a priority learned from verdicts.

**Cases.** An alert's principal entity is its ``user``, else its ``actor``, else its
``caller_number``, else its ``ip`` (an alert naming none of them is grouped by its rule). An alert
joins the open case of the same tenant and principal entity when its evidence lies within ``GAP_S``
(4 h) of the case's activity; otherwise it opens a new case. A case's id is derived from its tenant,
its entity and its first alert, so replaying the same alerts files them into the same cases.

**Priority** (0-100). Before a tenant has ``MIN_VERDICTS`` verdicts of both kinds, it is the prior:
severity weight x confidence factor (``SEVERITY_WEIGHT``: informational 10, low 25, medium 50,
high 75, critical 100; ``CONFIDENCE_FACTOR``: low 0.6, medium 0.8, high 1.0). Then a logistic
regression fitted on the tenant's verdicts (true positive = 1; false positive and benign = 0) gives
a learned score, 100 x P(true positive), blended with the prior while data is scarce:
``priority = (1 - w) x prior + w x learned`` with ``w = n / (n + BLEND_K)`` for ``n`` verdicts.
A case's priority is that of its highest alert still without a verdict.

**Explanations.** Each rank says the prior's terms and the features that moved the learned score
most, in priority points that add up: each feature's log-odds term against a reference alert (the
tenant's average for numeric features, "absent" for a rule or entity kind) times the secant slope
of the logistic between the reference and this alert, times ``w``.

The model is state as JSON (feature names, coefficients, means, counts), never a pickle; scoring is
plain arithmetic, and only ``train`` needs scikit-learn. Pure: no clock, no I/O.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from deskguard.detection.alerts import CONFIDENCES, SEVERITIES, Alert

GAP_S = 4 * 3600.0
PRINCIPALS = ("user", "actor", "caller_number", "ip")
SEVERITY_WEIGHT = {"informational": 10.0, "low": 25.0, "medium": 50.0, "high": 75.0, "critical": 100.0}
CONFIDENCE_FACTOR = {"low": 0.6, "medium": 0.8, "high": 1.0}
MIN_VERDICTS = 10
BLEND_K = 20.0
MAX_RULES = 500  # rules with their own feature (the most judged); the others share none
SHOWN = 4  # feature contributions quoted per rank
NUMERIC = ("severity", "confidence", "repeats", "case_alerts", "case_rules", "monitor", "attack", "risk")
MODEL_VERSION = 1


class Verdict(StrEnum):
    TRUE_POSITIVE = "true_positive"
    FALSE_POSITIVE = "false_positive"
    BENIGN = "benign"


class CaseStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    """Alerts about one entity close in time. Times are epoch seconds of the alerts' evidence."""

    id: str
    tenant: str
    entity_kind: str  # user | actor | caller_number | ip | rule (an alert naming none of them)
    entity: str
    first_seen: float
    last_seen: float
    alert_count: int = 1
    rule_ids: tuple[str, ...] = ()  # distinct rules of its alerts, sorted
    status: CaseStatus = CaseStatus.OPEN
    priority: float = 0.0
    explanation: tuple[str, ...] = ()
    risk: float = 0.0  # the person's risk score when the case was last filed into (0 when unknown)
    closed_at: datetime | None = None
    closed_reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class VerdictRecord:
    """An analyst's verdict on one alert (a later one replaces it; the ledger keeps both)."""

    tenant: str
    alert_id: str
    case_id: str
    verdict: Verdict
    operator_id: str
    comment: str
    at: datetime


# -- cases --------------------------------------------------------------------------------------


def principal(alert: Alert) -> tuple[str, str]:
    """(kind, value) of the entity the alert is about; logins compare without case."""
    for kind in PRINCIPALS:
        value = (alert.entities.get(kind) or "").strip()
        if value:
            return kind, value.lower() if kind in ("user", "actor") else value
    return "rule", alert.rule_id


def case_id_of(*, tenant: str, entity_kind: str, entity: str, first_alert: str) -> str:
    material = "\x1f".join((tenant, entity_kind, entity, first_alert))
    return "case_" + hashlib.sha256(material.encode()).hexdigest()[:24]


def joins(case: Case, alert: Alert, *, gap_s: float = GAP_S) -> bool:
    """The alert belongs in this open case: same tenant and entity, evidence within the gap."""
    return (
        case.status == CaseStatus.OPEN
        and case.tenant == alert.tenant
        and (case.entity_kind, case.entity) == principal(alert)
        and alert.first_seen <= case.last_seen + gap_s
        and alert.last_seen >= case.first_seen - gap_s
    )


def choose(cases: Iterable[Case], alert: Alert, *, gap_s: float = GAP_S) -> Case | None:
    """The open case the alert joins (the most recently active one), or None: a new case."""
    fitting = [c for c in cases if joins(c, alert, gap_s=gap_s)]
    return max(fitting, key=lambda c: (c.last_seen, c.id)) if fitting else None


def file(alert: Alert, case: Case | None) -> Case:
    """The case after a new alert joined it (``case`` from ``choose``), or the case it opens."""
    if case is None:
        kind, entity = principal(alert)
        return Case(
            id=case_id_of(tenant=alert.tenant, entity_kind=kind, entity=entity, first_alert=alert.id),
            tenant=alert.tenant,
            entity_kind=kind,
            entity=entity,
            first_seen=alert.first_seen,
            last_seen=alert.last_seen,
            rule_ids=(alert.rule_id,),
        )
    return replace(
        case,
        first_seen=min(case.first_seen, alert.first_seen),
        last_seen=max(case.last_seen, alert.last_seen),
        alert_count=case.alert_count + 1,
        rule_ids=tuple(sorted({*case.rule_ids, alert.rule_id})),
    )


def touch(case: Case, alert: Alert) -> Case:
    """The case after one of its alerts was seen again; new evidence reopens a closed case."""
    reopen = case.status == CaseStatus.CLOSED and alert.last_seen > case.last_seen
    updated = replace(
        case,
        first_seen=min(case.first_seen, alert.first_seen),
        last_seen=max(case.last_seen, alert.last_seen),
    )
    if reopen:
        return replace(updated, status=CaseStatus.OPEN, closed_at=None, closed_reason="")
    return updated


def close(case: Case, *, at: datetime, reason: str) -> Case:
    return replace(case, status=CaseStatus.CLOSED, closed_at=at, closed_reason=reason)


# -- features -----------------------------------------------------------------------------------


def _severity(alert: Alert) -> str:
    return alert.severity if alert.severity in SEVERITY_WEIGHT else "medium"


def _confidence(alert: Alert) -> str:
    return alert.confidence if alert.confidence in CONFIDENCE_FACTOR else "medium"


def features(alert: Alert, case: Case) -> dict[str, float]:
    """The alert's features in its case: numbers in 0-1, and one-hot rule and entity kind."""
    return {
        "severity": SEVERITIES.index(_severity(alert)) / 4,
        "confidence": CONFIDENCES.index(_confidence(alert)) / 2,
        "repeats": min(math.log2(max(alert.count, 1)), 8.0) / 8,
        "case_alerts": min(math.log2(max(case.alert_count, 1)), 6.0) / 6,
        "case_rules": min(math.log2(max(len(case.rule_ids), 1)), 4.0) / 4,
        "monitor": 1.0 if alert.mode == "monitor" else 0.0,
        "attack": 1.0 if alert.attack else 0.0,
        "risk": min(max(case.risk, 0.0), 100.0) / 100,
        f"entity={case.entity_kind}": 1.0,
        f"rule={alert.rule_id}": 1.0,
    }


def prior(alert: Alert) -> float:
    return SEVERITY_WEIGHT[_severity(alert)] * CONFIDENCE_FACTOR[_confidence(alert)]


# -- the model ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Sample:
    features: dict[str, float]
    verdict: Verdict
    rule_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TriageModel:
    """A tenant's learned priority: JSON state; ``fitted`` False until enough verdicts of both kinds."""

    verdicts: int = 0
    positives: int = 0
    rules: dict[str, tuple[int, int]] = field(default_factory=dict)  # rule -> (true positives, verdicts)
    features: tuple[str, ...] = ()
    coef: tuple[float, ...] = ()
    intercept: float = 0.0
    mean: tuple[float, ...] = ()  # training means: the reference of the numeric features

    @property
    def fitted(self) -> bool:
        return bool(self.features)

    @property
    def weight(self) -> float:
        """How much the learned score counts against the prior (0 until fitted)."""
        return self.verdicts / (self.verdicts + BLEND_K) if self.fitted else 0.0

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": MODEL_VERSION,
                "verdicts": self.verdicts,
                "positives": self.positives,
                "rules": {k: list(v) for k, v in sorted(self.rules.items())},
                "features": list(self.features),
                "coef": list(self.coef),
                "intercept": self.intercept,
                "mean": list(self.mean),
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> TriageModel:
        body: dict[str, Any] = json.loads(text)
        if body.get("version") != MODEL_VERSION:
            return cls()  # an older state: rank by the prior until the next verdict retrains
        return cls(
            verdicts=int(body["verdicts"]),
            positives=int(body["positives"]),
            rules={str(k): (int(v[0]), int(v[1])) for k, v in body["rules"].items()},
            features=tuple(body["features"]),
            coef=tuple(float(c) for c in body["coef"]),
            intercept=float(body["intercept"]),
            mean=tuple(float(m) for m in body["mean"]),
        )


def train(samples: Sequence[Sample], *, min_verdicts: int = MIN_VERDICTS, c: float = 1.0) -> TriageModel:
    """Fit the tenant's model on its verdicts (deterministic: Newton-CG, no randomness)."""
    positives = sum(1 for s in samples if s.verdict == Verdict.TRUE_POSITIVE)
    rules: dict[str, list[int]] = {}
    for sample in samples:
        counts = rules.setdefault(sample.rule_id, [0, 0])
        counts[0] += sample.verdict == Verdict.TRUE_POSITIVE
        counts[1] += 1
    judged = {k: (v[0], v[1]) for k, v in rules.items()}
    unfitted = TriageModel(verdicts=len(samples), positives=positives, rules=judged)
    if len(samples) < min_verdicts or positives in (0, len(samples)):
        return unfitted
    import numpy as np  # noqa: PLC0415 - only training needs numpy and scikit-learn
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415

    kept = {f"rule={r}" for r, _ in sorted(judged.items(), key=lambda kv: (-kv[1][1], kv[0]))[:MAX_RULES]}
    names = sorted(
        {n for s in samples for n in s.features if not n.startswith("rule=") or n in kept} | set(NUMERIC)
    )
    index = {name: i for i, name in enumerate(names)}
    x = np.zeros((len(samples), len(names)))
    for row, sample in enumerate(samples):
        for name, value in sample.features.items():
            column = index.get(name)
            if column is not None:
                x[row, column] = value
    y = np.array([s.verdict == Verdict.TRUE_POSITIVE for s in samples], dtype=int)
    fitted = LogisticRegression(C=c, solver="newton-cg", max_iter=1000).fit(x, y)
    return replace(
        unfitted,
        features=tuple(names),
        coef=tuple(float(v) for v in fitted.coef_[0]),
        intercept=float(fitted.intercept_[0]),
        mean=tuple(float(v) for v in x.mean(axis=0)),
    )


# -- ranks --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rank:
    priority: float  # 0-100, one decimal
    prior: float
    learned: float | None  # 100 x P(true positive), when the model is fitted
    weight: float  # the learned score's share
    reasons: tuple[str, ...]


class Ranker:
    """Ranks alerts and cases with one model (its lookups built once: rank a whole queue with it)."""

    __slots__ = ("model", "_coef", "_numeric", "_reference")

    def __init__(self, model: TriageModel | None) -> None:
        self.model = model if model is not None else TriageModel()
        self._coef = dict(zip(self.model.features, self.model.coef, strict=True))
        self._numeric = [
            (n, c, m)
            for n, c, m in zip(self.model.features, self.model.coef, self.model.mean, strict=True)
            if n in NUMERIC
        ]
        self._reference = self.model.intercept + sum(c * m for _, c, m in self._numeric)

    def alert(self, alert: Alert, case: Case) -> Rank:
        model, base = self.model, prior(alert)
        terms_text = (
            f"{_severity(alert)} severity ({SEVERITY_WEIGHT[_severity(alert)]:.0f})"
            f" × {_confidence(alert)} confidence ({CONFIDENCE_FACTOR[_confidence(alert)]})"
        )
        if not model.fitted:
            n = model.verdicts
            waiting = f"not learned yet: {n} verdict{'s' * (n != 1)} (needs {MIN_VERDICTS}, true and false)"
            return Rank(round(base, 1), base, None, 0.0, (f"priority {base:.0f} = {terms_text}", waiting))
        terms = self._terms(features(alert, case))
        reference = self._reference
        z = reference + sum(d for _, d in terms)
        learned, start = _sigmoid(z), _sigmoid(reference)
        slope = (learned - start) / (z - reference) if abs(z - reference) > 1e-9 else start * (1 - start)
        w = model.weight
        priority = min(100.0, max(0.0, (1 - w) * base + w * 100 * learned))
        points = sorted(
            ((w * 100 * slope * d, name) for name, d in terms if abs(w * 100 * slope * d) >= 0.5),
            key=lambda p: (-abs(p[0]), p[1]),
        )
        reasons = (
            f"priority {priority:.0f} = {1 - w:.2f} × prior {base:.0f} + {w:.2f} × learned"
            f" {100 * learned:.0f} ({model.verdicts} verdicts, {model.positives} true positive)",
            f"prior {base:.0f} = {terms_text}",
            *(f"{_signed(p)} {_words(name, alert, case, model)}" for p, name in points[:SHOWN]),
        )
        return Rank(round(priority, 1), base, round(100 * learned, 1), round(w, 3), reasons)

    def case(self, case: Case, alerts: Sequence[Alert], verdicts: Mapping[str, Verdict]) -> Rank:
        """The case's rank: its highest alert without a verdict (every alert when all have one)."""
        pending = [a for a in alerts if a.id not in verdicts] or list(alerts)
        if not pending:
            return Rank(0.0, 0.0, None, 0.0, ("no alert in this case",))
        ranked = sorted(((self.alert(a, case), a) for a in pending), key=lambda p: (-p[0].priority, p[1].id))
        top, alert = ranked[0]
        judged = sum(1 for a in alerts if a.id in verdicts)
        header = (
            f"highest of {len(pending)} alert{'s' * (len(pending) != 1)} awaiting a verdict"
            f" ({judged} judged): {alert.rule_id} ({alert.severity})"
        )
        return replace(top, reasons=(header, *top.reasons))

    def _terms(self, values: Mapping[str, float]) -> list[tuple[str, float]]:
        """Each feature's log-odds term against the reference alert (mean numbers, no one-hot)."""
        out = [(n, c * (values.get(n, 0.0) - m)) for n, c, m in self._numeric]
        for name, x in values.items():
            c = self._coef.get(name) if name not in NUMERIC else None
            if c is not None:
                out.append((name, c * x))
        return [(n, d) for n, d in out if d]


def rank_alert(alert: Alert, case: Case, model: TriageModel | None) -> Rank:
    return Ranker(model).alert(alert, case)


def rank_case(
    case: Case, alerts: Sequence[Alert], verdicts: Mapping[str, Verdict], model: TriageModel | None
) -> Rank:
    return Ranker(model).case(case, alerts, verdicts)


def order(cases: Iterable[Case]) -> list[Case]:
    """The queue: highest priority first, then the most recent activity, then the id."""
    return sorted(cases, key=lambda c: (-c.priority, -c.last_seen, c.id))


def _sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))


def _signed(points: float) -> str:
    return f"+{points:.0f}" if points >= 0 else f"−{-points:.0f}"


def _words(name: str, alert: Alert, case: Case, model: TriageModel) -> str:
    if name.startswith("rule="):
        tp, n = model.rules.get(alert.rule_id, (0, 0))
        return f"rule {alert.rule_id} was a true positive {tp} of {n} times"
    if name.startswith("entity="):
        return f"a case about a{'n' * (case.entity_kind[0] in 'aeiou')} {case.entity_kind.replace('_', ' ')}"
    rules = len(case.rule_ids)
    return {
        "severity": f"{_severity(alert)} severity",
        "confidence": f"{_confidence(alert)} confidence",
        "repeats": "seen once" if alert.count == 1 else f"seen {alert.count} times",
        "case_alerts": f"{case.alert_count} alert{'s' * (case.alert_count != 1)} in the case",
        "case_rules": f"{rules} distinct rule{'s' * (rules != 1)} in the case",
        "monitor": "monitor mode" if alert.mode == "monitor" else "alert mode (not monitor)",
        "attack": f"ATT&CK {', '.join(alert.attack[:2])}" if alert.attack else "no ATT&CK technique",
        "risk": f"person risk {case.risk:.0f}",
    }[name]
