"""Analytics on the helpdesk's side: callers, proofs, pushes, hours, and rates against a baseline."""

from __future__ import annotations

import math
from collections import deque
from typing import Any

from deskguard.detection.alerts import RuleMeta, clock
from deskguard.detection.analytics.base import Analytic, AnalyticError, Bounded, Finding, user_of
from deskguard.detection.event import Event

SENSITIVE_REQUESTS = frozenset(
    {"request_opened", "password_reset", "mfa_reset", "mfa_factor_removed", "temporary_access_pass"}
)


class CallerMismatch(Analytic):
    """A sensitive request for someone other than the identity the ticket's caller claimed."""

    kind = "caller_mismatch"

    def __init__(self, meta: RuleMeta, params: dict[str, Any]) -> None:
        super().__init__(meta, params)
        self.check_unknown(("window",))
        self.window = self.duration("window", "8h")
        self.activities = frozenset({"ticket_opened", "request_opened"})
        self._tickets: Bounded = Bounded()  # (tenant, ticket) -> (claimed, caller number, time, id)

    def observe(self, event: Event) -> list[Finding]:
        if not event.ticket_id:
            return []
        key = (event.tenant, event.ticket_id)
        if event.activity == "ticket_opened":
            # Only a claimed login or e-mail can be compared; a free-text claim ("Claire, the CFO")
            # is for the agent to read, not for a machine to match.
            if "@" in event.claimed_identity:
                self._tickets.put(key, (event.claimed_identity, event.caller_number, event.time, event.id))
            return []
        ticket = self._tickets.get(key)
        if ticket is None or "@" not in event.target_user or event.target_user == ticket[0]:
            return []
        if not 0 <= event.time - ticket[2] <= self.window:
            return []
        caller = f" from {ticket[1]}" if ticket[1] else ""
        text = (
            f"ticket {event.ticket_id}: the caller{caller} claimed to be {ticket[0]} at "
            f"{clock(ticket[2])}, "
            f"but the {event.extra.get('kind') or 'sensitive'} request at {clock(event.time)} "
            f"targets {event.target_user}"
        )
        entities = {**event.entities(), "claimed": ticket[0]}
        return [Finding(entities, (ticket[3], event.id), ticket[2], event.time, text)]


class RiskyCall(Analytic):
    """A call with failed or C attestation, or from a number not registered for the claimed person,
    followed by a sensitive request for that person."""

    kind = "risky_call"

    def __init__(self, meta: RuleMeta, params: dict[str, Any]) -> None:
        super().__init__(meta, params)
        self.check_unknown(("window", "attestations"))
        self.window = self.duration("window", "2h")
        self.attestations = frozenset(a.upper() for a in self.names("attestations", ("c", "failed")))
        self.activities = SENSITIVE_REQUESTS | {"call_received"}
        self._calls: Bounded = Bounded()  # (tenant, claimed) -> (why, time, event id, number)

    def observe(self, event: Event) -> list[Finding]:
        if event.activity == "call_received":
            why = self._why(event)
            if why and event.claimed_identity:
                self._calls.put(
                    (event.tenant, event.claimed_identity), (why, event.time, event.id, event.caller_number)
                )
            return []
        if not event.target_user or event.outcome == "failure":
            return []
        call = self._calls.get((event.tenant, event.target_user))
        if call is None or not 0 <= event.time - call[1] <= self.window:
            return []
        self._calls.pop((event.tenant, event.target_user))
        text = (
            f"a call from {call[3] or 'an unknown number'} at {clock(call[1])} claiming to be "
            f"{event.target_user} ({call[0]}) was followed at {clock(event.time)} by "
            f"{event.activity.replace('_', ' ')} for that person"
        )
        return [
            Finding(
                {**event.entities(), "caller_number": call[3]}, (call[2], event.id), call[1], event.time, text
            )
        ]

    def _why(self, event: Event) -> str:
        attestation = event.attestation.upper()
        if attestation in self.attestations:
            return (
                "STIR/SHAKEN verification failed" if attestation == "FAILED" else f"attestation {attestation}"
            )
        if event.extra.get("number_registered") is False:
            return "the number is not registered for this person"
        return ""


METHOD_STRENGTH = {
    "push_number_match": 5,
    "self_service_initiated": 5,
    "totp": 4,
    "callback_automated": 4,
    "external_idv": 4,
    "callback_agent": 3,
    "otp_sms": 3,
    "manager_confirmation": 2,
    "knowledge": 0,
}


