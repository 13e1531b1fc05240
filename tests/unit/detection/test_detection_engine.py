"""The engine around the rules: dispatch, duplicates, suppression, monitor mode, tenant isolation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from deskguard.detection.content import Content, load_content
from deskguard.detection.pipeline import Pipeline

RULES = """
title: Okta MFA reset
id: 0b9e3c1e-1f6e-4b0e-9d55-5f1d3f6a0a01
name: Test.Okta.MfaReset
logsource: {product: okta, service: okta}
detection:
  selection: {eventType: USER.MFA.FACTOR.RESET_ALL}
  condition: selection
level: high
suppress: 10m
response: call the person back
---
title: Watched sign-in
id: 0b9e3c1e-1f6e-4b0e-9d55-5f1d3f6a0a02
name: Test.Okta.WatchedSignIn
logsource: {product: deskguard}
detection:
  selection: {activity: sign_in, target_user: watched@acme.example}
  condition: selection
level: low
mode: monitor
"""
CHAIN = """
title: reset
id: 0b9e3c1e-1f6e-4b0e-9d55-5f1d3f6a0a11
name: Test.Chain.Reset
logsource: {product: deskguard}
detection: {selection: {activity: password_reset}, condition: selection}
---
title: new factor
id: 0b9e3c1e-1f6e-4b0e-9d55-5f1d3f6a0a12
name: Test.Chain.Factor
logsource: {product: deskguard}
detection: {selection: {activity: mfa_factor_enrolled}, condition: selection}
---
title: reset then new factor
id: 0b9e3c1e-1f6e-4b0e-9d55-5f1d3f6a0a13
name: Test.Chain.ResetThenFactor
correlation:
  type: temporal_ordered
  rules: [Test.Chain.Reset, Test.Chain.Factor]
  group-by: [target_user]
  timespan: 1h
