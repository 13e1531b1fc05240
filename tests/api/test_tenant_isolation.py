"""Tenant x route isolation matrix: every tenant route, asked about another tenant's objects, is 404.

The matrix is built from the application's own route table, so a new route without an entry in
``BODIES`` fails ``test_the_matrix_covers_every_route`` instead of going untested.
"""

from __future__ import annotations

import json

import pytest
from test_exports_api import dead_letter

from deskguard.domain.response import ResponseStep, StepStatus
from http_client import Api, served_routes
from records import ADMIN_RESET

BODIES: dict[tuple[str, str], dict | None] = {
    ("POST", "/api/v1/tenants/{tenant_id}/decisions/preview"): {
        "kind": "unlock_account",
        "person_id": "{person}",
    },
    ("POST", "/api/v1/tenants/{tenant_id}/requests"): {"kind": "unlock_account", "person_id": "{person}"},
    ("GET", "/api/v1/tenants/{tenant_id}/requests"): None,
    ("GET", "/api/v1/tenants/{tenant_id}/requests/{request_id}"): None,
    ("POST", "/api/v1/tenants/{tenant_id}/requests/{request_id}/cancel"): {"reason": "test"},
    ("POST", "/api/v1/tenants/{tenant_id}/requests/{request_id}/proofs"): {"method": "totp"},
    ("POST", "/api/v1/tenants/{tenant_id}/requests/{request_id}/knowledge"): {
        "topic": "dob",
        "matched": True,
    },
    ("POST", "/api/v1/tenants/{tenant_id}/proofs/{proof_id}/totp"): {"code": "123456"},
    ("POST", "/api/v1/tenants/{tenant_id}/proofs/{proof_id}/otp"): {"code": "123456"},
    ("POST", "/api/v1/tenants/{tenant_id}/proofs/{proof_id}/attest"): {"reached": True},
    ("POST", "/api/v1/tenants/{tenant_id}/requests/{request_id}/approvals"): {"verdict": "approve"},
    ("GET", "/api/v1/tenants/{tenant_id}/approvals"): None,
    ("POST", "/api/v1/tenants/{tenant_id}/requests/{request_id}/execute"): None,
    ("GET", "/api/v1/tenants/{tenant_id}/persons"): None,
    ("GET", "/api/v1/tenants/{tenant_id}/persons/{person_id}"): None,
    ("POST", "/api/v1/tenants/{tenant_id}/tickets"): {"external_ref": "INC-1", "channel": "phone"},
    ("POST", "/api/v1/tenants/{tenant_id}/grants"): {
        "action_kinds": ["reset_mfa"],
        "duration_minutes": 30,
        "justification": "a good enough reason",
    },
    ("GET", "/api/v1/tenants/{tenant_id}/grants"): None,
    ("POST", "/api/v1/tenants/{tenant_id}/grants/{grant_id}/decision"): {"approve": True},
    ("POST", "/api/v1/tenants/{tenant_id}/grants/{grant_id}/revoke"): None,
    ("GET", "/api/v1/tenants/{tenant_id}/events"): None,
    ("GET", "/api/v1/tenants/{tenant_id}/audit/records"): None,
    ("GET", "/api/v1/tenants/{tenant_id}/audit/checkpoints"): None,
    ("GET", "/api/v1/tenants/{tenant_id}/audit/records/{event_id}/proof"): None,
    ("GET", "/api/v1/tenants/{tenant_id}/alerts"): None,
    ("GET", "/api/v1/tenants/{tenant_id}/alerts/{alert_id}"): None,
    ("GET", "/api/v1/tenants/{tenant_id}/quarantine"): None,
    ("GET", "/api/v1/tenants/{tenant_id}/cases"): None,
    ("GET", "/api/v1/tenants/{tenant_id}/cases/{case_id}"): None,
    ("POST", "/api/v1/tenants/{tenant_id}/cases/{case_id}/close"): {"comment": "test"},
    ("POST", "/api/v1/tenants/{tenant_id}/alerts/{alert_id}/verdict"): {"verdict": "benign"},
    ("GET", "/api/v1/tenants/{tenant_id}/responses"): None,
    ("POST", "/api/v1/tenants/{tenant_id}/responses/{run_id}/steps/{index}/approve"): {"comment": "ok"},
    ("POST", "/api/v1/tenants/{tenant_id}/responses/{run_id}/steps/{index}/refuse"): {"comment": "no"},
    ("GET", "/api/v1/tenants/{tenant_id}/exports/dead-letters"): None,
    ("POST", "/api/v1/tenants/{tenant_id}/exports/dead-letters/{dead_letter_id}/retry"): None,
    ("GET", "/api/v1/tenants/{tenant_id}/connectors"): None,
    ("PUT", "/api/v1/tenants/{tenant_id}/connectors/{name}"): {"kind": "ldap", "settings": {}},
    ("DELETE", "/api/v1/tenants/{tenant_id}/connectors/{name}"): None,
    ("POST", "/api/v1/tenants/{tenant_id}/connectors/{name}/test"): None,
    ("GET", "/api/v1/tenants/{tenant_id}/providers"): None,
    ("GET", "/api/v1/tenants/{tenant_id}/providers/{provider_id}/assurance"): None,
    ("PUT", "/api/v1/tenants/{tenant_id}/providers/{provider_id}/assurance/items/{item_id}"): {
        "status": "met"
    },
    ("POST", "/api/v1/tenants/{tenant_id}/providers/{provider_id}/assurance/items/{item_id}/evidence"): None,
    ("GET", "/api/v1/tenants/{tenant_id}/providers/{provider_id}/assurance/evidence/{evidence_id}"): None,
    ("POST", "/api/v1/tenants/{tenant_id}/exercises/campaigns"): {
        "name": "Q4",
        "quarter": "2026-Q4",
        "operator_ids": ["agent"],
        "script_ids": ["cfo_lost_phone"],
        "starts_at": "2026-10-01T00:00:00Z",
        "ends_at": "2026-12-01T00:00:00Z",
    },
    ("GET", "/api/v1/tenants/{tenant_id}/exercises/campaigns"): None,
    ("GET", "/api/v1/tenants/{tenant_id}/exercises/campaigns/{campaign_id}"): None,
    ("POST", "/api/v1/tenants/{tenant_id}/exercises/campaigns/{campaign_id}/calls"): {
        "operator_id": "agent",
        "script_id": "cfo_lost_phone",
        "called_at": "2026-10-02T10:00:00Z",
        "outcome": "followed",
    },
    ("POST", "/api/v1/tenants/{tenant_id}/exercises/calls/{call_id}/feedback"): None,
    ("GET", "/api/v1/tenants/{tenant_id}/exercises/feedback"): None,
    ("GET", "/api/v1/tenants/{tenant_id}/exercises/trends"): None,
    ("GET", "/api/v1/hooks/okta/{tenant_id}"): None,
    ("POST", "/api/v1/hooks/okta/{tenant_id}"): {"eventType": "com.okta.event_hook", "data": {"events": []}},
}
# Authenticated by the tenant's own HMAC key, not by an operator: tested in test_detection_api.py
# (another tenant's key is refused with 401 before anything is read).
SIGNED = {("POST", "/api/v1/hooks/{source}/{tenant_id}")}
# vendors' webhooks of a tenant's own accounts, signed with that tenant's secrets: test_tenant_webhooks.py
SIGNED |= {
    ("POST", "/api/v1/webhooks/twilio/{tenant_id}/gather"),
    ("POST", "/api/v1/webhooks/twilio/{tenant_id}/status"),
    ("POST", "/api/v1/webhooks/slack/{tenant_id}/interactions"),
    ("POST", "/api/v1/webhooks/idv/{tenant_id}/veriff"),
}
QUERY = {"/api/v1/tenants/{tenant_id}/persons": {"q": "Person"}}
QUERY["/api/v1/tenants/{tenant_id}/providers/{provider_id}/assurance/items/{item_id}/evidence"] = {
    "name": "a.pdf"
}


