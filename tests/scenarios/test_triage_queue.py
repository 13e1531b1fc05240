"""The README's triage walkthrough: after the Okta day, Anna's queue puts Jeanne's case first, with
the reasons; her verdicts are on the record and the case closes when every alert is judged."""

from __future__ import annotations

import orjson
from demo_desk import ANNA, Desk, T

from deskguard.sim.day import build_day

JEANNE = "jeanne.martin@acme.example"


def test_the_okta_day_queues_jeannes_case_first_and_verdicts_close_it(desk: Desk) -> None:
    body = b"\n".join(orjson.dumps(r) for r in build_day()["okta-system-log.ndjson"])
    r = desk.client.post("/api/v1/ingest/okta?tenant=tnt_acme", content=body, headers=desk._auth(ANNA))
    assert r.status_code == 200, r.text
    queue = desk.get(f"{T}/cases", ANNA)
    top = queue[0]
    assert (top["rank"], top["priority"], top["entity"], top["alert_count"]) == (1, 80.0, JEANNE, 7)
    assert top["explanation"] == [
        "highest of 7 alerts awaiting a verdict (0 judged): Okta.Chain.ResetMfaNewFactor (critical)",
        "priority 80 = critical severity (100) × medium confidence (0.8)",
        "not learned yet: 0 verdicts (needs 10, true and false)",
    ]
    chain = next(a for a in top["alerts"] if a["rule_id"] == "Okta.Chain.ResetMfaNewFactor")
    out = desk.post(
        f"{T}/alerts/{chain['id']}/verdict", ANNA, {"verdict": "true_positive", "comment": "INC-20931"}
    )
    assert out["case"]["status"] == "open" and out["verdict"]["verdict"] == "true_positive"
    assert out["case"]["explanation"][0] == (
        "highest of 6 alerts awaiting a verdict (1 judged): Identity.Recovery.SensitiveAppAccess (high)"
    )
    for alert in top["alerts"]:
        if alert["id"] != chain["id"]:
            out = desk.post(f"{T}/alerts/{alert['id']}/verdict", ANNA, {"verdict": "true_positive"})
    assert out["case"]["status"] == "closed"
    assert out["case"]["closed_reason"] == f"every alert judged ({top['alert_count']} true positive)"
    events = [e["type"] for e in desk.get(f"{T}/events?limit=5000", ANNA)]
    assert events.count("alert.verdict") == top["alert_count"] and events.count("case.closed") == 1