level: critical
"""


def content(tmp_path: Path, text: str) -> Content:
    path = tmp_path / "rules.yml"
    path.write_text(text)
    return load_content([path])


def okta(uuid: str, event_type: str, minute: int, user: str = "jane@acme.example", **extra: Any) -> dict:
    return {
        "uuid": uuid,
        "published": f"2026-11-30T09:{minute:02d}:00.000Z",
        "eventType": event_type,
        "actor": {"id": "00a", "type": "User", "alternateId": extra.pop("actor", "admin@acme.example")},
        "target": [{"id": "00u", "type": "User", "alternateId": user}],
        "outcome": {"result": "SUCCESS"},
        **extra,
    }


def test_an_event_meets_only_the_rules_of_its_source_and_type(tmp_path: Path) -> None:
    pipeline = Pipeline(content(tmp_path, RULES))
    (reset,) = pipeline.events(okta("a", "user.mfa.factor.reset_all", 1))
    (sso,) = pipeline.events(okta("b", "user.authentication.sso", 1))
    rules_for = pipeline.engine._for  # the dispatch table the engine keeps per event shape
    assert [r.name for r in rules_for(reset)[0]] == ["Test.Okta.MfaReset"]  # case-insensitive type
    assert [r.name for r in rules_for(sso)[0]] == []  # not a sign-in: the deskguard rule is not offered


def test_duplicates_are_dropped_and_repeats_fold_into_the_open_alert(tmp_path: Path) -> None:
    pipeline = Pipeline(content(tmp_path, RULES))
    first = pipeline.feed(okta("a", "user.mfa.factor.reset_all", 1))
    assert pipeline.feed(okta("a", "user.mfa.factor.reset_all", 1)) == []  # same uuid: at-least-once
    again = pipeline.feed(okta("b", "user.mfa.factor.reset_all", 9))  # within 10 min of the last one
    assert again[0] is first[0] and first[0].count == 2 and first[0].event_ids == ["a", "b"]
    later = pipeline.feed(okta("c", "user.mfa.factor.reset_all", 30))  # 21 min later: a new alert
    assert later[0] is not first[0]
    assert pipeline.summary()["duplicates"] == 1 and pipeline.summary()["alerts"] == 2
    other = pipeline.feed(okta("d", "user.mfa.factor.reset_all", 31, user="paul@acme.example"))
    assert other[0] is not later[0]  # another person: its own alert


def test_monitor_mode_alerts_are_marked(tmp_path: Path) -> None:
    pipeline = Pipeline(content(tmp_path, RULES))
    sign_in = okta("s", "user.session.start", 2, actor="watched@acme.example")
    sign_in["target"] = []
    (alert,) = pipeline.feed(sign_in)
    assert alert.mode == "monitor" and alert.rule_id == "Test.Okta.WatchedSignIn"
    (forced,) = Pipeline(content(tmp_path, RULES), monitor={"Test.Okta.MfaReset"}).feed(
        okta("a", "user.mfa.factor.reset_all", 1)
    )
    assert forced.mode == "monitor"


@pytest.mark.parametrize(("second_tenant", "alerts"), [("tnt_a", 1), ("tnt_b", 0)])
def test_correlation_windows_never_mix_tenants(tmp_path: Path, second_tenant: str, alerts: int) -> None:
    pipeline = Pipeline(content(tmp_path, CHAIN))
    pipeline.feed(okta("r", "user.account.reset_password", 1), tenant="tnt_a")
    raised = pipeline.feed(
        okta("f", "user.mfa.factor.activate", 5, actor="jane@acme.example"), tenant=second_tenant
    )
    chain = [a for a in raised if a.rule_id == "Test.Chain.ResetThenFactor"]
    assert len(chain) == alerts
    if chain:
        assert chain[0].tenant == "tnt_a" and chain[0].entities == {"user": "jane@acme.example"}
        assert chain[0].event_ids == ["r", "f"] and chain[0].severity == "critical"


def test_alert_ids_are_deterministic(tmp_path: Path) -> None:
    rules = content(tmp_path, RULES)
    ids = [Pipeline(rules).feed(okta("a", "user.mfa.factor.reset_all", 1))[0].id for _ in range(2)]
    assert ids[0] == ids[1] and ids[0].startswith("alr_")


def test_a_lagging_source_is_late_only_against_itself(tmp_path: Path) -> None:
    """deskguard's own events are minutes old; a day of Okta logs ingested late still correlates."""
    pipeline = Pipeline(content(tmp_path, CHAIN), lateness_s=300)
    outbox_now = {
        "schema": "deskguard.event",
        "version": 1,
        "id": "evt_now",
        "type": "ticket.opened",
        "tenant_id": "tnt_a",
        "occurred_at": "2026-12-03T17:00:00+00:00",
        "actor": {"kind": "operator", "id": "op_a"},
        "subject": {},
        "data": {"ticket_id": "t1"},
    }
    pipeline.feed(outbox_now, tenant="tnt_a")
    pipeline.feed(okta("r", "user.account.reset_password", 1), tenant="tnt_a")  # three days earlier
    raised = pipeline.feed(
        okta("f", "user.mfa.factor.activate", 5, actor="jane@acme.example"), tenant="tnt_a"
    )
    assert [a.rule_id for a in raised] == ["Test.Chain.ResetThenFactor"]
    # within one stream, an event older than the newest by more than the lateness is dropped
    assert pipeline.feed(okta("r2", "user.account.reset_password", 30), tenant="tnt_a") == []
    assert (
        pipeline.feed(okta("f2", "user.mfa.factor.activate", 6, actor="jane@acme.example"), tenant="tnt_a")
        == []
    )
    assert pipeline.engine._correlator is not None
    assert pipeline.engine._correlator.stats["late_dropped"] == 1


def test_the_duplicate_memory_forgets_the_oldest_past_its_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deskguard.detection import engine

    monkeypatch.setattr(engine, "SEEN_LIMIT", 500)
    pipeline = Pipeline(content(tmp_path, RULES))
    for i in range(2_000):
        pipeline.feed(okta(f"u{i}", "user.authentication.sso", i % 60))
    assert len(pipeline.engine._seen) == 500
    assert pipeline.feed(okta("u1999", "user.authentication.sso", 1)) == []  # recent: a duplicate
    assert pipeline.engine.stats.duplicates == 1
    pipeline.feed(okta("u0", "user.authentication.sso", 1))  # forgotten: processed again
    assert pipeline.engine.stats.duplicates == 1
