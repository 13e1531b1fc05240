"""The built-in analytics, one behaviour at a time, on normalised events built directly."""

from __future__ import annotations

import math
from typing import Any

import pytest

from deskguard.detection.alerts import RuleMeta
from deskguard.detection.analytics import AnalyticError, build
from deskguard.detection.event import Event

T0 = 1_764_493_200.0  # 2025-11-30 09:00 UTC, a Sunday
MONDAY_10H = T0 + 86400 + 3600


def ev(activity: str, at: float = 0.0, **fields: Any) -> Event:
    base: dict[str, Any] = {
        "id": f"e-{activity}-{at}-{fields.get('target_user', '')}-{fields.get('src_ip', '')}",
        "time": T0 + at,
        "source": fields.pop("source", "okta"),
        "product": "okta",
        "service": "okta",
        "class_name": "account_change",
        "activity": activity,
        "type": activity,
        "raw": {},
        "tenant": "tnt_a",
        "outcome": "success",
    }
    base.update(fields)
    return Event(**base)


def analytic(kind: str, **params: Any) -> Any:
    return build(kind, RuleMeta(rule_id=f"Test.{kind}.Rule", title=kind), params)


def run(a: Any, *events: Event) -> list[Any]:
    found = []
    for event in events:
        found.extend(a.observe(event))
    return found


JEANNE = "jeanne@acme.example"


class TestAfterRecovery:
    def test_new_country_after_reset(self) -> None:
        a = analytic("after_recovery", watch="new_country", window="2h")
        found = run(
            a,
            ev("sign_in", -3600, target_user=JEANNE, country="France", src_ip="81.1.1.1"),
            ev("password_reset", 0, target_user=JEANNE),
            ev("sign_in", 600, target_user=JEANNE, country="Netherlands", src_ip="185.1.1.1"),
        )
        assert len(found) == 1
        assert "Netherlands" in found[0].explanation and "France" in found[0].explanation

    def test_known_country_after_reset_is_quiet(self) -> None:
        a = analytic("after_recovery", watch="new_country")
        assert not run(
            a,
            ev("sign_in", -3600, target_user=JEANNE, country="France"),
            ev("password_reset", 0, target_user=JEANNE),
            ev("sign_in", 600, target_user=JEANNE, country="France"),
        )

    def test_new_country_outside_the_window_is_quiet(self) -> None:
        a = analytic("after_recovery", watch="new_country", window="1h")
        assert not run(
            a,
            ev("sign_in", -3600, target_user=JEANNE, country="France"),
            ev("password_reset", 0, target_user=JEANNE),
            ev("sign_in", 3601, target_user=JEANNE, country="Spain"),
        )

    def test_proxy_counts_even_without_history(self) -> None:
        a = analytic("after_recovery", watch="new_country")
        found = run(
            a, ev("mfa_reset", 0, target_user=JEANNE), ev("sign_in", 60, target_user=JEANNE, is_proxy=True)
        )
        assert found and "proxy" in found[0].explanation

    def test_a_new_country_from_the_persons_own_device_is_their_trip(self) -> None:
        a = analytic("after_recovery", watch="new_country", own_device=2)
        home = [
            ev("sign_in", -86400 * day, target_user=JEANNE, country="France", device_id="dt-laptop")
            for day in (3, 2, 1)
        ]
        assert not run(
            a,
            *home,
            ev("password_reset", 0, target_user=JEANNE),
            ev("sign_in", 600, target_user=JEANNE, country="Italy", device_id="dt-laptop"),
        )

    def test_a_device_seen_once_or_a_copied_user_agent_is_not_the_persons_own(self) -> None:
        for device in ({"device_id": "dt-new"}, {"user_agent": "Mozilla/5.0 Chrome/131.0"}):
            a = analytic("after_recovery", watch="new_country", own_device=2)
            found = run(
                a,
                ev("sign_in", -86400, target_user=JEANNE, country="France", device_id="dt-new"),
                ev(
                    "sign_in",
                    -3600,
                    target_user=JEANNE,
                    country="France",
                    user_agent="Mozilla/5.0 Chrome/131.0",
                ),
                ev("password_reset", 0, target_user=JEANNE),
                ev("sign_in", 600, target_user=JEANNE, country="Italy", **device),
            )
            assert len(found) == 1 and "Italy" in found[0].explanation, device

    def test_the_own_device_through_a_proxy_still_counts(self) -> None:
        a = analytic("after_recovery", watch="new_country", own_device=2)
        home = [
            ev("sign_in", -86400 * d, target_user=JEANNE, country="France", device_id="dt-1") for d in (2, 1)
        ]
        found = run(
            a,
            *home,
            ev("password_reset", 0, target_user=JEANNE),
            ev("sign_in", 600, target_user=JEANNE, country="Italy", device_id="dt-1", is_proxy=True),
        )
        assert len(found) == 1 and "proxy" in found[0].explanation

    def test_sensitive_app_and_burst(self) -> None:
        sensitive = analytic("after_recovery", watch="sensitive_app", sensitive_apps=["AWS Console"])
        burst = analytic("after_recovery", watch="app_burst", distinct_apps=3)
        events = [ev("password_reset", 0, target_user=JEANNE)] + [
            ev("sso", 60 * i, target_user=JEANNE, app=app)
            for i, app in enumerate(["Slack", "AWS Console", "Jira"], 1)
        ]
        assert len(run(sensitive, *events)) == 1
        found = run(burst, *events)
        assert len(found) == 1 and "3 distinct applications" in found[0].explanation

    def test_a_failed_reset_is_not_a_recovery(self) -> None:
        a = analytic("after_recovery", watch="sensitive_app", sensitive_apps=["aws console"])
        assert not run(
            a,
            ev("password_reset", 0, target_user=JEANNE, outcome="failure"),
            ev("sso", 60, target_user=JEANNE, app="AWS Console"),
        )

    def test_tenants_do_not_share_state(self) -> None:
        a = analytic("after_recovery", watch="sensitive_app", sensitive_apps=["aws console"])
        assert not run(
            a,
            ev("password_reset", 0, target_user=JEANNE, tenant="tnt_b"),
            ev("sso", 60, target_user=JEANNE, app="AWS Console"),
        )

    def test_bad_params_name_the_parameter(self) -> None:
        with pytest.raises(AnalyticError, match="params.watch"):
            analytic("after_recovery", watch="everything")
        with pytest.raises(AnalyticError, match="params.window"):
            analytic("after_recovery", window="soon")
        with pytest.raises(AnalyticError, match="unknown parameter"):
            analytic("after_recovery", windw="1h")


