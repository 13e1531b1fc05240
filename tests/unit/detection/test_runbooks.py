"""Runbook files: what they may say, the errors that name the field, and which alerts trigger them."""

from __future__ import annotations

from pathlib import Path

import pytest

from deskguard.detection.alerts import Alert
from deskguard.detection.runbooks import (
    DEFAULT_TEXT,
    DESTRUCTIVE,
    RunbookError,
    Subject,
    action_kind_of,
    load_runbooks,
    render,
)

ROOT = Path(__file__).resolve().parents[3]
GOOD = """
id: Respond.Test.SignOut
title: t
trigger: {rules: [Some.Rule.Id], min_severity: high}
steps: [revoke_sessions, {watchlist: {hours: 12}}]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "runbook.yml"
    path.write_text(text)
    return path


def alert(rule_id: str = "Some.Rule.Id", severity: str = "high", mode: str = "alert") -> Alert:
    return Alert(
        id="alr_1",
        rule_id=rule_id,
        title="t",
        severity=severity,
        tenant="t",
        entities={"user": "u@x.example"},
        first_seen=0.0,
        last_seen=0.0,
        event_ids=["e"],
        explanation="",
        mode=mode,
    )


def test_a_runbook_loads_and_triggers_on_its_rules_at_or_above_its_severity(tmp_path: Path) -> None:
    (runbook,) = load_runbooks([write(tmp_path, GOOD)], known_rules=["Some.Rule.Id"])
    assert [s.kind for s in runbook.steps] == ["revoke_sessions", "watchlist"]
    assert runbook.steps[1].params == {"hours": 12} and not runbook.dry_run
    assert runbook.triggered_by(alert()) and runbook.triggered_by(alert(severity="critical"))
    assert not runbook.triggered_by(alert(severity="medium"))
    assert not runbook.triggered_by(alert(rule_id="Other.Rule.Id"))
    assert not runbook.triggered_by(alert(mode="monitor"))  # a rule under trial never acts


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("Respond.Test.SignOut", "SignOut"), "id must read Respond.Area.Behavior"),
        (("revoke_sessions, ", "wipe_laptop, "), "unknown step 'wipe_laptop'"),
        (("hours: 12", "hours: 0"), "watchlist.hours must be a number of hours"),
        (("[Some.Rule.Id]", "[No.Such.Rule]"), "unknown rule(s) No.Such.Rule"),
        (("min_severity: high", "min_severity: urgent"), "trigger.min_severity must be one of"),
        (("title: t", "titel: t"), "unknown field(s) titel"),
    ],
)
def test_a_wrong_runbook_names_what_is_wrong(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    with pytest.raises(RunbookError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_runbooks([write(tmp_path, GOOD.replace(*change))], known_rules=["Some.Rule.Id"])


def test_the_shipped_runbooks_load_against_the_built_in_content() -> None:
    from deskguard.detection.content import load_content

    content = load_content([ROOT / "content" / "rules", ROOT / "content" / "correlations"])
    runbooks = load_runbooks([ROOT / "content" / "runbooks"], known_rules=content.ids())
    assert {r.id for r in runbooks} >= {"Respond.Recovery.NewCountrySignIn"}


FULL = """
id: Respond.Test.Everything
title: t
trigger:
  rules: [Some.Rule.Id]
  min_severity: high
  min_risk: 60
  action_kinds: [reset_mfa, enroll_factor]
  privileged: true
steps:
  - revoke_sessions: {approval: required}
  - suspend_account
  - require_manager_validation: {hours: 48}
  - notify: {channel: email, to: soc@example.org, text: "{severity} {title} for {user}"}
  - notify: {channel: slack, to: "#soc"}
  - notify: {channel: webhook, to: "https://siem.example.org/hook", approval: none}
  - ticket: {action: open, text: "look at {user} ({alert_id})"}
  - ticket
