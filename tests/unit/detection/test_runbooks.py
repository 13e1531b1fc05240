"""Runbook files: what they may say, the errors that name the field, and which alerts trigger them."""

from __future__ import annotations

from pathlib import Path

import pytest

from deskguard.detection.alerts import Alert
from deskguard.detection.runbooks import RunbookError, load_runbooks

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
