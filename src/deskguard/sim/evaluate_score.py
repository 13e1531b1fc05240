"""Compare what deskguard did over a dataset with its ground truth, and check the targets.

Pure: given the replay (``evaluate_replay.Replay``) and the labels, ``score`` returns the figures
``deskguard evaluate`` prints, writes as JSON and draws (``docs/evaluation.md``).

- An alert is *about* a label when it names the label's entity (any of its entities: user, target…)
  or cites one of the label's records as evidence (deskguard's own events count as the request they
  are about), and it is still running when the label starts (``last_seen`` ≥ ``started_at``).
- An attack is *prevented* when it has harmful helpdesk requests, none of them was executed and no
  harmful record happened outside deskguard (an identity-provider console, a log of the attacker).
- It is *detected* when an alert is about it; its time to detect is the earliest such alert's
  ``raised`` time (when the replay first stored it: the event that completed it) minus ``harmful_at``.
- A *false alert* is one about no attack: about a twin (which must raise nothing), or about the benign
  background. Monitor-mode alerts are stored but never notified: they are counted apart.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from deskguard.detection.alerts import Alert
from deskguard.sim.evaluate_replay import Replay
from deskguard.sim.evaluate_seed import Dataset, parse_time

TARGET_RECALL = 0.95
TARGET_FALSE_PER_10K = 1.0
TARGET_TTD_S = 60.0
HARM_OUTSIDE = ("okta.ndjson", "entra.json")  # harm deskguard cannot stop: it did not go through it


@dataclass(slots=True)
class LabelResult:
    scenario: str
    variant: str
    title: str
    entity: str
    expected: str
    expected_rules: list[str]
    harmful_at: str | None
    prevented: bool = False
    detected: bool = False
    rules: list[str] = field(default_factory=list)  # rule ids of the alerts about it, first first
    expected_rule_fired: bool = False
    first_alert_at: str | None = None
    time_to_detect_s: float | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)  # the broker's answer per request
    ok: bool = False
    miss: str = ""


@dataclass(slots=True)
class Evaluation:
    dataset: dict[str, Any]
    labels: list[LabelResult]
    summary: dict[str, Any]
    targets: dict[str, dict[str, Any]]
    misses: list[str]
    alerts_over_time: list[dict[str, Any]]  # per simulated day: true and false alerts
    false_alerts: list[dict[str, Any]]
    kpis: list[dict[str, Any]] = field(default_factory=list)  # the seed's monthly KPIs per tenant
    history_by_rule: dict[str, int] = field(default_factory=dict)  # alerts raised while learning, per rule

    @property
    def met(self) -> bool:
        return not self.misses

    def to_json(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "targets_met": self.met,
            "misses": self.misses,
            "summary": self.summary,
            "targets": self.targets,
            "scenarios": [asdict(label) for label in self.labels],
            "alerts_over_time": self.alerts_over_time,
            "false_alerts": self.false_alerts,
            "history_alerts_by_rule": self.history_by_rule,
            "monthly_kpis": self.kpis,
        }


def _utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat().replace("+00:00", "Z")


def _about(alert: Alert, label: dict[str, Any], cited: set[str], started: float) -> bool:
    if alert.last_seen < started:
        return False
    names = {value.lower() for value in alert.entities.values()}
    return str(label.get("entity", "")).lower() in names or bool(cited & {e["id"] for e in label["events"]})


def _prevented(label: dict[str, Any], replay: Replay) -> tuple[bool, list[dict[str, Any]]]:
    harmful = [e for e in label["events"] if e.get("harmful")]
    asked = [e["id"] for e in harmful if e["file"] == "helpdesk_requests.ndjson"]
    answers = []
    for rid in asked:
        run = replay.runs.get(rid)
        answers.append(
            {
                "id": rid,
                "state": run.state if run else "not_replayed",
                "executed": bool(run and run.executed),
                "refusals": list(run.refusals) if run else [],
            }
        )
    outside = any(e["file"] in HARM_OUTSIDE for e in harmful)
    return bool(asked) and not outside and not any(a["executed"] for a in answers), answers


def score(data: Dataset, replay: Replay) -> Evaluation:
    window = data.window.timestamp()
    cited = {a.id: {replay.evidence.get(eid, eid) for eid in a.event_ids} for a in replay.alerts}
    raised = {a.id: max(a.first_seen, replay.raised_at.get(a.id, a.last_seen)) for a in replay.alerts}
    # what the learning period raised is what a new deployment shows its analysts while the baselines
    # form: counted apart, never scored (scenarios all start in the window)
    learning = [a for a in replay.alerts if a.mode == "alert" and raised[a.id] < window]
    live = [a for a in replay.alerts if a.mode == "alert" and raised[a.id] >= window]
    results: list[LabelResult] = []
    true_ids: set[str] = set()
    for label in data.labels:
        started = parse_time(label["started_at"], where=f"labels.json {label['scenario']}").timestamp()
        about = sorted(
            (a for a in live if _about(a, label, cited[a.id], started)),
            key=lambda a: (raised[a.id], a.rule_id),
        )
        expected = label.get("expected", {})
        result = LabelResult(
            scenario=label["scenario"],
            variant=label["variant"],
            title=label.get("title", ""),
            entity=label.get("entity", ""),
            expected=expected.get("outcome", "none"),
            expected_rules=list(expected.get("rules", [])),
            harmful_at=label.get("harmful_at"),
            rules=list(dict.fromkeys(a.rule_id for a in about)),
        )
        result.expected_rule_fired = bool(set(result.rules) & set(result.expected_rules))
        if label["variant"] == "attack":
            true_ids.update(a.id for a in about)
            _judge_attack(result, label, about, raised, replay)
        else:
            result.ok = not about
            result.miss = "" if result.ok else f"its twin raised {', '.join(result.rules)}"
        results.append(result)
    false = [a for a in live if a.id not in true_ids]
    evaluation = _evaluation(data, replay, results, live, false, raised, learning=len(learning))
    evaluation.history_by_rule = dict(sorted(Counter(a.rule_id for a in learning).items()))
    return evaluation


def _judge_attack(
    result: LabelResult, label: dict[str, Any], about: list[Alert], raised: dict[str, float], replay: Replay
) -> None:
    result.prevented, result.requests = _prevented(label, replay)
    result.detected = bool(about)
    if about:
        first = about[0]
        result.first_alert_at = _utc(raised[first.id])
        if label.get("harmful_at"):
            harm = parse_time(label["harmful_at"], where=f"labels.json {label['scenario']}").timestamp()
            result.time_to_detect_s = round(raised[first.id] - harm, 1)
    slow = (
        not result.prevented
        and result.time_to_detect_s is not None
        and result.time_to_detect_s > TARGET_TTD_S
    )
    # a harmful request the broker could not even open (the agent does not serve that tenant, the
    # person is unknown) tests the dataset, not the policy: it never counts as prevented
    unopened = [a for a in result.requests if a["state"] == "not_opened"]
    if unopened:
        result.prevented = False
    result.ok = (result.prevented or result.detected) and not slow and not unopened
    if unopened:
        first = unopened[0]
        result.miss = (
            f"harmful request {first['id']} was never opened ({'; '.join(first['refusals'])}): "
            "the scenario's cast cannot do what its story says"
        )
    elif not (result.prevented or result.detected):
        result.miss = "neither prevented nor detected"
    elif slow:
        result.miss = f"detected {result.time_to_detect_s:.0f} s after the harm (target {TARGET_TTD_S:.0f} s)"


def _evaluation(
    data: Dataset,
    replay: Replay,
    results: list[LabelResult],
    live: list[Alert],
    false: list[Alert],
    raised: dict[str, float],
    *,
    learning: int,
) -> Evaluation:
    attacks = [r for r in results if r.variant == "attack"]
    caught = [r for r in attacks if r.prevented or r.detected]
    benign = int(data.manifest.get("counts", {}).get("benign_helpdesk_actions", 0))
    days = max(1, int(data.manifest.get("sizes", {}).get("days", 1)))
    recall = len(caught) / len(attacks) if attacks else None
    per_10k = round(len(false) / benign * 10_000, 2) if benign else None
    ttds = [r.time_to_detect_s for r in attacks if r.time_to_detect_s is not None and not r.prevented]
    worst = max(ttds, default=None)
    summary = {
        "attacks": len(attacks),
        "prevented": sum(r.prevented for r in attacks),
        "detected": sum(r.detected for r in attacks),
        "caught": len(caught),
        "twins_clean": sum(r.ok for r in results if r.variant == "twin"),
        "twins": sum(r.variant == "twin" for r in results),
        "recall": round(recall, 3) if recall is not None else None,
        "precision": round((len(live) - len(false)) / len(live), 3) if live else None,
        "alerts": len(live),
        "monitor_alerts": sum(a.mode != "alert" for a in replay.alerts),
        "history_alerts": learning,
        "false_alerts": len(false),
        "benign_helpdesk_actions": benign,
        "false_alerts_per_10k_benign_actions": per_10k,
        "alerts_per_analyst_day": round(len(live) / days, 2),
        "worst_time_to_detect_s": worst,
        "events_evaluated": replay.events,
        "quarantined": replay.quarantined,
        "seconds": round(replay.seconds, 2),
        "events_per_s": round(replay.events / replay.seconds, 1) if replay.seconds else None,
    }
    targets = {
        "every_scenario_prevented_or_detected": {
            "target": "all",
            "measured": f"{len(caught)}/{len(attacks)}",
            "met": len(caught) == len(attacks),
        },
        "recall": {
            "target": f">= {TARGET_RECALL}",
            "measured": summary["recall"],
            "met": (recall or 0) >= TARGET_RECALL,
        },
        "false_alerts_per_10k_benign_actions": {
            "target": f"<= {TARGET_FALSE_PER_10K:g}",
            "measured": per_10k,
            "met": per_10k is not None and per_10k <= TARGET_FALSE_PER_10K,
        },
        "time_to_detect_s": {
            "target": f"<= {TARGET_TTD_S:g}",
            "measured": worst,
            "met": worst is None or worst <= TARGET_TTD_S,
        },
    }
    misses = [f"{r.scenario} ({r.variant}): {r.miss}" for r in results if not r.ok]
    misses += [
        f"target {name}: measured {t['measured']}, wanted {t['target']}"
        for name, t in targets.items()
        if not t["met"]
    ]
    if benign == 0:
        misses.append(
            "the dataset counts no benign helpdesk actions: the false-alert rate cannot be measured"
        )
    return Evaluation(
        dataset={
            "folder": str(data.folder),
            "seed": data.manifest.get("seed"),
            "sizes": data.manifest.get("sizes"),
        },
        labels=results,
        summary=summary,
        targets=targets,
        misses=misses,
        alerts_over_time=_per_day(live, {a.id for a in false}, raised),
        false_alerts=[
            {
                "rule_id": a.rule_id,
                "tenant": a.tenant,
                "raised": _utc(raised[a.id]),
                "entities": a.entities,
                "explanation": a.explanation,
            }
            for a in sorted(false, key=lambda a: raised[a.id])
        ],
    )


def _per_day(live: list[Alert], false: set[str], raised: dict[str, float]) -> list[dict[str, Any]]:
    days: dict[str, dict[str, int]] = {}
    for alert in live:
        day = _utc(raised[alert.id])[:10]
        slot = days.setdefault(day, {"true": 0, "false": 0})
        slot["false" if alert.id in false else "true"] += 1
    return [{"day": day, **counts} for day, counts in sorted(days.items())]
