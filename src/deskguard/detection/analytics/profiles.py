"""Learned profiles of people and calling numbers: what is usual for them, and what is new.

Both are baselines (``learned``): they are persisted and restored, and a replay of the history
rebuilds them. Each starts cold - it says nothing about a key it has seen fewer than
``min_history`` times - and explains a finding with the counts it learned.
"""

from __future__ import annotations

from typing import Any

from deskguard.detection.alerts import RuleMeta, clock
from deskguard.detection.analytics.base import RECOVERY, Analytic, Bounded, Finding, user_of
from deskguard.detection.event import Event

SIGN_IN = frozenset({"sign_in"})
MAX_VALUES = 16  # distinct countries, networks or devices remembered per person (the rarest go)
WEIGHTS = {"country": 2, "network": 1, "device": 1, "hour": 1}


def _bump(counts: dict[str, int], value: str) -> None:
    seen = counts.get(value)
    if seen is not None:  # the usual place, network, device: one write
        counts[value] = seen + 1
        return
    counts[value] = 1
    if len(counts) > MAX_VALUES:  # the rarest goes (the first of ties: older than the newcomer)
        rarest = min(counts, key=counts.__getitem__)
        if rarest != value:
            del counts[rarest]


def _seen(counts: dict[str, int], limit: int = 3) -> str:
    top = sorted(counts.items(), key=lambda item: -item[1])[:limit]
    more = len(counts) - len(top)
    text = ", ".join(f"{value} {count}" for value, count in top) or "none"
    return f"{text}, +{more} more" if more > 0 else text


