"""Ingest, vendor pushes, alerts and quarantine over HTTP, on each storage backend."""

from __future__ import annotations

import json
import time

import orjson
import pytest
from fastapi.testclient import TestClient

from deskguard.api.app import create_app
from deskguard.api.routes.detection import ingest_key, sign_ingest
from deskguard.sim.day import build_day
from http_client import WEBHOOK_KEY, Api
from records import ADMIN_RESET

pytestmark = pytest.mark.db


def ndjson(*records: object) -> bytes:
    return b"\n".join(orjson.dumps(r) for r in records) + b"\n"


def ingest(api: Api, body: bytes, who: str = "analyst", source: str = "auto", tenant: str | None = "t_a"):
    params = {"tenant": tenant} if tenant else None
    return api.client.post(f"/api/v1/ingest/{source}", content=body, params=params, headers=api.as_(who))


def test_a_batch_reports_each_bad_record_and_keeps_the_rest(api: Api) -> None:
    body = (
        ndjson(ADMIN_RESET) + b"{not json\n" + ndjson({"hello": "world"}, {**ADMIN_RESET, "uuid": "other-1"})
    )
    r = ingest(api, body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["received"], out["accepted"], out["quarantined"]) == (4, 2, 2)
    assert [(e["index"], e["reason"]) for e in out["errors"]] == [(1, "invalid_json"), (2, "unknown_format")]
    stored = api.get("/api/v1/tenants/t_a/quarantine", "analyst").json()
    assert sorted(q["reason"] for q in stored) == ["invalid_json", "unknown_format"]
    assert any(q["record"] == "{not json" for q in stored)  # the line as received, nothing lost


def test_json_array_and_single_object_are_accepted(api: Api) -> None:
    assert ingest(api, orjson.dumps([ADMIN_RESET]), source="okta").json()["accepted"] == 1
    assert ingest(api, orjson.dumps({**ADMIN_RESET, "uuid": "u-2"}), source="okta").json()["accepted"] == 1


def test_ingest_errors(api: Api) -> None:
    assert api.client.post("/api/v1/ingest/auto?tenant=t_a", content=b"{}").status_code == 401
    assert ingest(api, ndjson(ADMIN_RESET), who="agent").status_code == 403
    assert ingest(api, ndjson(ADMIN_RESET), who="sup_b_only").status_code == 404
    unknown = ingest(api, ndjson(ADMIN_RESET), source="splunk")
    assert unknown.status_code == 422 and "unknown source" in unknown.json()["detail"]
    several = ingest(api, ndjson(ADMIN_RESET), tenant=None)  # the analyst serves t_a and t_b
    assert several.status_code == 422 and "?tenant=" in several.json()["detail"]
    empty = ingest(api, b"  \n")
    assert empty.status_code == 422 and empty.json()["field"] == "body"


def test_an_oversized_batch_is_413_problem_json(api: Api) -> None:
    app = create_app(api.world.ctx, webhook_key=WEBHOOK_KEY, ingest_max_bytes=1024)
    with TestClient(app) as client:
        r = client.post("/api/v1/ingest/auto?tenant=t_a", content=b"x" * 2048, headers=api.as_("analyst"))
    assert r.status_code == 413 and r.headers["content-type"].startswith("application/problem+json")


def test_the_story_raises_explained_alerts_listed_with_filters(api: Api) -> None:
    day = build_day()
    body = ndjson(*day["okta-system-log.ndjson"])
    out = ingest(api, body, source="okta").json()
    assert out["quarantined"] == 0 and out["alerts"]
    alerts = api.get("/api/v1/tenants/t_a/alerts", "analyst").json()
    chain = [
        a
        for a in alerts
        if "Chain" in a["rule_id"] and a["entities"].get("user") == "jeanne.martin@acme.example"
    ]
    assert chain, [a["rule_id"] for a in alerts]
    assert "jeanne.martin@acme.example" in chain[0]["explanation"]
    rule = chain[0]["rule_id"]
    assert {
        a["rule_id"] for a in api.get(f"/api/v1/tenants/t_a/alerts?rule_id={rule}", "analyst").json()
    } == {rule}
    by_user = api.get("/api/v1/tenants/t_a/alerts?entity=jeanne.martin@acme.example", "analyst").json()
    assert by_user and all("jeanne.martin@acme.example" in a["entities"].values() for a in by_user)
    high = api.get("/api/v1/tenants/t_a/alerts?severity=high,critical", "analyst").json()
    assert all(a["severity"] in ("high", "critical") for a in high)
    one = api.get(f"/api/v1/tenants/t_a/alerts/{chain[0]['id']}", "sup").json()
    assert one == chain[0]
    assert api.get("/api/v1/tenants/t_b/alerts", "analyst").json() == []  # the other tenant sees nothing
    assert api.get(f"/api/v1/tenants/t_b/alerts/{chain[0]['id']}", "analyst").status_code == 404
    assert api.get("/api/v1/tenants/t_a/alerts", "agent").status_code == 403  # agents do not read alerts


