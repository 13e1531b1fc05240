"""``deskguard evaluate`` over a small simulation: the whole product, measured, must meet its targets.

The simulation runs in process (fixed seed, small sizes, every scenario with its twin), is written to a
folder like ``deskguard simulate`` writes it, then evaluated on a fresh embedded database. The test
fails when a target is missed: a scenario neither prevented nor detected, recall under 0.95, more
than one false alert per 10,000 benign helpdesk actions, or a detection later than 60 s.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deskguard.cli.evaluate import run_evaluation
from deskguard.cli.main import app
from deskguard.cli.simulate import rule_names
from deskguard.sim.scenarios import load_scenarios
from deskguard.sim.simulate import simulate, write_simulation

SIZES = {"seed": 3, "tenants": 2, "persons": 60, "operators": 6, "days": 3}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sim")
    sim = simulate(**SIZES, scenarios=load_scenarios("all", known_rules=rule_names()))
    write_simulation(folder, sim)
    return folder


def test_the_targets_are_met(dataset: Path) -> None:
    result = run_evaluation(dataset)
    assert result.misses == [], result.misses
    summary = result.summary
    assert summary["attacks"] == len(load_scenarios("all", known_rules=rule_names())) >= 8
    assert summary["recall"] >= 0.95
    assert summary["false_alerts_per_10k_benign_actions"] <= 1.0
    assert summary["quarantined"] == 0
    assert all(
        r.prevented or (r.time_to_detect_s is not None and r.time_to_detect_s <= 60)
        for r in result.labels
        if r.variant == "attack"
    )
    assert all(not r.rules for r in result.labels if r.variant == "twin")  # nothing on a twin
    # what the policy decided is the product's own answer: the attacks it must stop never executed
    prevented = [r for r in result.labels if r.expected == "prevented"]
    assert prevented and all(r.prevented and not any(q["executed"] for q in r.requests) for r in prevented)


def test_the_command_prints_the_table_and_writes_json_and_html(dataset: Path, tmp_path: Path) -> None:
    out, html = tmp_path / "evaluation.json", tmp_path / "evaluation.html"
    ran = CliRunner().invoke(app, ["evaluate", str(dataset), "--json", str(out), "--html", str(html)])
    assert ran.exit_code == 0, ran.output
    assert "per scenario" in ran.output and "vishing_reset_federation" in ran.output
    document = json.loads(out.read_text())
    assert (
        document["targets_met"] is True and len(document["scenarios"]) == 2 * document["summary"]["attacks"]
    )
    summary = document["summary"]
    assert sum(document["history_alerts_by_rule"].values()) == summary["history_alerts"]
    assert summary["benign_helpdesk_actions"] > 0 and summary["false_alerts"] == 0
    page = html.read_text()
    assert page.count("<svg") == 3 and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "<script" not in page and "<link" not in page


def test_a_missed_target_exits_1_with_the_miss_listed(dataset: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    for path in dataset.iterdir():
        (broken / path.name).write_bytes(path.read_bytes())
    # the same organisation and logs, but one benign helpdesk action claimed instead of many: the
    # alerts the background raises weigh more than the target allows, or a label without its evidence
    labels = json.loads((broken / "labels.json").read_text())
    labels["labels"].append(
        {
            **labels["labels"][0],
            "scenario": "invented",
            "variant": "attack",
            "entity": "nobody@nowhere.example",
            "events": [
                {
                    "id": "no-such-record",
                    "file": "okta.ndjson",
                    "at": labels["labels"][0]["started_at"],
                    "step": 0,
                    "harmful": True,
                }
            ],
        }
    )
    (broken / "labels.json").write_text(json.dumps(labels))
    # and a prevented attack whose harmful request an operator of another client opens: the broker
    # refuses to open it (the tenant is not theirs), which tests the cast, not the policy
    namesake = next(
        x for x in labels["labels"] if x["scenario"] == "cross_tenant_namesake" and x["variant"] == "attack"
    )
    (harmful,) = [
        e["id"] for e in namesake["events"] if e["harmful"] and e["file"] == "helpdesk_requests.ndjson"
    ]
    msp = json.loads((broken / "msp.json").read_text())
    requests = [json.loads(line) for line in (broken / "helpdesk_requests.ndjson").read_text().splitlines()]
    slug = next(
        t["slug"]
        for t in msp["tenants"]
        if t["id"] == next(r for r in requests if r["id"] == harmful)["tenant"]
    )
    stranger = next(op["login"] for op in msp["operators"] if slug not in op["tenants"])
    (broken / "helpdesk_requests.ndjson").write_text(
        "".join(json.dumps({**r, "operator": stranger} if r["id"] == harmful else r) + "\n" for r in requests)
    )
    ran = CliRunner().invoke(app, ["evaluate", str(broken)])
    assert ran.exit_code == 1
    assert "invented (attack): neither prevented nor detected" in ran.output
    assert f"cross_tenant_namesake (attack): harmful request {harmful} was never opened" in ran.output


def test_a_folder_that_is_not_a_dataset_exits_2(tmp_path: Path) -> None:
    ran = CliRunner().invoke(app, ["evaluate", str(tmp_path)])
    assert ran.exit_code == 2
    assert "missing manifest.json" in ran.output