class ProofDowngrade(Analytic):
    """A request whose proof failed with one method and then succeeded with a weaker one."""

    kind = "proof_downgrade"

    def __init__(self, meta: RuleMeta, params: dict[str, Any]) -> None:
        super().__init__(meta, params)
        self.check_unknown(())
        self.activities = frozenset({"proof_failed", "proof_succeeded"})
        self._failed: Bounded = Bounded()  # (tenant, request) -> (method, time, event id)

    def observe(self, event: Event) -> list[Finding]:
        request = str(event.extra.get("request_id") or "")
        method = str(event.extra.get("method") or "")
        if not request or method not in METHOD_STRENGTH:
            return []
        key = (event.tenant, request)
        if event.activity == "proof_failed":
            failed = self._failed.get(key)
            if failed is None or METHOD_STRENGTH[method] > METHOD_STRENGTH[failed[0]]:
                self._failed.put(key, (method, event.time, event.id))
            return []
        failed = self._failed.pop(key, None)
        if failed is None or METHOD_STRENGTH[method] >= METHOD_STRENGTH[failed[0]]:
            return []
        text = (
            f"request {request} for {user_of(event)}: {failed[0]} failed at {clock(failed[1])}, "
            f"then the weaker {method} succeeded at {clock(event.time)}"
        )
        return [
            Finding(
                {**event.entities(), "request": request}, (failed[2], event.id), failed[1], event.time, text
            )
        ]


class PushFatigue(Analytic):
    """Repeated denied pushes for one person, then an approved one: the person gave in."""

    kind = "push_fatigue"

    def __init__(self, meta: RuleMeta, params: dict[str, Any]) -> None:
        super().__init__(meta, params)
        self.check_unknown(("denials", "window"))
        self.denials = int(self.number("denials", 3))
        self.window = self.duration("window", "15m")
        self.activities = frozenset({"mfa_push_denied", "mfa_push_approved"})
        self._denied: Bounded = Bounded()  # (tenant, user) -> deque of (time, event id)

    def observe(self, event: Event) -> list[Finding]:
        user = user_of(event)
        if not user:
            return []
        key = (event.tenant, user)
        denied: deque[tuple[float, str]] = self._denied.get(key) or deque(maxlen=64)
        while denied and event.time - denied[0][0] > self.window:
            denied.popleft()
        if event.activity == "mfa_push_denied":
            denied.append((event.time, event.id))
            self._denied.put(key, denied)
            return []
        self._denied.pop(key, None)
        if len(denied) < self.denials:
            return []
        text = (
            f"{len(denied)} pushes denied for {user} between {clock(denied[0][0])} and "
            f"{clock(denied[-1][0])}, then one approved at {clock(event.time)} "
            f"(threshold {self.denials} within {self.window / 60:.0f} min)"
        )
        ids = (*(item[1] for item in denied), event.id)
        return [Finding(event.entities(), ids, denied[0][0], event.time, text)]


