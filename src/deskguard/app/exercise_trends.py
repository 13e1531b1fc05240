"""Trends of the vishing exercises: per quarter, desk (provider) and agent, the share of calls where
the procedure was followed, the request refused or escalated, or the procedure failed — and the most
frequent failure categories. The console's trends page and its quarterly report (HTML, CSV) read it.

Supervisors, admins and auditors read them; an agent reads only their own feedback
(``app.exercises.my_feedback``). No ranking: groups are listed by id, never sorted by result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from deskguard.app.access import require_operator
from deskguard.app.context import AppContext
from deskguard.app.exercises import VIEWERS
from deskguard.domain.events import Actor
from deskguard.domain.exercises import ExerciseCall, Quarter, Trend, trends


@dataclass(frozen=True, slots=True)
class ExerciseTrends:
    tenant_id: str
    quarter: str  # "" for every quarter
    trends: Sequence[Trend]
    calls: Sequence[ExerciseCall]
    names: Mapping[str, str]  # operator and provider display names, by id

    def name(self, key: str) -> str:
        return self.names.get(key, key)


def exercise_trends(ctx: AppContext, *, actor: Actor, tenant_id: str, quarter: str = "") -> ExerciseTrends:
    """The tenant's exercise figures, for one quarter (``2026-Q4``) or all of them."""
    require_operator(actor, tenant_id=tenant_id, roles=VIEWERS)
    chosen = str(Quarter.parse(quarter)) if quarter else ""
    with ctx.reads() as uow:
        calls = uow.exercises.list_calls(tenant_id=tenant_id, quarter=chosen)
        names = {o.id: o.display_name for o in uow.operators.list(tenant_id=tenant_id)}
        names.update({p.id: p.name for p in uow.providers.list()})
    return ExerciseTrends(tenant_id=tenant_id, quarter=chosen, trends=trends(calls), calls=calls, names=names)
