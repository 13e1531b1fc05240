"""Helpers shared by the runbook tests: a runbook from text, a hand-made alert, what was recorded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deskguard.detection.alerts import Alert
from deskguard.detection.runbooks import Runbook, load_runbooks
from deskguard.domain.actions import ActionKind
from deskguard.domain.response import ResponseStep
from world import World

PLAIN = "plain@t_a.example"


def book(tmp_path: Path, text: str) -> Runbook:
    path = tmp_path / "runbook.yml"
    path.write_text(text)
    (runbook,) = load_runbooks([path])
    return runbook


def alert(user: str = PLAIN, *, severity: str = "high", alert_id: str = "alr_1", **entities: str) -> Alert:
    return Alert(
        id=alert_id,
        rule_id="Some.Rule.Id",
        title="Something odd",
        severity=severity,
        tenant="t_a",
        entities={"user": user, **entities} if user else dict(entities),
        first_seen=0.0,
        last_seen=0.0,
        event_ids=["e"],
        explanation="because",
    )


def snapshot(world: World, person_id: str = "plain") -> Any:
    now = world.clock.now()
    return world.ctx.decisions.snapshot(
        tenant_id="t_a",
        person_id=person_id,
        operator_id=None,
        kind=ActionKind.RESET_PASSWORD,
        now=now,
        failed_since=now,
    )


def events(world: World) -> list[dict[str, Any]]:
    """The tenant's ``response.step`` events, in order."""
    with world.ctx.reads() as uow:
        return [e.envelope() for e in uow.outbox.list(tenant_id="t_a") if e.type.value == "response.step"]


def stored(world: World, tenant: str = "t_a") -> list[ResponseStep]:
    with world.ctx.reads() as uow:
        return sorted(uow.response_steps.list(tenant_id=tenant), key=lambda s: (s.run_id, s.index))
