"""A request that waits for a supervisor, prepared through the public API as an agent would.

Alice opens a reset of every MFA factor for an ordinary person (the policy wants two proofs and a
supervisor's approval), the person answers the push with the number in their portal session (the
portal API), and the automated call-back to the registered number is confirmed through
``verification.callback_result`` — what the telephony webhook calls once the person pressed 1 (the
demo's telephony is the in-memory fake; tests/api/test_twilio_webhooks.py covers the real webhook).
``client`` is anything with httpx's ``post`` (a TestClient, or an ``httpx.Client`` on a live server).
"""

from __future__ import annotations

from typing import Any

from deskguard.app import verification
from deskguard.app.context import AppContext

TENANT = "tnt_acme"
PERSON = "per_acme_005"  # not privileged, not a manager, manager Claire (per_acme_000)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def waiting_for_approval(
    client: Any, ctx: AppContext, creds: dict, *, requester: str = "alice.agent@desk.example"
) -> str:
    """The id of a reset_mfa request in ``pending_approval``, opened by ``requester``."""
    agent = _bearer(creds["operators"][requester]["token"])
    person = next(p for p in creds["persons"].values() if p["id"] == PERSON)
    base = f"/api/v1/tenants/{TENANT}"
    opened = client.post(
        f"{base}/requests",
        json={"kind": "reset_mfa", "person_id": PERSON, "justification": "lost phone, new one to enrol"},
        headers=agent,
    )
    assert opened.status_code == 201, opened.text
    request_id = opened.json()["id"]
    push = client.post(
        f"{base}/requests/{request_id}/proofs", json={"method": "push_number_match"}, headers=agent
    )
    assert push.status_code == 201, push.text
    number = push.json()["challenge"]["number_to_read_out"]
    answered = client.post(
        f"/api/v1/portal/pushes/{push.json()['id']}",
        json={"approve": True, "number": number},
        headers=_bearer(person["portal_token"]),
    )
    assert answered.status_code == 200, answered.text
    call = client.post(
        f"{base}/requests/{request_id}/proofs", json={"method": "callback_automated"}, headers=agent
    )
    assert call.status_code == 201, call.text
    verification.callback_result(ctx, call_id=call.json()["challenge"]["call_id"], confirmed=True)
    state = client.get(f"{base}/requests/{request_id}", headers=agent).json()["state"]
    assert state == "pending_approval", state
    return request_id