def test_impossible_travel() -> None:
    a = analytic("impossible_travel", max_kmh=900)
    paris = {"lat": 48.85, "lon": 2.35, "city": "Paris"}
    tokyo = {"lat": 35.68, "lon": 139.69, "city": "Tokyo"}
    found = run(
        a, ev("sign_in", 0, target_user=JEANNE, **paris), ev("sign_in", 3600, target_user=JEANNE, **tokyo)
    )
    assert len(found) == 1 and "Paris" in found[0].explanation and "Tokyo" in found[0].explanation
    slow = analytic("impossible_travel")
    assert not run(
        slow, ev("sign_in", 0, target_user=JEANNE, **paris), ev("sign_in", 86400, target_user=JEANNE, **tokyo)
    )


def test_session_hijack_needs_new_ip_and_new_user_agent() -> None:
    a = analytic("session_hijack")
    first = ev("sign_in", 0, target_user=JEANNE, session_id="s1", src_ip="1.1.1.1", user_agent="Chrome")
    same_ua = ev("sso", 60, target_user=JEANNE, session_id="s1", src_ip="2.2.2.2", user_agent="Chrome")
    stolen = ev(
        "sso", 120, target_user=JEANNE, session_id="s1", src_ip="3.3.3.3", user_agent="python-requests"
    )
    found = run(a, first, same_ua, stolen)
    assert len(found) == 1 and "python-requests" in found[0].explanation