"""


def test_every_new_field_loads(tmp_path: Path) -> None:
    (runbook,) = load_runbooks([write(tmp_path, FULL)], known_rules=["Some.Rule.Id"])
    assert runbook.min_risk == 60.0 and runbook.privileged is True
    assert runbook.action_kinds == {"reset_mfa", "enroll_factor"}
    kinds = [(s.kind, s.approval) for s in runbook.steps]
    assert kinds == [
        ("revoke_sessions", True),  # asked for
        ("suspend_account", True),  # destructive: always
        ("require_manager_validation", False),
        ("notify", False),
        ("notify", False),
        ("notify", False),
        ("ticket", False),
        ("ticket", False),
    ]
    assert runbook.steps[2].params == {"hours": 48}
    assert runbook.steps[3].params == {
        "channel": "email",
        "to": "soc@example.org",
        "text": "{severity} {title} for {user}",
    }
    assert runbook.steps[4].params["text"] == DEFAULT_TEXT  # a default text naming the alert
    assert runbook.steps[6].params == {"action": "open", "text": "look at {user} ({alert_id})"}
    assert runbook.steps[7].params["action"] == "comment"  # comment the alert's ticket, else open one
    assert runbook.steps[1].describe() == "wait for an analyst's approval, then suspend the person's account"


def test_the_trigger_weighs_risk_kind_and_privilege(tmp_path: Path) -> None:
    (runbook,) = load_runbooks([write(tmp_path, FULL)], known_rules=["Some.Rule.Id"])
    ok = Subject(risk=60.0, privileged=True, action_kind="reset_mfa")
    assert runbook.admits(ok)
    assert not runbook.admits(Subject(risk=59.9, privileged=True, action_kind="reset_mfa"))
    assert not runbook.admits(Subject(risk=None, privileged=None, action_kind="reset_mfa"))  # no person
    assert not runbook.admits(Subject(risk=90.0, privileged=False, action_kind="reset_mfa"))
    assert not runbook.admits(Subject(risk=90.0, privileged=True, action_kind="reset_password"))
    assert not runbook.admits(Subject(risk=90.0, privileged=True, action_kind=""))
    (plain,) = load_runbooks([write(tmp_path, GOOD)], known_rules=["Some.Rule.Id"])
    assert plain.admits(Subject())  # no condition: any subject


def test_the_action_kind_of_an_alert_is_its_action_entity() -> None:
    assert action_kind_of(alert()) == ""
    named = alert()
    named.entities["action"] = "reset_mfa"
    assert action_kind_of(named) == "reset_mfa"


def test_texts_are_rendered_with_the_alerts_fields() -> None:
    values = {"user": "u@x.example", "severity": "high", "title": "T"}
    assert render("{severity}: {title} for {user} {actor}", values) == "high: T for u@x.example "
    assert render("{{literal}} {user}", values) == "{literal} u@x.example"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("min_risk: 60", "min_risk: 101"), "trigger.min_risk must be a risk score from 0 to 100"),
        (("min_risk: 60", "min_risk: high"), "trigger.min_risk must be a risk score from 0 to 100"),
        (("min_risk: 60", "min_risk: true"), "trigger.min_risk must be a risk score from 0 to 100"),
        (
            ("[reset_mfa, enroll_factor]", "[reset_mfa, suspend_account]"),
            "trigger.action_kinds names unknown action(s) suspend_account",
        ),
        (
            ("[reset_mfa, enroll_factor]", "[]"),
            "trigger.action_kinds must be a non-empty list of action kinds",
        ),
        (("[reset_mfa, enroll_factor]", "reset_mfa"), "trigger.action_kinds must be a non-empty list"),
        (("privileged: true", "privileged: yes please"), "trigger.privileged must be true or false"),
        (("privileged: true", "privilegd: true"), "unknown trigger field(s) privilegd"),
        (
            ("  - suspend_account\n", "  - suspend_account: {approval: none}\n"),
            "steps[1].suspend_account.approval: suspend_account locks the person out",
        ),
        (
            ("{approval: required}", "{approval: later}"),
            "steps[0].revoke_sessions.approval must be required or none",
        ),
        (
            ("{hours: 48}", "{hours: 0}"),
            "steps[2].require_manager_validation.hours must be a number of hours",
        ),
        (
            ("{hours: 48}", "{hours: 48, days: 2}"),
            "steps[2].require_manager_validation: unknown parameter(s) days",
        ),
        (
            ("channel: email, to: soc@example.org", "channel: pigeon, to: soc@example.org"),
            "steps[3].notify.channel must be one of webhook, email, slack",
        ),
        (("to: soc@example.org", "to: soc"), "steps[3].notify.to must be an e-mail address for email"),
        (("channel: email, to: soc@example.org, ", "channel: email, "), "steps[3].notify.to is required"),
        (
            ('to: "#soc"', "to: soc"),
            "steps[4].notify.to must be a #channel or an https://hooks.slack.com/ URL for slack",
        ),
        (
            ("https://siem.example.org/hook", "http://siem.example.org/hook"),
            "steps[5].notify.to must be an https:// URL for webhook",
        ),
        (
            ("{severity} {title} for {user}", "{severity} for {password}"),
            "steps[3].notify.text names unknown placeholder(s) {password}",
        ),
        (
            ("{severity} {title} for {user}", "{user.__class__}"),
            "steps[3].notify.text names unknown placeholder(s) {user.__class__}",
        ),
        (("{severity} {title} for {user}", "{unclosed"), "steps[3].notify.text: "),
        (("action: open", "action: close"), "steps[6].ticket.action must be open or comment"),
        (('text: "look at {user} ({alert_id})"', 'text: ""'), "steps[6].ticket.text must be some text"),
        (
            ("  - ticket\n", "  - ticket: {action: open, queue: soc}\n"),
            "steps[7].ticket: unknown parameter(s) queue",
        ),
        (("  - ticket\n", "  - ticket: [open]\n"), "steps[7]: the parameters of ticket are a mapping"),
        (("title: t", "title: t\ndry_run: maybe"), "dry_run must be true or false"),
    ],
)
def test_a_wrong_new_field_names_the_file_and_the_field(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    path = write(tmp_path, FULL.replace(*change))
    with pytest.raises(RunbookError) as caught:
        load_runbooks([path], known_rules=["Some.Rule.Id"])
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def test_revoke_and_suspend_take_no_parameters(tmp_path: Path) -> None:
    with pytest.raises(RunbookError, match=r"steps\[0\]\.revoke_sessions: unknown parameter\(s\) force"):
        load_runbooks([write(tmp_path, GOOD.replace("[revoke_sessions,", "[{revoke_sessions: {force: 1}},"))])


def test_every_shipped_runbook_loads_and_destructive_steps_wait() -> None:
    from deskguard.detection.content import load_content

    content = load_content([ROOT / "content" / "rules", ROOT / "content" / "correlations"])
    runbooks = load_runbooks([ROOT / "content" / "runbooks"], known_rules=content.ids())
    assert {r.id for r in runbooks} >= {
        "Respond.Recovery.NewCountrySignIn",
        "Respond.Chain.PrivilegedTakeover",
        "Respond.Operator.FarAboveBaseline",
        "Respond.Request.FactorChangeAfterPhoneChange",
    }
    for runbook in runbooks:
        assert all(step.approval for step in runbook.steps if step.kind in DESTRUCTIVE), runbook.id
