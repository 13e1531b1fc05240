"""Issue 4's "done when": ``deskguard replay`` on a day of mixed Okta, Entra, ticket and call records.

The story day raises the reset -> MFA reset -> new factor chain with an explanation a person can
follow; the benign day around it raises nothing; SigmaHQ's identity rules load as they are, with
the unsupported ones listed; the outbox of a brokered request reaches the engine too.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deskguard.cli.main import app
from deskguard.sim.day import ATTACKER_NUMBER, ROGUE_AGENT, VICTIM, write_day

runner = CliRunner()
SIGMA = Path(__file__).resolve().parents[2].parent / "shared" / "sigma" / "rules"
SIGMA_FOLDERS = [
    SIGMA / "identity" / "okta",
    SIGMA / "cloud" / "azure",
    SIGMA / "cloud" / "gcp" / "gworkspace",
]


def replay(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, ["replay", *map(str, args)])
    return result.exit_code, result.output


def alerts_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_the_story_day_raises_the_chain_with_an_explanation(tmp_path: Path) -> None:
    files = write_day(tmp_path / "day")
    out, summary = tmp_path / "alerts.jsonl", tmp_path / "summary.json"
    code, printed = replay(*files, "--output", out, "--summary", summary)
    assert code == 0, printed
    alerts = alerts_of(out)
    chain = [a for a in alerts if a["rule_id"] == "Okta.Chain.ResetMfaNewFactor"]
    assert len(chain) == 1
    text = chain[0]["explanation"]
    assert VICTIM in text and "09:06" in text and "09:08" in text and "09:13" in text, text
    assert set(chain[0]) >= {
        "rule_id",
        "severity",
        "tenant",
        "entities",
        "first_seen",
        "last_seen",
        "event_ids",
    }
    assert len(chain[0]["event_ids"]) == 3  # the Okta uuids of the three steps
    bypass = [a for a in alerts if a["rule_id"] == "Identity.Change.UnbrokeredReset"]
    assert bypass and ROGUE_AGENT in bypass[0]["explanation"]
    for alert in alerts:  # every alert is about the story: the victim, the rogue admin or the caller
        assert {VICTIM, ROGUE_AGENT, ATTACKER_NUMBER} & set(alert["entities"].values()), alert
    report = json.loads(summary.read_text())
    assert set(report) == {"events", "quarantined", "quarantine_reasons", "alerts", "by_rule"}
    assert report["quarantined"] == 0 and report["alerts"] == len(alerts)
    assert "Okta.Chain.ResetMfaNewFactor" in printed


def test_the_benign_day_raises_nothing(tmp_path: Path) -> None:
    files = write_day(tmp_path / "day", attack=False)
    out = tmp_path / "alerts.jsonl"
    code, printed = replay(*files, "--output", out)
    assert code == 0, printed
    assert alerts_of(out) == [], printed


def test_quarantined_records_are_counted_and_the_run_completes(tmp_path: Path) -> None:
    files = write_day(tmp_path / "day")
    okta = files[0]
    okta.write_text(okta.read_text() + "{broken\n" + json.dumps({"what": "is this"}) + "\n")
    packed = tmp_path / "okta.ndjson.gz"
    packed.write_bytes(gzip.compress(okta.read_bytes()))
    summary = tmp_path / "summary.json"
    code, printed = replay(packed, *files[1:], "--summary", summary)
    assert code == 0, printed
    report = json.loads(summary.read_text())
    assert report["quarantined"] == 2
    assert report["quarantine_reasons"] == {"invalid_json": 1, "unknown_format": 1}
    assert report["by_rule"]["Okta.Chain.ResetMfaNewFactor"] == 1


def test_sigma_rules_of_a_folder_raise_alerts_under_their_own_id(tmp_path: Path) -> None:
    files = write_day(tmp_path / "day")
    out = tmp_path / "alerts.jsonl"
    code, printed = replay(*files, "--rules", SIGMA / "identity" / "okta", "--output", out)
    assert code == 0, printed
    ids = {a["rule_id"] for a in alerts_of(out)}
    assert "50e068d7-1e6b-4054-87e5-0a592c40c7e0" in ids  # okta_mfa_reset_or_deactivated.yml: reset_all


def test_sigmahq_identity_rules_load_and_the_unsupported_are_listed() -> None:
    result = runner.invoke(app, ["rules", "list", *map(str, SIGMA_FOLDERS)])
    assert result.exit_code == 0, result.output
    summary = next(line for line in result.output.splitlines() if "unsupported" in line and "loaded" in line)
    loaded, unsupported = int(summary.split()[0]), int(summary.rsplit(";", 1)[1].split()[0])
    files = sum(1 for folder in SIGMA_FOLDERS for _ in folder.rglob("*.yml"))
    assert loaded + unsupported >= files and loaded >= files * 0.8, summary
    assert result.output.count("  unsupported: ") == unsupported


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert replay(tmp_path / "missing.ndjson")[0] == 2
    files = write_day(tmp_path / "day")
    assert replay(*files, "--source", "splunk")[0] == 2


@pytest.mark.parametrize("command", ["lint", "test"])
def test_the_built_in_content_lints_and_passes_its_cases(command: str) -> None:
    result = runner.invoke(app, ["rules", command])
    assert result.exit_code == 0, result.output


def test_linting_a_sigma_folder_checks_that_it_loads_not_deskguard_conventions() -> None:
    result = runner.invoke(app, ["rules", "lint", *map(str, SIGMA_FOLDERS)])
    assert result.exit_code == 0, result.output
    strict = runner.invoke(app, ["rules", "lint", "--conventions", str(SIGMA_FOLDERS[0])])
    assert strict.exit_code == 1 and "name must read Source.Area.Behavior" in strict.output


def test_a_file_out_of_time_order_is_replayed_in_time_order(tmp_path: Path) -> None:
    files = write_day(tmp_path / "day")
    lines = files[0].read_text().splitlines()
    files[0].write_text("\n".join(reversed(lines)) + "\n")  # newest first, as some exports are
    out = tmp_path / "alerts.jsonl"
    code, printed = replay(*files, "--output", out)
    assert code == 0, printed
    assert "Okta.Chain.ResetMfaNewFactor" in {a["rule_id"] for a in alerts_of(out)}
