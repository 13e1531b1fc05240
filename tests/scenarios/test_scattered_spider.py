"""The Scattered Spider call, played over the HTTP API against the demo organisation.

1. Tuesday 10:00 in Paris. A caller claiming to be Claire Dubois (privileged, Finance) asks the
   internal agent Alice to reset her MFA. The decision demands a call-back to the registered
   number plus a push with number matching, and a supervisor's approval. Knowledge answers change
   nothing. Claire approves the push, the call-back is confirmed, Bruno approves, it executes once.
2. 03:00 in Paris. Oscar, an outsourced agent, asks the same for Jean Martin, whose phone changed
   yesterday. Call-back is refused as a proof; the decision steps up to a portal-initiated request or
   the manager's confirmation. Claire (his manager) confirms, an identity check passes, Bruno
   approves, it executes.
Every step leaves an outbox event.
"""

from __future__ import annotations

from datetime import UTC, datetime

from demo_desk import ALICE, ANNA, BRUNO, CLAIRE, JEAN, OLGA, OSCAR, Desk, T

from deskguard.domain.events import EventEnvelope
from deskguard.workers.detector import OutboxDetector

WEDNESDAY_03_PARIS = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)


def _sets(decision: dict) -> list[set[str]]:
    return [set(s) for s in decision["acceptable_proof_sets"]]