def tenant_routes(api: Api) -> set[tuple[str, str]]:
    return {(m, p) for m, p in served_routes(api.app) if "{tenant_id}" in p} - SIGNED


def _objects_in_a(api: Api) -> dict[str, str]:
    rid = api.post(
        "/api/v1/tenants/t_a/requests", "agent", {"kind": "unlock_account", "person_id": "plain"}
    ).json()["id"]
    pid = api.post(f"/api/v1/tenants/t_a/requests/{rid}/proofs", "agent", {"method": "totp"}).json()["id"]
    gid = api.post(
        "/api/v1/tenants/t_a/grants",
        "agent",
        {"action_kinds": ["reset_mfa"], "duration_minutes": 30, "justification": "night shift cover"},
    ).json()["id"]
    event = api.get("/api/v1/tenants/t_a/events", "admin").json()[0]["id"]
    raised = api.client.post(
        "/api/v1/ingest/okta?tenant=t_a", content=json.dumps(ADMIN_RESET), headers=api.as_("analyst")
    ).json()["alerts"]
    case = api.get("/api/v1/tenants/t_a/cases", "analyst").json()[0]["id"]
    run_id = waiting_step(api, "t_a")
    return {
        "run_id": run_id,
        "index": "0",
        "alert_id": raised[0]["id"],
        "case_id": case,
        "request_id": rid,
        "proof_id": pid,
        "grant_id": gid,
        "person_id": "plain",
        "person": "plain",
        "event_id": event,
        "dead_letter_id": str(dead_letter(api, "t_a")),
    }


