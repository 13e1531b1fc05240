"""The step kinds scenarios 6, 9, 10, 11 and 13 need, as the generator writes them into the records."""

from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from deskguard.sim.inject import namesakes_of
from deskguard.sim.msp import build_msp
from deskguard.sim.scenarios import ROOT, ScenarioError, load_scenario, load_scenarios
from deskguard.sim.simulate import START, simulate

NEW = "approval_pair_collusion,session_hijack_after_reset,cross_tenant_namesake"
NEW += ",recovery_email_then_reset,slow_campaign_weeks"


@pytest.fixture(scope="module")
def sim() -> Any:
    return simulate(seed=5, tenants=2, persons=40, operators=6, days=7, scenarios=load_scenarios(NEW))


def label(sim: Any, name: str, variant: str = "attack") -> dict[str, Any]:
    return next(x for x in sim.labels if x["scenario"] == name and x["variant"] == variant)


def records(sim: Any, lab: dict[str, Any], file: str, key: str) -> list[dict[str, Any]]:
    ids = {ref["id"] for ref in lab["events"] if ref["file"] == file}
    return [r for r in sim.files[file] if (r["properties"]["id"] if file == "entra.json" else r[key]) in ids]


def test_every_tenant_after_the_first_has_namesakes_of_the_first() -> None:
    msp = build_msp(random.Random(1), tenants=3, persons=120, operators=8, start=START)
    pairs = namesakes_of(msp)
    assert len(pairs) == 16  # four people in each of two tenants, and their four models
    for login, other in pairs.items():
        person = msp.by_login[login]
        assert person.display_name == other.display_name and person.tenant != other.tenant
        assert login.split("@")[0] == other.login.split("@")[0]
    assert len({p.login for p in msp.persons}) == 120


def test_a_namesake_request_targets_the_same_name_in_another_tenant(sim: Any) -> None:
    lab = label(sim, "cross_tenant_namesake")
    [request] = records(sim, lab, "helpdesk_requests.ndjson", "id")
    victim = sim.msp.by_login[lab["entity"]]
    target = sim.msp.by_login[request["person"]]
    assert target.display_name == victim.display_name and target.tenant != victim.tenant
    assert request["tenant"] == sim.msp.tenant(target.tenant).id != lab["tenant"]
    [call] = records(sim, lab, "calls.ndjson", "call_id")
    assert call["claimed_identity"] == victim.login and request["call_id"] == call["call_id"]
    twin = label(sim, "cross_tenant_namesake", "twin")
    assert twin["entity"] in namesakes_of(sim.msp)  # the look-alike also has a namesake


def test_a_hijacked_session_is_the_victims_replayed_from_elsewhere(sim: Any) -> None:
    lab = label(sim, "session_hijack_after_reset")
    okta = records(sim, lab, "okta.ndjson", "uuid")
    sessions = [r for r in okta if r["eventType"] in ("user.session.start", "user.authentication.sso")]
    own, stolen = sessions
    assert own["authenticationContext"] == stolen["authenticationContext"]
    assert own["client"]["ipAddress"] != stolen["client"]["ipAddress"]
    assert own["client"]["userAgent"] != stolen["client"]["userAgent"]
    twin = records(sim, label(sim, "session_hijack_after_reset", "twin"), "okta.ndjson", "uuid")
    assert twin[-1]["authenticationContext"] != own["authenticationContext"]  # its own victim's session
    assert len({r["client"]["ipAddress"] for r in twin if r["actor"]["type"] == "User"}) == 1


def test_a_recovery_change_names_the_changed_attribute(sim: Any) -> None:
    lab = label(sim, "recovery_email_then_reset")
    [change] = [
        r for r in records(sim, lab, "okta.ndjson", "uuid") if r["eventType"].endswith("update_profile")
    ]
    assert change["debugContext"]["debugData"]["changedAttributes"] == "secondEmail"
    assert (
        change["actor"]["alternateId"] == lab["agent"] and change["target"][0]["alternateId"] == lab["entity"]
    )


def test_a_slow_campaign_claims_others_then_the_victim_from_one_line(sim: Any) -> None:
    lab = label(sim, "slow_campaign_weeks")
    calls = records(sim, lab, "calls.ndjson", "call_id")
    assert len({c["caller_number"] for c in calls}) == 1
    assert len({c["claimed_identity"] for c in calls}) == 4 and calls[-1]["claimed_identity"] == lab["entity"]
    assert len({c["agent"] for c in calls}) >= 2
    days = {datetime.fromisoformat(c["started_at"]).date() for c in calls}
    assert len(days) == 4


def test_colleagues_and_the_pairs_agents_share_the_victims_tenant(sim: Any) -> None:
    lab = label(sim, "approval_pair_collusion")
    requests = records(sim, lab, "helpdesk_requests.ndjson", "id")
    assert len(requests) == 12 and {r["tenant"] for r in requests} == {lab["tenant"]}
    pair = {r["operator"] for r in requests}
    assert len(pair) == 2 and all(
        {a["approver"] for a in r["approvals"]} == pair - {r["operator"]} for r in requests
    )
    slug = next(t.slug for t in sim.msp.tenants if t.id == lab["tenant"])
    assert all(slug in op.tenants for op in sim.msp.operators if op.login in pair)


def test_bad_new_step_values_name_the_field(tmp_path: Path) -> None:
    good = (ROOT / "session_hijack_after_reset.yml").read_text()
    path = tmp_path / "session_hijack_after_reset.yml"
    path.write_text(good.replace("session: victim, harmful", "session: attacker, harmful"))
    with pytest.raises(ScenarioError, match=r"steps\[5\].session: 'attacker' is not one of 'victim'"):
        load_scenario(path)
    path.write_text(
        good.replace("kind: reset_password, proofs", "kind: reset_password, person: twin, proofs", 1)
    )
    with pytest.raises(ScenarioError, match=r"steps\[2\].person: 'twin' is not one of"):
        load_scenario(path)


def test_a_namesake_scenario_on_one_tenant_says_why_it_cannot_run() -> None:
    with pytest.raises(ValueError, match="cross_tenant_namesake: .* at least two tenants"):
        simulate(
            seed=1,
            tenants=1,
            persons=40,
            operators=4,
            days=2,
            scenarios=load_scenarios("cross_tenant_namesake"),
        )
