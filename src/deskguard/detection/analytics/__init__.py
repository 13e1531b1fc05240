"""Built-in analytics: the stateful detections a Sigma rule cannot say.

Sigma rules and correlations cover single events, counts and sequences. What is left needs memory
of a different shape: the countries a person usually signs in from, the deskguard executions an
identity-provider change should match, the identity a caller claimed on a ticket. Some learn
baselines over weeks (a person's countries and networks, an operator's rates, a caller's
identities, a tenant's usual chains of changes): their ``learned`` state is persisted and restored
(``Engine.export_state``). Each analytic
is configured from a content file (``analytic: <kind>`` with ``params``), keeps bounded state keyed
by tenant and entity, and returns findings with the values that explain them.

All state is keyed by the event's tenant, so two client tenants never meet in one window.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from deskguard.detection.alerts import RuleMeta
from deskguard.detection.analytics.base import RECOVERY, SIGN_INS, Analytic, AnalyticError, Bounded, Finding
from deskguard.detection.analytics.helpdesk import (
    METHOD_STRENGTH,
    CallerMismatch,
    OutOfHours,
    ProofDowngrade,
    PushFatigue,
    RateBaseline,
    RiskyCall,
    poisson_tail,
)
from deskguard.detection.analytics.identity import (
    AfterRecovery,
    ImpossibleTravel,
    SessionHijack,
    UnbrokeredChange,
)
from deskguard.detection.analytics.operators import OperatorProfile
from deskguard.detection.analytics.profiles import CallerProfile, PersonProfile
from deskguard.detection.analytics.sequence import SequenceModel

__all__ = [
    "KINDS",
    "METHOD_STRENGTH",
    "RECOVERY",
    "SIGN_INS",
    "Analytic",
    "AnalyticError",
    "Bounded",
    "Finding",
    "build",
    "poisson_tail",
]

KINDS: dict[str, Callable[[RuleMeta, dict[str, Any]], Analytic]] = {
    cls.kind: cls
    for cls in (
        AfterRecovery,
        ImpossibleTravel,
        SessionHijack,
        UnbrokeredChange,
        CallerMismatch,
        RiskyCall,
        ProofDowngrade,
        PushFatigue,
        OutOfHours,
        RateBaseline,
        PersonProfile,
        CallerProfile,
        OperatorProfile,
        SequenceModel,
    )
}


def build(kind: str, meta: RuleMeta, params: dict[str, Any]) -> Analytic:
    factory = KINDS.get(kind)
    if factory is None:
        raise AnalyticError(f"analytic: unknown kind {kind!r}; known: {', '.join(sorted(KINDS))}")
    return factory(meta, params)