def test_the_call_is_played_safely_twice(desk: Desk) -> None:
    claire_id = desk.creds["persons"][CLAIRE]["id"]
    ticket = desk.post(
        f"{T}/tickets",
        ALICE,
        {
            "external_ref": "INC-20931",
            "channel": "phone",
            "claimed_identity": "Claire Dubois, CFO",
            "caller_number": "+447700900123",
        },
        status=201,
    )
    # 1. The agent opens the MFA reset: the decision says what it takes.
    opened = desk.post(
        f"{T}/requests",
        ALICE,
        {
            "kind": "reset_mfa",
            "person_id": claire_id,
            "ticket_id": ticket["id"],
            "justification": "caller lost her phone, board in an hour",
        },
        status=201,
    )
    rid, decision = opened["id"], opened["decision"]
    assert opened["state"] == "pending_verification"
    assert {"callback_automated", "push_number_match"} in _sets(decision)
    assert decision["approvals"] == {"required": 1, "role": "supervisor", "present": 0, "missing": 1}
    assert any(t["rule"] == "privileged-target-strong-proof" and t["matched"] for t in decision["trace"])

    # Knowledge answers are kept for the file and change nothing.
    desk.post(f"{T}/requests/{rid}/knowledge", ALICE, {"topic": "date of birth", "matched": True}, status=201)
    desk.post(f"{T}/requests/{rid}/knowledge", ALICE, {"topic": "first street", "matched": True}, status=201)
    after_kba = desk.get(f"{T}/requests/{rid}", ALICE)
    assert after_kba["state"] == "pending_verification"
    assert after_kba["decision"]["missing_proof_sets"] == decision["missing_proof_sets"]

    # Push with number matching: Alice reads the number out; Claire confirms it in her portal.
    push = desk.post(f"{T}/requests/{rid}/proofs", ALICE, {"method": "push_number_match"}, status=201)
    number = push["challenge"]["number_to_read_out"]
    [pending] = desk.get("/api/v1/portal/pending", CLAIRE)
    assert pending["id"] == push["id"] and "number_to_read_out" not in pending["challenge"]
    assert (
        desk.post(f"/api/v1/portal/pushes/{push['id']}", CLAIRE, {"approve": True, "number": number})[
            "status"
        ]
        == "succeeded"
    )

    # Automated call-back to the number in the directory, never one given during the call.
    call = desk.post(f"{T}/requests/{rid}/proofs", ALICE, {"method": "callback_automated"}, status=201)
    [placed] = desk.runtime.telephony.calls
    registered = desk.get(f"{T}/persons/{claire_id}", ALICE)["phones"][0]["number"]
    assert placed.to_number == registered == call["challenge"]["registered_number"] != ticket["caller_number"]
    desk.webhook("/api/v1/webhooks/telephony", {"call_id": call["challenge"]["call_id"], "confirmed": True})
    assert desk.get(f"{T}/requests/{rid}", ALICE)["state"] == "pending_approval"

    # 4-eyes: the requester cannot approve; an outsourced supervisor of another client sees nothing.
    desk.post(f"{T}/requests/{rid}/approvals", ALICE, {"verdict": "approve"}, status=403)
    desk.post(f"{T}/requests/{rid}/approvals", OLGA, {"verdict": "approve"}, status=404)
    approved = desk.post(
        f"{T}/requests/{rid}/approvals",
        BRUNO,
        {"verdict": "approve", "comment": "checked", "params_hash": opened["params_hash"]},
    )
    assert approved["state"] == "ready"

    executed = desk.post(f"{T}/requests/{rid}/execute", ALICE)
    assert executed["request"]["state"] == "executed" and executed["secret"] is None
    desk.post(f"{T}/requests/{rid}/execute", ALICE, status=409)  # never twice
    assert [(c[1], c[2].value) for c in desk.runtime.idp.calls] == [(claire_id, "reset_mfa")]
    card = desk.get(f"{T}/persons/{claire_id}", ALICE)
    assert {f["kind"] for f in card["factors"]} == {"recovery_email"}

    events = desk.get(f"{T}/events", "anna.analyst@desk.example")
    mine = [e["type"] for e in events if e["subject"]["request_id"] == rid]
    for expected in (
        "request.opened",
        "request.decided",
        "proof.recorded",
        "proof.started",
        "proof.succeeded",
        "approval.granted",
        "request.state_changed",
        "request.execution_started",
        "request.executed",
    ):
        assert expected in mine, expected
    assert mine.count("proof.recorded") == 2 and mine[-1] == "request.executed"
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
    for e in events:  # every event the broker wrote matches the documented v1 schema
        EventEnvelope.model_validate({k: v for k, v in e.items() if k != "seq"})

    # 2. 03:00 in Paris, an outsourced agent, a person whose phone changed yesterday.
    desk.runtime.ctx.clock.set(WEDNESDAY_03_PARIS)  # type: ignore[attr-defined]
    jean_id, claire_portal = desk.creds["persons"][JEAN]["id"], CLAIRE
    night = desk.post(
        f"{T}/requests",
        OSCAR,
        {"kind": "reset_mfa", "person_id": jean_id, "justification": "new phone, cannot sign in"},
        status=201,
    )
    nd = night["decision"]
    assert not nd["blocked"] and night["state"] == "pending_verification"
    assert {"callback_automated", "callback_agent"} <= set(nd["disallowed_proofs"])
    assert all(s & {"self_service_initiated", "manager_confirmation"} for s in _sets(nd))
    fired = {t["rule"] for t in nd["trace"] if t["matched"]}
    assert {"outsourced-out-of-hours", "recent-phone-change"} <= fired
    refused = desk.post(
        f"{T}/requests/{night['id']}/proofs", OSCAR, {"method": "callback_automated"}, status=422
    )
    assert refused["code"] == "proof_rejected.disallowed"

    # The manager's confirmation, from the manager's own portal session, plus an identity check.
    confirm = desk.post(
        f"{T}/requests/{night['id']}/proofs", OSCAR, {"method": "manager_confirmation"}, status=201
    )
    desk.post(f"/api/v1/portal/confirmations/{confirm['id']}", JEAN, {"confirm": True}, status=404)
    desk.post(f"/api/v1/portal/confirmations/{confirm['id']}", claire_portal, {"confirm": True})
    idv = desk.post(f"{T}/requests/{night['id']}/proofs", OSCAR, {"method": "external_idv"}, status=201)
    desk.webhook("/api/v1/webhooks/idv", {"session_id": idv["challenge"]["session_id"], "verified": True})
    assert desk.get(f"{T}/requests/{night['id']}", OSCAR)["state"] == "pending_approval"
    desk.post(f"{T}/requests/{night['id']}/approvals", BRUNO, {"verdict": "approve", "comment": "manager ok"})
    assert desk.post(f"{T}/requests/{night['id']}/execute", OSCAR)["request"]["state"] == "executed"
    assert len(desk.runtime.idp.calls) == 2

    # The detection engine reads the same outbox (what workers.detector does every second).
    assert OutboxDetector(desk.runtime.ctx).tick() > 0
    alerts = desk.get(f"{T}/alerts", ANNA)
    by_rule = {a["rule_id"]: a for a in alerts}
    # Two knowledge answers were recorded; Jean's phone changed yesterday. The free-text claim
    # "Claire Dubois, CFO" is not compared with Claire's login: no caller-mismatch alert.
    assert set(by_rule) == {
        "Deskguard.Proof.KnowledgeAnswerRecorded",
        "Deskguard.Request.ResetAfterRecentPhoneChange",
    }
    assert (
        "jean.martin1@acme.example" in by_rule["Deskguard.Request.ResetAfterRecentPhoneChange"]["explanation"]
    )
    # The MFA reset asked the day after Jean's phone changed triggered a runbook: his manager must
    # now confirm sensitive requests on him, the SOC is told, a ticket opened. Its steps are new
    # events: the next tick reads them (and only them), then nothing is left.
    steps = [e for e in desk.get(f"{T}/events", ANNA) if e["type"] == "response.step"]
    assert [e["data"]["kind"] for e in steps] == ["require_manager_validation", "notify", "ticket"]
    assert OutboxDetector(desk.runtime.ctx).tick() == len(steps)
    assert OutboxDetector(desk.runtime.ctx).tick() == 0  # the cursor moved: nothing is read twice
