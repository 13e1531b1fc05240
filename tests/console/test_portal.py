"""The employee portal's account sections: manager confirmations, self-service with its delay and
notice, recent helpdesk actions and "this wasn't me" raising an alert; persons only, CSRF."""

from __future__ import annotations

import pytest
from console_kit import Console

from deskguard.domain.ports import RequestFilter
from deskguard.domain.requests import ProofStatus, RequestOrigin, RequestState

pytestmark = pytest.mark.db
ALICE, ANNA = "alice.agent@desk.example", "anna.analyst@desk.example"
CLAIRE, JEAN = "claire.dubois0@acme.example", "jean.martin1@acme.example"
API = "/api/v1/tenants/tnt_acme"


def _agent(console: Console, login: str = ALICE) -> dict[str, str]:
    return {"Authorization": f"Bearer {console.creds['operators'][login]['token']}"}


def _open(console: Console, kind: str, person_id: str) -> str:
    opened = console.client.post(
        f"{API}/requests",
        json={"kind": kind, "person_id": person_id, "justification": "caller locked out"},
        headers=_agent(console),
    )
    assert opened.status_code == 201, opened.text
    return str(opened.json()["id"])


def _request(console: Console, request_id: str):  # noqa: ANN202 - an ActionRequest
    with console.runtime.ctx.reads() as uow:
        return uow.requests.get(tenant_id="tnt_acme", request_id=request_id)


def test_claire_confirms_a_request_about_jean_her_report(console: Console) -> None:
    request_id = _open(console, "unlock_account", "per_acme_001")
    started = console.client.post(
        f"{API}/requests/{request_id}/proofs",
        json={"method": "manager_confirmation"},
        headers=_agent(console),
    )
    proof_id = started.json()["id"]
    claire, jean = console.sign_in(CLAIRE), console.sign_in(JEAN)
    page = claire.get("/portal").text
    assert "as the manager of Jean Martin, to confirm: Unlock the account." in page
    assert 'aria-label="Yes, I confirm the request about Jean Martin"' in page
    assert "No request about your reports is waiting for you." in jean.get("/portal").text
    url = f"/portal/confirmations/{proof_id}"
    assert claire.post(url, data={"answer": "confirm"}).status_code == 403  # no CSRF token
    not_his = jean.post(url, data={"csrf": console.csrf(jean.get("/portal").text), "answer": "confirm"})
    assert not_his.status_code == 404  # Jean is not his own manager
    done = claire.post(url, data={"csrf": console.csrf(page), "answer": "confirm"})
    assert done.status_code == 303 and done.headers["location"] == "/portal?done=confirmed"
    assert "you confirmed the request" in claire.get(done.headers["location"]).text
    assert _request(console, request_id).state == RequestState.READY
    with console.runtime.ctx.reads() as uow:
        assert uow.proofs.get(tenant_id="tnt_acme", proof_id=proof_id).status == ProofStatus.SUCCEEDED


def test_a_self_service_change_is_held_and_announced(console: Console) -> None:
    jean = console.sign_in(JEAN)
    csrf = console.csrf(jean.get("/portal").text)
    asked = jean.post(
        "/portal/requests", data={"csrf": csrf, "kind": "reset_password", "justification": "forgot it"}
    )
    assert asked.status_code == 303 and asked.headers["location"] == "/portal?done=requested"
    page = jean.get("/portal").text
    assert "you, from this portal" in page and "takes effect 2026-12-02 09:" in page
    notice = console.runtime.response_notifier.sent[-1]
    assert notice.to == JEAN and "takes effect at 2026-12-02T09:" in notice.text
    with console.runtime.ctx.reads() as uow:
        (mine,) = [
            r
            for r in uow.requests.list(tenant_id="tnt_acme", where=RequestFilter(person_id="per_acme_001"))
            if r.kind.value == "reset_password"
        ]
    assert mine.origin == RequestOrigin.SELF_SERVICE and mine.state == RequestState.READY
    held = console.client.post(f"{API}/requests/{mine.id}/execute", headers=_agent(console))
    assert held.status_code == 409 and "takes effect at" in held.text
    bad = jean.post(
        "/portal/requests", data={"csrf": csrf, "kind": "change_recovery_email", "new_email": "nope"}
    )
    assert bad.status_code == 422 and "new_email" in bad.text
    unknown = jean.post("/portal/requests", data={"csrf": csrf, "kind": "wire_money"})
    assert unknown.status_code == 404 and "unknown action" in unknown.text


def test_not_you_raises_an_alert_the_analyst_sees(console: Console) -> None:
    request_id = _open(console, "reset_password", "per_acme_000")
    claire, jean = console.sign_in(CLAIRE), console.sign_in(JEAN)
    page = claire.get("/portal").text
    assert "Recent helpdesk actions on your account" in page and "the helpdesk, in your name" in page
    assert f'action="/portal/actions/{request_id}/dispute"' in page
    url = f"/portal/actions/{request_id}/dispute"
    assert claire.post(url, data={}).status_code == 403  # CSRF
    assert jean.post(url, data={"csrf": console.csrf(jean.get("/portal").text)}).status_code == 404  # not his
    assert console.sign_in(ALICE).get("/portal").status_code == 404  # an operator has no portal
    done = claire.post(url, data={"csrf": console.csrf(page)})
    assert done.status_code == 303 and done.headers["location"] == "/portal?done=disputed"
    assert "The security team was alerted" in claire.get(done.headers["location"]).text
    alerts = console.client.get(
        "/api/v1/tenants/tnt_acme/alerts",
        params={"rule_id": "Deskguard.Person.ActionDisputed"},
        headers=_agent(console, ANNA),
    ).json()
    (alert,) = alerts
    assert alert["severity"] == "high" and alert["entities"]["user"] == CLAIRE
    assert request_id in alert["explanation"] and "op_alice" in alert["explanation"]