def waiting_step(api: Api, tenant: str) -> str:
    """A suspension waiting for an analyst in ``tenant``; returns its run id."""
    now = api.world.clock.now()
    step = ResponseStep(
        tenant_id=tenant,
        run_id=f"rsp_{tenant}",
        index=0,
        runbook_id="Respond.Chain.PrivilegedTakeover",
        alert_id="alr_1",
        rule_id="Okta.Chain.ResetMfaNewFactor",
        person_id="vip" if tenant == "t_a" else "other",
        kind="suspend_account",
        approval=True,
        status=StepStatus.AWAITING_APPROVAL,
        created_at=now,
        updated_at=now,
    )
    with api.world.ctx.uow() as uow:
        uow.response_steps.add(step)
        uow.commit()
    return step.run_id


def _call(api: Api, who: str, method: str, path: str, tenant: str, ids: dict[str, str]):
    url = path.replace("{tenant_id}", tenant)
    for key, value in ids.items():
        url = url.replace("{" + key + "}", value)
    body = BODIES[(method, path)]
    if body is not None:
        body = {k: (v.format(**ids) if isinstance(v, str) else v) for k, v in body.items()}
    return api.client.request(method, url, json=body, params=QUERY.get(path), headers=api.as_(who))


def test_the_matrix_covers_every_route(api: Api) -> None:
    assert tenant_routes(api) == set(BODIES)


def test_an_operator_who_does_not_serve_the_tenant_gets_404_everywhere(api: Api) -> None:
    ids = _objects_in_a(api)
    with api.world.ctx.uow() as uow:
        before = len(uow.outbox.list(tenant_id="t_a"))
    for method, path in sorted(BODIES):
        r = _call(api, "sup_b_only", method, path, "t_a", ids)
        assert r.status_code == 404, (method, path, r.status_code, r.text)
        assert "t_b" not in r.text
    with api.world.ctx.uow() as uow:
        assert len(uow.outbox.list(tenant_id="t_a")) == before  # nothing was written


OBJECT_ROUTES = sorted(
    k
    for k in BODIES
    if any(
        p in k[1]
        for p in (
            "{request_id}",
            "{proof_id}",
            "{grant_id}",
            "{event_id}",
            "{person_id}",
            "{alert_id}",
            "{case_id}",
            "{run_id}",
            "{dead_letter_id}",
        )
    )
)


@pytest.mark.parametrize(("method", "path"), OBJECT_ROUTES, ids=[f"{m} {p}" for m, p in OBJECT_ROUTES])
def test_another_tenants_object_ids_are_not_found_under_this_tenant(api: Api, method: str, path: str) -> None:
    ids = _objects_in_a(api)
    r = _call(api, "admin", method, path, "t_b", ids)  # admin serves both tenants; the ids belong to t_a
    assert r.status_code == 404, r.text
    assert r.json()["code"].startswith("not_found")


def test_a_person_of_another_tenant_cannot_answer_a_push(api: Api) -> None:
    rid = api.post(
        "/api/v1/tenants/t_a/requests", "agent", {"kind": "unlock_account", "person_id": "plain"}
    ).json()["id"]
    push = api.post(
        f"/api/v1/tenants/t_a/requests/{rid}/proofs", "agent", {"method": "push_number_match"}
    ).json()
    number = push["challenge"]["number_to_read_out"]
    assert (
        api.post(
            f"/api/v1/portal/pushes/{push['id']}", "other", {"approve": True, "number": number}
        ).status_code
        == 404
    )
    assert (
        api.post(
            f"/api/v1/portal/pushes/{push['id']}", "vip", {"approve": True, "number": number}
        ).status_code
        == 404
    )
    assert api.get("/api/v1/portal/pending", "other").json() == []
    pending = api.get("/api/v1/portal/pending", "plain").json()
    assert [p["id"] for p in pending] == [push["id"]]
    assert "number_to_read_out" not in pending[0]["challenge"]  # the person must hear it from the agent
