"""The vishing exercises over HTTP: plan, record, feedback, trends; roles and clear errors."""

from __future__ import annotations

import pytest

from http_client import Api

pytestmark = pytest.mark.db
BASE = "/api/v1/tenants/t_a/exercises"
PLAN = {
    "name": "Q4 vishing exercise",
    "quarter": "2026-Q4",
    "provider_ids": ["farshore"],
    "operator_ids": ["agent"],
    "script_ids": ["cfo_lost_phone", "manager_on_holiday"],
    "starts_at": "2026-10-01T00:00:00Z",
    "ends_at": "2026-11-30T00:00:00Z",
}


def test_plan_record_send_feedback_and_read_the_trends(api: Api) -> None:
    planned = api.post(f"{BASE}/campaigns", "sup", PLAN)
    assert planned.status_code == 201, planned.text
    cid = planned.json()["id"]
    assert api.get(f"{BASE}/campaigns?quarter=2026-Q4", "sup").json()[0]["id"] == cid
    call = {"operator_id": "agent", "script_id": "cfo_lost_phone", "called_at": "2026-10-20T14:00:00Z"}
    failed = api.post(
        f"{BASE}/campaigns/{cid}/calls",
        "sup",
        {**call, "outcome": "failed", "failures": ["accepted_knowledge_answer"]},
    )
    assert failed.status_code == 201, failed.text
    followed = api.post(
        f"{BASE}/campaigns/{cid}/calls", "sup", {**call, "operator_id": "outsourced", "outcome": "followed"}
    )
    assert followed.status_code == 201
    sent = api.post(f"{BASE}/calls/{failed.json()['id']}/feedback", "sup")
    assert sent.status_code == 200 and sent.json()["feedback_channel"] == "email"
    assert api.post(f"{BASE}/calls/{failed.json()['id']}/feedback", "sup").status_code == 409
    mine = api.get(f"{BASE}/feedback", "agent").json()
    assert [f["call"]["id"] for f in mine] == [failed.json()["id"]]
    assert "knowledge answer" in mine[0]["text"]
    assert api.get(f"{BASE}/feedback", "outsourced").json() == []  # not sent to them yet
    detail = api.get(f"{BASE}/campaigns/{cid}", "sup").json()
    assert len(detail["calls"]) == 2
    trends = {(t["scope"], t["key"]): t for t in api.get(f"{BASE}/trends?quarter=2026-Q4", "admin").json()}
    assert trends[("all", "")]["shares"] == {"followed": 0.5, "refused": 0.0, "escalated": 0.0, "failed": 0.5}
    assert trends[("operator", "agent")]["top_failures"] == [
        {"category": "accepted_knowledge_answer", "calls": 1}
    ]
    assert trends[("provider", "farshore")]["name"] == "FarShore"


def test_agents_are_refused_and_bad_input_names_the_field(api: Api) -> None:
    assert api.post(f"{BASE}/campaigns", "agent", PLAN).status_code == 403
    assert api.get(f"{BASE}/trends", "agent").status_code == 403
    bad = api.post(f"{BASE}/campaigns", "sup", {**PLAN, "script_ids": ["nope"]})
    assert bad.status_code == 422 and "nope" in bad.text
    cid = api.post(f"{BASE}/campaigns", "sup", PLAN).json()["id"]
    refused = api.post(
        f"{BASE}/campaigns/{cid}/calls",
        "sup",
        {
            "operator_id": "agent",
            "script_id": "cfo_lost_phone",
            "called_at": "2026-10-20T14:00:00Z",
            "outcome": "failed",
        },
    )
    assert refused.status_code == 422 and "failures" in refused.text
    assert api.get(f"{BASE}/trends?quarter=Q9", "sup").status_code == 422
