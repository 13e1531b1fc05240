"""Raw records in, alerts out: normalisation, quarantine and the engine, for every way in.

The ingest API, ``deskguard replay``, the content tests and the benchmark all run this one
pipeline. A record that cannot be normalised is quarantined with its reason and counted; the
stream goes on.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from deskguard.detection.alerts import Alert
from deskguard.detection.content import Case, Content
from deskguard.detection.engine import Engine
from deskguard.detection.event import Event
from deskguard.detection.geo import GeoResolver, enrich
from deskguard.detection.normalize import normalize
from deskguard.detection.parsing import Quarantined
from deskguard.detection.pressure import PressureModel
from deskguard.detection.sigma.correlate import Correlator, MemoryCorrelationStore

SAMPLES = 100  # quarantined records kept for display, per pipeline
STREAM_GC_THRESHOLD = 50_000  # allocations between young-generation collections while streaming


@contextmanager
def streaming_gc() -> Iterator[None]:
    """Collector settings for a long stream of short-lived records.

    Every record allocates a few dozen containers and drops them; the engine's state keeps growing.
    With the default threshold (700) the collector runs every few records and its older passes scan
    the whole state again and again: about half the time of a replay, measured. What was allocated
    before the stream is frozen out of the collector, and young collections run less often.
    """
    previous = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(STREAM_GC_THRESHOLD, previous[1], previous[2])
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()


@dataclass(frozen=True, slots=True)
class QuarantinedRecord:
    reason: str
    detail: str
    record: Any
    where: str = ""  # file:line, or the batch index


@dataclass(slots=True)
class Quarantine:
    reasons: Counter[str] = field(default_factory=Counter)
    samples: list[QuarantinedRecord] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(self.reasons.values())

    def add(self, item: QuarantinedRecord) -> None:
        self.reasons[item.reason] += 1
        if len(self.samples) < SAMPLES:
            self.samples.append(item)


class Pipeline:
    def __init__(
        self,
        content: Content,
        *,
        lateness_s: float = 300.0,
        monitor: Iterable[str] = (),
        max_groups: int = 100_000,
        keep_alerts: bool = True,
        geo: GeoResolver | None = None,
    ) -> None:
        correlator = None
        if content.correlations:
            store = MemoryCorrelationStore(max_groups=max_groups)
            correlator = Correlator(content.correlations, store, lateness_s=lateness_s)
        self.engine = Engine(content, correlator=correlator, monitor=monitor)
        self.pressure = content.pressure
        # country and network of src_ip, before the rules run: this resolver, else the content's
        self.geo = geo if geo is not None else content.geo
        self.quarantine = Quarantine()
        # Every alert of the run, for replay summaries; a live pipeline (keep_alerts=False) stores
        # its alerts as they come and keeps none here, so its memory does not grow with them.
        self.keep_alerts = keep_alerts
        self.alerts: dict[str, Alert] = {}
        self.records = 0

    def events(
        self, raw: Any, *, source: str | None = None, tenant: str = "", where: str = ""
    ) -> list[Event]:
        """The normalised events of one record, or none when it is quarantined."""
        self.records += 1
        try:
            return self.normalize(raw, source=source, tenant=tenant)
        except Quarantined as exc:
            self.quarantine.add(QuarantinedRecord(exc.reason, exc.detail, raw, where))
            return []

    def normalize(self, raw: Any, *, source: str | None = None, tenant: str = "") -> list[Event]:
        """The record's events, enriched as the rules expect them; raises ``Quarantined``."""
        events = normalize(raw, source=source, tenant=tenant)
        if self.geo is not None:
            enrich(events, self.geo)
        if self.pressure is not None:
            score_pressure(self.pressure, events)
        return events

    def feed(self, raw: Any, *, source: str | None = None, tenant: str = "", where: str = "") -> list[Alert]:
        out: list[Alert] = []
        for event in self.events(raw, source=source, tenant=tenant, where=where):
            out.extend(self.process(event))
        return out

    def process(self, event: Event) -> list[Alert]:
        raised = self.engine.process(event)
        if self.keep_alerts:
            for alert in raised:
                self.alerts[alert.id] = alert
        return raised

    def flush(self) -> list[Alert]:
        """End of the stream: alerts of correlation windows that only close at the end."""
        raised = self.engine.flush()
        if self.keep_alerts:
            for alert in raised:
                self.alerts[alert.id] = alert
        return raised

    def summary(self) -> dict[str, Any]:
        by_rule: Counter[str] = Counter(alert.rule_id for alert in self.alerts.values())
        return {
            "events": self.engine.stats.events,
            "records": self.records,
            "quarantined": self.quarantine.count,
            "quarantine_reasons": dict(sorted(self.quarantine.reasons.items())),
            "duplicates": self.engine.stats.duplicates,
            "alerts": len(self.alerts),
            "by_rule": dict(sorted(by_rule.items())),
        }


def score_pressure(model: PressureModel, events: Iterable[Event]) -> None:
    """Ticket text scored for social-engineering pressure: ``extra.pressure`` (0-1) and its cues."""
    for event in events:
        text = event.extra.get("text")
        if isinstance(text, str) and text:
            score = model.score(text)
            event.extra["pressure"] = round(score.probability, 3)
            event.extra["pressure_explanation"] = score.explanation()


def run_case(content: Content, case: Case, *, rule_ids: Iterable[str]) -> tuple[list[Alert], Quarantine]:
    """Play one content test case on a fresh pipeline: the alerts of ``rule_ids`` it raised."""
    wanted = set(case.rules or rule_ids)
    pipeline = Pipeline(content)
    for index, (source, record, tenant) in enumerate(case.events):
        pipeline.feed(record, source=source, tenant=tenant, where=f"{case.path}:{case.name}:{index + 1}")
    pipeline.flush()
    alerts = [alert for alert in pipeline.alerts.values() if alert.rule_id in wanted]
    return alerts, pipeline.quarantine
