"""The engine: every event meets only the rules that can match it, and alerts come out explained.

Dispatch. A Sigma rule applies to one log source (``product``/``service``) and, when its
condition pins the vendor's event type (or, on the normalised model, the activity), to those
types only. The engine computes, once per (product, service, type, activity, source), the tuple of
rules an event of that shape can meet, so an Okta sign-in never meets an Entra rule nor an MFA
rule.

Then: duplicate events (same source and id) are dropped; Sigma rules that match raise alerts
unless a correlation uses them only as building blocks (Sigma's ``generate``); their matches
feed the correlations; analytics see the activities they watch. A repeat of the same rule on the
same entity within the rule's suppression window folds into the open alert (``count``,
``last_seen``, evidence). Rules in monitor mode raise alerts marked ``monitor``.

Per-tenant modes (``set_modes``, from ``domain.ports_rule_modes``) override the pack's: ``off``
drops the rule's alerts for that tenant (its matches still feed the correlations built on it),
``monitor`` marks them monitor, ``on`` makes them alerts even when the pack or the deployment's
monitor list says monitor.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from deskguard.detection.alerts import MAX_EVIDENCE, Alert, RuleMeta, alert_id, clock
from deskguard.detection.analytics import Analytic, Finding
from deskguard.detection.event import Event
from deskguard.detection.sigma.compile import CompiledRule, logsource_matches
from deskguard.detection.sigma.correlate import CompiledCorrelation, CorrelationHit, Correlator
from deskguard.detection.sigma.model import dispatch_value

SEEN_LIMIT = 200_000  # (source, id) pairs remembered for de-duplication
SHAPES_LIMIT = 8_192


class RuleSet(Protocol):
    """What the engine runs: compiled Sigma rules and correlations, analytics, and their metadata."""

    rules: Sequence[CompiledRule]
    correlations: Sequence[CompiledCorrelation]
    analytics: Sequence[Analytic]

    def meta(self, rule_id: str) -> RuleMeta: ...


@dataclass(slots=True)
class EngineStats:
    events: int = 0
    duplicates: int = 0
    matches: int = 0
    alerts: int = 0
    suppressed: int = 0
    disabled: int = 0  # alerts not raised: the rule is off for the event's tenant
    by_rule: dict[str, int] = field(default_factory=dict)


class Engine:
    def __init__(
        self, ruleset: RuleSet, *, correlator: Correlator | None = None, monitor: Iterable[str] = ()
    ):
        self._ruleset = ruleset
        self._monitor = frozenset(monitor)
        self._modes: dict[str, Mapping[str, str]] = {}  # tenant -> rule id -> on | off | monitor
        self._shapes: dict[
            tuple[str, str, str, str, str], tuple[tuple[CompiledRule, ...], tuple[Analytic, ...]]
        ] = {}
        # OrderedDict: popping the oldest key of a plain dict is O(n) once many were deleted
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._open: OrderedDict[tuple[str, str, str], Alert] = OrderedDict()  # open alerts, for suppression
        self._correlator = correlator
        # Fresh instances: the content's analytics are prototypes shared by every engine built on it.
        self.analytics = tuple(analytic.fresh() for analytic in ruleset.analytics)
        referenced = {ref for corr in ruleset.correlations for ref in corr.rule_refs}
        building_blocks = {
            ref for corr in ruleset.correlations if not corr.generate for ref in corr.rule_refs
        }
        self._feeds_correlations = frozenset(referenced)
        self._alerting = {rule.id: not ({rule.id, rule.name} & building_blocks) for rule in ruleset.rules}
        self.stats = EngineStats()

    def set_modes(self, tenant: str, modes: Mapping[str, str]) -> None:
        """The tenant's overrides of the rules' modes (rule id -> on, off or monitor), replacing any."""
        self._modes[tenant] = dict(modes)

    def mode_of(self, tenant: str, meta: RuleMeta) -> str:
        """alert, monitor or off: the rule's mode for the tenant, overrides first."""
        override = self._modes.get(tenant, {}).get(meta.rule_id)
        if override == "off":
            return "off"
        if override == "on":
            return "alert"
        monitored = override == "monitor" or meta.mode == "monitor" or meta.rule_id in self._monitor
        return "monitor" if monitored else "alert"

    # -- the stream ------------------------------------------------------------------------------

    def process(self, event: Event) -> list[Alert]:
        """The alerts this event raised or extended (an extended alert is returned again)."""
        stats = self.stats
        stats.events += 1
        if event.id:
            key = (event.source, event.id)
            if key in self._seen:
                stats.duplicates += 1
                return []
            self._seen[key] = None
            if len(self._seen) > SEEN_LIMIT:
                self._seen.popitem(last=False)
        rules, analytics = self._for(event)
        out: list[Alert] = []
        matched: list[str] = []
        for rule in rules:
            if not rule.predicate(event):
                continue
            stats.matches += 1
            if self._correlator is not None and (
                rule.id in self._feeds_correlations or rule.name in self._feeds_correlations
            ):
                matched.append(rule.id)
                if rule.name:
                    matched.append(rule.name)
            if self._alerting.get(rule.id, True):
                meta = self._ruleset.meta(rule.id)
                finding = Finding(event.entities(), (event.id,), event.time, event.time, explain(meta, event))
                self._raise(out, meta, event.tenant, finding)
        if matched and self._correlator is not None:
            for hit in self._correlator.observe(matched, event):
                self._raise(out, self._ruleset.meta(hit.correlation.id), hit.tenant, _hit_finding(hit))
        for analytic in analytics:
            for finding in analytic.observe(event):
                self._raise(out, analytic.meta, event.tenant, finding)
        return out

    def flush(self) -> list[Alert]:
        """End of a stream: the correlations whose conditions wait for a window to close."""
        out: list[Alert] = []
        if self._correlator is not None:
            for hit in self._correlator.flush():
                self._raise(out, self._ruleset.meta(hit.correlation.id), hit.tenant, _hit_finding(hit))
        return out

    def export_state(self) -> dict[str, Any]:
        """What the analytics learned (their baselines), by rule id: ``Analytic.export``."""
        return {a.meta.rule_id: a.export() for a in self.analytics if a.learned}

    def restore_state(self, state: dict[str, Any]) -> int:
        """Restore an ``export_state``: keys restored. A rule no longer in the content is ignored;
        one not in the export starts from its prior."""
        by_id = {a.meta.rule_id: a for a in self.analytics if a.learned}
        return sum(by_id[rule_id].restore(body) for rule_id, body in state.items() if rule_id in by_id)

    def _for(self, event: Event) -> tuple[tuple[CompiledRule, ...], tuple[Analytic, ...]]:
        shape = (event.product, event.service, event.type, event.activity, event.source)
        found = self._shapes.get(shape)
        if found is None:
            if len(self._shapes) >= SHAPES_LIMIT:
                self._shapes.clear()
            found = (
                tuple(rule for rule in self._ruleset.rules if _can_match(rule, event)),
                tuple(a for a in self.analytics if event.activity in a.activities),
            )
            self._shapes[shape] = found
        return found

    # -- alerts ----------------------------------------------------------------------------------

    def _raise(self, out: list[Alert], meta: RuleMeta, tenant: str, finding: Finding) -> None:
        stats = self.stats
        mode = self.mode_of(tenant, meta)
        if mode == "off":
            stats.disabled += 1
            return
        entities = finding.entities
        subject = entities.get("user") or entities.get("actor") or entities.get("caller_number") or ""
        key = (meta.rule_id, tenant, subject)
        current = self._open.get(key)
        window = meta.suppress_s
        if (
            current is not None
            and current.first_seen - window <= finding.last_seen <= current.last_seen + window
        ):
            stats.suppressed += 1
            current.count += 1
            current.first_seen = min(current.first_seen, finding.first_seen)
            current.last_seen = max(current.last_seen, finding.last_seen)
            room = MAX_EVIDENCE - len(current.event_ids)
            current.event_ids.extend([i for i in finding.event_ids if i not in current.event_ids][:room])
            if current not in out:
                out.append(current)
            return
        alert = Alert(
            id=alert_id(
                rule_id=meta.rule_id, tenant=tenant, entities=entities, first_event=finding.event_ids[0]
            ),
            rule_id=meta.rule_id,
            title=meta.title,
            severity=meta.severity,
            tenant=tenant,
            entities=dict(entities),
            first_seen=finding.first_seen,
            last_seen=finding.last_seen,
            event_ids=list(finding.event_ids),
            explanation=finding.explanation,
            attack=meta.attack,
            response=meta.response,
            mode=mode,
            confidence=meta.confidence,
        )
        self._open[key] = alert
        if len(self._open) > SEEN_LIMIT:
            self._open.popitem(last=False)
        stats.alerts += 1
        stats.by_rule[meta.rule_id] = stats.by_rule.get(meta.rule_id, 0) + 1
        out.append(alert)


