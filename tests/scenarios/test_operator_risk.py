"""The closed loop on the operator's side: an agent far above their own baseline gets a second pair
of eyes on every request, while their colleagues' requests stay as they were.

Oscar, an outsourced agent, executed twelve MFA resets in forty minutes (his usual is one an hour):
the outbox events reach the detection engine, ``Deskguard.Operator.FarAboveBaseline`` names him,
and so do the other operator baselines; his risk in the tenant rises. His next request on Claire
needs one more approval, and the decision says why. Alice's request on the same person, at the
same time, does not.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from demo_desk import ALICE, ANNA, CLAIRE, OSCAR, Desk, T


def _burst(oscar_id: str) -> str:
    start = datetime(2026, 12, 1, 7, 50, tzinfo=UTC)
    records = []
    for n in range(12):
        records.append(
            {
                "schema": "deskguard.event",
                "version": 1,
                "id": f"evt_burst_{n}",
                "type": "request.executed",
                "tenant_id": "tnt_acme",
                "occurred_at": (start + timedelta(minutes=3 * n)).isoformat(),
                "actor": {"kind": "operator", "id": oscar_id, "role": "agent"},
                "subject": {"request_id": f"req_burst_{n}", "person_id": f"per_acme_1{n:02d}"},
                "data": {"kind": "reset_mfa", "tier": "critical"},
            }
        )
    return "\n".join(json.dumps(record) for record in records)


def _open(desk: Desk, who: str) -> dict:
    claire = desk.creds["persons"][CLAIRE]["id"]
    body = {"kind": "reset_password", "person_id": claire}
    return desk.post(f"{T}/requests", who, body, status=201)["decision"]


def _matched(decision: dict) -> set[str]:
    return {entry["rule"] for entry in decision["trace"] if entry["matched"]}


def test_an_operator_far_above_baseline_needs_one_more_approval(desk: Desk) -> None:
    before = _open(desk, OSCAR)
    assert "operator-elevated-risk" not in _matched(before)
    oscar_id = desk.creds["operators"][OSCAR]["id"]
    ingested = desk.client.post(
        "/api/v1/ingest/deskguard?tenant=tnt_acme", content=_burst(oscar_id), headers=desk._auth(ANNA)
    ).json()
    assert "Deskguard.Operator.FarAboveBaseline" in {alert["rule_id"] for alert in ingested["alerts"]}
    after = _open(desk, OSCAR)
    assert "operator-elevated-risk" in _matched(after)
    assert after["approvals"]["required"] == before["approvals"]["required"] + 1
    rule = next(entry for entry in after["trace"] if entry["rule"] == "operator-elevated-risk")
    assert rule["values"]["operator.risk_score"] >= 50
    why = " ".join(reason["message"] for reason in after["step_ups"])
    # several of the operator's learned baselines agree: each alert is a signal, combined
    assert "the operator's risk score is 93 (>= 50): " in why, why
    assert "Deskguard.Operator.FarAboveBaseline (high, 49 of 50 points, 52 min ago)" in why, why


def test_benign_twin_a_colleague_is_unaffected(desk: Desk) -> None:
    oscar_id = desk.creds["operators"][OSCAR]["id"]
    desk.client.post(
        "/api/v1/ingest/deskguard?tenant=tnt_acme", content=_burst(oscar_id), headers=desk._auth(ANNA)
    )
    alice = _open(desk, ALICE)
    assert "operator-elevated-risk" not in _matched(alice)
