"""The detection engine's learned baselines, kept across restarts and rebuilt by replay.

What the analytics learned over weeks (``Engine.export_state``: each person's countries and
networks, each operator's rates, each calling number's identities, each tenant's chains and
volumes) lives in the live pipeline's memory. ``persist`` writes it, one row per analytic, when it
changed since the last write (a worker calls it every minute and at shutdown); ``restore`` reads
it back when the process starts. ``rebuild`` replays recorded events through a fresh pipeline and
stores what it learned: the way to build baselines from a customer's history, or again after a
content change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from deskguard.app.context import AppContext
from deskguard.detection.analytics import AnalyticError
from deskguard.detection.engine import Engine
from deskguard.domain.errors import ValidationFailed


@dataclass(frozen=True, slots=True)
class Saved:
    analytics: int  # rows written
    keys: int  # people, operators, numbers, tenants... across them


def _detector_engine(ctx: AppContext) -> Engine:
    if ctx.detector is None:
        raise ValidationFailed("detection is not configured in this process", field="detection")
    return ctx.detector.pipeline.engine


def persist(ctx: AppContext, *, force: bool = False) -> Saved | None:
    """Write the live engine's baselines if they changed since the last write (None: unchanged)."""
    detector = ctx.detector
    engine = _detector_engine(ctx)
    assert detector is not None
    with detector.lock:
        seen = engine.stats.events
        if not force and seen == detector.persisted_at_events:
            return None
        state = engine.export_state()
    saved = store(ctx, state)
    detector.persisted_at_events = seen
    return saved


def store(ctx: AppContext, state: dict[str, Any]) -> Saved:
    """One row per analytic, in one transaction."""
    now = ctx.clock.now()
    keys = 0
    with ctx.uow() as uow:
        for rule_id, body in state.items():
            count = sum(len(pairs) for pairs in body.values())
            keys += count
            uow.detection_state.put(rule_id=rule_id, state=orjson.dumps(body), keys=count, updated_at=now)
        uow.commit()
    return Saved(analytics=len(state), keys=keys)


def restore(ctx: AppContext) -> int:
    """Load the stored baselines into the live engine; returns the keys restored.

    A row that does not parse, or whose shape its analytic refuses, is skipped and named in the
    error raised after the others are restored: one bad row does not cost the rest."""
    engine = _detector_engine(ctx)
    with ctx.reads() as uow:
        rows = uow.detection_state.all()
    state: dict[str, Any] = {}
    bad: list[str] = []
    for row in rows:
        try:
            state[row.rule_id] = orjson.loads(row.state)
        except orjson.JSONDecodeError as exc:
            bad.append(f"{row.rule_id}: {exc}")
    assert ctx.detector is not None
    restored = 0
    with ctx.detector.lock:
        for rule_id, body in state.items():
            try:
                restored += engine.restore_state({rule_id: body})
            except AnalyticError as exc:
                bad.append(f"{rule_id}: {exc}")
        ctx.detector.persisted_at_events = engine.stats.events
    if bad:
        raise ValidationFailed(
            f"baselines restored except {len(bad)} analytic(s): {'; '.join(bad)}", field="detection_state"
        )
    return restored


def summary(state: dict[str, Any]) -> dict[str, int]:
    """Keys per analytic of an export (for the CLI's report)."""
    return {rule_id: sum(len(pairs) for pairs in body.values()) for rule_id, body in state.items()}


def export_lines(state: dict[str, Any]) -> Iterable[bytes]:
    """An export as JSON lines, one analytic a line (``deskguard baselines rebuild --output``)."""
    for rule_id, body in state.items():
        yield orjson.dumps({"rule_id": rule_id, "state": body}) + b"\n"
