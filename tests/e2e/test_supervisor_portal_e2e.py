"""Supervisor and employee journeys in a real browser.

Bruno approves a request from his inbox with a comment; an agent cannot open the inbox and a
supervisor sees why he cannot approve his own request (4-eyes); Claire, Jean's manager, confirms
Jean's request in her portal; Claire says "this wasn't me" about an action on her account and the
alert is there for the analysts (read through the API). Requests are prepared through the API with
the demo tokens, as the agent's desk would.
"""

from __future__ import annotations

import re

import httpx
import pytest
from browser_kit import Journey, LiveDemo
from playwright.sync_api import expect

from approval_flow import waiting_for_approval

pytestmark = pytest.mark.e2e
ALICE, BRUNO, ANNA = "alice.agent@desk.example", "bruno.supervisor@desk.example", "anna.analyst@desk.example"
CLAIRE = "claire.dubois0@acme.example"
API = "/api/v1/tenants/tnt_acme"


def _watch(page) -> list[str]:  # noqa: ANN001 - a Playwright Page
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def _api(live_demo: LiveDemo, login: str) -> httpx.Client:
    token = live_demo.creds["operators"][login]["token"]
    return httpx.Client(base_url=live_demo.url, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_bruno_approves_a_request_from_his_inbox_with_a_comment(live_demo: LiveDemo, page) -> None:  # noqa: ANN001
    problems = _watch(page)
    with httpx.Client(base_url=live_demo.url, timeout=10) as client:
        request_id = waiting_for_approval(client, live_demo.runtime.ctx, live_demo.creds)
    journey = Journey("supervisor-approve")
    live_demo.sign_in(page, BRUNO)
    page.get_by_role("link", name="Approvals").click()
    expect(page.get_by_role("heading", name="Approval inbox")).to_be_visible()
    expect(page.get_by_text("1 request(s) waiting for approval")).to_be_visible()
    expect(page.get_by_role("cell", name="push with number matching")).to_be_visible()
    journey.shot(page, "inbox-with-evidence")
    page.get_by_label("Comment").fill("Push and call-back to the registered number both confirmed.")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status").filter(has_text=f"Request {request_id} approved")).to_be_visible()
    expect(page.get_by_text("Nothing is waiting for an approval in this tenant.")).to_be_visible()
    journey.shot(page, "approved")
    with _api(live_demo, ALICE) as alice:
        assert alice.get(f"{API}/requests/{request_id}").json()["state"] == "ready"
    assert problems == []


def test_an_agent_cannot_approve_and_a_supervisor_cannot_approve_his_own(live_demo: LiveDemo, page) -> None:  # noqa: ANN001
    problems = _watch(page)
    with httpx.Client(base_url=live_demo.url, timeout=10) as client:
        own = waiting_for_approval(client, live_demo.runtime.ctx, live_demo.creds, requester=BRUNO)
    journey = Journey("supervisor-four-eyes")
    live_demo.sign_in(page, ALICE)
    expect(page.get_by_role("link", name="Approvals")).to_have_count(0)  # not in an agent's menu
    page.goto(live_demo.url + "/t/tnt_acme/approvals")
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    journey.shot(page, "agent-refused")
    page.context.clear_cookies()
    live_demo.sign_in(page, BRUNO)
    page.goto(live_demo.url + "/t/tnt_acme/approvals")
    expect(page.get_by_text("You opened this request, so you cannot approve it")).to_be_visible()
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    journey.shot(page, "own-request-no-button")
    with _api(live_demo, ALICE) as alice:
        assert alice.get(f"{API}/requests/{own}").json()["state"] == "pending_approval"
    assert [p for p in problems if "403" not in p] == []  # the refused page is a 403 by design


def test_claire_confirms_jeans_request_in_her_portal(live_demo: LiveDemo, page) -> None:  # noqa: ANN001
    problems = _watch(page)
    with _api(live_demo, ALICE) as alice:
        request_id = alice.post(
            f"{API}/requests",
            json={"kind": "unlock_account", "person_id": "per_acme_001", "justification": "locked out"},
        ).json()["id"]
        assert (
            alice.post(
                f"{API}/requests/{request_id}/proofs", json={"method": "manager_confirmation"}
            ).status_code
            == 201
        )
    journey = Journey("portal-manager-confirms")
    live_demo.sign_in(page, CLAIRE)
    expect(page.get_by_role("heading", name="Confirmations for my reports")).to_be_visible()
    expect(page.get_by_text("as the manager of Jean Martin, to confirm: Unlock the account.")).to_be_visible()
    journey.shot(page, "confirmation-waiting")
    page.get_by_role("button", name="Yes, I confirm the request about Jean Martin").click()
    expect(page.get_by_role("status").filter(has_text="you confirmed the request")).to_be_visible()
    journey.shot(page, "confirmed")
    with _api(live_demo, ALICE) as alice:
        assert alice.get(f"{API}/requests/{request_id}").json()["state"] == "ready"
    assert problems == []


def test_claire_says_not_me_and_an_alert_appears(live_demo: LiveDemo, page) -> None:  # noqa: ANN001
    problems = _watch(page)
    with _api(live_demo, ALICE) as alice:
        request_id = alice.post(
            f"{API}/requests",
            json={"kind": "reset_password", "person_id": "per_acme_000", "justification": "caller"},
        ).json()["id"]
    journey = Journey("portal-not-you")
    live_demo.sign_in(page, CLAIRE)
    expect(
        page.get_by_role("heading", name=re.compile("Recent helpdesk actions on your account"))
    ).to_be_visible()
    journey.shot(page, "recent-actions")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name=re.compile("This wasn't me: Reset the password")).click()
    expect(page.get_by_role("status").filter(has_text="The security team was alerted")).to_be_visible()
    journey.shot(page, "reported")
    with _api(live_demo, ANNA) as anna:
        alerts = anna.get(f"{API}/alerts", params={"rule_id": "Deskguard.Person.ActionDisputed"}).json()
    assert [a["entities"]["user"] for a in alerts] == [CLAIRE] and request_id in alerts[0]["explanation"]
    assert problems == []
