"""The takeover chain on a privileged person, over HTTP: signed out at once, the suspension waits in
the analysts' queue, is approved (or refused) with a comment, and every step is an event."""

from __future__ import annotations

import json

from http_client import Api

VIP = "vip@t_a.example"
T = "/api/v1/tenants/t_a"


def _okta(uuid: str, event_type: str, at: str, actor: str) -> dict:
    return {
        "uuid": uuid,
        "published": f"2026-12-01T{at}.000Z",
        "eventType": event_type,
        "actor": {"id": "00u" + uuid, "type": "User", "alternateId": actor},
        "target": [{"id": "00uvip", "type": "User", "alternateId": VIP}],
        "outcome": {"result": "SUCCESS"},
    }


CHAIN = [
    _okta("c1", "user.account.reset_password", "08:30:00", "k.dupont.adm@t_a.example"),
    _okta("c2", "user.mfa.factor.reset_all", "08:32:00", "k.dupont.adm@t_a.example"),
    _okta("c3", "user.mfa.factor.activate", "08:40:00", VIP),
]


def _chain(api: Api) -> list[dict]:
    body = "\n".join(json.dumps(r) for r in CHAIN)
    reply = api.client.post("/api/v1/ingest/okta?tenant=t_a", content=body, headers=api.as_("analyst"))
    assert reply.status_code == 200, reply.text
    return [s for s in reply.json()["responses"] if s["runbook"] == "Respond.Chain.PrivilegedTakeover"]


def test_the_chain_on_a_privileged_person_waits_for_an_analyst_to_suspend(api: Api) -> None:
    steps = _chain(api)
    assert [(s["kind"], s["outcome"]) for s in steps] == [
        ("revoke_sessions", "done"),
        ("suspend_account", "awaiting_approval"),
        ("require_manager_validation", "done"),
        ("notify", "done"),
    ]
    (sent,) = api.world.response_notifier.sent
    assert sent.to == "#soc-critical" and "suspension awaits your approval" in sent.text and VIP in sent.text
    queue = api.get(f"{T}/responses?status=awaiting_approval", "analyst").json()
    assert [(q["kind"], q["person_id"], q["approval"]) for q in queue] == [("suspend_account", "vip", True)]
    run_id, index = queue[0]["run_id"], queue[0]["step"]
    url = f"{T}/responses/{run_id}/steps/{index}"
    assert api.post(f"{url}/approve", "agent", {"comment": "ok"}).status_code == 403
    assert api.post(f"{url}/approve", "analyst", {}).status_code == 422  # a comment is required
    done = api.post(f"{url}/approve", "analyst", {"comment": "Okta chain confirmed with the CFO's office"})
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["status"], body["approver_id"]) == ("done", "analyst")
    assert body["comment"] == "Okta chain confirmed with the CFO's office"
    assert api.world.idp.account(tenant_id="t_a", person_id="vip").suspended
    assert api.get(f"{T}/responses?status=awaiting_approval", "analyst").json() == []
    again = api.post(f"{url}/approve", "analyst", {"comment": "twice"})
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition.step_done"
    recorded = [
        (e["data"]["outcome"], e["actor"]["id"])
        for e in api.get(f"{T}/events", "admin").json()
        if e["type"] == "response.step" and e["data"]["kind"] == "suspend_account"
    ]
    assert recorded == [("awaiting_approval", "deskguard"), ("approved", "analyst"), ("done", "deskguard")]


def test_a_refused_suspension_never_happens(api: Api) -> None:
    _chain(api)
    (waiting,) = api.get(f"{T}/responses?status=awaiting_approval", "admin").json()
    url = f"{T}/responses/{waiting['run_id']}/steps/{waiting['step']}/refuse"
    refused = api.post(url, "admin", {"comment": "she re-enrolled in front of IT: genuine"}).json()
    assert refused["status"] == "refused" and refused["approver_id"] == "admin"
    assert not api.world.idp.account(tenant_id="t_a", person_id="vip").suspended
    listed = api.get(f"{T}/responses?status=refused", "sup").json()  # supervisors read, never decide
    assert [s["kind"] for s in listed] == ["suspend_account"]
    assert api.get(f"{T}/responses?status=nonsense", "analyst").status_code == 422


def test_a_chain_on_an_ordinary_person_does_not_suspend(api: Api) -> None:
    body = "\n".join(json.dumps(r).replace(VIP, "plain@t_a.example") for r in CHAIN)
    reply = api.client.post("/api/v1/ingest/okta?tenant=t_a", content=body, headers=api.as_("analyst")).json()
    assert "Okta.Chain.ResetMfaNewFactor" in {a["rule_id"] for a in reply["alerts"]}
    assert not [s for s in reply["responses"] if s["runbook"] == "Respond.Chain.PrivilegedTakeover"]
    assert api.get(f"{T}/responses?status=awaiting_approval", "analyst").json() == []
