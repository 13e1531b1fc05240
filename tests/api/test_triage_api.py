"""Triage over HTTP: the prioritised queue, case detail, verdicts that retrain the ranking."""

from __future__ import annotations

import orjson
import pytest

from deskguard.app import triage
from deskguard.detection.alerts import Alert
from deskguard.sim.day import build_day
from http_client import Api
from records import ADMIN_RESET

pytestmark = pytest.mark.db
T0 = 1_800_000_000.0
CALL = {
    "type": "call",
    "call_id": "call-1",
    "started_at": "2026-11-30T09:00:00Z",
    "caller_number": "+447700900123",
    "called_number": "+33180000000",
    "attestation": "C",
    "claimed_identity": "nobody@elsewhere.example",
}


def ndjson(*records: object) -> bytes:
    return b"\n".join(orjson.dumps(r) for r in records) + b"\n"


def ingest_day(api: Api) -> list[dict]:
    day = build_day()
    body = ndjson(*day["okta-system-log.ndjson"])
    r = api.client.post("/api/v1/ingest/okta?tenant=t_a", content=body, headers=api.as_("analyst"))
    assert r.status_code == 200, r.text
    return r.json()["alerts"]


def verdict(
    api: Api, alert_id: str, value: str, who: str = "analyst", tenant: str = "t_a", comment: str = ""
):
    return api.post(
        f"/api/v1/tenants/{tenant}/alerts/{alert_id}/verdict", who, {"verdict": value, "comment": comment}
    )


def test_the_days_alerts_form_an_explained_case_per_person(api: Api) -> None:
    alerts = ingest_day(api)
    cases = api.get("/api/v1/tenants/t_a/cases", "analyst").json()
    jeanne = next(c for c in cases if c["entity"] == "jeanne.martin@acme.example")
    assert jeanne["alert_count"] == len(
        {a["id"] for a in alerts if a["entities"].get("user") == jeanne["entity"]}
    )
    assert "Okta.Chain.ResetMfaNewFactor" in jeanne["rule_ids"] and jeanne["status"] == "open"
    assert jeanne["priority"] == 80.0  # critical (100) x medium confidence (0.8)
    assert jeanne["explanation"][0].startswith("highest of")
    assert "critical severity (100) × medium confidence (0.8)" in jeanne["explanation"][1]
    assert {a["id"] for a in jeanne["alerts"]} <= {a["id"] for a in alerts}
    assert all(a["priority_explanation"] and a["verdict"] is None for a in jeanne["alerts"])
    assert api.get(f"/api/v1/tenants/t_a/cases/{jeanne['id']}", "sup").json()["id"] == jeanne["id"]
    assert api.get("/api/v1/tenants/t_b/cases", "analyst").json() == []


def test_the_queue_is_ordered_by_priority(api: Api) -> None:
    ingest_day(api)
    api.client.post("/api/v1/ingest/auto?tenant=t_a", content=ndjson(CALL), headers=api.as_("analyst"))
    _seed(api, [_alert(1, "Test.Low.Thing", "low", user="low@t_a.example")])
    cases = api.get("/api/v1/tenants/t_a/cases", "analyst").json()
    assert len(cases) >= 2
    assert [c["rank"] for c in cases] == list(range(1, len(cases) + 1))
    priorities = [c["priority"] for c in cases]
    assert priorities == sorted(priorities, reverse=True)
    assert cases[-1]["entity"] == "low@t_a.example" and cases[-1]["priority"] == 20.0


def test_a_verdict_is_recorded_replaced_and_evidenced(api: Api) -> None:
    raised = api.client.post(
        "/api/v1/ingest/okta?tenant=t_a", content=orjson.dumps(ADMIN_RESET), headers=api.as_("analyst")
    ).json()["alerts"]
    alert_id = raised[0]["id"]
    first = verdict(api, alert_id, "benign", comment="planned reset, ticket INC-7")
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["verdict"]["verdict"] == "benign" and body["previous"] is None
    assert body["verdict"]["operator_id"] == "analyst"
    assert body["model"] == {"verdicts": 1, "true_positives": 0, "fitted": False, "weight": 0.0}
    case_id = body["case"]["id"]
    assert body["case"]["status"] == "closed"  # its only alert has a verdict
    assert "every alert judged (1 benign)" in body["case"]["closed_reason"]
    second = verdict(api, alert_id, "true_positive", who="admin").json()
    assert second["previous"]["verdict"] == "benign" and second["verdict"]["verdict"] == "true_positive"
    detail = api.get(f"/api/v1/tenants/t_a/cases/{case_id}", "sup").json()
    assert detail["alerts"][0]["verdict"]["verdict"] == "true_positive"
    events = api.get("/api/v1/tenants/t_a/events", "admin").json()
    verdicts = [e for e in events if e["type"] == "alert.verdict"]
    assert [(e["data"]["verdict"], e["data"]["previous"]) for e in verdicts] == [
        ("benign", None),
        ("true_positive", "benign"),
    ]
    assert verdicts[0]["data"]["case_id"] == case_id and verdicts[0]["correlation_id"] == case_id
    assert [e["type"] for e in events].count("case.closed") == 1
    records = api.get("/api/v1/tenants/t_a/audit/records?type=alert.verdict", "admin").json()
    assert [r["record"]["data"]["verdict"] for r in records] == ["benign", "true_positive"]  # the ledger
    closed = api.get("/api/v1/tenants/t_a/cases?status=closed", "analyst").json()
    assert [c["id"] for c in closed] == [case_id]
    assert api.get("/api/v1/tenants/t_a/cases", "analyst").json() == []