class OutOfHours(Analytic):
    """A sensitive action on a privileged person outside working hours (tenant's UTC offset)."""

    kind = "out_of_hours"

    def __init__(self, meta: RuleMeta, params: dict[str, Any]) -> None:
        super().__init__(meta, params)
        self.check_unknown(("start_hour", "end_hour", "utc_offset_hours", "weekends"))
        self.start = int(self.param("start_hour", 7))
        self.end = int(self.param("end_hour", 20))
        self.offset = float(self.param("utc_offset_hours", 0))
        self.weekends = bool(self.param("weekends", True))
        if not 0 <= self.start < self.end <= 24:
            raise AnalyticError("params.start_hour/end_hour: expected 0 <= start_hour < end_hour <= 24")
        self.activities = frozenset({"request_executed", "request_opened"})

    def observe(self, event: Event) -> list[Finding]:
        if event.extra.get("privileged") is not True:
            return []
        local = event.time + self.offset * 3600
        hour = int(local // 3600 % 24)
        weekday = int((local // 86400 + 3) % 7)  # 1970-01-01 was a Thursday (3)
        weekend = self.weekends and weekday >= 5
        if self.start <= hour < self.end and not weekend:
            return []
        when = (
            "on a weekend"
            if weekend
            else f"at {hour:02d}h local time (hours {self.start:02d}h-{self.end:02d}h)"
        )
        text = (
            f"{event.activity.replace('_', ' ')} ({event.extra.get('kind') or 'sensitive action'}) on the "
            f"privileged person {user_of(event)} by {event.actor_user or 'unknown'} {when}"
        )
        return [Finding(event.entities(), (event.id,), event.time, event.time, text)]


def poisson_tail(observed: int, mean: float) -> float:
    """P(X >= observed) for X ~ Poisson(mean)."""
    if observed <= 0:
        return 1.0
    term = math.exp(-mean)
    below = term
    for k in range(1, observed):
        term *= mean / k
        below += term
    return max(0.0, 1.0 - below)


WEEKDAYS = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")


class RateBaseline(Analytic):
    """Far above one's own usual rate: sensitive actions in the last ``window`` against a baseline
    learned per hour of the week, reported as a Poisson tail probability.

    The baseline starts from ``prior_per_hour`` worth ``prior_hours`` of history (cold start) and
    learns from every hour the key is seen active (hours without activity are not counted, so the
    baseline is the rate of an active hour: it errs towards fewer alerts). ``group`` is
    ``actor_user`` (per operator) or ``tenant`` (the whole tenant).
    """

    kind = "rate_baseline"
    learned = ("_state",)

    def __init__(self, meta: RuleMeta, params: dict[str, Any]) -> None:
        super().__init__(meta, params)
        self.check_unknown(
            ("activities", "group", "window", "prior_per_hour", "prior_hours", "p_below", "min_count")
        )
        self.activities = self.names("activities", ("request_executed",))
        self.group = self.param("group", "actor_user")
        if self.group not in ("actor_user", "tenant"):
            raise AnalyticError(f"params.group: expected actor_user or tenant, got {self.group!r}")
        self.window = self.duration("window", "1h")
        self.prior = self.number("prior_per_hour", 1.0)
        self.prior_hours = self.number("prior_hours", 24)
        self.p_below = self.number("p_below", 1e-4)
        self.min_count = int(self.number("min_count", 5))
        # key -> [recent (time, id), {hour of week: [count, active hours]}, hour, its count, quiet until]
        self._state: Bounded = Bounded()

    def observe(self, event: Event) -> list[Finding]:
        who = event.actor_user if self.group == "actor_user" else event.tenant
        if not who or event.outcome == "failure":
            return []
        key = (event.tenant, who)
        state = self._state.get(key)
        if state is None:
            state = [deque(maxlen=10_000), {}, None, 0, 0.0]
            self._state.put(key, state)
        recent, history, hour, count, quiet_until = state
        current = int(event.time // 3600)
        if current != hour:  # the previous active hour closes: it joins the baseline
            if hour is not None:
                slot = history.setdefault(_hour_of_week(hour * 3600.0), [0, 0])
                slot[0] += count
                slot[1] += 1
            state[2], state[3] = current, 0
        state[3] += 1
        while recent and event.time - recent[0][0] > self.window:
            recent.popleft()
        recent.append((event.time, event.id))
        observed = len(recent)
        if observed < self.min_count or event.time < quiet_until:
            return []
        how = _hour_of_week(event.time)
        total, hours = history.get(how, (0, 0))
        per_hour = (self.prior * self.prior_hours + total) / (self.prior_hours + hours)
        expected = per_hour * self.window / 3600
        p = poisson_tail(observed, expected)
        if p >= self.p_below:
            return []
        ids = tuple(item[1] for item in recent)
        first = recent[0][0]
        state[4] = event.time + self.window  # one alert per burst: quiet for a window after it
        subject = "this operator" if self.group == "actor_user" else "this tenant"
        text = (
            f"{observed} sensitive actions by {who} in {self.window / 60:.0f} min; {subject}'s baseline for "
            f"{WEEKDAYS[how // 24]} {how % 24:02d}h is {per_hour:.1f}/h (p = {p:.1e})"
        )
        entities = {"actor": who} if self.group == "actor_user" else {"tenant": who}
        return [Finding(entities, ids, first, event.time, text)]

    def encode(self, name: str, value: Any) -> Any:
        recent, history, hour, count, quiet_until = value
        slots = {str(k): v for k, v in history.items()}
        return [[list(item) for item in recent], slots, hour, count, quiet_until]

    def decode(self, name: str, value: Any) -> Any:
        try:
            recent, history, hour, count, quiet_until = value
            return [
                deque(((float(t), str(i)) for t, i in recent), maxlen=10_000),
                {int(k): [int(v[0]), int(v[1])] for k, v in history.items()},
                None if hour is None else int(hour),
                int(count),
                float(quiet_until),
            ]
        except (TypeError, ValueError, AttributeError, IndexError) as exc:
            raise AnalyticError(f"state.{name}: not a rate baseline ({exc})") from None


def _hour_of_week(epoch: float) -> int:
    """0 = Monday 00h UTC ... 167 = Sunday 23h (1970-01-01 was a Thursday)."""
    return int((epoch // 3600 + 3 * 24) % 168)