def test_okta_event_hook_verification_and_delivery(api: Api) -> None:
    challenge = api.client.get(
        "/api/v1/hooks/okta/t_a", headers={**api.as_("analyst"), "X-Okta-Verification-Challenge": "abc123"}
    )
    assert challenge.json() == {"verification": "abc123"}
    assert (
        api.client.get("/api/v1/hooks/okta/t_a", headers={"X-Okta-Verification-Challenge": "x"}).status_code
        == 401
    )
    delivery = {
        "eventType": "com.okta.event_hook",
        "eventTypeVersion": "1.0",
        "cloudEventsVersion": "0.1",
        "source": "https://acme.okta.com/api/v1/eventHooks/who8",
        "eventId": "b5a188b9-5ece-4636-b041-482ffda96311",
        "eventTime": "2026-11-30T09:06:01.000Z",
        "contentType": "application/json",
        "data": {"events": [ADMIN_RESET, {**ADMIN_RESET, "uuid": "second"}]},
    }
    r = api.client.post("/api/v1/hooks/okta/t_a", content=orjson.dumps(delivery), headers=api.as_("analyst"))
    assert r.status_code == 200 and (r.json()["accepted"], r.json()["events"]) == (1, 2)


def _signed(api: Api, tenant: str, body: bytes, *, key_tenant: str | None = None, stamp: int | None = None):
    ts = str(stamp if stamp is not None else int(time.time()))
    signature = sign_ingest(ingest_key(WEBHOOK_KEY, key_tenant or tenant), ts, body)
    return api.client.post(
        f"/api/v1/hooks/telephony/{tenant}",
        content=body,
        headers={"X-Deskguard-Timestamp": ts, "X-Deskguard-Signature": signature},
    )


CALL = {
    "type": "call",
    "call_id": "call-1",
    "started_at": "2026-11-30T09:00:00Z",
    "caller_number": "+447700900123",
    "called_number": "+33180000000",
    "attestation": "C",
    "claimed_identity": "jeanne.martin@acme.example",
}


def test_signed_webhooks(api: Api) -> None:
    body = json.dumps(CALL).encode()
    good = _signed(api, "t_a", body)
    assert good.status_code == 200 and good.json()["accepted"] == 1
    assert _signed(api, "t_a", body).status_code in (200, 409)  # same second: same signature is a replay
    replay = api.client.post("/api/v1/hooks/telephony/t_a", content=body, headers=dict(good.request.headers))
    assert replay.status_code == 409 and replay.json()["code"] == "conflict.replay"
    assert _signed(api, "t_a", body, key_tenant="t_b").status_code == 401  # t_b's key never signs for t_a
    assert _signed(api, "t_a", body, stamp=int(time.time()) - 3600).status_code == 401
    bad = api.client.post(
        "/api/v1/hooks/telephony/t_a",
        content=body,
        headers={"X-Deskguard-Timestamp": str(int(time.time())), "X-Deskguard-Signature": "sha256=00"},
    )
    assert bad.status_code == 401


def test_a_call_from_a_number_the_directory_does_not_know_then_a_reset(api: Api) -> None:
    """Ingest asks the directory whether the caller's number belongs to the person they claimed."""
    plain = "plain@t_a.example"
    reset = {
        **ADMIN_RESET,
        "uuid": "reset-plain",
        "published": "2026-11-30T09:20:00.000Z",
        "actor": {"id": "0oa1", "type": "PublicClientApp", "alternateId": "deskguard-connector"},
        "target": [{"id": "00u9", "type": "User", "alternateId": plain}],
    }
    registered = {
        **CALL,
        "call_id": "c-ok",
        "attestation": "A",
        "claimed_identity": plain,
        "caller_number": "+33611111111",
    }
    stranger = {
        **CALL,
        "call_id": "c-ko",
        "attestation": "A",
        "claimed_identity": plain,
        "caller_number": "+15550100",
    }
    assert ingest(api, ndjson(registered, reset)).json()["alerts"] == []
    raised = ingest(api, ndjson(stranger, {**reset, "uuid": "reset-plain-2"})).json()["alerts"]
    risky = [a for a in raised if a["rule_id"] == "Telephony.Call.RiskyCallThenSensitiveRequest"]
    assert risky and "not registered for this person" in risky[0]["explanation"], raised
