"""Supervisor pages: the approval inbox with its evidence, 4-eyes, grants; roles, tenants, CSRF."""

from __future__ import annotations

import pytest
from console_kit import Console

from approval_flow import TENANT, waiting_for_approval
from deskguard.domain.ports import RequestFilter
from deskguard.domain.requests import GrantState, RequestState

pytestmark = pytest.mark.db
ALICE, BRUNO, OLGA = "alice.agent@desk.example", "bruno.supervisor@desk.example", "olga@farshore.example"
T = f"/t/{TENANT}"


def _request(console: Console, request_id: str):  # noqa: ANN202 - an ActionRequest
    with console.runtime.ctx.reads() as uow:
        return uow.requests.get(tenant_id=TENANT, request_id=request_id)


def test_the_inbox_shows_the_evidence_and_the_supervisor_approves_with_a_comment(console: Console) -> None:
    request_id = waiting_for_approval(console.client, console.runtime.ctx, console.creds)
    bruno = console.sign_in(BRUNO)
    page = bruno.get(f"{T}/approvals")
    assert page.status_code == 200
    html = page.text
    for evidence in (
        request_id,
        "Remove every MFA factor",  # what
        "Alice",  # who asks, her provider and workstation
        "alice.agent@desk.example",
        "push with number matching",  # the proofs and their outcome
        "automated call-back",
        "succeeded",
        "Needs 1 approval(s) by a supervisor; 0 given so far.",  # the policy's explanation
        "No ticket is attached to this request.",
        'hx-trigger="every 5s"',  # live refresh
    ):
        assert evidence in html, evidence
    params_hash = _request(console, request_id).params_hash
    done = bruno.post(
        f"{T}/approvals/{request_id}",
        data={
            "csrf": console.csrf(html),
            "verdict": "approve",
            "comment": "call-back to the registered number confirmed",
            "params_hash": params_hash,
        },
    )
    assert done.status_code == 303 and done.headers["location"].endswith(f"done={request_id}&verdict=approve")
    after = bruno.get(done.headers["location"])
    assert f"Request {request_id} approved" in after.text and 'role="status"' in after.text
    assert _request(console, request_id).state == RequestState.READY
    with console.runtime.ctx.reads() as uow:
        (approval,) = uow.approvals.list_for_request(tenant_id=TENANT, request_id=request_id)
    assert approval.approver_id == "op_bruno" and approval.comment.startswith("call-back")


def test_a_denial_needs_a_comment_and_a_changed_request_is_refused(console: Console) -> None:
    request_id = waiting_for_approval(console.client, console.runtime.ctx, console.creds)
    bruno = console.sign_in(BRUNO)
    csrf = console.csrf(bruno.get(f"{T}/approvals").text)
    url = f"{T}/approvals/{request_id}"
    no_why = bruno.post(url, data={"csrf": csrf, "verdict": "deny", "comment": " "})
    assert no_why.status_code == 422 and "a denial needs a comment" in no_why.text
    stale = bruno.post(url, data={"csrf": csrf, "verdict": "approve", "params_hash": "0" * 64})
    assert stale.status_code == 409 and "changed since you looked" in stale.text
    assert _request(console, request_id).state == RequestState.PENDING_APPROVAL
    denied = bruno.post(url, data={"csrf": csrf, "verdict": "deny", "comment": "caller insisted, no ticket"})
    assert denied.status_code == 303
    assert _request(console, request_id).state == RequestState.DENIED


def test_four_eyes_the_requester_sees_why_and_cannot_approve_their_own(console: Console) -> None:
    request_id = waiting_for_approval(console.client, console.runtime.ctx, console.creds, requester=BRUNO)
    bruno = console.sign_in(BRUNO)
    html = bruno.get(f"{T}/approvals").text
    assert request_id in html and "you cannot approve it: four-eyes" in html
    assert f'action="{T}/approvals/{request_id}"' not in html  # no button to press
    forced = bruno.post(
        f"{T}/approvals/{request_id}", data={"csrf": console.csrf(html), "verdict": "approve"}
    )
    assert forced.status_code == 403 and "someone else must approve it" in forced.text
    assert _request(console, request_id).state == RequestState.PENDING_APPROVAL