def _can_match(rule: CompiledRule, event: Event) -> bool:
    return logsource_matches(rule.logsource, event) and (
        rule.dispatch is None or dispatch_value(event, rule.dispatch_on) in rule.dispatch
    )


# A correlation's group-by fields, named as alert entities (raw vendor fields keep their name).
ENTITY_NAMES = {
    "target_user": "user",
    "user": "user",
    "actor_user": "actor",
    "actor.user": "actor",
    "src_ip": "ip",
    "ticket_id": "ticket",
    "session_id": "session",
    "claimed_identity": "claimed",
}


def _hit_finding(hit: CorrelationHit) -> Finding:
    entities = {ENTITY_NAMES.get(name, name): str(value) for name, value in dict(hit.group).items()}
    return Finding(entities, tuple(hit.event_ids), hit.first_seen, hit.last_seen, hit.explanation)


class _Values(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


def explain(meta: RuleMeta, event: Event) -> str:
    """The rule's own template filled with the event's values, or a sentence with the essentials."""
    if meta.explanation:
        values = _Values(
            {
                name: getattr(event, name)
                for name in (
                    "activity",
                    "type",
                    "source",
                    "actor_user",
                    "target_user",
                    "src_ip",
                    "country",
                    "city",
                    "app",
                    "ticket_id",
                    "caller_number",
                    "claimed_identity",
                    "attestation",
                    "reason",
                    "user_agent",
                    "session_id",
                    "channel",
                    "category",
                    "outcome",
                )
            }
        )
        values["time"] = clock(event.time)
        values.update({f"extra_{k}": v for k, v in event.extra.items()})
        return meta.explanation.format_map(values)
    parts = [f"{meta.title}: {event.source} {event.type or event.activity}"]
    if event.target_user:
        parts.append(f"for {event.target_user}")
    if event.actor_user and event.actor_user != event.target_user:
        parts.append(f"by {event.actor_user}")
    if event.src_ip:
        where = f" ({event.country})" if event.country else ""
        parts.append(f"from {event.src_ip}{where}")
    parts.append(f"at {clock(event.time)}")
    if event.reason:
        parts.append(f"— {event.reason}")
    return " ".join(parts)