class PersonProfile(Analytic):
    """A sign-in unlike the person's own: new country, new network (ASN), new device, rare hour.

    Per person it learns the countries, networks and devices of their successful sign-ins (with
    counts) and the hours they sign in at (24 bins, smoothed). A sign-in scores the weights of what
    is new about it (country 2, network 1, device 1, an hour seen in under ``rare_hour`` of their
    sign-ins 1) and is reported at ``threshold``. A sensitive action on the person (a reset, an MFA
    change, an execution through deskguard) puts them on a watch list for ``watch``: during it the
    threshold is ``watch_threshold``, so that a new device alone after a reset still passes but a
    new device on a new network does not.

    A sign-in from the person's own device - an identifier the identity provider binds to it (Okta's
    device token hash, Entra's device id; never the user agent, which anyone can copy) seen
    ``own_device`` times before - is not reported for a new country or network: that is the person
    travelling with their laptop. Through an anonymising proxy or from a hosting network it still is.
    """

    kind = "person_baseline"
    learned = ("_people",)

    def __init__(self, meta: RuleMeta, params: dict[str, Any]) -> None:
        super().__init__(meta, params)
        self.check_unknown(
            ("min_history", "threshold", "watch_threshold", "watch", "rare_hour", "own_device")
        )
        self.min_history = int(self.number("min_history", 10))
        self.threshold = int(self.number("threshold", 3))
        self.watch_threshold = int(self.number("watch_threshold", 2))
        self.watch = self.duration("watch", "24h")
        self.rare_hour = self.number("rare_hour", 0.03)
        self.own_device = int(self.number("own_device", 2))
        # sign-ins, not SSO: an application opened within a session tells nothing new about where
        # the person is, and is most of the stream
        self.activities = SIGN_IN | RECOVERY | {"request_executed", "mfa_factor_enrolled"}
        # (tenant, user) -> {"n": sign-ins, "c"/"a"/"d": {value: count}, "h": [24], "w": [until, why]}
        self._people: Bounded = Bounded()

    def observe(self, event: Event) -> list[Finding]:
        user = user_of(event)
        if not user or event.outcome == "failure":
            return []
        key = (event.tenant, user)
        profile = self._people.get(key)
        if event.activity not in SIGN_IN:  # a sensitive action: the watch list
            if profile is None:
                profile = self._new(key)
            why = f"{event.activity.replace('_', ' ')} at {clock(event.time)}"
            if event.activity == "request_executed":
                why = f"{event.extra.get('kind') or 'an action'} through deskguard at {clock(event.time)}"
            profile["w"] = [event.time + self.watch, why]
            return []
        if profile is None:
            profile = self._new(key)
        device = event.device_id or event.user_agent[:160]
        hour = int(event.time // 3600 % 24)
        novel = self._novel(profile, event, device, hour) if profile["n"] >= self.min_history else None
        own = bool(event.device_id) and profile["d"].get(device, 0) >= self.own_device
        _learn(profile, event, device, hour)
        if not novel or (own and not (event.is_proxy or event.is_hosting)):
            return []
        watch = profile.get("w")
        watched = watch is not None and event.time <= watch[0]
        threshold = self.watch_threshold if watched else self.threshold
        score = sum(WEIGHTS[name] for name, _ in novel)
        if score < threshold:
            return []
        parts = "; ".join(text for _, text in novel)
        context = f"threshold {threshold}"
        if watched:
            context = f"watch-listed after the {watch[1]}, {context}"
        text = (
            f"sign-in of {user} at {clock(event.time)} unlike their {profile['n'] - 1} before: {parts} "
            f"(novelty {score}, {context})"
        )
        return [Finding(event.entities(), (event.id,), event.time, event.time, text)]

    def _new(self, key: tuple[str, str]) -> dict[str, Any]:
        profile: dict[str, Any] = {"n": 0, "c": {}, "a": {}, "d": {}, "h": [0] * 24}
        self._people.put(key, profile)
        return profile

    def _novel(self, profile: dict[str, Any], event: Event, device: str, hour: int) -> list[tuple[str, str]]:
        """What is new about this sign-in, each with its weight's name and its numbers."""
        novel: list[tuple[str, str]] = []
        if event.country and event.country not in profile["c"]:
            novel.append(("country", f"first from {event.country} (seen: {_seen(profile['c'])})"))
        network = event.network
        if network and network not in profile["a"]:
            novel.append(("network", f"first from the network {network} (seen: {_seen(profile['a'])})"))
        if device and profile["d"] and device not in profile["d"]:
            novel.append(("device", f"a device never seen ({len(profile['d'])} known)"))
        hours = profile["h"]
        if (hours[hour] + 0.5) / (profile["n"] + 12.0) < self.rare_hour:
            seen = f"{hours[hour]} of {profile['n']} sign-ins at that hour"
            novel.append(("hour", f"at {hour:02d}h UTC ({seen})"))
        return novel


def _learn(profile: dict[str, Any], event: Event, device: str, hour: int) -> None:
    profile["n"] += 1
    profile["h"][hour] += 1
    if event.country:
        _bump(profile["c"], event.country)
    if event.network:
        _bump(profile["a"], event.network)
    if device:
        _bump(profile["d"], device)


class CallerProfile(Analytic):
    """A calling number that starts claiming someone else, or calls another client tenant.

    Per number, across tenants (an MSP's desk answers many clients on one line), it learns the
    identities callers claimed and the tenants they called, over ``memory``. A number with at
    least ``min_history`` calls that claims an identity it never claimed, or calls a tenant it
    never called, is reported with its history in numbers. Other tenants are counted, never named:
    an alert in one tenant does not disclose another's people. ``ignore`` lists numbers that many
    callers legitimately present (a switchboard).
    """

    kind = "caller_baseline"
    learned = ("_numbers",)

    def __init__(self, meta: RuleMeta, params: dict[str, Any]) -> None:
        super().__init__(meta, params)
        self.check_unknown(("min_history", "memory", "ignore"))
        self.min_history = int(self.number("min_history", 3))
        self.memory = self.duration("memory", "90d")
        self.ignore = self.names("ignore", ())
        self.activities = frozenset({"call_received", "ticket_opened"})
        # number -> {"n": calls, "first": time, "i": {tenant \x1f identity: [first, last, count]},
        #            "t": {tenant: last call time}}
        self._numbers: Bounded = Bounded()

    def observe(self, event: Event) -> list[Finding]:
        number = event.caller_number
        claimed = event.claimed_identity
        if not number or "@" not in claimed or number.lower() in self.ignore:
            return []
        profile = self._numbers.get(number)
        if profile is None:
            profile = {"n": 0, "first": event.time, "i": {}, "t": {}}
            self._numbers.put(number, profile)
        self._forget(profile, event.time)
        identity_key = f"{event.tenant}\x1f{claimed}"
        new_identity = identity_key not in profile["i"]
        new_tenant = event.tenant not in profile["t"]
        history = profile["n"]
        same_tenant = sorted(
            key.split("\x1f", 1)[1] for key in profile["i"] if key.startswith(f"{event.tenant}\x1f")
        )
        other_tenants = len([t for t in profile["t"] if t != event.tenant])
        # learn
        profile["n"] += 1
        seen = profile["i"].setdefault(identity_key, [event.time, event.time, 0])
        seen[1], seen[2] = max(seen[1], event.time), seen[2] + 1
        profile["t"][event.tenant] = event.time
        if history < self.min_history or not (new_identity or new_tenant):
            return []
        days = max(1.0, (event.time - profile["first"]) / 86400)
        claims = ", ".join(same_tenant[:5]) or "nobody in this tenant"
        what = []
        if new_identity:
            what.append(f"claims {claimed}, an identity this number never claimed")
        if new_tenant:
            what.append("calls this tenant for the first time")
        text = (
            f"caller {number} at {clock(event.time)} {' and '.join(what)}: over {days:.0f} days it made "
            f"{history} calls, claiming {claims} here, and called {other_tenants} other client tenant(s)"
        )
        return [Finding({**event.entities(), "claimed": claimed}, (event.id,), event.time, event.time, text)]

    def _forget(self, profile: dict[str, Any], now: float) -> None:
        horizon = now - self.memory
        stale = [key for key, (_, last, _) in profile["i"].items() if last < horizon]
        for key in stale:
            del profile["i"][key]
        for tenant in [t for t, last in profile["t"].items() if last < horizon]:
            del profile["t"][tenant]