class TestUnbrokeredChange:
    def test_human_admin_without_execution(self) -> None:
        a = analytic("unbrokered_change", window="15m")
        found = run(
            a,
            ev(
                "password_reset", 0, target_user=JEANNE, actor_user="kdupont@acme.example", actor_type="human"
            ),
        )
        assert len(found) == 1 and "bypassed the broker" in found[0].explanation

    def test_matching_deskguard_execution_explains_it(self) -> None:
        a = analytic("unbrokered_change", window="15m")
        assert not run(
            a,
            ev("request_executed", 0, source="deskguard", target_user=JEANNE),
            ev(
                "password_reset",
                120,
                target_user=JEANNE,
                actor_user="kdupont@acme.example",
                actor_type="human",
            ),
        )

    def test_an_old_execution_does_not(self) -> None:
        a = analytic("unbrokered_change", window="15m")
        found = run(
            a,
            ev("request_executed", 0, source="deskguard", target_user=JEANNE),
            ev(
                "password_reset",
                901,
                target_user=JEANNE,
                actor_user="kdupont@acme.example",
                actor_type="human",
            ),
        )
        assert len(found) == 1

    def test_service_actor_and_self_service_are_not_bypasses(self) -> None:
        a = analytic("unbrokered_change")
        assert not run(
            a,
            ev(
                "password_reset",
                0,
                target_user=JEANNE,
                actor_user="deskguard-connector",
                actor_type="service",
            ),
            ev("password_reset", 10, target_user=JEANNE, actor_user=JEANNE, actor_type="human"),
        )


def test_caller_mismatch() -> None:
    a = analytic("caller_mismatch")
    ticket = ev(
        "ticket_opened",
        0,
        source="servicenow",
        ticket_id="INC1",
        claimed_identity=JEANNE,
        caller_number="+4477",
    )
    other = ev("request_opened", 300, source="deskguard", ticket_id="INC1", target_user="boss@acme.example")
    same = ev("request_opened", 300, source="deskguard", ticket_id="INC1", target_user=JEANNE)
    assert not run(analytic("caller_mismatch"), ticket, same)
    found = run(a, ticket, other)
    assert len(found) == 1 and found[0].entities["claimed"] == JEANNE


def test_risky_call_then_request() -> None:
    call = ev(
        "call_received",
        0,
        source="telephony",
        claimed_identity=JEANNE,
        caller_number="+4477",
        attestation="C",
    )
    reset = ev("password_reset", 600, target_user=JEANNE)
    assert len(run(analytic("risky_call"), call, reset)) == 1
    good = ev(
        "call_received", 0, source="telephony", claimed_identity=JEANNE, caller_number="+336", attestation="A"
    )
    assert not run(analytic("risky_call"), good, reset)
    late = ev("password_reset", 7201, target_user=JEANNE)
    assert not run(analytic("risky_call", window="2h"), call, late)
    unregistered = ev(
        "call_received", 0, source="telephony", claimed_identity=JEANNE, extra={"number_registered": False}
    )
    assert "not registered" in run(analytic("risky_call"), unregistered, reset)[0].explanation


def test_proof_downgrade() -> None:
    a = analytic("proof_downgrade")
    failed = ev(
        "proof_failed", 0, source="deskguard", extra={"request_id": "req1", "method": "push_number_match"}
    )
    weaker = ev(
        "proof_succeeded", 60, source="deskguard", extra={"request_id": "req1", "method": "callback_agent"}
    )
    found = run(a, failed, weaker)
    assert len(found) == 1 and "push_number_match failed" in found[0].explanation
    stronger = ev(
        "proof_succeeded", 60, source="deskguard", extra={"request_id": "req1", "method": "push_number_match"}
    )
    assert not run(analytic("proof_downgrade"), failed, stronger)


def test_push_fatigue_counts_denials_in_the_window() -> None:
    a = analytic("push_fatigue", denials=3, window="10m")
    denials = [ev("mfa_push_denied", 60 * i, target_user=JEANNE) for i in range(3)]
    found = run(a, *denials, ev("mfa_push_approved", 240, target_user=JEANNE))
    assert len(found) == 1 and "3 pushes denied" in found[0].explanation
    b = analytic("push_fatigue", denials=3, window="10m")
    assert not run(b, *denials, ev("mfa_push_approved", 60 * 2 + 601, target_user=JEANNE))


def test_out_of_hours_on_privileged_persons_only() -> None:
    a = analytic("out_of_hours", start_hour=7, end_hour=20)
    night = ev(
        "request_executed",
        86400 + 3 * 3600 - 9 * 3600,
        source="deskguard",
        target_user=JEANNE,
        extra={"privileged": True},
    )
    assert len(run(a, night)) == 1
    day = ev(
        "request_executed",
        MONDAY_10H - T0,
        source="deskguard",
        target_user=JEANNE,
        extra={"privileged": True},
    )
    assert not run(a, day)
    unprivileged = ev(
        "request_executed",
        86400 - 6 * 3600,
        source="deskguard",
        target_user=JEANNE,
        extra={"privileged": False},
    )
    assert not run(a, unprivileged)


