"""Learned profiles of helpdesk operators: whom they act on, where, and how their proofs go.

An operator (deskguard's own events: the actor of a request) is profiled across tenants, since an
outsourced agent may serve several clients. ``watch`` picks one of:

- ``new_tenant``: acting in a tenant never served before, after ``min_history`` requests elsewhere;
- ``target_diversity``: distinct people acted on in ``window`` (a request opened or executed on
  them: the attempt counts, so an insider whose requests the policy stops is still seen), against
  the operator's own learned mean per active window (Poisson tail);
- ``verification_failures``: proofs that failed on the operator's requests in ``window``, against
  the operator's own long-run failure rate (binomial tail, from a Beta prior);
- ``step_up_abandoned``: requests the policy sent to step-up (more proof needed) that the operator
  then cancelled, against their own long-run share (binomial tail). A step-up abandoned is what
  an agent does when the caller cannot pass the call-back: once, it is the procedure working;
  again and again, it is someone shopping for a weaker path.

deskguard has no "override" of a step-up: the policy's demand cannot be skipped, only abandoned.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

from deskguard.detection.alerts import RuleMeta, clock
from deskguard.detection.analytics.base import Analytic, AnalyticError, Bounded, Finding
from deskguard.detection.analytics.helpdesk import poisson_tail
from deskguard.detection.event import Event

WATCHES = ("new_tenant", "target_diversity", "verification_failures", "step_up_abandoned")
OPERATOR_EVENTS = frozenset({"request_opened", "request_decided", "request_cancelled", "request_executed"})
PROOF_EVENTS = frozenset({"proof_succeeded", "proof_failed"})


def _window_of(value: Any) -> deque[tuple[float, str, str]]:
    return deque(((float(t), str(v), str(i)) for t, v, i in value), maxlen=1000)


def binomial_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p), summed in log space (n is at most a few thousand)."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    p = min(max(p, 1e-9), 1 - 1e-9)
    total = 0.0
    for i in range(k, n + 1):
        log_term = math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1)
        total += math.exp(log_term + i * math.log(p) + (n - i) * math.log(1 - p))
    return min(1.0, total)


class OperatorProfile(Analytic):
    kind = "operator_baseline"
    learned = ("_operators", "_requests", "_recent")

    def __init__(self, meta: RuleMeta, params: dict[str, Any]) -> None:
        super().__init__(meta, params)
        self.check_unknown(
            ("watch", "window", "min_history", "min_count", "p_below", "prior_rate", "prior_weight")
        )
        self.watch = self.param("watch", "target_diversity")
        if self.watch not in WATCHES:
            raise AnalyticError(f"params.watch: expected one of {', '.join(WATCHES)}, got {self.watch!r}")
        self.window = self.duration("window", "1h" if self.watch == "target_diversity" else "24h")
        self.min_history = int(self.number("min_history", 20))
        self.min_count = int(self.number("min_count", 5))
        self.p_below = self.number("p_below", 1e-4)
        # the prior: a rate (distinct people per window, or a share of proofs / step-ups) worth
        # ``prior_weight`` observations
        default_rate = {"target_diversity": 2.0, "verification_failures": 0.1, "step_up_abandoned": 0.2}
        self.prior_rate = self.number("prior_rate", default_rate.get(self.watch, 1.0))
        self.prior_weight = self.number("prior_weight", 20)
        if self.watch in ("verification_failures", "step_up_abandoned") and self.prior_rate >= 1:
            raise AnalyticError("params.prior_rate: a share, expected between 0 and 1")
        self.activities = OPERATOR_EVENTS | (PROOF_EVENTS if self.watch == "verification_failures" else set())
        # operator -> learned counters (see each watch); JSON values only
        self._operators: Bounded = Bounded()
        self._requests: Bounded = Bounded()  # (tenant, request) -> operator; step-up flag
        self._recent: Bounded = Bounded()  # operator -> deque of (time, value, event id)

    def observe(self, event: Event) -> list[Finding]:
        request = str(event.extra.get("request_id") or "")
        if event.activity in PROOF_EVENTS:
            owner = self._requests.get((event.tenant, request)) if request else None
            return self._proof(owner[0], event) if owner else []
        operator = event.actor_user
        if event.actor_type != "operator" or not operator:
            return []
        if event.activity == "request_opened" and request:
            self._requests.put((event.tenant, request), [operator, False])
        profile = self._operators.get(operator)
        if profile is None:
            profile = {"n": 0, "tenants": {}, "windows": 0, "distinct": 0, "proofs": 0, "failed": 0}
            profile.update({"stepups": 0, "abandoned": 0})
            self._operators.put(operator, profile)
        if self.watch == "new_tenant":
            return self._tenant(operator, profile, event)
        if self.watch == "target_diversity":
            return self._diversity(operator, profile, event)
        if self.watch == "step_up_abandoned":
            return self._abandoned(operator, profile, event, request)
        return []

    def encode(self, name: str, value: Any) -> Any:
        return [list(item) for item in value] if name == "_recent" else value

    def decode(self, name: str, value: Any) -> Any:
        if name != "_recent":
            return value
        try:
            return _window_of(value)
        except (TypeError, ValueError) as exc:
            raise AnalyticError(f"state.{name}: not a window of (time, value, id) ({exc})") from None

    # -- watches ---------------------------------------------------------------------------------

    def _tenant(self, operator: str, profile: dict[str, Any], event: Event) -> list[Finding]:
        if event.activity != "request_opened":
            return []
        tenants: dict[str, int] = profile["tenants"]
        new = event.tenant not in tenants
        history = profile["n"]
        profile["n"] += 1
        tenants[event.tenant] = tenants.get(event.tenant, 0) + 1
        if not new or history < self.min_history:
            return []
        text = (
            f"operator {operator} opened a request in this tenant at {clock(event.time)} for the first "
            f"time, after {history} requests in {len(tenants) - 1} other tenant(s)"
        )
        return [Finding({"actor": operator}, (event.id,), event.time, event.time, text)]

    def _diversity(self, operator: str, profile: dict[str, Any], event: Event) -> list[Finding]:
        if event.activity not in ("request_opened", "request_executed") or not event.target_user:
            return []
        recent: deque[tuple[float, str, str]] | None = self._recent.get(operator)
        if recent and event.time - recent[0][0] > self.window:  # the window closes: it is learned
            profile["windows"] += 1
            profile["distinct"] += len({item[1] for item in recent})
            recent = None
        if recent is None:
            recent = deque(maxlen=1000)
            self._recent.put(operator, recent)
        recent.append((event.time, event.target_user, event.id))
        distinct = {item[1] for item in recent}
        if len(distinct) < self.min_count:
            return []
        mean = (self.prior_rate * self.prior_weight + profile["distinct"]) / (
            self.prior_weight + profile["windows"]
        )
        p = poisson_tail(len(distinct), mean)
        if p >= self.p_below:
            return []
        first = recent[0][0]
        ids = tuple(item[2] for item in recent)
        recent.clear()  # one finding per burst
        text = (
            f"operator {operator} acted on {len(distinct)} different people in "
            f"{self.window / 60:.0f} min (to {clock(event.time)}); their usual is {mean:.1f} per active "
            f"window, learned over {profile['windows']} windows (p = {p:.1e})"
        )
        return [Finding({"actor": operator}, ids[-50:], first, event.time, text)]

    def _proof(self, operator: str, event: Event) -> list[Finding]:
        profile = self._operators.get(operator)
        if profile is None:
            return []
        outcome = "failed" if event.activity == "proof_failed" else "ok"
        return self._share(
            operator,
            profile,
            event,
            outcome,
            counted="failed",
            totals=("failed", "proofs"),
            what="proofs failed on requests by",
        )

    def _abandoned(self, operator: str, profile: dict[str, Any], event: Event, request: str) -> list[Finding]:
        key = (event.tenant, request)
        owner = self._requests.get(key) if request else None
        if owner is None:
            return []
        if event.activity == "request_decided" and event.extra.get("proofs_satisfied") is False:
            owner[1] = True  # the policy asked this request for more proof
            return []
        if event.activity not in ("request_cancelled", "request_executed") or not owner[1]:
            return []
        self._requests.pop(key)
        return self._share(
            operator,
            profile,
            event,
            "abandoned" if event.activity == "request_cancelled" else "completed",
            counted="abandoned",
            totals=("abandoned", "stepups"),
            what="step-ups abandoned (cancelled after the policy asked for more proof) by",
        )

    def _share(
        self,
        operator: str,
        profile: dict[str, Any],
        event: Event,
        outcome: str,
        *,
        counted: str,
        totals: tuple[str, str],
        what: str,
    ) -> list[Finding]:
        """The window's share of ``counted`` outcomes against the operator's long-run share.

        What leaves the window joins the long run (``profile[totals[0]]`` of ``profile[totals[1]]``)."""
        recent: deque[tuple[float, str, str]] = self._recent.get(operator) or deque(maxlen=1000)
        self._recent.put(operator, recent)
        while recent and event.time - recent[0][0] > self.window:
            old = recent.popleft()
            profile[totals[1]] += 1
            profile[totals[0]] += old[1] == counted
        recent.append((event.time, outcome, event.id))
        base = (profile[totals[0]], profile[totals[1]])
        hits = [item for item in recent if item[1] == counted]
        if len(hits) < self.min_count:
            return []
        rate = (self.prior_rate * self.prior_weight + base[0]) / (self.prior_weight + base[1])
        p = binomial_tail(len(hits), len(recent), rate)
        if p >= self.p_below:
            return []
        total = len(recent)
        recent.clear()  # one finding per burst
        text = (
            f"{len(hits)} of {total} {what} {operator} in {self.window / 3600:.0f} h "
            f"(to {clock(event.time)}); their long-run share is {rate:.0%} ({base[0]} of {base[1]} "
            f"before this window, prior {self.prior_rate:.0%}), p = {p:.1e}"
        )
        ids = tuple(item[2] for item in hits)
        return [Finding({"actor": operator}, ids[-50:], hits[0][0], event.time, text)]
