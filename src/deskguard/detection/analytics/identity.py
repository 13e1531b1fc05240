"""Analytics on the identity provider's side: after a recovery, travel, sessions, unbrokered changes."""

from __future__ import annotations

import math
from typing import Any

from deskguard.detection.alerts import RuleMeta, clock
from deskguard.detection.analytics.base import (
    RECOVERY,
    SIGN_INS,
    Analytic,
    AnalyticError,
    Bounded,
    Finding,
    user_of,
)
from deskguard.detection.event import Event

MAX_DEVICES = 8  # device identifiers remembered per person (the least used goes)


class AfterRecovery(Analytic):
    """After a reset or recovery of a person: what their account does next.

    ``watch`` is one of ``new_country`` (a sign-in from a country never seen for the person,
    through an anonymising proxy, or from a hosting network: a datacentre is nobody's home),
    ``sensitive_app`` (an application on the sensitive list) or ``app_burst`` (``distinct_apps``
    different applications), within ``window`` of the recovery.

    For ``new_country``, a sign-in from the person's own device (a device identifier from the
    identity provider seen ``own_device`` times before, as in ``person_baseline``) in a new country
    is the person abroad, not the attacker: only a proxy or a hosting network is reported then.
    """

    kind = "after_recovery"
    WATCHES = ("new_country", "sensitive_app", "app_burst")

    def __init__(self, meta: RuleMeta, params: dict[str, Any]) -> None:
        super().__init__(meta, params)
        self.check_unknown(("watch", "window", "sensitive_apps", "distinct_apps", "recovery", "own_device"))
        self.watch = self.param("watch", "new_country")
        if self.watch not in self.WATCHES:
            raise AnalyticError(
                f"params.watch: expected one of {', '.join(self.WATCHES)}, got {self.watch!r}"
            )
        self.window = self.duration("window", "24h")
        self.recovery = self.names("recovery", RECOVERY | {"request_executed"})
        self.sensitive = self.names("sensitive_apps", ())
        self.distinct = int(self.number("distinct_apps", 5))
        self.own_device = int(self.number("own_device", 2))
        self.activities = self.recovery | SIGN_INS
        self._recovered: Bounded = Bounded()  # (tenant, user) -> (time, event id, activity)
        self._countries: Bounded = Bounded()  # (tenant, user) -> set of countries seen
        self._devices: Bounded = Bounded()  # (tenant, user) -> {device id: sign-ins, up to own_device}
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
        # sign-ins, the bulk of the stream: a lookup per state kept (recovery; countries and devices for
        # new_country), and out
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
        own = self._own_device(key, event.device_id)
        known: frozenset[str] | None = self._countries.get(key)
        country = event.country
        if recovered is None and known is not None and (not country or country in known):
            return []  # the usual place, no recovery pending: nothing to learn, nothing to say
        novel = bool(country) and known is not None and country not in known
        if country and (known is None or novel):  # written only when it changes: the common case reads
            self._countries.put(key, (known or frozenset()) | {country})
        if recovered is None or not ((novel and not own) or event.is_proxy or event.is_hosting):
            return []
        reasons = [f"from {country}, never seen for this person"] if novel else []
        if event.is_proxy:
            reasons.append("through an anonymising proxy" + (f" ({event.network})" if event.network else ""))
        elif event.is_hosting:
            reasons.append(f"from a hosting network ({event.network or 'organisation unknown'})")
        why = ", ".join(reasons)
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

    def _own_device(self, key: tuple[str, str], device: str) -> bool:
        """Whether the IdP device identifier is one the person signed in from enough times; learns it."""
        if not device:
            return False
        devices: dict[str, int] | None = self._devices.get(key)
        uses = devices.get(device, 0) if devices is not None else 0
        if uses < self.own_device:  # counted up to the bar, then only read: the common case reads
            devices = devices if devices is not None else {}
            if len(devices) >= MAX_DEVICES and device not in devices:
                devices.pop(min(devices, key=devices.__getitem__))
            devices[device] = uses + 1
            self._devices.put(key, devices)
        return uses >= self.own_device

    def _sensitive(self, event: Event, recovered: tuple[float, str, str]) -> list[Finding]:
        if event.app.lower() not in self.sensitive:
            return []
        minutes = (event.time - recovered[0]) / 60
        return [
            self._finding(
                event,
                recovered,
                f"{recovered[2].replace('_', ' ')} of {user_of(event)} at {clock(recovered[0])}, then "
                f"access to the sensitive application {event.app} {minutes:.0f} min later",
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
                f"{len(apps)} distinct applications ({', '.join(sorted(apps))}) accessed by {user_of(event)} "
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
        user = user_of(event)
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
            f"session {event.session_id} of {user_of(event)} began from {first[0]} "
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
