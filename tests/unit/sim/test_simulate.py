"""``deskguard simulate``: deterministic files, records the normalizers read, labels that point at events."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deskguard.cli.main import app
from deskguard.detection.normalize import normalize
from deskguard.sim.scenarios import ROOT, ScenarioError, load_scenario, load_scenarios

runner = CliRunner()
SMALL = ["--tenants", "2", "--persons", "40", "--operators", "6", "--days", "3"]  # 14 scenarios x 2 victims
DATA = ("okta.ndjson", "entra.json", "tickets.ndjson", "calls.ndjson")


def simulate(out: Path, *extra: str) -> None:
    result = runner.invoke(app, ["simulate", "--seed", "3", *SMALL, "--out", str(out), *extra])
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim") / "out"
    started = time.perf_counter()
    simulate(out)
    assert time.perf_counter() - started < 30  # seconds, not minutes (2 noisy cores)
    return out


def records(folder: Path, name: str) -> list[dict]:
    text = (folder / name).read_text()
    return (
        json.loads(text)["records"] if name.endswith(".json") else [json.loads(x) for x in text.splitlines()]
    )


def test_same_seed_and_sizes_give_byte_identical_files(small: Path, tmp_path: Path) -> None:
    simulate(tmp_path / "again")
    names = sorted(p.name for p in small.iterdir())
    assert names == sorted(p.name for p in (tmp_path / "again").iterdir())
    for name in names:
        assert (small / name).read_bytes() == (tmp_path / "again" / name).read_bytes(), name
    other = tmp_path / "other"
    assert runner.invoke(app, ["simulate", "--seed", "4", *SMALL, "--out", str(other)]).exit_code == 0
    assert (other / "okta.ndjson").read_bytes() != (small / "okta.ndjson").read_bytes()


def test_every_record_parses_and_every_label_points_at_an_event(small: Path) -> None:
    ids: dict[str, set[str]] = {}
    for name in DATA:
        ids[name] = {
            event.id for raw in records(small, name) for event in normalize(raw)
        }  # raises on quarantine
    ids["helpdesk_requests.ndjson"] = {r["id"] for r in records(small, "helpdesk_requests.ndjson")}
    persons = {p["login"] for p in json.loads((small / "msp.json").read_text())["persons"]}
    labels = json.loads((small / "labels.json").read_text())["labels"]
    assert {(label["scenario"], label["variant"]) for label in labels} == {
        (scenario.name, variant) for scenario in load_scenarios() for variant in ("attack", "twin")
    }
    for label in labels:
        assert label["entity"] in persons
        for ref in label["events"]:
            if ref["file"] == "msp.json":
                assert ref["id"] == f"phone:{label['entity']}"
            else:
                assert ref["id"] in ids[ref["file"]], (label["scenario"], ref)
        harmful = [ref["at"] for ref in label["events"] if ref["harmful"]]
        assert label["harmful_at"] == (min(harmful) if harmful else None)
        assert (label["variant"] == "attack") == bool(harmful)
    manifest = json.loads((small / "manifest.json").read_text())
    assert manifest["seed"] == 3 and manifest["format_version"] == 2
    assert manifest["files"]["okta.ndjson"] == len(records(small, "okta.ndjson"))


def test_the_history_comes_before_the_window_and_holds_no_scenario(small: Path, tmp_path: Path) -> None:
    manifest = json.loads((small / "manifest.json").read_text())
    start, history = manifest["start"][:10], manifest["history_start"][:10]
    assert (start, history, manifest["sizes"]["history_days"]) == ("2026-11-30", "2026-11-02", 28)
    published = [r["published"][:10] for r in records(small, "okta.ndjson")]
    assert min(published) == history and any(day >= start for day in published)
    requests = records(small, "helpdesk_requests.ndjson")
    learning = [r for r in requests if r["at"][:10] < start]
    assert len(learning) == manifest["counts"]["history_helpdesk_actions"] > 0
    for label in json.loads((small / "labels.json").read_text())["labels"]:
        assert all(ref["at"][:10] >= start for ref in label["events"]), label["scenario"]
    # the people sign in from their own devices, as the identity providers identify them
    assert all(
        r["debugContext"]["debugData"]["dtHash"]
        for r in records(small, "okta.ndjson")
        if r["eventType"] == "user.session.start"
        and r["actor"]["alternateId"] != "deskguard-connector"
        and r["published"][:10] < start
    )
    simulate(tmp_path / "none", "--history", "0")
    bare = json.loads((tmp_path / "none" / "manifest.json").read_text())
    assert bare["history_start"] == bare["start"] and bare["counts"]["history_helpdesk_actions"] == 0


def test_the_replayed_logs_raise_the_expected_log_rules_on_the_victims(small: Path, tmp_path: Path) -> None:
    out, summary = tmp_path / "alerts.jsonl", tmp_path / "summary.json"
    result = runner.invoke(
        app, ["replay", *(str(small / n) for n in DATA), "--output", str(out), "--summary", str(summary)]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(summary.read_text())["quarantined"] == 0
    alerts = [json.loads(line) for line in out.read_text().splitlines()]
    labels = {
        (x["scenario"], x["variant"]): x for x in json.loads((small / "labels.json").read_text())["labels"]
    }
    for name, rule in (
        ("vishing_reset_federation", "Okta.Chain.ResetMfaNewFactor"),
        ("idp_console_bypass", "Identity.Change.UnbrokeredReset"),
        ("mfa_fatigue_then_call", "Identity.Mfa.PushFatigue"),
    ):
        victim = labels[(name, "attack")]["entity"]
        assert any(a["rule_id"] == rule and victim in a["entities"].values() for a in alerts), name
        twin = labels[(name, "twin")]["entity"]
        assert not [a for a in alerts if twin in a["entities"].values()], name


def test_a_broken_scenario_file_names_the_file_and_the_field(tmp_path: Path) -> None:
    good = (ROOT / "idp_console_bypass.yml").read_text()
    path = tmp_path / "idp_console_bypass.yml"
    path.write_text(good.replace("kind: reset_password", "kind: reset_everything"))
    with pytest.raises(
        ScenarioError, match=r"idp_console_bypass.yml: twin.steps\[0\].kind: 'reset_everything'"
    ):
        load_scenario(path)
    path.write_text(good.replace("after: 1m", "after: soon"))
    with pytest.raises(ScenarioError, match=r"steps\[1\].after: 'soon' is not a duration"):
        load_scenario(path)
    path.write_text(good.replace("rules: [Identity.Change.UnbrokeredReset]", "rules: [Nope.Rule]"))
    with pytest.raises(ScenarioError, match="expected.rules: 'Nope.Rule' is not a rule"):
        load_scenario(path, known_rules={"Identity.Change.UnbrokeredReset"})


def test_the_command_reports_bad_input_with_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["simulate", "--out", str(tmp_path), "--scenarios", "nope"])
    assert result.exit_code == 2 and "no scenario 'nope'" in result.output
    result = runner.invoke(app, ["simulate", "--out", str(tmp_path), "--tenants", "2", "--persons", "5"])
    assert result.exit_code == 2 and "persons must be at least 10 per tenant" in result.output
    result = runner.invoke(app, ["simulate", "--out", str(tmp_path), "--history", "-1"])
    assert result.exit_code == 2 and "history days cannot be negative, not -1" in result.output