def test_verdict_errors(api: Api) -> None:
    alert_id = ingest_day(api)[0]["id"]
    bad = verdict(api, alert_id, "maybe")
    assert bad.status_code == 422 and bad.json()["field"] == "verdict"
    assert "true_positive, false_positive, benign" in bad.json()["detail"]
    unknown = verdict(api, "alr_nope", "benign")
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found.alert"
    assert verdict(api, alert_id, "benign", who="agent").status_code == 403
    assert verdict(api, alert_id, "benign", who="sup").status_code == 403  # supervisors read, do not judge
    assert verdict(api, alert_id, "benign", tenant="t_b").status_code == 404  # the alert belongs to t_a
    assert verdict(api, alert_id, "benign", who="sup_b_only").status_code == 404
    assert api.get("/api/v1/tenants/t_a/cases", "agent").status_code == 403
    assert api.get("/api/v1/tenants/t_a/cases?status=later", "analyst").status_code == 422
    assert api.get("/api/v1/tenants/t_a/cases/case_nope", "analyst").json()["code"] == "not_found.case"
    with api.world.ctx.uow() as uow:
        assert [e for e in uow.outbox.list(tenant_id="t_a") if e.type == "alert.verdict"] == []


def test_a_case_is_closed_by_hand_once(api: Api) -> None:
    ingest_day(api)
    case_id = api.get("/api/v1/tenants/t_a/cases", "analyst").json()[0]["id"]
    closed = api.post(f"/api/v1/tenants/t_a/cases/{case_id}/close", "analyst", {"comment": "known pentest"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert closed.json()["closed_reason"] == "closed by analyst: known pentest"
    again = api.post(f"/api/v1/tenants/t_a/cases/{case_id}/close", "analyst", {"comment": ""})
    assert again.status_code == 409 and again.json()["code"] == "conflict.case_closed"
    assert api.post(f"/api/v1/tenants/t_a/cases/{case_id}/close", "sup", {}).status_code == 403


# -- learning through the API ---------------------------------------------------------------------

NOISY, REAL = "Identity.Signin.NoisyRule", "Identity.Recovery.NewCountryOrProxy"


def _alert(n: int, rule: str, severity: str, *, user: str) -> Alert:
    return Alert(
        id=f"alr_learn_{n}",
        rule_id=rule,
        title=rule,
        severity=severity,
        tenant="t_a",
        entities={"user": user},
        first_seen=T0 + n,
        last_seen=T0 + n,
        event_ids=[f"e{n}"],
        explanation=f"{rule} on {user}",
    )


def _seed(api: Api, alerts: list[Alert]) -> None:
    """Alerts as the detection engine stores them (app.detection files them the same way)."""
    with api.world.ctx.uow() as uow:
        for alert in alerts:
            uow.alerts.save(alert)
        triage.file_alerts(uow, alerts, now=api.world.clock.now())
        uow.commit()


def test_the_queue_learns_from_verdicts_and_says_why(api: Api) -> None:
    noisy = [_alert(i, NOISY, "high", user=f"n{i}@t_a.example") for i in range(10)]
    real = [_alert(100 + i, REAL, "medium", user=f"r{i}@t_a.example") for i in range(10)]
    _seed(api, noisy + real)
    before = api.get("/api/v1/tenants/t_a/cases", "analyst").json()
    assert {c["rule_ids"][0] for c in before[:10]} == {NOISY}  # high (60) before medium (40)
    for a in noisy[:6]:
        assert verdict(api, a.id, "false_positive").status_code == 200
    for a in real[:6]:
        assert verdict(api, a.id, "true_positive").status_code == 200
    after = api.get("/api/v1/tenants/t_a/cases", "analyst").json()
    assert len(after) == 8  # the 12 judged cases closed
    assert [c["rule_ids"][0] for c in after] == [REAL] * 4 + [NOISY] * 4  # the order flipped
    top, bottom = after[0], after[-1]
    assert top["priority"] > 40 and bottom["priority"] < 60  # each moved away from its prior
    assert any(
        f"rule {REAL} was a true positive 6 of 6 times" in r and r.startswith("+") for r in top["explanation"]
    )
    assert any(
        f"rule {NOISY} was a true positive 0 of 6 times" in r and r.startswith("−")
        for r in bottom["explanation"]
    )
    assert "12 verdicts, 6 true positive" in top["explanation"][1]


def test_new_evidence_on_a_judged_alert_reopens_its_case(api: Api) -> None:
    def reset(uuid: str, at: str) -> bytes:
        return orjson.dumps({**ADMIN_RESET, "uuid": uuid, "published": f"2026-11-30T{at}.000Z"})

    headers = api.as_("analyst")
    first = api.client.post(
        "/api/v1/ingest/okta?tenant=t_a", content=reset("r-1", "09:06:00"), headers=headers
    )
    alert = first.json()["alerts"][0]
    case_id = verdict(api, alert["id"], "benign").json()["case"]["id"]
    assert api.get(f"/api/v1/tenants/t_a/cases/{case_id}", "analyst").json()["status"] == "closed"
    again = api.client.post(
        "/api/v1/ingest/okta?tenant=t_a", content=reset("r-2", "09:08:00"), headers=headers
    )
    repeat = next(a for a in again.json()["alerts"] if a["id"] == alert["id"])
    assert repeat["count"] == 2  # suppression folded the repeat into the same alert
    case = api.get(f"/api/v1/tenants/t_a/cases/{case_id}", "analyst").json()
    assert case["status"] == "open" and case["alert_count"] == 1 and case["closed_at"] is None
    assert case["last_seen"] == "2026-11-30T09:08:00Z"
    assert [c["id"] for c in api.get("/api/v1/tenants/t_a/cases", "analyst").json()] == [case_id]
