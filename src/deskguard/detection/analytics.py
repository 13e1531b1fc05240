"""Built-in analytics: the stateful detections a Sigma rule cannot say.

Sigma rules and correlations cover single events, counts and sequences. What is left needs memory
of a different shape: the countries a person usually signs in from, the deskguard executions an
identity-provider change should match, the identity a caller claimed on a ticket. Each analytic
is configured from a content file (``analytic: <kind>`` with ``params``), keeps bounded state keyed
by tenant and entity, and returns findings with the values that explain them.

All state is keyed by the event's tenant, so two client tenants never meet in one window.
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from deskguard.detection.alerts import RuleMeta, clock
from deskguard.detection.event import Event

RECOVERY = frozenset(
    {
        "password_reset",
        "mfa_reset",
        "mfa_factor_removed",
        "temporary_access_pass",
        "recovery_change",
        "account_unlock",
    }
)
SIGN_INS = frozenset({"sign_in", "sso"})
MAX_KEYS = 100_000


class AnalyticError(ValueError):
    """A content file configures an analytic wrongly; the message names the parameter."""


@dataclass(frozen=True, slots=True)
class Finding:
    entities: dict[str, str]
    event_ids: tuple[str, ...]
    first_seen: float
    last_seen: float
    explanation: str


class Bounded(OrderedDict[Any, Any]):
    """A dict that forgets its least recently written keys beyond ``limit``.

    An ``OrderedDict``, not a plain dict: deleting a plain dict's first key again and again leaves
    dead slots that every later ``next(iter(d))`` walks over, quadratic once the bound is reached.
    """

    def __init__(self, limit: int = MAX_KEYS) -> None:
        super().__init__()
        self.limit = limit

    def put(self, key: Any, value: Any) -> None:
        self[key] = value
        self.move_to_end(key)
        if len(self) > self.limit:
            self.popitem(last=False)


def _duration(value: Any, name: str) -> float:
    if isinstance(value, int | float) and value > 0:
        return float(value)
    if isinstance(value, str) and len(value) > 1 and value[:-1].isdigit():
        unit = {"s": 1, "m": 60, "h": 3600, "d": 86400}.get(value[-1])
        if unit:
            return float(int(value[:-1]) * unit)
    raise AnalyticError(f"params.{name}: expected a duration such as 30m, 2h or 1d, got {value!r}")


class Analytic:
    """Base: parameters read with defaults; subclasses say which activities they watch."""

    kind: ClassVar[str]
    activities: frozenset[str]
    meta: RuleMeta

    def __init__(self, meta: RuleMeta, params: dict[str, Any]) -> None:
        self.meta = meta
        self._params = dict(params)

    def param(self, name: str, default: Any) -> Any:
        return self._params.get(name, default)

    def duration(self, name: str, default: str) -> float:
        return _duration(self._params.get(name, default), name)

    def number(self, name: str, default: float) -> float:
        value = self._params.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise AnalyticError(f"params.{name}: expected a positive number, got {value!r}")
        return float(value)

    def names(self, name: str, default: Iterable[str]) -> frozenset[str]:
        value = self._params.get(name, list(default))
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise AnalyticError(f"params.{name}: expected a list of strings, got {value!r}")
        return frozenset(item.lower() for item in value)

    def check_unknown(self, known: Iterable[str]) -> None:
        unknown = sorted(set(self._params) - set(known))
        if unknown:
            raise AnalyticError(f"params: unknown parameter(s) {', '.join(unknown)} for {self.kind}")

    def observe(self, event: Event) -> list[Finding]:  # pragma: no cover - abstract
        raise NotImplementedError


def _user(event: Event) -> str:
    return event.target_user or event.actor_user


class AfterRecovery(Analytic):
    """After a reset or recovery of a person: what their account does next.

    ``watch`` is one of ``new_country`` (a sign-in from a country never seen for the person, or
    through an anonymising proxy), ``sensitive_app`` (an application on the sensitive list) or
    ``app_burst`` (``distinct_apps`` different applications), within ``window`` of the recovery.
    """

    kind = "after_recovery"
    WATCHES = ("new_country", "sensitive_app", "app_burst")

    def __init__(self, meta: RuleMeta, params: dict[str, Any]) -> None:
        super().__init__(meta, params)
        self.check_unknown(("watch", "window", "sensitive_apps", "distinct_apps", "recovery"))
        self.watch = self.param("watch", "new_country")
        if self.watch not in self.WATCHES:
            raise AnalyticError(
                f"params.watch: expected one of {', '.join(self.WATCHES)}, got {self.watch!r}"
            )
        self.window = self.duration("window", "24h")
        self.recovery = self.names("recovery", RECOVERY | {"request_executed"})
        self.sensitive = self.names("sensitive_apps", ())
        self.distinct = int(self.number("distinct_apps", 5))
        self.activities = self.recovery | SIGN_INS
        self._recovered: Bounded = Bounded()  # (tenant, user) -> (time, event id, activity)
        self._countries: Bounded = Bounded()  # (tenant, user) -> set of countries seen
        self._apps: Bounded = Bounded()  # (tenant, user) -> {app: first time}

    def observe(self, event: Event) -> list[Finding]:
        user = event.target_user or event.actor_user
        if not user or event.outcome == "failure":
            return []
        key = (event.tenant, user)
        if event.activity not in SIGN_INS:  # a recovery (the analytic watches nothing else)
            if event.activity != "request_executed" or event.extra.get("kind") in _RECOVERY_KINDS:
                self._recovered.put(key, (event.time, event.id, event.activity))
                self._apps.pop(key, None)
            return []
        # sign-ins, the bulk of the stream: one lookup, and out
        recovered = self._recovered.get(key)
        if recovered is not None and not 0 <= event.time - recovered[0] <= self.window:
            recovered = None
        if self.watch == "new_country":
            return self._country(key, event, recovered)
        if recovered is None:
            return []
        if self.watch == "sensitive_app":
            return self._sensitive(event, recovered)
        return self._burst(key, event, recovered)

    def _country(
        self, key: tuple[str, str], event: Event, recovered: tuple[float, str, str] | None
    ) -> list[Finding]:
        known: frozenset[str] | None = self._countries.get(key)
        country = event.country
        if recovered is None and known is not None and (not country or country in known):
            return []  # the usual place, no recovery pending: nothing to learn, nothing to say
        novel = bool(country) and known is not None and country not in known
        if country and (known is None or novel):  # written only when it changes: the common case reads
            self._countries.put(key, (known or frozenset()) | {country})
        if recovered is None or not (novel or event.is_proxy):
            return []
        why = (
            "through an anonymising proxy"
            if event.is_proxy
            else f"from {country}, never seen for this person"
        )
        if novel and event.is_proxy:
            why = f"from {country}, never seen for this person, through an anonymising proxy"
        seen = ", ".join(sorted(known or ())) or "none"
        return [
            self._finding(
                event,
                recovered,
                f"{recovered[2].replace('_', ' ')} of {event.target_user or event.actor_user} at "
                f"{clock(recovered[0])}, then a sign-in at {clock(event.time)} {why} "
                f"(countries seen before: {seen}; IP {event.src_ip or 'unknown'})",
            )
        ]

    def _sensitive(self, event: Event, recovered: tuple[float, str, str]) -> list[Finding]:
        if event.app.lower() not in self.sensitive:
            return []
        minutes = (event.time - recovered[0]) / 60
        return [
            self._finding(
                event,
                recovered,
                f"{recovered[2].replace('_', ' ')} of {_user(event)} at {clock(recovered[0])}, then "
                f"access to "
                f"the sensitive application {event.app} {minutes:.0f} min later",
            )
        ]

    def _burst(self, key: tuple[str, str], event: Event, recovered: tuple[float, str, str]) -> list[Finding]:
        if not event.app:
            return []
        apps: dict[str, float] = self._apps.get(key) or {}
        apps.setdefault(event.app, event.time)
        self._apps.put(key, apps)
        if len(apps) != self.distinct:
            return []
        minutes = (event.time - recovered[0]) / 60
        return [
            self._finding(
                event,
                recovered,
                f"{len(apps)} distinct applications ({', '.join(sorted(apps))}) accessed by {_user(event)} "
                f"within {minutes:.0f} min of the {recovered[2].replace('_', ' ')} at {clock(recovered[0])} "
                f"(threshold {self.distinct})",
            )
        ]

    def _finding(self, event: Event, recovered: tuple[float, str, str], text: str) -> Finding:
        return Finding(event.entities(), (recovered[1], event.id), recovered[0], event.time, text)


_RECOVERY_KINDS = frozenset(
    {
        "reset_password",
        "reset_mfa",
        "remove_factor",
        "issue_temporary_access_pass",
        "change_phone",
        "change_recovery_email",
    }
)


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine), in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(a)))


class ImpossibleTravel(Analytic):
    """Two successful sign-ins of one person farther apart than a plane could fly in between."""

    kind = "impossible_travel"

    def __init__(self, meta: RuleMeta, params: dict[str, Any]) -> None:
        super().__init__(meta, params)
        self.check_unknown(("max_kmh", "min_km"))
        self.max_kmh = self.number("max_kmh", 900)
        self.min_km = self.number("min_km", 500)
        self.activities = SIGN_INS
        self._last: Bounded = Bounded()  # (tenant, user) -> [time, lat, lon, place, event id]

    def observe(self, event: Event) -> list[Finding]:
        user = _user(event)
        if not user or event.lat is None or event.lon is None or event.outcome == "failure":
            return []
        key = (event.tenant, user)
        previous = self._last.get(key)
        if previous is not None and previous[1] == event.lat and previous[2] == event.lon:
            if event.time > previous[0]:  # the same place again (the common case): no new entry
                previous[0], previous[4] = event.time, event.id
            return []
        place = event.city or event.country or f"{event.lat:.1f},{event.lon:.1f}"
        self._last.put(key, [event.time, event.lat, event.lon, place, event.id])
        if previous is None or event.time < previous[0]:
            return []
        km = _km(previous[1], previous[2], event.lat, event.lon)
        hours = max(event.time - previous[0], 1.0) / 3600
        if km < self.min_km or km / hours <= self.max_kmh:
            return []
        text = (
            f"{user} signed in from {previous[3]} at {clock(previous[0])} and from {place} at "
            f"{clock(event.time)}: {km:.0f} km in {hours * 60:.0f} min ({km / hours:.0f} km/h, "
            f"above {self.max_kmh:.0f} km/h)"
        )
        return [Finding(event.entities(), (previous[4], event.id), previous[0], event.time, text)]


class SessionHijack(Analytic):
    """One session seen again from a new IP address and a different user agent."""

    kind = "session_hijack"

    def __init__(self, meta: RuleMeta, params: dict[str, Any]) -> None:
        super().__init__(meta, params)
        self.check_unknown(())
        self.activities = SIGN_INS | {"mfa_challenge", "other"}
        self._sessions: Bounded = Bounded()  # (tenant, session) -> (ip, user agent, time, event id)

    def observe(self, event: Event) -> list[Finding]:
        if not event.session_id or not event.src_ip:
            return []
        key = (event.tenant, event.session_id)
        first = self._sessions.get(key)
        if first is None:
            self._sessions.put(key, (event.src_ip, event.user_agent, event.time, event.id))
            return []
        if event.src_ip == first[0] or not event.user_agent or event.user_agent == first[1]:
            return []
        # one alert per change: a further change is measured from this new pair
        self._sessions.put(key, (event.src_ip, event.user_agent, event.time, event.id))
        text = (
            f"session {event.session_id} of {_user(event)} began from {first[0]} "
            f"({first[1] or 'no user agent'}) at {clock(first[2])} and was used from {event.src_ip} "
            f"({event.user_agent}) at {clock(event.time)}"
        )
        return [Finding(event.entities(), (first[3], event.id), first[2], event.time, text)]


class UnbrokeredChange(Analytic):
    """An identity provider shows a reset done by a human admin that no deskguard execution explains.

    deskguard executes through its own service account, so the identity provider logs a service
    actor. A human actor on someone else's account, with no deskguard execution for that person
    within ``window`` before, means the change bypassed the broker. An execution counts from
    ``request.execution_started``, which deskguard writes before it calls the connector: the
    identity provider's own record of the change always comes after it.
    """

    kind = "unbrokered_change"

    def __init__(self, meta: RuleMeta, params: dict[str, Any]) -> None:
        super().__init__(meta, params)
        self.check_unknown(("window", "changes", "allowed_actors"))
        self.window = self.duration("window", "15m")
        self.changes = self.names(
            "changes", ("password_reset", "mfa_reset", "mfa_factor_removed", "temporary_access_pass")
        )
        self.allowed = self.names("allowed_actors", ())
        self.activities = self.changes | {"request_executing", "request_executed"}
        self._executed: Bounded = Bounded()  # (tenant, user) -> time of the last deskguard execution

    def observe(self, event: Event) -> list[Finding]:
        if event.activity in ("request_executing", "request_executed"):
            if event.target_user:
                self._executed.put((event.tenant, event.target_user), event.time)
            return []
        if event.source == "deskguard" or event.outcome == "failure" or event.actor_type != "human":
            return []
        if (
            not event.target_user
            or event.actor_user in ("", event.target_user)
            or event.actor_user in self.allowed
        ):
            return []
        executed = self._executed.get((event.tenant, event.target_user))
        if executed is not None and 0 <= event.time - executed <= self.window:
            return []
        last = f"the last one at {clock(executed)}" if executed is not None else "none on record"
        text = (
            f"{event.source} shows {event.activity.replace('_', ' ')} of {event.target_user} by the human "
            f"account {event.actor_user} at {clock(event.time)} with no deskguard execution for this person "
            f"in the {self.window / 60:.0f} min before ({last}): the change bypassed the broker"
        )
        return [Finding(event.entities(), (event.id,), event.time, event.time, text)]


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
            f"request {request} for {_user(event)}: {failed[0]} failed at {clock(failed[1])}, "
            "then the weaker "
            f"{method} succeeded at {clock(event.time)}"
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
        user = _user(event)
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
            f"privileged person {_user(event)} by {event.actor_user or 'unknown'} {when}"
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


def _hour_of_week(epoch: float) -> int:
    """0 = Monday 00h UTC ... 167 = Sunday 23h (1970-01-01 was a Thursday)."""
    return int((epoch // 3600 + 3 * 24) % 168)


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
    )
}


def build(kind: str, meta: RuleMeta, params: dict[str, Any]) -> Analytic:
    factory = KINDS.get(kind)
    if factory is None:
        raise AnalyticError(f"analytic: unknown kind {kind!r}; known: {', '.join(sorted(KINDS))}")
    return factory(meta, params)