def test_roles_tenants_and_csrf(console: Console) -> None:
    request_id = waiting_for_approval(console.client, console.runtime.ctx, console.creds)
    alice, olga, bruno = console.sign_in(ALICE), console.sign_in(OLGA), console.sign_in(BRUNO)
    assert alice.get(f"{T}/approvals").status_code == 403  # an agent approves nothing
    assert alice.get(f"{T}/approvals/pulse").status_code == 403
    assert olga.get(f"{T}/approvals").status_code == 404  # Globex only: Acme does not exist for her
    assert olga.get("/t/tnt_globex/approvals").status_code == 200
    csrf = console.csrf(alice.get(f"{T}/grants").text)
    agent_try = alice.post(f"{T}/approvals/{request_id}", data={"csrf": csrf, "verdict": "approve"})
    assert agent_try.status_code == 403
    no_token = bruno.post(f"{T}/approvals/{request_id}", data={"verdict": "approve"})
    assert no_token.status_code == 403 and "did not come from this console" in no_token.text
    assert _request(console, request_id).state == RequestState.PENDING_APPROVAL


def test_the_pulse_says_when_the_waiting_list_changed(console: Console) -> None:
    bruno = console.sign_in(BRUNO)
    assert "0 request(s) waiting" in bruno.get(f"{T}/approvals/pulse?shown=").text
    request_id = waiting_for_approval(console.client, console.runtime.ctx, console.creds)
    pulse = bruno.get(f"{T}/approvals/pulse?shown=", headers={"HX-Request": "true"}).text
    assert "1 request(s) waiting" in pulse and "1 new" in pulse and "<html" not in pulse
    assert "The list changed" not in bruno.get(f"{T}/approvals/pulse?shown={request_id}").text


def test_an_agent_asks_for_a_grant_and_a_supervisor_approves_then_revokes(console: Console) -> None:
    alice, bruno = console.sign_in(ALICE), console.sign_in(BRUNO)
    page = alice.get(f"{T}/grants").text
    assert "My grants" in page and 'for="justification"' in page
    asked = alice.post(
        f"{T}/grants",
        data={
            "csrf": console.csrf(page),
            "action_kinds": ["reset_mfa", "remove_factor"],
            "duration_minutes": "30",
            "justification": "incident INC-4711: VIP travelling, factors lost",
        },
    )
    assert asked.status_code == 303 and asked.headers["location"].endswith("done=requested")
    short = alice.post(
        f"{T}/grants", data={"csrf": console.csrf(page), "action_kinds": ["reset_mfa"], "justification": "x"}
    )
    assert short.status_code == 422 and "justification must say why" in short.text
    with console.runtime.ctx.reads() as uow:
        (grant,) = uow.grants.list(tenant_id=TENANT, operator_id="op_alice")
    assert (
        alice.post(
            f"{T}/grants/{grant.id}/decide", data={"csrf": console.csrf(page), "verdict": "approve"}
        ).status_code
        == 403
    )  # an agent decides nothing
    inbox = bruno.get(f"{T}/grants").text
    assert "Grants in this tenant" in inbox and "incident INC-4711" in inbox
    csrf = console.csrf(inbox)
    assert bruno.post(f"{T}/grants/{grant.id}/decide", data={"verdict": "approve"}).status_code == 403  # CSRF
    approved = bruno.post(
        f"{T}/grants/{grant.id}/decide", data={"csrf": csrf, "verdict": "approve", "comment": "ok"}
    )
    assert approved.status_code == 303
    with console.runtime.ctx.reads() as uow:
        assert uow.grants.get(tenant_id=TENANT, grant_id=grant.id).state == GrantState.ACTIVE
    revoked = bruno.post(f"{T}/grants/{grant.id}/revoke", data={"csrf": csrf, "reason": "incident closed"})
    assert revoked.status_code == 303
    with console.runtime.ctx.reads() as uow:
        assert uow.grants.get(tenant_id=TENANT, grant_id=grant.id).state == GrantState.REVOKED
        assert not uow.requests.list(tenant_id=TENANT, where=RequestFilter(requester_id="op_bruno"))


def test_a_supervisor_cannot_approve_their_own_grant(console: Console) -> None:
    bruno = console.sign_in(BRUNO)
    csrf = console.csrf(bruno.get(f"{T}/grants").text)
    bruno.post(
        f"{T}/grants",
        data={
            "csrf": csrf,
            "action_kinds": ["grant_privilege"],
            "duration_minutes": "15",
            "justification": "quarterly access review",
        },
    )
    with console.runtime.ctx.reads() as uow:
        (grant,) = uow.grants.list(tenant_id=TENANT, operator_id="op_bruno")
    assert "another supervisor decides" in bruno.get(f"{T}/grants").text
    own = bruno.post(f"{T}/grants/{grant.id}/decide", data={"csrf": csrf, "verdict": "approve"})
    assert own.status_code == 403 and "cannot approve your own elevation" in own.text