def test_an_execution_counts_from_its_start_the_idp_logs_before_it_ends() -> None:
    a = analytic("unbrokered_change", window="15m")
    assert not run(
        a,
        ev("request_executing", 0, source="deskguard", target_user=JEANNE),
        ev("mfa_reset", 0.6, target_user=JEANNE, actor_user="svc.deskguard@acme.example", actor_type="human"),
        ev("request_executed", 1, source="deskguard", target_user=JEANNE),
    )


def test_bounded_state_forgets_the_least_recently_written() -> None:
    from deskguard.detection.analytics import Bounded

    state = Bounded(limit=1000)
    for i in range(200_000):
        state.put(i, i)
    assert 199_000 in state and 198_999 not in state  # the 1,000 newest
    state.put(199_000, "rewritten")  # a rewrite makes it the newest...
    state.put(-1, -1)  # ...so the next eviction takes 199,001, not 199,000
    assert (
        len(state) == 1000 and 199_000 in state and 199_001 not in state and list(state)[-2:] == [199_000, -1]
    )


def test_rate_baseline_fires_far_above_the_learned_rate_and_explains_it() -> None:
    from deskguard.detection.analytics import poisson_tail

    assert poisson_tail(0, 1.0) == 1.0 and abs(poisson_tail(1, 1.0) - (1 - math.exp(-1))) < 1e-12
    a = analytic("rate_baseline", window="1h", prior_per_hour=1.0, prior_hours=24, min_count=5)
    burst = [
        ev(
            "request_executed",
            60 * i,
            source="deskguard",
            actor_user="op_kdupont",
            target_user=f"p{i}@x.example",
        )
        for i in range(14)
    ]
    found = run(a, *burst)
    assert len(found) == 1  # one alert for the burst
    assert (
        "sensitive actions by op_kdupont in 60 min" in found[0].explanation and "p = " in found[0].explanation
    )
    assert found[0].entities == {"actor": "op_kdupont"}


def test_rate_baseline_learns_a_busy_operator_and_stays_quiet() -> None:
    week = 7 * 86400

    def hour_of(w: int) -> list[Event]:
        return [
            ev("request_executed", w * week + 400 * i, source="deskguard", actor_user="op_busy")
            for i in range(8)
        ]

    fresh = analytic("rate_baseline", window="1h", prior_per_hour=1.0, prior_hours=24, min_count=5)
    assert run(fresh, *hour_of(0)) != []  # eight in an hour on a first day: far above the 1/h prior
    learned = analytic("rate_baseline", window="1h", prior_per_hour=1.0, prior_hours=24, min_count=5)
    for w in range(12):
        run(learned, *hour_of(w))
    assert run(learned, *hour_of(12)) == []  # eight an hour every Sunday 09h for twelve weeks: usual


def _lyon(user: str, days: int, device: str) -> list[Event]:
    return [
        ev(
            "sign_in",
            -86400 * day,
            target_user=user,
            country="France",
            network="Orange",
            device_id=device,
            src_ip=f"90.84.7.{day}",
        )
        for day in range(days, 0, -1)
    ]


def test_person_profile_takes_a_trip_on_the_own_device_for_what_it_is() -> None:
    a = analytic("person_baseline", own_device=2, rare_hour=0.0001)
    abroad = ev(
        "sign_in", 600, target_user=JEANNE, country="Italy", network="Telecom Italia", device_id="dt-1"
    )
    assert not run(a, *_lyon(JEANNE, 12, "dt-1"), abroad)
    # the same trip from a device the identity provider has never seen for her is reported
    b = analytic("person_baseline", own_device=2, rare_hour=0.0001)
    stranger = ev(
        "sign_in", 600, target_user=JEANNE, country="Italy", network="Telecom Italia", device_id="dt-9"
    )
    (found,) = run(b, *_lyon(JEANNE, 12, "dt-1"), stranger)
    assert "a device never seen (1 known)" in found.explanation and "novelty 4" in found.explanation


def test_person_profile_reports_the_own_device_behind_a_hosting_network() -> None:
    a = analytic("person_baseline", own_device=2, rare_hour=0.0001)
    hosted = ev(
        "sign_in", 600, target_user=JEANNE, country="Italy", network="OVH", device_id="dt-1", is_hosting=True
    )
    (found,) = run(a, *_lyon(JEANNE, 12, "dt-1"), hosted)
    assert "first from Italy" in found.explanation
